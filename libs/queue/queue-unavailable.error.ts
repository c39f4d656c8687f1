import { DomainError } from '@app/ddd';

/** The queue's store (Redis) cannot take work right now; nothing was enqueued, and the caller may retry. */
export class QueueUnavailableError extends DomainError {
  readonly code = 'QUEUE.UNAVAILABLE';
  readonly kind = 'unavailable' as const;

  constructor() {
    super('The job queue is unavailable; try again shortly', { retryAfterSeconds: 5 });
  }
}
