import { isUuid } from '@app/ddd';
import { AUDIT_PURPOSE_HEADER, auditSubjectsOf, hasAuditSubjects, type AuditPolicy } from '@app/audit-capture';
import { Injectable, Logger } from '@nestjs/common';
import { EventBus } from '@nestjs/cqrs';
import type { Request } from 'express';
import type { AuthenticatedUser } from '../../../identity/index.js';
import { AuditAccessDeniedEvent } from '../../application/audit-access-denied.event.js';
import { AuditLog } from '../../application/ports/audit-log.port.js';
import { AuditConfig } from '../../../../config/index.js';
import type { AuditEntryDraft, AuditOutcome } from '../../domain/audit-entry.js';
import { AuditUnavailableError } from '../../domain/audit.errors.js';

export interface AuditableRequest extends Request {
  user?: AuthenticatedUser;
  /** Stores the entry of a streamed route (see `AuditStreamStart`). */
  auditBegin?: (studentIds?: readonly string[]) => Promise<void>;
  /** Set once an entry has been attempted for this request, so a call is never recorded twice. */
  auditAttempted?: boolean;
}

const MAX_PURPOSE = 200;

/** Turns one HTTP call to an audited route into one audit entry. */
@Injectable()
export class HttpAuditCapture {
  private readonly logger = new Logger('AuditCapture');

  constructor(
    private readonly log: AuditLog,
    private readonly config: AuditConfig,
    private readonly events: EventBus,
  ) {}

  /**
   * Records the call. With `failClosed` (the default) an entry that cannot be stored fails the request
   * (503 AUDIT.UNAVAILABLE); otherwise the failure is logged and the response goes out unaudited.
   */
  async record(request: AuditableRequest, policy: AuditPolicy, outcome: AuditCallOutcome): Promise<void> {
    if (request.auditAttempted || !this.config.captureEnabled) return;
    request.auditAttempted = true;
    const draft = this.draft(request, policy, outcome);
    let seq: string | null;
    try {
      [{ seq }] = await this.log.append([draft]);
    } catch (error) {
      this.logger.error({ err: error, action: policy.action }, 'Could not store an audit entry');
      if (this.config.failClosed) throw new AuditUnavailableError();
      return;
    }
    if (outcome.outcome === 'denied') this.events.publish(new AuditAccessDeniedEvent(draft, seq));
  }

  private draft(request: AuditableRequest, policy: AuditPolicy, outcome: AuditCallOutcome): AuditEntryDraft {
    const user = request.user;
    const route = (request.route as { path?: string } | undefined)?.path ?? null;
    const purpose = request.header(AUDIT_PURPOSE_HEADER)?.trim().slice(0, MAX_PURPOSE) || null;
    const resourceId = typeof request.params?.['id'] === 'string' ? request.params['id'].slice(0, 100) : null;
    return {
      action: policy.action,
      resource: { type: policy.resource, id: resourceId },
      actor: user
        ? { type: 'user', id: user.id, roles: user.roles, schoolIds: user.schoolIds }
        : { type: 'user', id: null, roles: [], schoolIds: [] },
      studentIds: subjectsOf(request, policy, outcome),
      dataCategories: policy.dataCategories,
      purpose,
      outcome: outcome.outcome,
      reason: outcome.reason ?? null,
      origin: {
        channel: 'http',
        requestId: typeof request.id === 'string' || typeof request.id === 'number' ? String(request.id) : null,
        clientIp: request.ip ?? null,
        userAgent: request.header('user-agent') ?? null,
        route: route ? `${request.method} ${route}` : null,
      },
      occurredAt: new Date(),
    };
  }
}

/** How a call ended; `studentIds` are those a streamed `subjects: { from: 'handler' }` route named. */
export interface AuditCallOutcome {
  outcome: AuditOutcome;
  result?: unknown;
  reason?: string;
  studentIds?: readonly string[];
}

function subjectsOf(request: AuditableRequest, policy: AuditPolicy, outcome: AuditCallOutcome): string[] {
  const subjects = policy.subjects;
  const { result } = outcome;
  if (subjects.from === 'handler') {
    // A handler that forgot to name its students would otherwise be recorded as naming none.
    if (outcome.outcome === 'allowed' && outcome.studentIds === undefined && !hasAuditSubjects(result)) {
      throw new Error(
        `${policy.action}: a route audited with subjects { from: 'handler' } must name its students ` +
          '(return its result through withAuditSubjects, or pass them to BeginAuditedStream)',
      );
    }
    return [...(outcome.studentIds ?? auditSubjectsOf(result))]
      .filter((id) => typeof id === 'string' && isUuid(id))
      .map((id) => id.toLowerCase());
  }
  if (subjects.from === 'param') {
    const value = request.params?.[subjects.name];
    return typeof value === 'string' && isUuid(value) ? [value.toLowerCase()] : [];
  }
  if (subjects.from === 'query') {
    const value = request.query?.[subjects.name];
    return typeof value === 'string' && isUuid(value) ? [value.toLowerCase()] : [];
  }
  if (subjects.from === 'result') {
    if (result === undefined) return [];
    return subjects
      .select(result)
      .filter((id) => typeof id === 'string' && isUuid(id))
      .map((id) => id.toLowerCase());
  }
  return [];
}
