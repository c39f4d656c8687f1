import { parseCheckpointLines, readBundleCheckpoints, type CheckpointRecord } from '@app/audit-chain';
import {
  AUDIT_CLI,
  AUDIT_EXPORT_CLI,
  AUDIT_REBUILD_READ_MODELS_CLI,
  AUDIT_VERIFY_CLI,
  commandMetadata,
  printResult,
} from '@app/cli-commands';
import { MikroORM, RequestContext } from '@mikro-orm/core';
import { Injectable } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { Command, CommandRunner, Option, SubCommand } from 'nest-commander';
import { readFile, stat } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import {
  ExportAuditBundleCommand,
  type AuditBundleExport,
} from '../../application/commands/export-audit-bundle.command.js';
import { AuditLog } from '../../application/ports/audit-log.port.js';
import { AuditProjector } from '../../application/ports/audit-projector.port.js';
import { VerifyAuditChainQuery } from '../../application/queries/verify-audit-chain.query.js';
import { VerifyAuditReadModelsQuery } from '../../application/queries/verify-audit-read-models.query.js';
import { SYSTEM_AUDIT_ACTOR } from '../../application/system-audit-actor.js';
import type { AuditEntryDraft, AuditOutcome } from '../../domain/audit-entry.js';
import { runOfflineAuditCommand } from './offline-bundle-verification.js';
import { reportReadModelVerification, reportVerification } from './verification-report.js';

interface VerifyOptions {
  fromSeq?: number;
  toSeq?: number;
  checkpoints?: string;
  json?: boolean;
  bundle?: string;
  publicKey?: string[];
  readModels?: boolean;
}

/**
 * Operator commands on the audit trail. Each run against the database is itself recorded in the trail
 * (channel `cli`, the system as actor, the OS account in details); offline bundle verification has no database
 * to record in.
 *
 * `@Injectable()` makes TypeScript emit the constructor's parameter types for Nest (see sync.command.ts).
 */
@Injectable()
abstract class AuditCliRunner extends CommandRunner {
  constructor(
    protected readonly commands: CommandBus,
    protected readonly queries: QueryBus,
    protected readonly log: AuditLog,
    protected readonly orm: MikroORM,
  ) {
    super();
  }

  protected inContext<T>(work: () => Promise<T>): Promise<T> {
    return RequestContext.create(this.orm.em, work);
  }

  protected async record(
    action: string,
    resource: string,
    outcome: AuditOutcome,
    details: Record<string, unknown>,
  ): Promise<void> {
    const draft: AuditEntryDraft = {
      action,
      resource: { type: resource, id: null },
      actor: SYSTEM_AUDIT_ACTOR,
      studentIds: [],
      dataCategories: ['audit_trail'],
      outcome,
      origin: { channel: 'cli', route: `homeroom ${this.command.parent?.name() ?? 'audit'} ${this.command.name()}` },
      details: { osUser: osUser(), ...details },
      occurredAt: new Date(),
    };
    await this.log.append([draft]);
  }
}

@SubCommand(commandMetadata(AUDIT_VERIFY_CLI))
export class AuditVerifyCliCommand extends AuditCliRunner {
  async run(_params: string[], options: VerifyOptions): Promise<void> {
    if (options.bundle) {
      // Normally answered before the app starts (src/cli.ts); kept here so the flags mean the same either way.
      const args = ['audit', 'verify', '--bundle', options.bundle];
      for (const file of options.publicKey ?? []) args.push('--public-key', file);
      if (options.json) args.push('--json');
      process.exitCode = (await runOfflineAuditCommand(args)) ?? 1;
      return;
    }
    const externalCheckpoints = options.checkpoints ? await checkpointsFrom(options.checkpoints) : undefined;
    const range = { fromSeq: options.fromSeq, toSeq: options.toSeq };
    const result = await this.inContext(async () => {
      try {
        const verification = await this.queries.execute(new VerifyAuditChainQuery({ ...range, externalCheckpoints }));
        await this.record('audit.verify', 'audit_chain', 'allowed', {
          fromSeq: String(verification.fromSeq),
          toSeq: String(verification.toSeq),
          externalCheckpoints: externalCheckpoints?.length ?? 0,
          ok: verification.ok,
          checkedEntries: verification.checkedEntries,
          firstBadSeq: verification.firstBadSeq === null ? null : String(verification.firstBadSeq),
          problem: verification.problem?.code ?? null,
        });
        return verification;
      } catch (error) {
        await this.record('audit.verify', 'audit_chain', 'failed', { error: (error as Error).name }).catch(
          () => undefined,
        );
        throw error;
      }
    });
    process.exitCode = reportVerification(result, { json: options.json, subject: 'Audit chain' });
    if (options.readModels) {
      const readModels = await this.inContext(async () => {
        const verification = await this.queries.execute(new VerifyAuditReadModelsQuery(range));
        await this.record('audit.read_models.verify', 'audit_read_models', 'allowed', {
          fromSeq: String(verification.fromSeq),
          toSeq: String(verification.toSeq),
          ok: verification.ok,
          checkedEntries: verification.checkedEntries,
          firstDifference: verification.firstDifference
            ? { table: verification.firstDifference.table, seq: String(verification.firstDifference.seq) }
            : null,
        });
        return verification;
      });
      if (reportReadModelVerification(readModels, { json: options.json }) !== 0) process.exitCode = 1;
    }
  }

  @Option(AUDIT_VERIFY_CLI.options.readModels)
  parseReadModels(): boolean {
    return true;
  }

  @Option(AUDIT_VERIFY_CLI.options.fromSeq)
  parseFromSeq(value: string): number {
    return positiveSeq(value, '--from-seq');
  }

  @Option(AUDIT_VERIFY_CLI.options.toSeq)
  parseToSeq(value: string): number {
    return positiveSeq(value, '--to-seq');
  }

  @Option(AUDIT_VERIFY_CLI.options.checkpoints)
  parseCheckpoints(value: string): string {
    return value;
  }

  @Option(AUDIT_VERIFY_CLI.options.bundle)
  parseBundle(value: string): string {
    return value;
  }

  @Option(AUDIT_VERIFY_CLI.options.publicKey)
  parsePublicKey(value: string, previous: string[] = []): string[] {
    return [...previous, value];
  }

  @Option(AUDIT_VERIFY_CLI.options.json)
  parseJson(): boolean {
    return true;
  }
}

@SubCommand(commandMetadata(AUDIT_EXPORT_CLI))
export class AuditExportCliCommand extends AuditCliRunner {
  async run(_params: string[], options: { out?: string; json?: boolean }): Promise<void> {
    if (!options.out) throw new Error('--out <dir> is required');
    const out = resolve(options.out);
    const exported = await this.inContext(async () => {
      await this.record('audit.export', 'audit_bundle', 'allowed', { out });
      return this.commands.execute(new ExportAuditBundleCommand(out, true));
    });
    const checkpoint = exported.checkpoint?.checkpoint;
    const document = {
      out,
      newEntries: exported.newEntries,
      lastSeq: exported.lastSeq,
      checkpoints: exported.checkpoints,
      written: exported.written,
      checkpoint: checkpoint
        ? {
            id: checkpoint.id,
            size: checkpoint.size,
            keyId: checkpoint.keyId,
            created: !!exported.checkpoint?.created,
          }
        : null,
    };
    printResult(options.json, document, () => this.describe(exported, out));
  }

  private describe(exported: AuditBundleExport, out: string): void {
    const checkpoint = exported.checkpoint?.checkpoint;
    console.log(
      `Exported ${exported.newEntries} new entr${exported.newEntries === 1 ? 'y' : 'ies'} to ${out} ` +
        `(entries 1–${exported.lastSeq}, ${exported.checkpoints} checkpoint${exported.checkpoints === 1 ? '' : 's'}; ` +
        `${exported.written.length === 0 ? 'nothing new written' : `wrote ${exported.written.join(', ')}`}).`,
    );
    if (checkpoint) {
      console.log(
        `${exported.checkpoint?.created ? 'Signed' : 'Already signed'}: checkpoint ${checkpoint.id} covering ` +
          `${checkpoint.size} entries (key ${checkpoint.keyId}).`,
      );
    }
  }

  @Option(AUDIT_EXPORT_CLI.options.out)
  parseOut(value: string): string {
    return value;
  }

  @Option(AUDIT_EXPORT_CLI.options.json)
  parseJson(): boolean {
    return true;
  }
}

@SubCommand(commandMetadata(AUDIT_REBUILD_READ_MODELS_CLI))
export class AuditRebuildReadModelsCliCommand extends AuditCliRunner {
  constructor(
    commands: CommandBus,
    queries: QueryBus,
    log: AuditLog,
    orm: MikroORM,
    private readonly projector: AuditProjector,
  ) {
    super(commands, queries, log, orm);
  }

  async run(_params: string[], options: { json?: boolean }): Promise<void> {
    const started = Date.now();
    const replayed = await this.inContext(async () => {
      await this.record('audit.read_models.rebuild', 'audit_read_models', 'allowed', {});
      return this.projector.rebuild();
    });
    const seconds = (Date.now() - started) / 1000;
    printResult(options.json, { replayedEntries: replayed, seconds }, () =>
      console.log(`Rebuilt the audit read models from ${replayed} entries in ${seconds.toFixed(1)} s.`),
    );
  }

  @Option(AUDIT_REBUILD_READ_MODELS_CLI.options.json)
  parseJson(): boolean {
    return true;
  }
}

@Command({
  ...commandMetadata(AUDIT_CLI),
  subCommands: [AuditVerifyCliCommand, AuditExportCliCommand, AuditRebuildReadModelsCliCommand],
})
export class AuditCliCommand extends CommandRunner {
  run(): Promise<void> {
    this.command.help();
    return Promise.resolve();
  }
}

function positiveSeq(value: string, flag: string): number {
  if (!/^[1-9]\d{0,15}$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new Error(`${flag} must be a positive whole number`);
  }
  return Number(value);
}

/** A bundle directory, or a checkpoints.jsonl file kept on its own. */
async function checkpointsFrom(path: string): Promise<CheckpointRecord[]> {
  if ((await stat(path)).isDirectory()) return readBundleCheckpoints(path);
  return parseCheckpointLines(await readFile(path, 'utf8'));
}

function osUser(): string | null {
  try {
    return userInfo().username;
  } catch {
    return process.env['USER'] ?? null;
  }
}
