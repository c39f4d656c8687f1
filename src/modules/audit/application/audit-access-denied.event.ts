import type { AuditEntryDraft } from '../domain/audit-entry.js';

/** In-process: a denied access to student data was recorded (pushed to the `compliance` room). */
export class AuditAccessDeniedEvent {
  constructor(
    readonly entry: AuditEntryDraft,
    /** Its place in the chain, when the publisher knows it. */
    readonly seq: string | null = null,
  ) {}
}
