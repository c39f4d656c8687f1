import type { AlertChannel, SyncAlert } from '../../domain/sync-alert.js';

/**
 * One way of telling people about a sync alert. Adapters: `WebhookNotifier` (signed JSON POST) and
 * `SmtpNotifier` (email). Each is off unless configured. Delivery runs inside a queued job, so `send` throws
 * on any failure and the queue retries it with backoff.
 */
export abstract class Notifier {
  abstract readonly channel: AlertChannel;
  /** False when the channel is not configured: nothing is queued for it. */
  abstract readonly enabled: boolean;
  /** Resolves once the receiver accepted the alert. Errors never carry the channel's URL or credentials. */
  abstract send(alert: SyncAlert): Promise<void>;
}

/** Injection token for every `Notifier` (`@Inject(NOTIFIERS) notifiers: readonly Notifier[]`). */
export const NOTIFIERS = Symbol('sis-sync:notifiers');
