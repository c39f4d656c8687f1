import { describe, expect, it } from 'vitest';
import { MessageRateLimiter } from './message-rate-limiter.js';

describe('MessageRateLimiter', () => {
  it('serves a burst, then refuses until the budget refills', () => {
    const limiter = new MessageRateLimiter(5, 10, 0);
    for (let i = 0; i < 10; i += 1) expect(limiter.take(0)).toBe('accept');
    expect(limiter.take(0)).toBe('limited');
    expect(limiter.take(0)).toBe('refuse');
    expect(limiter.take(200)).toBe('accept');
    expect(limiter.take(200)).toBe('refuse');
  });

  it('serves a steady client at its rate indefinitely', () => {
    const limiter = new MessageRateLimiter(5, 1, 0);
    for (let t = 0; t < 60_000; t += 200) expect(limiter.take(t)).toBe('accept');
  });

  it('disconnects a client that sends more than twice its rate in a second', () => {
    const limiter = new MessageRateLimiter(5, 5, 0);
    const verdicts = Array.from({ length: 11 }, () => limiter.take(10));
    expect(verdicts.slice(0, 5)).toEqual(Array(5).fill('accept'));
    expect(verdicts.slice(5, 10)).toEqual(['limited', 'refuse', 'refuse', 'refuse', 'refuse']);
    expect(verdicts[10]).toBe('disconnect');
  });

  it('forgives refusals from an earlier second', () => {
    const limiter = new MessageRateLimiter(2, 1, 0);
    expect(limiter.take(0)).toBe('accept');
    expect(limiter.take(0)).toBe('limited');
    expect(limiter.take(0)).toBe('refuse');
    expect(limiter.take(1_500)).toBe('accept');
    expect(limiter.take(1_500)).toBe('limited');
  });
});
