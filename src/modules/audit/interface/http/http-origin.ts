import type { Request } from 'express';
import type { AuthenticatedUser } from '../../../identity/index.js';
import type { UserAuditActor } from '../../application/system-audit-actor.js';
import type { AuditOrigin } from '../../domain/audit-entry.js';

/** Where a command's own audit entry came from, as the route's capture entry records it. */
export function httpOrigin(request: Request): AuditOrigin {
  const route = (request.route as { path?: string } | undefined)?.path ?? null;
  const id = (request as Request & { id?: unknown }).id;
  return {
    channel: 'http',
    requestId: typeof id === 'string' || typeof id === 'number' ? String(id) : null,
    clientIp: request.ip ?? null,
    userAgent: request.header('user-agent') ?? null,
    route: route ? `${request.method} ${route}` : null,
  };
}

export function userActor(user: AuthenticatedUser): UserAuditActor {
  return { type: 'user', id: user.id, roles: user.roles, schoolIds: user.schoolIds };
}
