import {
  ROSTER_APPLY_ORDER,
  RosterRecordsChangedV1,
  SisSyncRunSettledV1,
  type RosterEntity,
  type RosterRecord,
} from '@app/contracts';
import { Clock } from '@app/ddd';
import { TransactionRunner } from '@app/persistence';
import { Injectable, Logger } from '@nestjs/common';
import { SisSyncConfig } from '../../../../config/index.js';
import { EventBus } from '@nestjs/cqrs';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  RosterMirror,
  type ApplyChunkResult,
  type ApplyOptions,
  type ChangeSetKey,
  type DeactivationScope,
  type EntityChangePreview,
} from '../../../roster/index.js';
import { SisTokenObtainedEvent } from '../../domain/connection-health.js';
import type { SisConnection } from '../../domain/sis-connection.js';
import {
  emptyEntityCounts,
  exceededThresholds,
  type EntityCounts,
  type HoldReason,
  type RunCheckpoint,
  type RunCounts,
  type RunPreview,
  type SyncMode,
  type SyncRun,
  type SyncRunState,
} from '../../domain/sync-run.js';
import { ImportFileStore } from '../ports/import-file.store.js';
import { SyncRunStateConflictError } from '../../domain/sync-run.errors.js';
import { SisConnectionRepository } from '../ports/sis-connection.repository.js';
import { SisSourceFactory } from '../ports/sis-source.factory.js';
import { SisSourceError, type SisRecordIssue, type SisSource } from '../ports/sis-source.port.js';
import { SyncMetrics } from '../ports/sync-metrics.port.js';
import { SyncRunRepository, type EntityPull, type RunIssue } from '../ports/sync-run.repository.js';
import { SyncRunBroadcaster } from './sync-run.broadcaster.js';

/** Tries of one run before it is failed for good (each worker crash or infrastructure error is one). */
export const MAX_RUN_ATTEMPTS = 6;
const LEASE_RENEW_MS = 2_000;

class RunStopped extends Error {
  constructor(readonly reason: 'cancelled' | 'lease-lost') {
    super(reason);
  }
}

/** Renews a run's lease while the run works, and tells it when to stop. */
class RunLease {
  private readonly controller = new AbortController();
  private stopReason: RunStopped['reason'] | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly runs: SyncRunRepository,
    private readonly runId: string,
    private readonly owner: string,
    private readonly leaseMs: number,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    // Frequent enough that a cancellation is noticed within a couple of seconds.
    this.timer = setInterval(() => void this.renew(), LEASE_RENEW_MS);
    this.timer.unref();
  }

  get lost(): boolean {
    return this.stopReason === 'lease-lost';
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Throws when the run was cancelled (honoured only before anything is applied) or the lease was lost. */
  check(allowCancel: boolean): void {
    if (this.stopReason === 'lease-lost' || (allowCancel && this.stopReason === 'cancelled')) {
      throw new RunStopped(this.stopReason);
    }
  }

  async release(): Promise<void> {
    clearInterval(this.timer);
    await this.runs.renewLease(this.runId, this.owner, 0, this.clock.now()).catch(() => undefined);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async renew(): Promise<void> {
    try {
      const lease = await this.runs.renewLease(this.runId, this.owner, this.leaseMs, this.clock.now());
      if (!lease) this.halt('lease-lost');
      else if (lease.cancelRequested) this.halt('cancelled');
    } catch (error) {
      this.logger.warn(`Could not renew the lease of run ${this.runId}: ${(error as Error).message}`);
    }
  }

  private halt(reason: RunStopped['reason']): void {
    if (this.stopReason === 'lease-lost') return;
    this.stopReason = reason;
    if (reason === 'lease-lost') this.controller.abort();
  }
}

/**
 * Runs one sync: pull every entity into the run's change set, preview it against the mirror, hold it when it
 * exceeds the connection's thresholds (or remaps ids), then apply it in chunks with a checkpoint committed in
 * the same transaction as each chunk. A retried or resumed run continues from its checkpoint.
 */
@Injectable()
export class SyncEngine {
  private readonly logger = new Logger('SisSync');
  private readonly providers = new Map<string, string>();
  /** Runs this process is executing: a duplicate job for one of them must not start a second execution. */
  private readonly executing = new Set<string>();
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

  constructor(
    private readonly runs: SyncRunRepository,
    private readonly connections: SisConnectionRepository,
    private readonly mirror: RosterMirror,
    private readonly sources: SisSourceFactory,
    private readonly transactions: TransactionRunner,
    private readonly clock: Clock,
    private readonly events: EventBus,
    private readonly broadcaster: SyncRunBroadcaster,
    private readonly metrics: SyncMetrics,
    private readonly importFiles: ImportFileStore,
    config: SisSyncConfig,
  ) {
    this.leaseMs = config.runLeaseSeconds * 1000;
    this.applyChunkSize = config.applyChunkSize;
    this.writeLanes = config.writeLanes;
  }

  private readonly leaseMs: number;
  private readonly applyChunkSize: number;
  private readonly writeLanes: number;

  /** Runs (or resumes) a run. Returns quietly when another worker holds it or it is already settled. */
  async execute(runId: string): Promise<SyncRun | null> {
    if (this.executing.has(runId)) return null;
    this.executing.add(runId);
    try {
      return await this.claimAndRun(runId);
    } finally {
      this.executing.delete(runId);
    }
  }

  private async claimAndRun(runId: string): Promise<SyncRun | null> {
    const run = await this.runs.claim(runId, this.owner, this.leaseMs, this.clock.now());
    if (!run) return null;
    if (run.attempt > MAX_RUN_ATTEMPTS) {
      return this.fail(
        run,
        run.counts,
        'SIS_SYNC.RUN_ATTEMPTS_EXHAUSTED',
        `Gave up after ${MAX_RUN_ATTEMPTS} attempts`,
      );
    }
    const lease = new RunLease(this.runs, run.id, this.owner, this.leaseMs, this.clock, this.logger);
    this.broadcaster.stateChanged(run);
    try {
      return await this.proceed(run, lease);
    } catch (error) {
      if (error instanceof RunStopped || lease.lost) {
        if (lease.lost || (error instanceof RunStopped && error.reason === 'lease-lost')) {
          this.logger.warn(`Sync run ${run.id}: another worker took it over; this worker stops here`);
          return null;
        }
        await this.fenced(run.id, () => this.mirror.discardStaged(run.id));
        return this.settle(run, 'cancelled', { errorCode: 'SIS_SYNC.RUN_CANCELLED', errorMessage: 'Cancelled' });
      }
      if (error instanceof SisSourceError) {
        await this.runs.addIssues(run.id, [
          {
            entity: error.entity ?? 'run',
            sourcedId: null,
            field: error.field ?? null,
            severity: 'error',
            message: error.message,
          },
        ]);
        const latest = (await this.runs.findById(run.id)) ?? run;
        return this.fail(latest, latest.counts, error.code, error.message);
      }
      // Infrastructure trouble (database, network of this process): let the queue retry from the checkpoint.
      this.logger.error(`Sync run ${run.id} attempt ${run.attempt} failed: ${(error as Error).message}`);
      await lease.release();
      throw error;
    } finally {
      lease.stop();
    }
  }

  /** A held run's change set is dropped; nothing of it is applied. */
  async discard(run: SyncRun): Promise<SyncRun> {
    const settled = await this.runs.settleIfHeld(
      run.id,
      'SIS_SYNC.RUN_DISCARDED',
      'Discarded after review',
      this.clock.now(),
    );
    if (!settled) throw new SyncRunStateConflictError('discarded', run.state, 'Only a held run can be discarded');
    await this.mirror.discardStaged(run.id);
    if (settled.importFile) await this.importFiles.delete(settled.importFile);
    this.broadcaster.stateChanged(settled);
    this.events.publish(
      new SisSyncRunSettledV1(settled.id, settled.connectionId, 'cancelled', settled.dryRun, settled.counts as never),
    );
    return settled;
  }

  /** A queued run is cancelled at once; a running one stops before it applies anything. */
  async cancel(run: SyncRun): Promise<SyncRun> {
    const updated = await this.runs.requestCancel(run.id, this.clock.now());
    if (!updated) {
      throw new SyncRunStateConflictError(
        'cancelled',
        run.state,
        run.state === 'running'
          ? 'The run is already applying its changes; it cannot be cancelled half-way'
          : `A run in state "${run.state}" cannot be cancelled`,
      );
    }
    if (updated.state === 'cancelled') {
      if (updated.importFile) await this.importFiles.delete(updated.importFile);
      this.broadcaster.stateChanged(updated);
    }
    return updated;
  }

  private async proceed(run: SyncRun, lease: RunLease): Promise<SyncRun> {
    const found = await this.connections.findWithSecret(run.connectionId);
    if (!found) return this.fail(run, run.counts, 'SIS_SYNC.CONNECTION_NOT_FOUND', 'The connection no longer exists');
    const { connection, secret } = found;
    this.providers.set(run.id, connection.provider);
    const key: ChangeSetKey = { changeSetId: run.id, connectionId: run.connectionId };
    const counts: RunCounts = structuredClone(run.counts);
    let checkpoint = run.checkpoint;

    if (checkpoint.phase === 'review' || checkpoint.phase === 'apply' || checkpoint.phase === 'deactivate') {
      const lost = await this.lostStagedEntities(run.id);
      if (lost.length > 0) {
        // Nothing is applied yet and nobody approved what was pulled: pulling again is the same run.
        if (checkpoint.phase === 'review' && !run.approvedAt) {
          this.logger.warn(`Sync run ${run.id}: the staged change set of ${lost.join(', ')} is gone; pulling again`);
          // Stored, so that a crash while pulling again resumes the pull and never reviews a half-pulled entity.
          checkpoint = { phase: 'pull' };
          await this.save(run.id, checkpoint, counts);
        } else {
          return this.fail(
            run,
            counts,
            'SIS_SYNC.CHANGE_SET_LOST',
            `PostgreSQL lost this run's staged change set (${lost.join(', ')}), as a database restart or a failover ` +
              `to a standby does; ${checkpoint.phase === 'review' ? 'the approved change set was not applied' : 'the apply stopped there and nothing was deactivated'}. Start the sync again.`,
          );
        }
      }
    }

    if (checkpoint.phase === 'pull') {
      await this.pull(run, connection, secret, key, counts, lease);
      checkpoint = { phase: 'review' };
      await this.save(run.id, checkpoint, counts);
    }
    const pulls = await this.runs.pulls(run.id);
    const current = (await this.runs.findById(run.id)) ?? run;
    if (checkpoint.phase !== 'done') await this.mirror.refreshStagedStatistics();

    if (checkpoint.phase === 'review') {
      lease.check(true);
      this.broadcaster.progress(current, { phase: 'review', entity: '*', processed: 0, total: null }, true);
      // Each entity's preview is a few read-only scans; up to `writeLanes` of them run at once.
      const previewed = new Map<RosterEntity, EntityChangePreview>();
      const waiting = ROSTER_APPLY_ORDER.filter((entity) => pulls.has(entity));
      const lane = async (): Promise<void> => {
        for (let entity = waiting.shift(); entity; entity = waiting.shift()) {
          const scope = this.deactivationScope(current, connection, pulls.get(entity)!);
          previewed.set(entity, await this.mirror.preview(key, entity, scope));
        }
      };
      await Promise.all(Array.from({ length: this.writeLanes }, lane));
      const preview: RunPreview = {};
      for (const entity of ROSTER_APPLY_ORDER) {
        const entityPreview = previewed.get(entity);
        if (entityPreview) preview[entity] = entityPreview;
      }
      if (!(await this.runs.recordPreview(run.id, this.owner, preview))) throw new RunStopped('lease-lost');
      current.preview = preview;
      const remapped = pulls.has('people') ? await this.mirror.countRemappedPeople(key) : 0;
      const holdReasons: HoldReason[] = [
        ...(remapped > 0 ? [{ kind: 'id_remap', entity: 'people', count: remapped } as const] : []),
        ...exceededThresholds(preview, connection.settings.thresholds),
      ];
      if (current.dryRun) {
        await this.fenced(run.id, () => this.mirror.discardStaged(run.id));
        const errors = await this.runs.countIssues(run.id, 'error');
        return this.settle(current, errors > 0 ? 'succeeded_with_issues' : 'succeeded', {
          preview,
          holdReasons,
          counts,
          checkpoint: { phase: 'done' },
        });
      }
      if (holdReasons.length > 0 && !current.approvedAt) {
        return this.settle(current, 'held', { preview, holdReasons, counts, checkpoint: { phase: 'review' } });
      }
      checkpoint = { phase: 'apply', entity: ROSTER_APPLY_ORDER[0], after: null, remapped: false };
      await this.save(run.id, checkpoint, counts);
    }

    if (checkpoint.phase === 'apply') {
      const remapApproved = current.holdReasons.some((reason) => reason.kind === 'id_remap') && !!current.approvedAt;
      const options = { fieldOwnership: connection.settings.fieldPolicies ?? {}, remaster: current.remaster };
      await this.apply(current, key, pulls, counts, checkpoint, remapApproved, options, lease);
      checkpoint = { phase: 'deactivate', entity: ROSTER_APPLY_ORDER.at(-1)! };
      await this.save(run.id, checkpoint, counts);
    }
    if (checkpoint.phase === 'deactivate') {
      await this.deactivate(current, connection, key, pulls, counts, checkpoint.entity, lease);
    }
    // The change set goes with the step that marks the run done: a run resumed between the two would otherwise
    // deactivate every record the (now empty) change set no longer lists.
    await this.fenced(run.id, async () => {
      await this.mirror.discardStaged(run.id);
      await this.save(run.id, { phase: 'done' }, counts);
    });
    const state = (await this.runs.countIssues(run.id, 'error')) > 0 ? 'succeeded_with_issues' : 'succeeded';
    return this.settle(current, state, { counts, checkpoint: { phase: 'done' } });
  }

  private async pull(
    run: SyncRun,
    connection: SisConnection,
    secret: string | null,
    key: ChangeSetKey,
    counts: RunCounts,
    lease: RunLease,
  ): Promise<void> {
    let { mode, since } = await this.effectiveMode(run, connection);
    const provider = connection.provider;
    const importPath = run.importFile ? await this.importFiles.materialise(run.importFile) : null;
    let source: SisSource;
    try {
      source = await this.sources.open(connection, secret, {
        importFile: importPath,
        observer: {
          onRequest: (event) => this.metrics.sisRequest(provider, event.status, event.retry),
          // Recorded for the connection's health view (RecordTokenExpiryHandler).
          onToken: (event) => {
            this.events.publish(new SisTokenObtainedEvent(connection.id, event.expiresAt, this.clock.now()));
          },
        },
      });
    } catch (error) {
      if (importPath) await this.importFiles.release(importPath);
      throw error;
    }
    try {
      let note =
        run.mode === 'delta' && mode === 'full' ? ' (delta requested; no earlier successful run: full pull)' : '';
      if (mode === 'delta' && !source.supportsDelta()) {
        mode = 'full';
        since = undefined;
        note = ' (delta requested; this SIS has no changed-since query: full pull diffed against the mirror)';
      }
      const description = `${source.describe()}${note}`;
      await this.runs.recordSource(run.id, description, since ?? null, mode);
      const done = await this.runs.pulls(run.id);
      const lost = new Set(await this.lostStagedEntities(run.id, done));
      const supplied = source.entities();
      for (const entity of ROSTER_APPLY_ORDER) {
        if (!supplied.includes(entity) || (done.get(entity)?.complete && !lost.has(entity))) continue;
        lease.check(true);
        await this.fenced(run.id, async () => {
          await this.mirror.discardStaged(run.id, entity);
          // A lost entity is pulled again: until that pull completes, its half-staged records are no snapshot.
          if (lost.has(entity)) {
            await this.runs.recordPull(run.id, { entity, complete: false, snapshot: false, records: 0, pages: 0 });
          }
        });
        const pulled = await this.pullEntity(run, source, key, entity, mode, since, lease);
        const rule = connection.settings.personMergeRule;
        const merged =
          entity === 'people' && connection.settings.version === '1.1' && rule !== 'none'
            ? await this.fenced(run.id, () => this.mirror.mergeStagedPeople(key, rule))
            : 0;
        counts[entity] = {
          ...(counts[entity] ?? emptyEntityCounts()),
          pulled: pulled.records,
          ...(merged > 0 ? { merged } : {}),
        };
        await this.fenced(run.id, async () => {
          await this.runs.recordPull(run.id, pulled);
          await this.save(run.id, { phase: 'pull' }, counts);
        });
      }
    } finally {
      await source.close();
      if (importPath) await this.importFiles.release(importPath);
    }
  }

  private async pullEntity(
    run: SyncRun,
    source: SisSource,
    key: ChangeSetKey,
    entity: RosterEntity,
    mode: SyncMode,
    since: Date | undefined,
    lease: RunLease,
  ): Promise<EntityPull> {
    const issues: RunIssue[] = [];
    // A record the listing holds but that could not be read is present all the same: it is staged as such, so it
    // never counts as absent. One without a readable sourcedId leaves the listing not known to be complete.
    let unreadable: string[] = [];
    let unidentified = 0;
    const aliases =
      entity === 'enrollments' || entity === 'demographics'
        ? await this.mirror.personAliases(key)
        : new Map<string, string>();
    const onIssue = (issue: SisRecordIssue): void => {
      issues.push({ ...issue, severity: issue.severity ?? 'error' });
      // A warning skipped nothing: the records it speaks of were read.
      if (issue.severity === 'warning' || issue.subject === 'detail' || issue.entity !== entity) return;
      if (issue.sourcedId === null) unidentified += 1;
      else
        unreadable.push(
          entity === 'demographics' ? (aliases.get(issue.sourcedId) ?? issue.sourcedId) : issue.sourcedId,
        );
    };
    const pull = await source.pull(entity, { mode, since, signal: lease.signal, onIssue });
    let records = 0;
    let pages = 0;
    // Staging overlaps with fetching and normalising the next pages: up to `writeLanes` pages are written at once,
    // each on its own connection (a later page's version of a record wins whichever commits first).
    const staging: Promise<void>[] = [];
    try {
      for await (const page of pull.pages) {
        lease.check(true);
        if (staging.length >= this.writeLanes) await staging.shift();
        const rows = aliases.size > 0 ? page.map((record) => canonicalise(record, aliases)) : page;
        const pageIssues = issues.splice(0);
        const pageUnreadable = unreadable;
        unreadable = [];
        const pageNumber = pages;
        const write = this.fenced(run.id, async () => {
          await this.mirror.stage(key, entity, rows, pageNumber);
          await this.mirror.stageUnreadable(key, entity, pageUnreadable, pageNumber);
          if (pageIssues.length > 0) await this.runs.addIssues(run.id, pageIssues);
        });
        // A failure surfaces at a later await; until then it must not count as unhandled.
        write.catch(() => undefined);
        staging.push(write);
        records += page.length;
        pages += 1;
        this.broadcaster.progress(run, { phase: 'pull', entity, processed: records, total: null });
      }
    } finally {
      await Promise.allSettled(staging);
    }
    for (const write of staging) await write;
    if (unreadable.length > 0) await this.mirror.stageUnreadable(key, entity, unreadable.splice(0), pages);
    if (unidentified > 0 && pull.snapshot) {
      issues.push({
        entity,
        sourcedId: null,
        field: 'sourcedId',
        severity: 'error',
        message:
          `${unidentified} ${entity} record${unidentified === 1 ? '' : 's'} of the listing had no readable sourcedId, ` +
          `so the listing is not known to be complete: no ${entity} record was deactivated for being absent in this run`,
      });
    }
    if (issues.length > 0) await this.runs.addIssues(run.id, issues.splice(0));
    return { entity, complete: true, snapshot: pull.snapshot && unidentified === 0, records, pages };
  }

  private async apply(
    run: SyncRun,
    key: ChangeSetKey,
    pulls: Map<RosterEntity, EntityPull>,
    counts: RunCounts,
    checkpoint: { entity: RosterEntity; after: string | null; remapped: boolean },
    remapApproved: boolean,
    options: ApplyOptions,
    lease: RunLease,
  ): Promise<void> {
    let remapped = checkpoint.remapped;
    const entities = ROSTER_APPLY_ORDER.slice(ROSTER_APPLY_ORDER.indexOf(checkpoint.entity)).filter((entity) =>
      pulls.has(entity),
    );
    // Chunk bounds come from the change set alone, which the apply does not change: with connections to spare,
    // the next entity's are read while this one applies.
    const boundsOf = (entity: RosterEntity): Promise<string[]> => {
      const bounds = this.mirror.chunkBounds(
        key,
        entity,
        entity === checkpoint.entity ? checkpoint.after : null,
        this.applyChunkSize,
      );
      bounds.catch(() => undefined);
      return bounds;
    };
    let upcoming: Promise<string[]> | null = null;
    for (const [index, entity] of entities.entries()) {
      const after = entity === checkpoint.entity ? checkpoint.after : null;
      const entityCounts: EntityCounts = (counts[entity] ??= emptyEntityCounts());
      if (entity === 'people' && remapApproved && !remapped) {
        lease.check(false);
        await this.transactions.run(async () => {
          entityCounts.remapped = await this.mirror.remapPeople(key);
          await this.save(run.id, { phase: 'apply', entity, after, remapped: true }, counts);
        });
        remapped = true;
      }
      await this.mirror.refreshMirrorStatistics(entity, pulls.get(entity)?.records ?? 0);
      const bounds = await (upcoming ?? boundsOf(entity));
      const next = entities[index + 1];
      upcoming = next && this.writeLanes > 1 ? boundsOf(next) : null;
      const total = after === null ? (pulls.get(entity)?.records ?? null) : null;
      await this.applyChunks(run, key, entity, after, bounds, entityCounts, counts, remapped, options, lease, total);
    }
  }

  /**
   * Applies an entity's chunks (each ending at one of `bounds`), up to `writeLanes` of them at once on their own
   * connections. Each chunk's transaction commits only after the one before it has: its checkpoint and counts
   * then cover every earlier chunk, so a crash leaves the run resumable exactly as a one-at-a-time apply would,
   * and a chunk that fails rolls back every chunk after it.
   */
  private async applyChunks(
    run: SyncRun,
    key: ChangeSetKey,
    entity: RosterEntity,
    after: string | null,
    bounds: readonly string[],
    entityCounts: EntityCounts,
    counts: RunCounts,
    remapped: boolean,
    options: ApplyOptions,
    lease: RunLease,
    /** Records the entity's apply will process (null when resumed part-way: only the rest is counted). */
    total: number | null,
  ): Promise<void> {
    let applied = 0;
    let chunks = 0;
    let previous: Promise<void> = Promise.resolve();
    const inFlight: Promise<void>[] = [];
    try {
      for (const through of bounds) {
        lease.check(false);
        const from = after;
        after = through;
        const earlier = previous;
        let holdsConnection!: () => void;
        const started = new Promise<void>((resolve) => (holdsConnection = resolve));
        const done = this.transactions
          .run(async () => {
            holdsConnection();
            const chunk = await this.mirror.applyChunk(key, entity, from, this.applyChunkSize, options, through);
            await earlier;
            this.countChunk(entityCounts, chunk);
            await this.recordChunkIssues(run, entity, chunk);
            await this.save(run.id, { phase: 'apply', entity, after: through, remapped }, counts);
            return chunk;
          })
          .then(async (chunk) => {
            applied += chunk.processed;
            chunks += 1;
            // A table that grows from empty (a first sync) keeps its empty-table statistics until analysed, and
            // the planner may then look records up through the wrong index, scanning the table for every record;
            // refreshing at 1, 2, 4, 8… chunks keeps the apply linear.
            if (chunk.created.length > 0 && (chunks & (chunks - 1)) === 0) {
              await this.mirror.refreshMirrorStatistics(entity, applied);
            }
            this.publishChanges(run, entity, chunk.created, chunk.updated, chunk.restored, []);
            this.broadcaster.progress(run, { phase: 'apply', entity, processed: applied, total });
          });
        // Observed through `inFlight` and the next chunk; until then a failure must not count as unhandled.
        done.catch(() => undefined);
        previous = done;
        inFlight.push(done);
        // The next chunk starts only once this one holds its connection: with a small pool, the next one must
        // not take the last connection while waiting for this one to commit.
        await Promise.race([started, done]);
        // The first chunk runs alone, so the table's statistics are fresh before chunks are planned side by side.
        while (inFlight.length >= (chunks === 0 ? 1 : this.writeLanes)) await inFlight.shift();
      }
      while (inFlight.length > 0) await inFlight.shift();
    } catch (error) {
      await Promise.allSettled(inFlight);
      throw error;
    }
  }

  private countChunk(entityCounts: EntityCounts, chunk: ApplyChunkResult): void {
    entityCounts.created += chunk.created.length;
    entityCounts.updated += chunk.updated.length;
    entityCounts.restored += chunk.restored.length;
    entityCounts.unchanged += chunk.unchanged;
    entityCounts.skipped += chunk.unresolved.length;
    if (chunk.conflicts.length > 0) entityCounts.conflicts = (entityCounts.conflicts ?? 0) + chunk.conflicts.length;
  }

  private async recordChunkIssues(run: SyncRun, entity: RosterEntity, chunk: ApplyChunkResult): Promise<void> {
    await this.runs.addIssues(run.id, [
      ...chunk.conflicts.map((conflict) => ({
        entity,
        sourcedId: conflict.sourcedId,
        field: conflict.field,
        severity: 'conflict' as const,
        message: `Kept the local value of ${conflict.field} (sticky); the SIS changed it. A remaster run or clearing the local edit applies the SIS value.`,
      })),
      ...chunk.unresolved.map((unresolved) => ({
        entity,
        sourcedId: unresolved.sourcedId,
        field: unresolved.field,
        severity: 'error' as const,
        message: `Skipped: ${unresolved.field} "${unresolved.reference ?? ''}" is not an active record of this connection`,
      })),
    ]);
  }

  private async deactivate(
    run: SyncRun,
    connection: SisConnection,
    key: ChangeSetKey,
    pulls: Map<RosterEntity, EntityPull>,
    counts: RunCounts,
    from: RosterEntity,
    lease: RunLease,
  ): Promise<void> {
    const reverse = [...ROSTER_APPLY_ORDER].reverse();
    for (const entity of reverse.slice(reverse.indexOf(from))) {
      const pull = pulls.get(entity);
      // The review counted what would be deactivated; with nothing to deactivate, skip the scan.
      if (!pull || run.preview?.[entity]?.deactivate === 0) continue;
      const scope = this.deactivationScope(run, connection, pull);
      const entityCounts: EntityCounts = (counts[entity] ??= emptyEntityCounts());
      for (;;) {
        lease.check(false);
        const ids = await this.transactions.run(async () => {
          const deactivated = await this.mirror.deactivateChunk(key, entity, scope, this.applyChunkSize);
          if (deactivated.length === 0) return deactivated;
          entityCounts.deactivated += deactivated.length;
          await this.save(run.id, { phase: 'deactivate', entity }, counts);
          return deactivated;
        });
        if (ids.length === 0) break;
        this.publishChanges(run, entity, [], [], [], ids);
        this.broadcaster.progress(run, {
          phase: 'deactivate',
          entity,
          processed: entityCounts.deactivated,
          total: run.preview?.[entity]?.deactivate ?? null,
        });
      }
    }
    await this.deactivateDependents(run, key, counts, lease);
  }

  /**
   * What only exists through a record this run deactivated goes with it (enrollments of a person or class, their
   * demographics, classes of a course), parents first: the mirror never keeps an active enrollment of an inactive
   * person, whatever the SIS still lists. Idempotent, so a resumed run simply runs it again.
   */
  private async deactivateDependents(
    run: SyncRun,
    key: ChangeSetKey,
    counts: RunCounts,
    lease: RunLease,
  ): Promise<void> {
    if (!Object.values(counts).some((entityCounts) => (entityCounts?.deactivated ?? 0) > 0)) return;
    for (const entity of ROSTER_APPLY_ORDER) {
      for (;;) {
        lease.check(false);
        const ids = await this.transactions.run(async () => {
          const deactivated = await this.mirror.deactivateDependentsChunk(key, entity, this.applyChunkSize);
          if (deactivated.length === 0) return deactivated;
          const entityCounts: EntityCounts = (counts[entity] ??= emptyEntityCounts());
          entityCounts.deactivated += deactivated.length;
          await this.save(run.id, { phase: 'deactivate', entity: ROSTER_APPLY_ORDER[0] }, counts);
          return deactivated;
        });
        if (ids.length === 0) break;
        this.publishChanges(run, entity, [], [], [], ids);
        this.broadcaster.progress(run, {
          phase: 'deactivate',
          entity,
          processed: counts[entity]?.deactivated ?? ids.length,
          total: null,
        });
      }
    }
  }

  /** Absence means deletion only in a complete, non-empty snapshot pulled by a full run. */
  private deactivationScope(run: SyncRun, connection: SisConnection, pull: EntityPull): DeactivationScope {
    return {
      absent: run.mode === 'full' && pull.complete && pull.snapshot && pull.records > 0,
      schoolScope: connection.settings.schoolScope,
    };
  }

  /** Entities pulled complete with records whose staged records are gone (see `RosterMirror.unstagedEntities`). */
  private async lostStagedEntities(runId: string, pulls?: Map<RosterEntity, EntityPull>): Promise<RosterEntity[]> {
    const pulled = [...(pulls ?? (await this.runs.pulls(runId))).values()]
      .filter((pull) => pull.complete && pull.records > 0)
      .map((pull) => pull.entity);
    return this.mirror.unstagedEntities(runId, pulled);
  }

  private async effectiveMode(run: SyncRun, connection: SisConnection): Promise<{ mode: SyncMode; since?: Date }> {
    if (run.mode === 'full') return { mode: 'full' };
    const last = await this.runs.lastSuccessful(connection.id);
    if (!last?.startedAt) return { mode: 'full' };
    return {
      mode: 'delta',
      since: new Date(last.startedAt.getTime() - connection.settings.deltaOverlapSeconds * 1000),
    };
  }

  private publishChanges(
    run: SyncRun,
    entity: RosterEntity,
    created: string[],
    updated: string[],
    restored: string[],
    deactivated: string[],
  ): void {
    if (created.length + updated.length + restored.length + deactivated.length === 0) return;
    for (const [action, ids] of [
      ['created', created],
      ['updated', updated],
      ['restored', restored],
      ['deactivated', deactivated],
    ] as const) {
      if (ids.length > 0) this.metrics.recordsApplied(entity, action, ids.length);
    }
    this.events.publish(
      new RosterRecordsChangedV1(run.connectionId, run.id, entity, created, updated, restored, deactivated),
    );
  }

  /**
   * Runs `work` in a transaction that commits only if this worker still holds the run. The lease is checked (and
   * the run row locked until the commit) after the work, not before: the row is then held only for the moment
   * of the commit, so the run's own writes on other connections (two staged pages at once) and its lease
   * renewals do not queue behind each other, and a worker that lost the run still commits nothing.
   */
  private fenced<T>(runId: string, work: () => Promise<T>): Promise<T> {
    return this.transactions.run(async () => {
      const result = await work();
      if (!(await this.runs.confirmLease(runId, this.owner))) throw new RunStopped('lease-lost');
      return result;
    });
  }

  private async save(runId: string, checkpoint: RunCheckpoint, counts: RunCounts): Promise<void> {
    if (!(await this.runs.saveProgress(runId, this.owner, checkpoint, counts))) throw new RunStopped('lease-lost');
  }

  private async fail(run: SyncRun, counts: RunCounts, code: string, message: string): Promise<SyncRun> {
    await this.fenced(run.id, () => this.mirror.discardStaged(run.id));
    return this.settle(run, 'failed', { errorCode: code, errorMessage: message, counts });
  }

  private async settle(
    run: SyncRun,
    state: SyncRunState,
    fields: Parameters<SyncRunRepository['settle']>[3],
  ): Promise<SyncRun> {
    const settled = await this.runs.settle(run.id, this.owner, state, fields, this.clock.now());
    if (!settled) throw new RunStopped('lease-lost');
    if (state !== 'held' && settled.importFile) await this.importFiles.delete(settled.importFile);
    this.broadcaster.stateChanged(settled);
    if (state !== 'held') {
      const seconds = settled.startedAt ? (this.clock.now().getTime() - settled.startedAt.getTime()) / 1000 : 0;
      this.metrics.runSettled(this.providers.get(run.id) ?? 'unknown', state, seconds);
      this.providers.delete(run.id);
    }
    this.events.publish(
      new SisSyncRunSettledV1(
        settled.id,
        settled.connectionId,
        state as 'succeeded' | 'succeeded_with_issues' | 'failed' | 'cancelled' | 'held',
        settled.dryRun,
        settled.counts as Record<string, Record<string, number>>,
      ),
    );
    return settled;
  }
}

/** Rewrites references to people known under another sourcedId (merged 1.1 per-role users). */
function canonicalise<E extends RosterEntity>(record: RosterRecord<E>, aliases: Map<string, string>): RosterRecord<E> {
  if ('userSourcedId' in record) {
    const canonical = aliases.get(record.userSourcedId);
    return canonical ? { ...record, userSourcedId: canonical } : record;
  }
  if ('birthDate' in record) {
    const canonical = aliases.get(record.sourcedId);
    return canonical ? { ...record, sourcedId: canonical } : record;
  }
  return record;
}
