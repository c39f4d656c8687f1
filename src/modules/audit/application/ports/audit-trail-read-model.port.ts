import type { AuditOutcome } from '../../domain/audit-entry.js';

export interface AuditEventFilter {
  studentId?: string;
  actorId?: string;
  action?: string;
  outcome?: AuditOutcome;
  /** Inclusive. */
  from?: Date;
  /** Exclusive. */
  to?: Date;
}

export interface AuditEventPage {
  /** Entries strictly after this seq in the page's order (below it when newest first). */
  after?: bigint;
  order: 'asc' | 'desc';
  limit: number;
}

/** One stored entry: its position in the chain and its canonical JSON, exactly as hashed. */
export interface AuditEventRecord {
  seq: string;
  text: string;
}

/** What one actor did with one student's records over a window. */
export interface ActorStudentAccess {
  studentId: string;
  accesses: number;
  denied: number;
  firstAt: Date;
  lastAt: Date;
  actions: string[];
}

/** The audit trail as compliance reads it: entries still holding their payload (purged ones are gone). */
export abstract class AuditTrailReadModel {
  abstract listEvents(filter: AuditEventFilter, page: AuditEventPage): Promise<AuditEventRecord[]>;

  /** Grouped by student, in student id order after `afterStudentId`. */
  abstract listActorStudents(
    actorId: string,
    window: { from?: Date; to?: Date },
    afterStudentId: string | undefined,
    limit: number,
  ): Promise<ActorStudentAccess[]>;

  /** The actor as their most recent entry in the window describes them (roles and schools at that time). */
  abstract latestActorEntry(actorId: string, window: { from?: Date; to?: Date }): Promise<AuditEventRecord | null>;
}
