import { describe, expect, it } from 'vitest';
import { slowdownMs, sourceRetryAfterSeconds, type SignInThrottlePolicy } from './sign-in-throttle.js';

const policy: SignInThrottlePolicy = {
  maxFailuresPerSource: 5,
  windowMinutes: 15,
  slowdownAfter: 5,
  slowdownMaxMs: 2000,
};
const t0 = new Date('2026-12-07T08:00:00Z');

describe('sign-in throttle', () => {
  it('refuses a source only once it used up its failures, and only until its window ends', () => {
    const windowEndsAt = new Date(t0.getTime() + 15 * 60_000);
    expect(sourceRetryAfterSeconds({ failures: 4, windowEndsAt }, policy, t0)).toBe(0);
    expect(sourceRetryAfterSeconds({ failures: 5, windowEndsAt }, policy, t0)).toBe(15 * 60);
    expect(sourceRetryAfterSeconds({ failures: 9, windowEndsAt }, policy, new Date(t0.getTime() + 14 * 60_000))).toBe(
      60,
    );
    expect(sourceRetryAfterSeconds({ failures: 9, windowEndsAt }, policy, windowEndsAt)).toBe(0);
    expect(sourceRetryAfterSeconds({ failures: 0, windowEndsAt: null }, policy, t0)).toBe(0);
  });

  it('slows an email down gradually after repeated failures, never beyond the cap: a delay, not a lock', () => {
    expect(slowdownMs(0, policy)).toBe(0);
    expect(slowdownMs(4, policy)).toBe(0);
    expect(slowdownMs(5, policy)).toBe(250);
    expect(slowdownMs(6, policy)).toBe(500);
    expect(slowdownMs(8, policy)).toBe(2000);
    expect(slowdownMs(10_000, policy)).toBe(2000);
  });
});
