import type { ServerResponse } from 'node:http';

/** The client went away in the middle of a streamed response. */
export class ClientGoneError extends Error {
  constructor() {
    super('The client closed the connection');
    this.name = 'ClientGoneError';
  }
}

/**
 * Writes a chunk and, when the socket's buffer is full, waits for it to drain before returning, so a slow
 * reader slows the producer instead of the response piling up in memory. Rejects with `ClientGoneError` when
 * the client has gone (before the write or while waiting), so the producer stops instead of waiting forever.
 */
export async function writeChunk(response: ServerResponse, chunk: string): Promise<void> {
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
    // The socket may have closed between the write and the listeners: 'close' would not come again.
    if (response.destroyed) onClose();
  });
}

/**
 * Streams a response body whose status and headers are already set: `produce` writes chunks through
 * `write` (backpressure and disconnects handled by `writeChunk`), then the response is ended. A client that
 * leaves stops the producer quietly; any other failure goes to `onFailure`. Either way the headers are out, so
 * the connection is cut: the only way left to tell the client the body is short. Resolves `true` when the
 * whole body was sent.
 */
export async function streamBody(
  response: ServerResponse,
  produce: (write: (chunk: string) => Promise<void>) => Promise<void>,
  onFailure: (error: unknown) => void,
): Promise<boolean> {
  try {
    await produce((chunk) => writeChunk(response, chunk));
    response.end();
    return true;
  } catch (error) {
    if (!(error instanceof ClientGoneError)) onFailure(error);
    response.destroy();
    return false;
  }
}
