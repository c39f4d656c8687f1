import { DomainError } from '@app/ddd';

export class JobNotFoundError extends DomainError {
  readonly code = 'OPS.JOB_NOT_FOUND';
  readonly kind = 'not_found' as const;

  constructor(jobId: string) {
    super('No dead-lettered job has that id', { jobId });
  }
}
