import type { SyncOperationsStatus } from '@app/contracts';
import type { ConnectionHealth, FailureStreak } from '../../domain/connection-health.js';

/** What the health view and the alert rules read from a connection's runs, and the token expiry they record. */
export abstract class ConnectionHealthRepository {
  /** Keeps the latest token seen for the connection (an older observation never overwrites a newer one). */
  abstract recordToken(connectionId: string, expiresAt: Date | null, observedAt: Date): Promise<void>;

  /** Everything but the next scheduled run (the schedule decides that). */
  abstract read(connectionId: string): Promise<Omit<ConnectionHealth, 'nextScheduledRun' | 'enabled'>>;

  /** The failed non-dry runs since the last success, newest first; null when the newest settled run did not fail. */
  abstract failureStreak(connectionId: string): Promise<FailureStreak | null>;

  /**
   * Every connection's last success and failure streak, and the active runs by state: two indexed statements,
   * cheap enough for each metrics scrape (behind a short cache).
   */
  abstract operationsStatus(): Promise<SyncOperationsStatus>;
}
