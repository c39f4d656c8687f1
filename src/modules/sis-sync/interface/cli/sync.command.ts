import { MikroORM, RequestContext } from '@mikro-orm/core';
import { Injectable } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { SingleBar, Presets } from 'cli-progress';
import { Command, CommandRunner, Option, SubCommand } from 'nest-commander';
import { createReadStream, existsSync } from 'node:fs';
import { ImportOneRosterCsvCommand } from '../../application/commands/import-oneroster-csv.command.js';
import { StartSyncRunCommand } from '../../application/commands/start-sync-run.command.js';
import { GetSyncRunQuery } from '../../application/queries/sync-run.queries.js';
import { SyncEngine } from '../../application/services/sync-engine.js';
import { ACTIVE_RUN_STATES, type SyncRun } from '../../domain/sync-run.js';

interface SyncOptions {
  full?: boolean;
  delta?: boolean;
  dryRun?: boolean;
  remaster?: boolean;
}

const POLL_MS = 250;
const ENTITY_COUNT = 7;

/**
 * Runs the sync in this process with a progress bar; when a worker process claims it first (Redis mode),
 * follows that worker's progress instead. Exits non-zero when the run fails or is held.
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

  protected async follow(run: SyncRun): Promise<void> {
    console.log(`Run ${run.id} queued.`);
    const bar = new SingleBar(
      { format: ' {bar} {phase} | {entity} | {processed} records', hideCursor: true, noTTYOutput: false },
      Presets.shades_classic,
    );
    bar.start(ENTITY_COUNT * 2, 0, { phase: 'pull', entity: '', processed: 0 });
    const execution = RequestContext.create(this.orm.em, () => this.engine.execute(run.id)).catch(
      (error: unknown) => error,
    );
    let latest: SyncRun;
    for (;;) {
      latest = await RequestContext.create(this.orm.em, () => this.queries.execute(new GetSyncRunQuery(run.id)));
      const checkpoint = latest.checkpoint;
      const done = Object.keys(latest.counts).length;
      const phase = checkpoint.phase;
      bar.update(phase === 'pull' ? done : phase === 'done' ? ENTITY_COUNT * 2 : ENTITY_COUNT + done / 2, {
        phase,
        entity: 'entity' in checkpoint ? checkpoint.entity : '',
        processed: Object.values(latest.counts).reduce((sum, counts) => sum + (counts?.pulled ?? 0), 0),
      });
      if (!ACTIVE_RUN_STATES.includes(latest.state) || latest.state === 'held') break;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    bar.stop();
    const outcome = await execution;
    if (outcome instanceof Error) throw outcome;
    this.summarise(latest);
  }

  private summarise(run: SyncRun): void {
    console.log(`\nRun ${run.id}: ${run.state}${run.dryRun ? ' (dry run: nothing applied)' : ''}`);
    if (run.sourceDescription) console.log(`Source: ${run.sourceDescription}`);
    const rows = Object.entries(run.state === 'held' || run.dryRun ? (run.preview ?? {}) : run.counts).map(
      ([entity, counts]) => ({ entity, ...(counts as object) }),
    );
    if (rows.length > 0) console.table(rows.map(({ samples: _samples, ...row }: Record<string, unknown>) => row));
    if (run.holdReasons.length > 0) {
      console.log('Held for review:');
      for (const reason of run.holdReasons) {
        console.log(
          reason.kind === 'id_remap'
            ? `  - ${reason.count} people changed SIS ids (id remap)`
            : `  - ${reason.entity} ${reason.action}: ${reason.count} exceeds ${reason.limit}`,
        );
      }
      console.log(`Approve with POST /api/v1/sis/runs/${run.id}/approve or discard with …/discard.`);
    }
    if (run.issueCount > 0) console.log(`${run.issueCount} issue(s): GET /api/v1/sis/runs/${run.id}/issues`);
    if (run.errorCode) console.log(`Error ${run.errorCode}: ${run.errorMessage ?? ''}`);
    if (run.state === 'failed' || run.state === 'held' || run.state === 'cancelled') process.exitCode = 1;
  }
}

@SubCommand({ name: 'import', arguments: '<zip>', description: 'Import a OneRoster CSV zip (bulk or delta files)' })
export class SyncImportCliCommand extends RunningSyncCommand {
  async run([zip]: string[], options: SyncOptions): Promise<void> {
    if (!zip || !existsSync(zip)) throw new Error(`No such file: ${zip ?? '(none given)'}`);
    // `sync` declares --dry-run as well, and commander hands the flag to the parent even when it follows `import`.
    const dryRun = options.dryRun ?? this.command.parent?.opts<SyncOptions>().dryRun ?? false;
    const run = await RequestContext.create(this.orm.em, () =>
      this.commands.execute(new ImportOneRosterCsvCommand(createReadStream(zip), null, dryRun)),
    );
    await this.follow(run);
  }

  @Option({ flags: '--dry-run', description: 'preview the changes without applying them' })
  parseDryRun(): boolean {
    return true;
  }
}

@Command({
  name: 'sync',
  arguments: '[connectionId]',
  description: 'Sync a SIS connection now (delta by default), or `sync import <zip>`',
  subCommands: [SyncImportCliCommand],
})
export class SyncCliCommand extends RunningSyncCommand {
  async run([connectionId]: string[], options: SyncOptions): Promise<void> {
    if (!connectionId) {
      this.command.help();
      return;
    }
    if (options.full && options.delta) throw new Error('Choose one of --full and --delta');
    const run = await RequestContext.create(this.orm.em, () =>
      this.commands.execute(
        new StartSyncRunCommand(
          connectionId,
          options.full ? 'full' : 'delta',
          options.dryRun ?? false,
          'cli',
          null,
          null,
          options.remaster ?? false,
        ),
      ),
    );
    await this.follow(run);
  }

  @Option({ flags: '--full', description: 'pull everything; records missing from the SIS are deactivated' })
  parseFull(): boolean {
    return true;
  }

  @Option({ flags: '--remaster', description: 'SIS values replace sticky local edits, which are cleared' })
  parseRemaster(): boolean {
    return true;
  }

  @Option({ flags: '--delta', description: 'pull records changed since the last successful run (default)' })
  parseDelta(): boolean {
    return true;
  }

  @Option({ flags: '--dry-run', description: 'preview the changes without applying them' })
  parseDryRun(): boolean {
    return true;
  }
}
