/**
 * How failed sign-ins slow an attacker down without handing them a way to lock anyone out:
 * - per source (client address + email): after `maxFailuresPerSource` failures in a window, that address is
 *   refused for that email until the window ends (it can still sign in to other accounts, and the owner can
 *   still sign in from anywhere else);
 * - per email (every source): after `slowdownAfter` failures in a window each attempt waits a little longer,
 *   up to `slowdownMaxMs`, before it is answered; a successful sign-in clears it.
 * Both are counted per email string, whether or not an account has it, so unknown emails behave identically.
 */
export interface SignInThrottlePolicy {
  maxFailuresPerSource: number;
  windowMinutes: number;
  slowdownAfter: number;
  slowdownMaxMs: number;
}

export interface FailureCount {
  failures: number;
  /** When the window that holds these failures ends (null when there are none). */
  windowEndsAt: Date | null;
}

const SLOWDOWN_BASE_MS = 250;

/** Seconds until a source may try this email again, or 0 when it may try now. */
export function sourceRetryAfterSeconds(source: FailureCount, policy: SignInThrottlePolicy, now: Date): number {
  if (source.failures < policy.maxFailuresPerSource || !source.windowEndsAt) return 0;
  const remainingMs = source.windowEndsAt.getTime() - now.getTime();
  return remainingMs > 0 ? Math.ceil(remainingMs / 1000) : 0;
}

/** How long to hold an attempt on an email that has failed this often (doubling from 250 ms, capped). */
export function slowdownMs(accountFailures: number, policy: SignInThrottlePolicy): number {
  if (accountFailures < policy.slowdownAfter) return 0;
  const exponent = Math.min(accountFailures - policy.slowdownAfter, 16);
  return Math.min(policy.slowdownMaxMs, SLOWDOWN_BASE_MS * 2 ** exponent);
}
