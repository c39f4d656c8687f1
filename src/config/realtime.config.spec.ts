import { describe, expect, it } from 'vitest';
import { loadRealtimeConfig } from './realtime.config.js';

describe('realtime configuration', () => {
  it('limits every socket by default', () => {
    expect(loadRealtimeConfig({})).toEqual({ messagesPerSecond: 10, messageBurst: 20, revalidateSeconds: 60 });
  });

  it('reads the limits and refuses nonsense', () => {
    expect(
      loadRealtimeConfig({
        REALTIME_MESSAGES_PER_SECOND: '3',
        REALTIME_MESSAGE_BURST: '6',
        REALTIME_REVALIDATE_SECONDS: '5',
      }),
    ).toEqual({ messagesPerSecond: 3, messageBurst: 6, revalidateSeconds: 5 });
    expect(() => loadRealtimeConfig({ REALTIME_MESSAGES_PER_SECOND: '0' })).toThrow(/REALTIME_MESSAGES_PER_SECOND/);
    expect(() => loadRealtimeConfig({ REALTIME_MESSAGE_BURST: 'lots' })).toThrow(/REALTIME_MESSAGE_BURST/);
    expect(() => loadRealtimeConfig({ REALTIME_REVALIDATE_SECONDS: '0' })).toThrow(/REALTIME_REVALIDATE_SECONDS/);
  });
});
