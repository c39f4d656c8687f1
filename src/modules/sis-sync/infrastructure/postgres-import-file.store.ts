import { runSql } from '@app/persistence';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { ImportFileStore } from '../application/ports/import-file.store.js';

const CHUNK_BYTES = 1024 * 1024;

/** Import files as 1 MiB bytea chunks: streamed in and out, never whole in memory. */
@Injectable()
export class PostgresImportFileStore extends ImportFileStore {
  constructor(private readonly em: EntityManager) {
    super();
  }

  async save(content: Readable): Promise<{ fileId: string; bytes: number }> {
    const fileId = randomUUID();
    let seq = 0;
    let bytes = 0;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const flush = async (): Promise<void> => {
      if (pendingBytes === 0) return;
      await runSql(this.em, 'INSERT INTO sis_import_file_chunks (file_id, seq, data) VALUES ($1, $2, $3)', [
        fileId,
        seq++,
        Buffer.concat(pending),
      ]);
      pending = [];
      pendingBytes = 0;
    };
    try {
      for await (const piece of content) {
        const buffer = Buffer.isBuffer(piece) ? piece : Buffer.from(piece as Uint8Array);
        pending.push(buffer);
        pendingBytes += buffer.length;
        bytes += buffer.length;
        if (pendingBytes >= CHUNK_BYTES) await flush();
      }
      await flush();
    } catch (error) {
      await this.delete(fileId);
      throw error;
    }
    return { fileId, bytes };
  }

  async materialise(fileId: string): Promise<string> {
    const directory = await mkdtemp(join(tmpdir(), 'homeroom-import-'));
    const path = join(directory, `${fileId}.zip`);
    const out = createWriteStream(path, { mode: 0o600 });
    for (let seq = 0; ; seq += 1) {
      const [row] = await runSql<{ data: Buffer }>(
        this.em,
        'SELECT data FROM sis_import_file_chunks WHERE file_id = $1 AND seq = $2',
        [fileId, seq],
      );
      if (!row) break;
      if (!out.write(row.data)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    }
    out.end();
    await finished(out);
    return path;
  }

  async release(path: string): Promise<void> {
    await rm(dirname(path), { recursive: true, force: true });
  }

  async delete(fileId: string): Promise<void> {
    await runSql(this.em, 'DELETE FROM sis_import_file_chunks WHERE file_id = $1', [fileId]);
  }
}
