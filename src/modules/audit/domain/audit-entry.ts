import { canonicalJson } from '@app/audit-chain';

export const AUDIT_ENTRY_VERSION = 1;
export const AUDIT_OUTCOMES = ['allowed', 'denied', 'failed'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];
export type AuditChannel = 'http' | 'socket' | 'cli' | 'job';

/** Who acted: a signed-in user, or the system itself (sync runs, retention, scheduled checkpoints). */
export interface AuditActor {
  type: 'user' | 'system';
  id: string | null;
  roles: readonly string[];
  schoolIds: readonly string[];
}

/** Where the access came from. IP and user agent are kept for investigations; never names or bodies. */
export interface AuditOrigin {
  channel: AuditChannel;
  requestId?: string | null;
  clientIp?: string | null;
  userAgent?: string | null;
  route?: string | null;
}

/** What a capture point hands to the audit log. Ids, codes, field names and counts only: never student data. */
export interface AuditEntryDraft {
  action: string;
  resource: { type: string; id?: string | null };
  actor: AuditActor;
  studentIds: readonly string[];
  dataCategories: readonly string[];
  purpose?: string | null;
  outcome: AuditOutcome;
  /** Why it was denied or failed: a stable error code. */
  reason?: string | null;
  origin: AuditOrigin;
  details?: Record<string, unknown>;
  occurredAt: Date;
}

/** The stored form (version 1). Its canonical JSON is what the chain hashes. */
export interface AuditEntry {
  v: typeof AUDIT_ENTRY_VERSION;
  id: string;
  occurredAt: string;
  action: string;
  resource: { type: string; id: string | null };
  actor: { type: 'user' | 'system'; id: string | null; roles: string[]; schoolIds: string[] };
  studentIds: string[];
  dataCategories: string[];
  purpose: string | null;
  outcome: AuditOutcome;
  reason: string | null;
  origin: {
    channel: AuditChannel;
    requestId: string | null;
    clientIp: string | null;
    userAgent: string | null;
    route: string | null;
  };
  details: Record<string, unknown>;
}

const MAX_USER_AGENT = 512;

export function toAuditEntry(id: string, draft: AuditEntryDraft): AuditEntry {
  return {
    v: AUDIT_ENTRY_VERSION,
    id,
    occurredAt: draft.occurredAt.toISOString(),
    action: draft.action,
    resource: { type: draft.resource.type, id: draft.resource.id ?? null },
    actor: {
      type: draft.actor.type,
      id: draft.actor.id,
      roles: [...draft.actor.roles].sort(),
      schoolIds: [...draft.actor.schoolIds].sort(),
    },
    studentIds: [...new Set(draft.studentIds)].sort(),
    dataCategories: [...new Set(draft.dataCategories)].sort(),
    purpose: draft.purpose ?? null,
    outcome: draft.outcome,
    reason: draft.reason ?? null,
    origin: {
      channel: draft.origin.channel,
      requestId: draft.origin.requestId ?? null,
      clientIp: draft.origin.clientIp ?? null,
      userAgent: draft.origin.userAgent ? truncateCodePoints(draft.origin.userAgent, MAX_USER_AGENT) : null,
      route: draft.origin.route ?? null,
    },
    details: draft.details ?? {},
  };
}

/** The exact text whose SHA-256 is the entry hash. */
export function serialiseAuditEntry(entry: AuditEntry): string {
  return canonicalJson(entry);
}

export function parseAuditEntry(text: string): AuditEntry {
  return JSON.parse(text) as AuditEntry;
}

/** Cuts at a code point boundary, so an emoji is never split into a lone surrogate (invalid in RFC 8785). */
function truncateCodePoints(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  const last = cut.charCodeAt(cut.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
}
