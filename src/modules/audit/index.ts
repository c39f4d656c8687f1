export {
  PurgeExpiredAuditEntriesCommand,
  type RetentionPurgeResult,
} from './application/commands/purge-expired-audit-entries.command.js';
export { AuditVerificationFailedEvent } from './application/audit-verification-failed.event.js';
export { AuditLog, type AppendedAuditEntry } from './application/ports/audit-log.port.js';
export { AuditProjector } from './application/ports/audit-projector.port.js';
export { AuditCliModule } from './audit-cli.module.js';
export { AuditModule } from './audit.module.js';
export type { AuditActor, AuditEntry, AuditEntryDraft, AuditOrigin, AuditOutcome } from './domain/audit-entry.js';
export { AuditProblemRecorder } from './interface/http/audit-problem.recorder.js';
export { AuditRouteRegistry, type RegisteredRoute } from './interface/http/audit-route.registry.js';
export { runOfflineAuditCommand } from './interface/cli/offline-bundle-verification.js';
