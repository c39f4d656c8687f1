/**
 * Every background job Homeroom runs, with its payload type. A job name is defined here once; the queue
 * refuses to boot when a job has no handler or more than one.
 */
export interface JobCatalogue {
  /** Deletes refresh-token sessions that expired or were revoked more than the retention period ago. */
  'identity.purge-expired-sessions': { olderThanDays: number };
  /** Pulls, diffs and applies one SIS sync run (resumes from its checkpoint when retried). */
  'sis-sync.run': { runId: string };
  /** Starts the runs that connection schedules make due (once per tick across every worker). */
  'sis-sync.dispatch-scheduled-runs': Record<string, never>;
  /** Re-queues runs whose worker died (expired lease) or whose queued job was lost. */
  'sis-sync.recover-stalled-runs': Record<string, never>;
  /** Sends one stored sync alert on one channel; retried with backoff until the receiver accepts it. */
  'sis-sync.deliver-alert': { alertId: string; channel: 'webhook' | 'email' };
  /** Applies new audit entries to the audit read models (access by student and actor, denials, disclosures). */
  'audit.project': Record<string, never>;
  /** Drops audit entries past the retention period, except held students' and disclosures of existing students. */
  'audit.purge-expired': Record<string, never>;
  /** Signs a checkpoint of the audit chain when one is due (checked every minute; signs even if nothing changed). */
  'audit.sign-checkpoint': Record<string, never>;
  /** Writes the audit entry of a settled sync run that the live path missed (the process stopped in between). */
  'audit.record-sync-runs': Record<string, never>;
  /** Verifies the audit chain from the last verified checkpoint on (AUDIT_VERIFY_CRON), records and alerts. */
  'audit.verify-chain': Record<string, never>;
  /** Sends one audit alert on one channel; retried with backoff until the receiver accepts it. */
  'audit.deliver-alert': { alert: AuditVerificationFailedAlert; channel: 'webhook' | 'email' };
}

/**
 * The webhook body of a failed scheduled verification of the audit chain: ids, seqs and the problem code,
 * never an entry's content. `id` is the delivery id, the same on every retry and on every channel.
 */
export interface AuditVerificationFailedAlert {
  id: string;
  type: 'audit.verification-failed';
  occurredAt: string;
  summary: string;
  verification: {
    verifiedAt: string;
    fromSeq: number;
    toSeq: number;
    checkedEntries: number;
    firstBadSeq: number | null;
    problem: string | null;
  };
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
  'sis-sync.run': { attempts: 5, backoffMs: 15_000 },
  'sis-sync.dispatch-scheduled-runs': { attempts: 1, backoffMs: 1_000 },
  'sis-sync.recover-stalled-runs': { attempts: 1, backoffMs: 1_000 },
  // 5 s, 10 s, 20 s, … : about 42 minutes before it becomes a dead letter.
  'sis-sync.deliver-alert': { attempts: 10, backoffMs: 5_000 },
  'audit.project': { attempts: 1, backoffMs: 1_000 },
  'audit.purge-expired': { attempts: 3, backoffMs: 60_000 },
  // The next minute's tick tries again.
  'audit.sign-checkpoint': { attempts: 1, backoffMs: 1_000 },
  // The next tick (five minutes) tries again.
  'audit.record-sync-runs': { attempts: 1, backoffMs: 1_000 },
  // A verification that could not run (database away) is tried again; one that found a problem is recorded, not retried.
  'audit.verify-chain': { attempts: 3, backoffMs: 60_000 },
  // As sis-sync.deliver-alert: about 42 minutes of retries before a dead letter.
  'audit.deliver-alert': { attempts: 10, backoffMs: 5_000 },
};
