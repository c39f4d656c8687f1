import { createServer, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { streamBody } from './streamed-response.js';

const CHUNK = 'x'.repeat(256 * 1024);

describe('streamBody', () => {
  let server: Server | undefined;

  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
  });

  /** A server whose one route streams with `handle`; resolves with its port. */
  async function serve(handle: (response: ServerResponse) => void): Promise<number> {
    server = createServer((_request, response) => {
      response.writeHead(200, { 'Content-Type': 'text/plain' });
      handle(response);
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }

  it('sends every chunk and ends the response', async () => {
    let outcome: Promise<boolean> | undefined;
    const port = await serve((response) => {
      outcome = streamBody(
        response,
        async (write) => {
          for (let i = 0; i < 8; i += 1) await write(CHUNK);
        },
        () => undefined,
      );
    });
    const body = await new Promise<string>((resolve, reject) => {
      request({ port, host: '127.0.0.1' }, (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (data: string) => (text += data));
        response.on('end', () => resolve(text));
      })
        .on('error', reject)
        .end();
    });
    expect(body).toHaveLength(8 * CHUNK.length);
    await expect(outcome).resolves.toBe(true);
  });

  it('stops the producer when the client leaves after the first chunk, instead of waiting for a drain', async () => {
    let outcome: Promise<boolean> | undefined;
    let written = 0;
    const failures: unknown[] = [];
    const port = await serve((response) => {
      outcome = streamBody(
        response,
        async (write) => {
          // Far more than the socket buffers hold: the producer must wait on backpressure at some point.
          for (let i = 0; i < 10_000; i += 1) {
            await write(CHUNK);
            written += 1;
          }
        },
        (error) => failures.push(error),
      );
    });
    await new Promise<void>((resolve, reject) => {
      const client = request({ port, host: '127.0.0.1' }, (response) => {
        response.once('data', () => {
          response.pause();
          client.destroy();
          resolve();
        });
      });
      client.on('error', () => undefined);
      client.on('close', () => resolve());
      client.once('error', reject).end();
    });
    await expect(outcome).resolves.toBe(false);
    expect(written).toBeLessThan(10_000);
    expect(failures).toEqual([]);
  });

  it('reports a producer failure and cuts the connection, so the client sees a short body', async () => {
    let outcome: Promise<boolean> | undefined;
    const failures: unknown[] = [];
    const port = await serve((response) => {
      outcome = streamBody(
        response,
        async (write) => {
          await write('first,');
          throw new Error('the database went away');
        },
        (error) => failures.push(error),
      );
    });
    const cut = await new Promise<boolean>((resolve) => {
      request({ port, host: '127.0.0.1' }, (response) => {
        response.on('data', () => undefined);
        response.on('end', () => resolve(false));
        response.on('aborted', () => resolve(true));
        response.on('error', () => resolve(true));
      })
        .on('error', () => resolve(true))
        .end();
    });
    expect(cut).toBe(true);
    await expect(outcome).resolves.toBe(false);
    expect(failures).toEqual([new Error('the database went away')]);
  });
});
