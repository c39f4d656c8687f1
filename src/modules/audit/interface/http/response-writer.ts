import type { Response } from 'express';

/** The client went away in the middle of a streamed response. */
export class ClientGoneError extends Error {
  constructor() {
    super('The client closed the connection');
    this.name = 'ClientGoneError';
  }
}

/**
 * Writes a chunk and, when the socket's buffer is full, waits for it to drain before returning, so a slow
 * reader slows the producer instead of the response piling up in memory.
 */
export async function writeChunk(response: Response, chunk: string): Promise<void> {
  if (response.destroyed || response.writableEnded) throw new ClientGoneError();
  if (response.write(chunk)) return;
  await new Promise<void>((resolve, reject) => {
    const cleanup = (): void => {
      response.off('drain', onDrain);
      response.off('close', onClose);
    };
    const onDrain = (): void => {
      cleanup();
      resolve();
    };
    const onClose = (): void => {
      cleanup();
      reject(new ClientGoneError());
    };
    response.on('drain', onDrain);
    response.on('close', onClose);
  });
}
