export { AuditLog, type AppendedAuditEntry } from './application/ports/audit-log.port.js';
export { AuditModule } from './audit.module.js';
export type { AuditActor, AuditEntry, AuditEntryDraft, AuditOrigin, AuditOutcome } from './domain/audit-entry.js';
export { AuditProblemRecorder } from './interface/http/audit-problem.recorder.js';
export { AuditRouteRegistry, type RegisteredRoute } from './interface/http/audit-route.registry.js';
