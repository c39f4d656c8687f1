import type { AuditActor } from '../domain/audit-entry.js';

/** The actor of entries the service writes on its own: sync runs, retention, scheduled work. */
export const SYSTEM_AUDIT_ACTOR: AuditActor = { type: 'system', id: null, roles: [], schoolIds: [] };

/** A signed-in user acting through the API or the CLI. */
export type UserAuditActor = AuditActor & { type: 'user'; id: string };
