import { createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';

export const AUDIT_POLICY = 'homeroom:audit-policy';
export const AUDIT_EXEMPT = 'homeroom:audit-exempt';

/** Kinds of student data an access touches; stored on every audit entry (names, never values). */
export type AuditDataCategory =
  | 'directory'
  | 'enrollment'
  | 'demographics'
  | 'guardians'
  | 'contact'
  | 'attendance'
  | 'roster_sync'
  | 'audit_trail'
  | 'disclosures';

/**
 * Which students an access concerns:
 * - `param`: a route parameter holding one student id (`/students/:id`), known even when the call is denied;
 * - `query`: a query-string parameter holding one student id (filters such as `?studentId=`);
 * - `result`: read from the handler's response (list and search results record what they returned);
 * - `none`: the route touches student data without naming students (e.g. a sync run's issue list).
 */
export type AuditSubjects =
  | { from: 'param'; name: string }
  | { from: 'query'; name: string }
  | { from: 'result'; select: (result: unknown) => readonly string[] }
  | { from: 'none' };

export interface AuditPolicy {
  /** `<resource>.<verb>`, e.g. `student.read`, `student.update`, `class_roster.read`, `audit.export`. */
  action: string;
  resource: string;
  dataCategories: readonly AuditDataCategory[];
  subjects: AuditSubjects;
  /**
   * `write`: the handler and its audit entry commit in one transaction (if either fails, neither is stored).
   * `read`: the entry is stored after the handler and before the response leaves.
   * `stream`: for handlers that write the response themselves (streamed CSV/JSONL): the handler takes
   *   `@AuditStreamStart()` and awaits it once its input is known to be good and before it writes anything;
   *   if it never does, the entry is stored when it finishes.
   */
  mode: 'read' | 'write' | 'stream';
}

/** Declares how calls to a student-scoped route are audited. Every route has this or `@AuditExempt`. */
export const Audited = (policy: AuditPolicy): MethodDecorator => SetMetadata(AUDIT_POLICY, policy);

/** Declares that a route (or a whole controller) touches no student data, and why. */
export const AuditExempt = (reason: string): MethodDecorator & ClassDecorator => SetMetadata(AUDIT_EXEMPT, reason);

/** Request header carrying the purpose / legitimate interest of an access, when the client gives one. */
export const AUDIT_PURPOSE_HEADER = 'x-access-purpose';

/** Stores a streamed route's audit entry (see `mode: 'stream'`); fails the call if the entry cannot be stored. */
export type BeginAuditedStream = () => Promise<void>;

interface StreamStartRequest {
  auditBegin?: BeginAuditedStream;
}

/** Injects the `BeginAuditedStream` of a `mode: 'stream'` route. */
export const AuditStreamStart = createParamDecorator(
  (_data: unknown, context: ExecutionContext): BeginAuditedStream => {
    const begin = context.switchToHttp().getRequest<StreamStartRequest>().auditBegin;
    if (!begin) throw new Error('@AuditStreamStart() is only available on routes audited with mode "stream"');
    return begin;
  },
);
