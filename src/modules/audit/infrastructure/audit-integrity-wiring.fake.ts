import { SystemClock, type Clock } from '@app/ddd';
import { MikroOrmTransactionRunner } from '@app/persistence';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { CommandBus, EventBus } from '@nestjs/cqrs';
import { randomUUID } from 'node:crypto';
import type { AuditConfig } from '../../../config/index.js';
import { ExportAuditBundleHandler } from '../application/commands/export-audit-bundle.command.js';
import {
  SignAuditCheckpointCommand,
  SignAuditCheckpointHandler,
} from '../application/commands/sign-audit-checkpoint.command.js';
import { AuditMetrics } from '../application/ports/audit-metrics.port.js';
import { VerifyAuditChainHandler } from '../application/queries/verify-audit-chain.query.js';
import type { AuditEntry, AuditEntryDraft } from '../domain/audit-entry.js';
import { Ed25519CheckpointSigner } from './ed25519-checkpoint.signer.js';
import { PostgresAuditChainReader } from './postgres-audit-chain.reader.js';
import { PostgresAuditCheckpointRepository } from './postgres-audit-checkpoint.repository.js';
import { PostgresAuditLog } from './postgres-audit-log.js';

/** Remembers what the handlers reported, so tests can assert on metrics. */
export class RecordingAuditMetrics extends AuditMetrics {
  readonly verifications: { ok: boolean; at: Date }[] = [];
  readonly checkpoints: Date[] = [];
  appended(_entries: readonly AuditEntry[], _seconds: number): void {}
  appendFailed(_entries: number): void {}
  verified(result: { ok: boolean; at: Date }): void {
    this.verifications.push(result);
  }
  checkpointSigned(at: Date): void {
    this.checkpoints.push(at);
  }
  readonly projectionFailures: string[] = [];
  projectionFailed(projection: string): void {
    this.projectionFailures.push(projection);
  }
}

export const TEST_AUDIT_CONFIG: AuditConfig = {
  signingKey: 'integrity-test-signing-key-material-0123456789',
  previousSigningKeys: [],
  origin: 'audit.district.test',
  failClosed: true,
  captureEnabled: true,
  checkpointIntervalMinutes: 60,
  retentionDays: 2_555,
  verifyCron: '30 3 * * *',
};

/**
 * The integrity handlers on their real PostgreSQL adapters, without booting Nest: what the module wires, with
 * recording fakes for metrics and in-process events.
 */
export function auditIntegrity(
  em: EntityManager,
  config: AuditConfig = TEST_AUDIT_CONFIG,
  clock: Clock = new SystemClock(),
) {
  const metrics = new RecordingAuditMetrics();
  const published: unknown[] = [];
  const events = { publish: (event: unknown) => published.push(event) } as unknown as EventBus;
  const signer = new Ed25519CheckpointSigner(config);
  const reader = new PostgresAuditChainReader(em);
  const checkpoints = new PostgresAuditCheckpointRepository(em);
  const sign = new SignAuditCheckpointHandler(
    new MikroOrmTransactionRunner(em),
    checkpoints,
    reader,
    signer,
    config,
    clock,
    metrics,
    events,
  );
  const commands = {
    execute: (command: unknown) => {
      if (command instanceof SignAuditCheckpointCommand) return sign.execute(command);
      throw new Error(`No handler for ${String(command)}`);
    },
  } as unknown as CommandBus;
  return {
    metrics,
    published,
    signer,
    reader,
    checkpoints,
    sign,
    verify: new VerifyAuditChainHandler(reader, checkpoints, signer, metrics, events, clock),
    export: new ExportAuditBundleHandler(commands, reader, checkpoints, signer, config),
    log: new PostgresAuditLog(em, metrics),
  };
}

/** A plausible access entry: ids only, as the capture writes them. */
export function accessDraft(index: number): AuditEntryDraft {
  return {
    action: index % 5 === 0 ? 'student.list' : 'student.read',
    resource: { type: 'student', id: null },
    actor: { type: 'user', id: randomUUID(), roles: ['teacher'], schoolIds: [randomUUID()] },
    studentIds: [randomUUID()],
    dataCategories: ['directory'],
    outcome: index % 11 === 0 ? 'denied' : 'allowed',
    reason: index % 11 === 0 ? 'ROSTER.ACCESS_DENIED' : null,
    origin: { channel: 'http', requestId: randomUUID(), clientIp: '10.0.0.7', route: 'GET /api/v1/students/:id' },
    occurredAt: new Date(),
  };
}
