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
 * - `handler`: the handler names them, because they are not in the request or response as local ids (a sync
 *   run's preview and issues name students by sourcedId): it returns its result through `withAuditSubjects`,
 *   or, for a streamed route, passes them to its `BeginAuditedStream`;
 * - `none`: the route touches student data without naming students.
 */
export type AuditSubjects =
  | { from: 'param'; name: string }
  | { from: 'query'; name: string }
  | { from: 'result'; select: (result: unknown) => readonly string[] }
  | { from: 'handler' }
  | { from: 'none' };

const HANDLER_SUBJECTS = Symbol('homeroom:audit-subjects');

/**
 * Attaches the student ids a `subjects: { from: 'handler' }` route's result names. The ids ride on a
 * non-enumerable symbol property, so they never reach the response body.
 */
export function withAuditSubjects<T extends object>(result: T, studentIds: readonly string[]): T {
  Object.defineProperty(result, HANDLER_SUBJECTS, { value: [...studentIds], enumerable: false, configurable: true });
  return result;
}

/** Whether `withAuditSubjects` named the students of this result (possibly none). */
export function hasAuditSubjects(result: unknown): boolean {
  return typeof result === 'object' && result !== null && HANDLER_SUBJECTS in result;
}

/** The student ids attached by `withAuditSubjects`, or none. */
export function auditSubjectsOf(result: unknown): readonly string[] {
  if (typeof result !== 'object' || result === null) return [];
  const attached = (result as Record<symbol, unknown>)[HANDLER_SUBJECTS];
  return Array.isArray(attached) ? attached.filter((id): id is string => typeof id === 'string') : [];
}

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

/**
 * Stores a streamed route's audit entry (see `mode: 'stream'`); fails the call if the entry cannot be stored.
 * A route audited with `subjects: { from: 'handler' }` passes the ids of the students its response names.
 */
export type BeginAuditedStream = (studentIds?: readonly string[]) => Promise<void>;

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
