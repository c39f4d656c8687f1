import { testRedisUrl, uniqueRedisPrefix } from '@app/testing';
import { Redis } from 'ioredis';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createFanOutPublisher } from './fan-out-redis.client.js';

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe('the Redis publisher of live updates', () => {
  const clients: Redis[] = [];
  afterEach(() => {
    for (const client of clients.splice(0)) client.disconnect();
  });

  it('drops a publish while Redis is unreachable, without an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const publisher = createFanOutPublisher(`redis://127.0.0.1:${await closedPort()}`);
      clients.push(publisher);
      // As the socket.io adapter does: the promise is ignored.
      void publisher.publish('channel', 'message');
      const started = performance.now();
      await expect(publisher.publish('channel', 'message')).resolves.toBe(0);
      expect(performance.now() - started).toBeLessThan(5_000);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('delivers to subscribers while Redis is there', async () => {
    const channel = `${uniqueRedisPrefix('fan-out')}:channel`;
    const subscriber = new Redis(testRedisUrl());
    const publisher = createFanOutPublisher(testRedisUrl());
    clients.push(subscriber, publisher);
    const received = new Promise<string>((resolve) =>
      subscriber.on('message', (_channel, message) => resolve(message)),
    );
    await subscriber.subscribe(channel);
    expect(await publisher.publish(channel, 'hello')).toBe(1);
    expect(await received).toBe('hello');
  });
});
