import { Module } from '@nestjs/common';
import {
  AuditCliCommand,
  AuditExportCliCommand,
  AuditRebuildReadModelsCliCommand,
  AuditVerifyCliCommand,
} from './interface/cli/audit.command.js';

/** `homeroom audit …`; the handlers these call are registered by AuditModule in every role. */
@Module({
  providers: [AuditCliCommand, AuditVerifyCliCommand, AuditExportCliCommand, AuditRebuildReadModelsCliCommand],
})
export class AuditCliModule {}
