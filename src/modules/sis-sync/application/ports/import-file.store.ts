import type { Readable } from 'node:stream';

/**
 * Uploaded import files, stored where every API and worker process can reach them (the database by
 * default), since the process that takes the upload is rarely the one that runs the import.
 */
export abstract class ImportFileStore {
  /** Stores the stream and returns the file id. */
  abstract save(content: Readable): Promise<{ fileId: string; bytes: number }>;

  /** Writes the file to a local temporary path for reading; the caller removes it with `release`. */
  abstract materialise(fileId: string): Promise<string>;

  abstract release(path: string): Promise<void>;

  abstract delete(fileId: string): Promise<void>;
}
