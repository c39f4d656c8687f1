import {
  commandMetadata,
  printResult,
  RUNS_APPROVE_CLI,
  RUNS_CLI,
  RUNS_DISCARD_CLI,
  RUNS_LIST_CLI,
  RUNS_SHOW_CLI,
  type CliCommandDefinition,
} from '@app/cli-commands';
import { isDomainError, isUuid } from '@app/ddd';
import { MikroORM, RequestContext } from '@mikro-orm/core';
import { Injectable } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { Command, CommandRunner, Option, SubCommand } from 'nest-commander';
import { userInfo } from 'node:os';
import { AuditLog, type AuditEntryDraft } from '../modules/audit/index.js';
import {
  ApproveSyncRunCommand,
  describeHoldReason,
  DiscardSyncRunCommand,
  GetSyncRunQuery,
  ListSyncRunsQuery,
  printSyncRunSummary,
  SYNC_RUN_STATES,
  syncRunDocument,
  type SyncRun,
  type SyncRunState,
} from '../modules/sis-sync/index.js';

const MAX_LIMIT = 200;
const DEFAULT_LIMIT = 20;
const MAX_REASON_LENGTH = 500;

interface ListOptions {
  state?: SyncRunState;
  connection?: string;
  limit?: number;
  json?: boolean;
}

interface ReviewOptions {
  reason?: string;
  json?: boolean;
}

/** `@Injectable()` makes TypeScript emit the constructor's parameter types for Nest (see sync.command.ts). */
@Injectable()
abstract class RunsCliRunner extends CommandRunner {
  constructor(
    protected readonly commands: CommandBus,
    protected readonly queries: QueryBus,
    protected readonly orm: MikroORM,
  ) {
    super();
  }

  protected inContext<T>(work: () => Promise<T>): Promise<T> {
    return RequestContext.create(this.orm.em, work);
  }

  protected runId(value: string | undefined): string {
    if (!value || !isUuid(value)) throw new Error(`Not a run id: ${value ?? '(none given)'} (expected a UUID)`);
    return value;
  }
}

@SubCommand(commandMetadata(RUNS_LIST_CLI))
export class RunsListCliCommand extends RunsCliRunner {
  async run(_params: string[], options: ListOptions): Promise<void> {
    const page = await this.inContext(() =>
      this.queries.execute(
        new ListSyncRunsQuery(options.limit ?? DEFAULT_LIMIT, undefined, options.connection, options.state),
      ),
    );
    printResult(options.json, { items: page.items.map(syncRunDocument), nextCursor: page.nextCursor }, () => {
      if (page.items.length === 0) {
        console.log('No sync runs.');
        return;
      }
      console.table(
        page.items.map((run) => ({
          id: run.id,
          connection: run.connectionId,
          state: run.state,
          mode: run.dryRun ? `${run.mode} (dry run)` : run.mode,
          trigger: run.trigger,
          created: run.createdAt.toISOString(),
          held: run.holdReasons.map(describeHoldReason).join('; '),
        })),
      );
      if (page.nextCursor) console.log(`More runs exist: raise --limit (at most ${MAX_LIMIT}) or filter.`);
    });
  }

  @Option(RUNS_LIST_CLI.options.state)
  parseState(value: string): SyncRunState {
    const state = SYNC_RUN_STATES.find((known) => known === value);
    if (!state) throw new Error(`--state must be one of ${SYNC_RUN_STATES.join(', ')}`);
    return state;
  }

  @Option(RUNS_LIST_CLI.options.connection)
  parseConnection(value: string): string {
    if (!isUuid(value)) throw new Error('--connection must be a SIS connection id (a UUID)');
    return value;
  }

  @Option(RUNS_LIST_CLI.options.limit)
  parseLimit(value: string): number {
    const limit = Number(value);
    if (!/^\d+$/.test(value) || limit < 1 || limit > MAX_LIMIT) {
      throw new Error(`--limit must be a whole number from 1 to ${MAX_LIMIT}`);
    }
    return limit;
  }

  @Option(RUNS_LIST_CLI.options.json)
  parseJson(): boolean {
    return true;
  }
}

@SubCommand(commandMetadata(RUNS_SHOW_CLI))
export class RunsShowCliCommand extends RunsCliRunner {
  async run([id]: string[], options: { json?: boolean }): Promise<void> {
    const runId = this.runId(id);
    const run = await this.inContext(() => this.queries.execute(new GetSyncRunQuery(runId)));
    printResult(options.json, syncRunDocument(run), () => {
      printSyncRunSummary(run);
      console.log(
        `Connection ${run.connectionId}; ${run.mode}${run.remaster ? ' remaster' : ''} run, trigger ${run.trigger}.`,
      );
      console.log(
        `Created ${run.createdAt.toISOString()}` +
          (run.startedAt ? `, started ${run.startedAt.toISOString()}` : '') +
          (run.finishedAt ? `, finished ${run.finishedAt.toISOString()}` : '') +
          (run.approvedAt ? `, approved ${run.approvedAt.toISOString()}` : '') +
          '.',
      );
    });
  }

  @Option(RUNS_SHOW_CLI.options.json)
  parseJson(): boolean {
    return true;
  }
}

/**
 * Approving or discarding from a shell: no one is signed in, so the audit entry names the system as actor (as
 * every CLI entry does) with the operator's OS account and their `--reason` in its details. The run itself
 * records no approving user.
 */
@Injectable()
abstract class ReviewRunCliRunner extends RunsCliRunner {
  protected abstract readonly definition: CliCommandDefinition;

  constructor(
    commands: CommandBus,
    queries: QueryBus,
    orm: MikroORM,
    private readonly log: AuditLog,
  ) {
    super(commands, queries, orm);
  }

  protected async review(
    id: string | undefined,
    options: ReviewOptions,
    execute: (runId: string) => Promise<SyncRun>,
  ): Promise<SyncRun> {
    const runId = this.runId(id);
    const reason = options.reason?.trim() || null;
    if (reason && reason.length > MAX_REASON_LENGTH) {
      throw new Error(`--reason is at most ${MAX_REASON_LENGTH} characters`);
    }
    return this.inContext(async () => {
      try {
        const run = await execute(runId);
        await this.record(runId, 'allowed', null, reason);
        return run;
      } catch (error) {
        const code = isDomainError(error) ? error.code : 'CLI.FAILED';
        await this.record(runId, 'failed', code, reason).catch(() => undefined);
        throw error;
      }
    });
  }

  private async record(runId: string, outcome: 'allowed' | 'failed', code: string | null, reason: string | null) {
    const draft: AuditEntryDraft = {
      action: `sync_run.${this.definition.name}`,
      resource: { type: 'sync_run', id: runId },
      actor: { type: 'system', id: null, roles: [], schoolIds: [] },
      studentIds: [],
      dataCategories: ['roster_sync'],
      outcome,
      reason: code,
      origin: { channel: 'cli', route: `homeroom runs ${this.definition.name}` },
      details: { osUser: osUser(), reason },
      occurredAt: new Date(),
    };
    await this.log.append([draft]);
  }
}

@SubCommand(commandMetadata(RUNS_APPROVE_CLI))
export class RunsApproveCliCommand extends ReviewRunCliRunner {
  protected readonly definition = RUNS_APPROVE_CLI;

  async run([id]: string[], options: ReviewOptions): Promise<void> {
    const run = await this.review(id, options, (runId) =>
      this.commands.execute(new ApproveSyncRunCommand(runId, null)),
    );
    printResult(options.json, syncRunDocument(run), () =>
      console.log(
        `Run ${run.id} approved: ${run.state}, a worker applies it as previewed. ` +
          `Follow it with \`homeroom runs show ${run.id}\`.`,
      ),
    );
  }

  @Option(RUNS_APPROVE_CLI.options.reason)
  parseReason(value: string): string {
    return value;
  }

  @Option(RUNS_APPROVE_CLI.options.json)
  parseJson(): boolean {
    return true;
  }
}

@SubCommand(commandMetadata(RUNS_DISCARD_CLI))
export class RunsDiscardCliCommand extends ReviewRunCliRunner {
  protected readonly definition = RUNS_DISCARD_CLI;

  async run([id]: string[], options: ReviewOptions): Promise<void> {
    const run = await this.review(id, options, (runId) => this.commands.execute(new DiscardSyncRunCommand(runId)));
    printResult(options.json, syncRunDocument(run), () =>
      console.log(`Run ${run.id} discarded: nothing was applied (${run.state}).`),
    );
  }

  @Option(RUNS_DISCARD_CLI.options.reason)
  parseReason(value: string): string {
    return value;
  }

  @Option(RUNS_DISCARD_CLI.options.json)
  parseJson(): boolean {
    return true;
  }
}

@Command({
  ...commandMetadata(RUNS_CLI),
  subCommands: [RunsListCliCommand, RunsShowCliCommand, RunsApproveCliCommand, RunsDiscardCliCommand],
})
export class RunsCliCommand extends CommandRunner {
  run(): Promise<void> {
    this.command.help();
    return Promise.resolve();
  }
}

function osUser(): string | null {
  try {
    return userInfo().username;
  } catch {
    return process.env['USER'] ?? null;
  }
}
