import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';

const logger = new Logger('Realtime');

/**
 * The Redis client that carries live updates between processes. Live updates are best effort: while Redis is
 * away a publish waits for one reconnect attempt at most and is then dropped, and its failure is swallowed,
 * because the socket.io adapter and emitter call `publish` without handling the promise, and an unhandled
 * rejection would end the process. Local clients of an API process still get its own events through socket.io.
 */
export function createFanOutPublisher(url: string): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  reportOutages(client, 'publisher');
  const publish = client.publish.bind(client) as (...args: unknown[]) => Promise<number>;
  Object.defineProperty(client, 'publish', {
    value: (...args: unknown[]): Promise<number> => publish(...args).catch(() => 0),
  });
  return client;
}

/** The subscriber keeps the default offline queue: it subscribes before it is connected and resubscribes after. */
export function createFanOutSubscriber(url: string): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: null });
  reportOutages(client, 'subscriber');
  return client;
}

function reportOutages(client: Redis, role: string): void {
  let down = false;
  client.on('error', (error: Error) => {
    if (down) return;
    down = true;
    logger.warn({ err: error }, `Redis ${role} for live updates is unavailable; updates stay within this process`);
  });
  client.on('ready', () => {
    if (down) logger.log(`Redis ${role} for live updates reconnected`);
    down = false;
  });
}
