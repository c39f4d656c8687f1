import type { FailureCount } from '../../domain/sign-in-throttle.js';

/**
 * Counts failed sign-ins per opaque key (the caller passes digests, never an address or email) in fixed
 * windows that start at the first failure. Shared by every API process.
 */
export abstract class LoginFailureStore {
  /** The failures of each key in its current window (zero when it has none or its window ended). */
  abstract read(keys: readonly string[], now: Date): Promise<FailureCount[]>;
  /** Adds one failure to each key, starting a new window of `windowMs` where the previous one ended. */
  abstract record(keys: readonly string[], now: Date, windowMs: number): Promise<void>;
  abstract clear(keys: readonly string[]): Promise<void>;
  /** Deletes counters whose window ended before the given time; returns how many. */
  abstract purgeEndedBefore(before: Date): Promise<number>;
}
