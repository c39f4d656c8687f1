/**
 * - `accept`: serve the message;
 * - `limited`: refuse it, and tell the client (first refusal in the current second);
 * - `refuse`: refuse it quietly (the client was already told);
 * - `disconnect`: the client sent more than twice its rate in a second: a flood, not a burst.
 */
export type RateVerdict = 'accept' | 'limited' | 'refuse' | 'disconnect';

/**
 * One socket's inbound message budget: a token bucket refilled at `perSecond` up to `burst` in reserve.
 * Time is passed in (milliseconds, monotonic) so the limiter stays a plain value.
 */
export class MessageRateLimiter {
  private tokens: number;
  private refilledAt: number;
  private windowStartedAt: number;
  private refusedInWindow = 0;

  constructor(
    readonly perSecond: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.refilledAt = now;
    this.windowStartedAt = now;
  }

  take(now: number): RateVerdict {
    this.tokens = Math.min(this.burst, this.tokens + (Math.max(0, now - this.refilledAt) / 1000) * this.perSecond);
    this.refilledAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 'accept';
    }
    if (now - this.windowStartedAt >= 1000) {
      this.windowStartedAt = now;
      this.refusedInWindow = 0;
    }
    this.refusedInWindow += 1;
    if (this.refusedInWindow > this.perSecond) return 'disconnect';
    return this.refusedInWindow === 1 ? 'limited' : 'refuse';
  }
}
