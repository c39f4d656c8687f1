import type { AuditEntryDraft } from '../domain/audit-entry.js';

/** In-process: a denied access to student data was recorded (pushed to the `compliance` room). */
export class AuditAccessDeniedEvent {
  constructor(readonly entry: AuditEntryDraft) {}
}
