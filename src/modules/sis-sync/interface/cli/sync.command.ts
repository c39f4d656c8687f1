import { commandMetadata, printResult, SYNC_CLI, SYNC_IMPORT_CLI, syncExitCode } from '@app/cli-commands';
import { MikroORM, RequestContext } from '@mikro-orm/core';
import { Injectable } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { SingleBar, Presets } from 'cli-progress';
import { Command, CommandRunner, Help, Option, SubCommand } from 'nest-commander';
import { createReadStream, existsSync } from 'node:fs';
import { basename } from 'node:path';
import { ImportOneRosterCsvCommand } from '../../application/commands/import-oneroster-csv.command.js';
import { StartSyncRunCommand } from '../../application/commands/start-sync-run.command.js';
import { GetSyncRunQuery } from '../../application/queries/get-sync-run.query.js';
import { SyncEngine } from '../../application/services/sync-engine.js';
import { ACTIVE_RUN_STATES, type SyncRun } from '../../domain/sync-run.js';
import { printSyncRunSummary, syncRunDocument } from './sync-run-report.js';

interface SyncOptions {
  full?: boolean;
  delta?: boolean;
  dryRun?: boolean;
  remaster?: boolean;
  json?: boolean;
  connection?: string;
}

const POLL_MS = 250;
const ENTITY_COUNT = 7;

/**
 * Runs the sync in this process with a progress bar; when a worker process claims it first (Redis mode),
 * follows that worker's progress instead. The exit status says how the run ended (`syncExitCode`); with `--json`
 * the only output on stdout is the run as one JSON document.
 *
 * `@Injectable()` makes TypeScript emit the constructor's parameter types for Nest: the subclasses declare no
 * constructor of their own, and without it every dependency below is injected as undefined.
 */
@Injectable()
abstract class RunningSyncCommand extends CommandRunner {
  constructor(
    protected readonly commands: CommandBus,
    private readonly queries: QueryBus,
    private readonly engine: SyncEngine,
    protected readonly orm: MikroORM,
  ) {
    super();
  }

  protected async follow(run: SyncRun, json: boolean): Promise<void> {
    if (!json) console.log(`Run ${run.id} queued.`);
    const bar = new SingleBar(
      { format: ' {bar} {phase} | {entity} | {processed} records', hideCursor: true, noTTYOutput: false },
      Presets.shades_classic,
    );
    if (!json) bar.start(ENTITY_COUNT * 2, 0, { phase: 'pull', entity: '', processed: 0 });
    const execution = RequestContext.create(this.orm.em, () => this.engine.execute(run.id)).catch(
      (error: unknown) => error,
    );
    let latest: SyncRun;
    for (;;) {
      latest = await RequestContext.create(this.orm.em, () => this.queries.execute(new GetSyncRunQuery(run.id)));
      const checkpoint = latest.checkpoint;
      const done = Object.keys(latest.counts).length;
      const phase = checkpoint.phase;
      if (!json)
        bar.update(phase === 'pull' ? done : phase === 'done' ? ENTITY_COUNT * 2 : ENTITY_COUNT + done / 2, {
          phase,
          entity: 'entity' in checkpoint ? checkpoint.entity : '',
          processed: Object.values(latest.counts).reduce((sum, counts) => sum + (counts?.pulled ?? 0), 0),
        });
      if (!ACTIVE_RUN_STATES.includes(latest.state) || latest.state === 'held') break;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    if (!json) bar.stop();
    const outcome = await execution;
    if (outcome instanceof Error) throw outcome;
    printResult(json, syncRunDocument(latest), () => {
      console.log('');
      printSyncRunSummary(latest);
    });
    process.exitCode = syncExitCode(latest.state);
  }

  /** A flag of this command, or of `sync` when given after `import` (commander hands it to the parent). */
  protected flag(options: SyncOptions, name: 'dryRun' | 'json'): boolean {
    return options[name] ?? this.command.parent?.opts<SyncOptions>()[name] ?? false;
  }
}

@SubCommand(commandMetadata(SYNC_IMPORT_CLI))
export class SyncImportCliCommand extends RunningSyncCommand {
  async run([zip]: string[], options: SyncOptions): Promise<void> {
    if (!zip || !existsSync(zip)) throw new Error(`No such file: ${zip ?? '(none given)'}`);
    const dryRun = this.flag(options, 'dryRun');
    const run = await RequestContext.create(this.orm.em, () =>
      this.commands.execute(
        new ImportOneRosterCsvCommand(createReadStream(zip), null, dryRun, options.connection, basename(zip)),
      ),
    );
    await this.follow(run, this.flag(options, 'json'));
  }

  @Option(SYNC_IMPORT_CLI.options.connection)
  parseConnection(value: string): string {
    return value;
  }

  @Option(SYNC_IMPORT_CLI.options.dryRun)
  parseDryRun(): boolean {
    return true;
  }

  @Option(SYNC_IMPORT_CLI.options.json)
  parseJson(): boolean {
    return true;
  }

  @Help('after')
  exitStatuses(): string {
    return SYNC_IMPORT_CLI.helpAfter;
  }
}

@Command({ ...commandMetadata(SYNC_CLI), subCommands: [SyncImportCliCommand] })
export class SyncCliCommand extends RunningSyncCommand {
  async run([connectionId]: string[], options: SyncOptions): Promise<void> {
    if (!connectionId) {
      this.command.help();
      return;
    }
    if (options.full && options.delta) throw new Error('Choose one of --full and --delta');
    const run = await RequestContext.create(this.orm.em, () =>
      this.commands.execute(
        new StartSyncRunCommand({
          connectionId,
          mode: options.full ? 'full' : 'delta',
          dryRun: options.dryRun ?? false,
          trigger: 'cli',
          requestedBy: null,
          remaster: options.remaster ?? false,
        }),
      ),
    );
    await this.follow(run, options.json ?? false);
  }

  @Option(SYNC_CLI.options.full)
  parseFull(): boolean {
    return true;
  }

  @Option(SYNC_CLI.options.remaster)
  parseRemaster(): boolean {
    return true;
  }

  @Option(SYNC_CLI.options.delta)
  parseDelta(): boolean {
    return true;
  }

  @Option(SYNC_CLI.options.dryRun)
  parseDryRun(): boolean {
    return true;
  }

  @Option(SYNC_CLI.options.json)
  parseJson(): boolean {
    return true;
  }

  @Help('after')
  exitStatuses(): string {
    return SYNC_CLI.helpAfter;
  }
}
