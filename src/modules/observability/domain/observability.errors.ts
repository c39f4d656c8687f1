import { DomainError } from '@app/ddd';

export class JobNotFoundError extends DomainError {
  readonly code = 'OPS.JOB_NOT_FOUND';
  readonly kind = 'not_found' as const;

  constructor(jobId: string) {
    super('No dead-lettered job has that id', { jobId });
  }
}

export type DependencyStatus = 'up' | 'down';

/** Readiness failed: each dependency's status only (its error text may name hosts or users, and the probe is public). */
export class NotReadyError extends DomainError {
  readonly code = 'HEALTH.NOT_READY';
  readonly kind = 'unavailable' as const;

  constructor(checks: Record<string, DependencyStatus>) {
    super('A dependency of this process is unavailable', { checks });
  }
}
