import { z } from 'zod';
import { parseEnv } from './env-parsing.js';

const realtimeSchema = z.object({
  REALTIME_MESSAGES_PER_SECOND: z.coerce.number().int().min(1).max(1000).default(10),
  REALTIME_MESSAGE_BURST: z.coerce.number().int().min(1).max(10_000).default(20),
  REALTIME_REVALIDATE_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
});

/**
 * What one socket may send. Messages refill at `messagesPerSecond` up to `messageBurst` in reserve; beyond that a
 * message is refused (`REALTIME.RATE_LIMITED`), and a socket that keeps sending more than twice its rate in a
 * second is disconnected.
 */
export abstract class RealtimeConfig {
  abstract readonly messagesPerSecond: number;
  abstract readonly messageBurst: number;
  /**
   * How often each API process re-checks its sockets against the database (account enabled, token current,
   * session live, roles still allowing each joined room): the safety net under event-driven revocation.
   */
  abstract readonly revalidateSeconds: number;
}

export function loadRealtimeConfig(source: NodeJS.ProcessEnv): RealtimeConfig {
  const env = parseEnv('realtime', realtimeSchema, source);
  return {
    messagesPerSecond: env.REALTIME_MESSAGES_PER_SECOND,
    messageBurst: env.REALTIME_MESSAGE_BURST,
    revalidateSeconds: env.REALTIME_REVALIDATE_SECONDS,
  };
}
