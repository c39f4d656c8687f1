import type { AlertChannel, NewSyncAlert, SyncAlert } from '../../domain/sync-alert.js';

export interface StoredSyncAlert {
  id: string;
  alert: SyncAlert;
  /** When each channel accepted the alert. */
  delivered: Partial<Record<AlertChannel, Date>>;
}

/** Alerts raised, what they said and where they were delivered. */
export abstract class SyncAlertRepository {
  /**
   * Stores the alert unless one with the same dedupe key exists. `created` is false (and `stored` the earlier
   * alert) when it did.
   */
  abstract add(alert: NewSyncAlert, at: Date): Promise<{ created: boolean; stored: StoredSyncAlert }>;

  abstract findById(id: string): Promise<StoredSyncAlert | null>;

  abstract markDelivered(id: string, channel: AlertChannel, at: Date): Promise<void>;
}
