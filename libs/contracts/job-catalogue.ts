/**
 * Every background job Homeroom runs, with its payload type. A job name is defined here once; the queue
 * refuses to boot when a job has no handler or more than one.
 */
export interface JobCatalogue {
  /** Deletes refresh-token sessions that expired or were revoked more than the retention period ago. */
  'identity.purge-expired-sessions': { olderThanDays: number };
}

export type JobName = keyof JobCatalogue;
export type JobPayload<N extends JobName> = JobCatalogue[N];

export interface JobDefinition {
  /** Total tries, the first included. */
  attempts: number;
  /** First retry delay; each later retry doubles it (capped by the queue). */
  backoffMs: number;
}

export const jobDefinitions: Record<JobName, JobDefinition> = {
  'identity.purge-expired-sessions': { attempts: 3, backoffMs: 30_000 },
};
