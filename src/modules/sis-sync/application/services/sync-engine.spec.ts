import { PERMISSIVE_ADDRESS_POLICY } from '@app/sis-http';
import {
  ROSTER_APPLY_ORDER,
  RosterRecordsChangedV1,
  SisSyncRunSettledV1,
  type ClassRecord,
  type CourseRecord,
  type EnrollmentRecord,
  type OrgRecord,
  type PersonRecord,
  type RosterEntity,
  type RosterRecord,
} from '@app/contracts';
import { Clock } from '@app/ddd';
import { TransactionRunner } from '@app/persistence';
import { Logger } from '@nestjs/common';
import type { EventBus } from '@nestjs/cqrs';
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SisSyncConfig } from '../../../../config/index.js';
import { RealtimePublisher } from '../../../realtime/index.js';
import {
  RosterMirror,
  type ApplyChunkResult,
  type ChangeSetKey,
  type DeactivationScope,
  type EntityChangePreview,
  type RestoreResult,
} from '../../../roster/index.js';
import { DEFAULT_THRESHOLDS } from '../../domain/connection-defaults.js';
import type { SisConnection, SisConnectionSettings } from '../../domain/sis-connection.js';
import type { RunCheckpoint, RunCounts, RunPreview, SyncMode, SyncRun, SyncRunState } from '../../domain/sync-run.js';
import { ImportFileStore } from '../ports/import-file.store.js';
import {
  SisConnectionRepository,
  type SisConnectionRevision,
  type SisConnectionWithSecret,
} from '../ports/sis-connection.repository.js';
import { SisSourceFactory, type OpenSourceContext } from '../ports/sis-source.factory.js';
import {
  SisSource,
  SisSourceError,
  type SisCheckResult,
  type SisEntityPull,
  type SisPullOptions,
  type SisRecordIssue,
} from '../ports/sis-source.port.js';
import { SyncMetrics } from '../ports/sync-metrics.port.js';
import {
  SyncRunRepository,
  type EntityPull,
  type NewSyncRun,
  type Page,
  type RunIssue,
  type RunListFilter,
  type SettleFields,
  type StoredRunIssue,
} from '../ports/sync-run.repository.js';
import { MAX_RUN_ATTEMPTS, SyncEngine } from './sync-engine.js';
import { SyncRunBroadcaster } from './sync-run.broadcaster.js';

// ---------------------------------------------------------------------------------------------------------------
// Fakes of every port the engine uses
// ---------------------------------------------------------------------------------------------------------------

/** State a fake keeps in the "database": the transaction runner rolls it back when a transaction fails. */
interface Transactional {
  snapshot(): unknown;
  restore(snapshot: unknown): void;
}

class FakeClock extends Clock {
  constructor(private current: Date) {
    super();
  }
  now(): Date {
    return new Date(this.current);
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

/** Commits or rolls back the transactional fakes; can be told to fail (after doing the work) on a later call. */
class FakeTransactionRunner extends TransactionRunner {
  calls = 0;
  private crashOnCall: number | null = null;
  private counted = 0;
  private countedWhen: (() => number) | null = null;

  constructor(private readonly participants: readonly Transactional[]) {
    super();
  }

  /** The `n`th transaction from now does its work and then fails to commit, like a worker dying mid-chunk. */
  crashOnNth(n: number): void {
    this.crashOnCall = this.calls + n;
  }

  /** Like `crashOnNth`, counting only transactions during which `progress()` moved (e.g. apply chunks). */
  crashOnNthWhere(n: number, progress: () => number): void {
    this.countedWhen = progress;
    this.counted = 0;
    this.crashOnCall = n;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    this.calls += 1;
    const snapshots = this.participants.map((participant) => participant.snapshot());
    const progressBefore = this.countedWhen?.();
    try {
      const result = await work();
      const crashes = this.countedWhen
        ? this.countedWhen() !== progressBefore && (this.counted += 1) === this.crashOnCall
        : this.calls === this.crashOnCall;
      if (crashes) {
        this.countedWhen = null;
        this.crashOnCall = null;
        throw new Error('Connection terminated unexpectedly');
      }
      return result;
    } catch (error) {
      this.participants.forEach((participant, index) => participant.restore(snapshots[index]));
      throw error;
    }
  }
}

interface StoredRun {
  run: SyncRun;
  leaseOwner: string | null;
  leaseExpiresAt: Date | null;
  issues: StoredRunIssue[];
  pulls: Map<RosterEntity, EntityPull>;
}

/** Behaves like `SqlSyncRunRepository` (same claim, lease and settle rules), in memory. */
class InMemorySyncRunRepository extends SyncRunRepository implements Transactional {
  rows = new Map<string, StoredRun>();
  private issueSeq = 0;
  private failing: 'recordPreview' | 'settle' | null = null;

  /** The next call of `method` fails as if the database connection dropped (the worker's attempt dies there). */
  failNext(method: 'recordPreview' | 'settle'): void {
    this.failing = method;
  }

  private maybeFail(method: 'recordPreview' | 'settle'): void {
    if (this.failing !== method) return;
    this.failing = null;
    throw new Error('Connection terminated unexpectedly');
  }

  snapshot(): unknown {
    return structuredClone(this.rows);
  }
  restore(snapshot: unknown): void {
    this.rows = snapshot as Map<string, StoredRun>;
  }

  /** Test set-up: a run in any state. */
  insert(run: SyncRun, lease: { owner: string; expiresAt: Date } | null = null): void {
    this.rows.set(run.id, {
      run: structuredClone(run),
      leaseOwner: lease?.owner ?? null,
      leaseExpiresAt: lease?.expiresAt ?? null,
      issues: [],
      pulls: new Map(),
    });
  }

  stored(id: string): StoredRun {
    const row = this.rows.get(id);
    if (!row) throw new Error(`no run ${id}`);
    return row;
  }

  async create(run: NewSyncRun): Promise<SyncRun> {
    const created: SyncRun = {
      ...newRunFields(),
      id: run.id,
      connectionId: run.connectionId,
      mode: run.mode,
      dryRun: run.dryRun,
      trigger: run.trigger,
      requestedBy: run.requestedBy,
      importFile: run.importFile,
      importFileName: run.importFileName ?? null,
      createdAt: run.createdAt,
    };
    this.insert(created);
    return structuredClone(created);
  }

  async findById(id: string): Promise<SyncRun | null> {
    const row = this.rows.get(id);
    return row ? structuredClone(row.run) : null;
  }

  async list(filter: RunListFilter, limit: number): Promise<Page<SyncRun>> {
    const items = [...this.rows.values()]
      .map((row) => row.run)
      .filter(
        (run) =>
          (!filter.connectionId || run.connectionId === filter.connectionId) &&
          (!filter.state || run.state === filter.state),
      )
      .slice(0, limit);
    return { items: structuredClone(items), nextCursor: null };
  }

  async claim(id: string, owner: string, leaseMs: number, now: Date): Promise<SyncRun | null> {
    const row = this.rows.get(id);
    if (!row) return null;
    const { run } = row;
    const expired = row.leaseExpiresAt === null || row.leaseExpiresAt.getTime() < now.getTime();
    if (!(run.state === 'queued' || (run.state === 'running' && (row.leaseOwner === owner || expired)))) return null;
    run.state = 'running';
    row.leaseOwner = owner;
    row.leaseExpiresAt = new Date(now.getTime() + leaseMs);
    run.attempt += 1;
    run.startedAt ??= now;
    return structuredClone(run);
  }

  async renewLease(
    id: string,
    owner: string,
    leaseMs: number,
    now: Date,
  ): Promise<{ cancelRequested: boolean } | null> {
    const row = this.rows.get(id);
    if (!row || row.run.state !== 'running' || row.leaseOwner !== owner) return null;
    row.leaseExpiresAt = new Date(now.getTime() + leaseMs);
    return { cancelRequested: row.run.cancelRequested };
  }

  async saveProgress(id: string, owner: string, checkpoint: RunCheckpoint, counts: RunCounts): Promise<boolean> {
    const row = this.stored(id);
    if (row.run.state !== 'running' || row.leaseOwner !== owner) return false;
    row.run.checkpoint = structuredClone(checkpoint);
    row.run.counts = structuredClone(counts);
    return true;
  }

  async confirmLease(id: string, owner: string): Promise<boolean> {
    const row = this.stored(id);
    return row.run.state === 'running' && row.leaseOwner === owner;
  }

  async recordSource(id: string, description: string, deltaSince: Date | null, mode: SyncMode): Promise<void> {
    const { run } = this.stored(id);
    run.sourceDescription = description;
    run.deltaSince = deltaSince;
    run.mode = mode;
  }

  async addIssues(id: string, issues: readonly RunIssue[]): Promise<void> {
    const row = this.stored(id);
    for (const issue of issues) row.issues.push({ ...issue, id: (this.issueSeq += 1), createdAt: new Date(0) });
    row.run.issueCount += issues.length;
  }

  async listIssues(id: string, limit: number, afterId: number): Promise<StoredRunIssue[]> {
    return structuredClone(
      this.stored(id)
        .issues.filter((issue) => issue.id > afterId)
        .slice(0, limit),
    );
  }

  async listIssueRecords(
    id: string,
    entities: readonly RosterEntity[],
  ): Promise<{ entity: RosterEntity; sourcedId: string }[]> {
    const seen = new Map<string, { entity: RosterEntity; sourcedId: string }>();
    for (const issue of this.stored(id).issues) {
      const entity = issue.entity as RosterEntity;
      if (issue.sourcedId === null || !entities.includes(entity)) continue;
      seen.set(`${entity}\u0000${issue.sourcedId}`, { entity, sourcedId: issue.sourcedId });
    }
    return [...seen.values()];
  }

  async recordPreview(id: string, owner: string, preview: RunPreview): Promise<boolean> {
    this.maybeFail('recordPreview');
    const row = this.stored(id);
    if (row.run.state !== 'running' || row.leaseOwner !== owner) return false;
    row.run.preview = structuredClone(preview);
    return true;
  }

  async countIssues(id: string, severity: RunIssue['severity']): Promise<number> {
    return this.stored(id).issues.filter((issue) => issue.severity === severity).length;
  }

  lockConnectionIdle(): Promise<void> {
    return Promise.resolve();
  }

  markRestored(): Promise<SyncRun | null> {
    return Promise.reject(new Error('Restoring is covered by the e2e suite'));
  }

  async recordPull(id: string, pull: EntityPull): Promise<void> {
    this.stored(id).pulls.set(pull.entity, { ...pull });
  }

  async pulls(id: string): Promise<Map<RosterEntity, EntityPull>> {
    return structuredClone(this.stored(id).pulls);
  }

  async settle(
    id: string,
    owner: string,
    state: SyncRunState,
    fields: SettleFields,
    now: Date,
  ): Promise<SyncRun | null> {
    this.maybeFail('settle');
    const row = this.stored(id);
    if (row.run.state !== 'running' || row.leaseOwner !== owner) return null;
    const { run } = row;
    run.state = state;
    if (fields.preview !== undefined) run.preview = structuredClone(fields.preview);
    if (fields.holdReasons) run.holdReasons = structuredClone(fields.holdReasons);
    if (fields.errorCode !== undefined) {
      run.errorCode = fields.errorCode;
      run.errorMessage = fields.errorMessage ?? null;
    }
    if (fields.counts) run.counts = structuredClone(fields.counts);
    if (fields.checkpoint) run.checkpoint = structuredClone(fields.checkpoint);
    run.finishedAt = state === 'held' ? null : now;
    run.cancelRequested = false;
    row.leaseOwner = null;
    row.leaseExpiresAt = null;
    return structuredClone(run);
  }

  async settleIfHeld(id: string, errorCode: string, message: string, now: Date): Promise<SyncRun | null> {
    const row = this.rows.get(id);
    if (row?.run.state !== 'held') return null;
    Object.assign(row.run, { state: 'cancelled', errorCode, errorMessage: message, finishedAt: now });
    return structuredClone(row.run);
  }

  async approve(id: string, userId: string | null, now: Date): Promise<SyncRun | null> {
    const row = this.rows.get(id);
    if (row?.run.state !== 'held') return null;
    Object.assign(row.run, { state: 'queued', approvedBy: userId, approvedAt: now });
    return structuredClone(row.run);
  }

  async requestCancel(id: string, now: Date): Promise<SyncRun | null> {
    const row = this.rows.get(id);
    if (!row) return null;
    const { run } = row;
    if (run.state === 'queued') {
      Object.assign(run, { state: 'cancelled', finishedAt: now, errorCode: 'SIS_SYNC.RUN_CANCELLED' });
    } else if (run.state === 'running' && (run.checkpoint.phase === 'pull' || run.checkpoint.phase === 'review')) {
      run.cancelRequested = true;
    } else {
      return null;
    }
    return structuredClone(run);
  }

  async lastSuccessful(connectionId: string, mode?: SyncMode): Promise<SyncRun | null> {
    const found = [...this.rows.values()]
      .map((row) => row.run)
      .filter(
        (run) =>
          run.connectionId === connectionId &&
          !run.dryRun &&
          (run.state === 'succeeded' || run.state === 'succeeded_with_issues') &&
          (!mode || run.mode === mode),
      )
      .sort((a, b) => (b.startedAt?.getTime() ?? 0) - (a.startedAt?.getTime() ?? 0));
    return found[0] ? structuredClone(found[0]) : null;
  }

  async findStalled(now: Date, queuedBefore: Date): Promise<SyncRun[]> {
    return structuredClone(
      [...this.rows.values()]
        .filter(
          (row) =>
            (row.run.state === 'running' && (!row.leaseExpiresAt || row.leaseExpiresAt < now)) ||
            (row.run.state === 'queued' && row.run.createdAt < queuedBefore),
        )
        .map((row) => row.run),
    );
  }
}

function newRunFields(): SyncRun {
  return {
    id: randomUUID(),
    connectionId: randomUUID(),
    mode: 'full',
    dryRun: false,
    trigger: 'manual',
    state: 'queued',
    requestedBy: null,
    sourceDescription: null,
    deltaSince: null,
    importFile: null,
    importFileName: null,
    remaster: false,
    restoredAt: null,
    restoredBy: null,
    restoreSummary: null,
    counts: {},
    preview: null,
    holdReasons: [],
    checkpoint: { phase: 'pull' },
    issueCount: 0,
    errorCode: null,
    errorMessage: null,
    attempt: 0,
    cancelRequested: false,
    approvedBy: null,
    approvedAt: null,
    createdAt: new Date(0),
    startedAt: null,
    finishedAt: null,
  };
}

class InMemorySisConnectionRepository extends SisConnectionRepository {
  readonly rows = new Map<string, SisConnectionWithSecret>();

  async findById(id: string): Promise<SisConnection | null> {
    return this.rows.get(id)?.connection ?? null;
  }
  async findWithSecret(id: string): Promise<SisConnectionWithSecret | null> {
    return this.rows.get(id) ?? null;
  }
  async list(): Promise<SisConnection[]> {
    return [...this.rows.values()].map((row) => row.connection);
  }
  async insert(connection: SisConnection, secret: string | null): Promise<void> {
    this.rows.set(connection.id, { connection, secret });
  }
  async update(id: string, revise: (current: SisConnection) => SisConnectionRevision): Promise<SisConnection> {
    const row = this.rows.get(id)!;
    const { connection, secret } = revise(row.connection);
    this.rows.set(id, { connection, secret: secret === undefined ? row.secret : secret });
    return connection;
  }
  async softDelete(id: string): Promise<void> {
    this.rows.delete(id);
  }
  async ensureCsvImportConnection(template: { id: string }): Promise<string> {
    return template.id;
  }
}

interface MirrorRow {
  id: string;
  status: 'active' | 'inactive';
  hash: string;
  record: RosterRecord;
}

const REFERENCES: Partial<
  Record<RosterEntity, { field: string; entity: RosterEntity; of: (record: RosterRecord) => string | null }[]>
> = {
  classes: [{ field: 'courseSourcedId', entity: 'courses', of: (record) => (record as ClassRecord).courseSourcedId }],
  demographics: [{ field: 'sourcedId', entity: 'people', of: (record) => record.sourcedId }],
  enrollments: [
    { field: 'classSourcedId', entity: 'classes', of: (record) => (record as EnrollmentRecord).classSourcedId },
    { field: 'userSourcedId', entity: 'people', of: (record) => (record as EnrollmentRecord).userSourcedId },
  ],
};

/** Bookkeeping fields do not make a change, as in the PostgreSQL mirror. */
const contentHash = (record: RosterRecord): string =>
  JSON.stringify({ ...record, dateLastModified: null, status: null });

/** The roster mirror's contract, in memory: staged change sets and per-connection tables keyed by sourcedId. */
class InMemoryRosterMirror extends RosterMirror implements Transactional {
  private staged = new Map<string, Map<RosterEntity, Map<string, RosterRecord>>>();
  private unreadable = new Map<string, Map<RosterEntity, Set<string>>>();
  private tables = new Map<string, Map<RosterEntity, Map<string, MirrorRow>>>();
  readonly applyCalls: { changeSetId: string; entity: RosterEntity; after: string | null }[] = [];
  /** Each statistics check of a mirror table, with how many chunks had been applied by then. */
  readonly statisticsChecks: { entity: RosterEntity; rows: number; appliedChunks: number }[] = [];

  /** Rows are never mutated below their top level (records are replaced), so a shallow copy of each is enough. */
  snapshot(): unknown {
    const copy = (tables: typeof this.tables) =>
      new Map(
        [...tables].map(([connectionId, byEntity]) => [
          connectionId,
          new Map(
            [...byEntity].map(([entity, table]) => [entity, new Map([...table].map(([id, row]) => [id, { ...row }]))]),
          ),
        ]),
      );
    return copy(this.tables);
  }
  restore(snapshot: unknown): void {
    this.tables = snapshot as typeof this.tables;
  }

  /** What a connection's mirror holds, without local ids (they differ between two worlds). */
  state(connectionId: string): Record<string, [string, MirrorRow['status'], string][]> {
    const result: Record<string, [string, MirrorRow['status'], string][]> = {};
    for (const [entity, table] of this.tables.get(connectionId) ?? []) {
      result[entity] = [...table.entries()]
        .map(([id, row]) => [id, row.status, row.hash] as [string, MirrorRow['status'], string])
        .sort((a, b) => (a[0] < b[0] ? -1 : 1));
    }
    return result;
  }

  row(connectionId: string, entity: RosterEntity, sourcedId: string): MirrorRow | undefined {
    return this.table(connectionId, entity).get(sourcedId);
  }

  active(connectionId: string, entity: RosterEntity): string[] {
    return [...this.table(connectionId, entity).entries()]
      .filter(([, row]) => row.status === 'active')
      .map(([id]) => id)
      .sort();
  }

  stagedCountOf(changeSetId: string, entity: RosterEntity): number {
    return this.staged.get(changeSetId)?.get(entity)?.size ?? 0;
  }

  stagedIds(changeSetId: string): number {
    return [...(this.staged.get(changeSetId)?.values() ?? [])].reduce((sum, entity) => sum + entity.size, 0);
  }

  async stage<E extends RosterEntity>(
    key: ChangeSetKey,
    entity: E,
    records: readonly RosterRecord<E>[],
  ): Promise<void> {
    const staged = this.stagedOf(key.changeSetId, entity);
    for (const record of records) staged.set(record.sourcedId, structuredClone(record));
  }

  async stageUnreadable(key: ChangeSetKey, entity: RosterEntity, sourcedIds: readonly string[]): Promise<void> {
    let byEntity = this.unreadable.get(key.changeSetId);
    if (!byEntity) this.unreadable.set(key.changeSetId, (byEntity = new Map()));
    const ids = byEntity.get(entity) ?? new Set<string>();
    for (const sourcedId of sourcedIds) ids.add(sourcedId);
    byEntity.set(entity, ids);
  }

  async discardStaged(changeSetId: string, entity?: RosterEntity): Promise<void> {
    if (entity) this.staged.get(changeSetId)?.delete(entity);
    else this.staged.delete(changeSetId);
    if (entity) this.unreadable.get(changeSetId)?.delete(entity);
    else this.unreadable.delete(changeSetId);
  }

  async stagedCount(changeSetId: string, entity: RosterEntity): Promise<number> {
    return this.staged.get(changeSetId)?.get(entity)?.size ?? 0;
  }

  async unstagedEntities(changeSetId: string, entities: readonly RosterEntity[]): Promise<RosterEntity[]> {
    return entities.filter((entity) => !this.staged.get(changeSetId)?.get(entity)?.size);
  }

  /** What a PostgreSQL crash does to the UNLOGGED staging table: every change set is gone. */
  loseStagedChangeSets(): void {
    this.staged.clear();
  }

  async mergeStagedPeople(): Promise<number> {
    return 0;
  }

  async personAliases(key: ChangeSetKey): Promise<Map<string, string>> {
    const aliases = new Map<string, string>();
    const people = [...this.table(key.connectionId, 'people').values()].map((row) => row.record);
    for (const person of [...people, ...this.stagedOf(key.changeSetId, 'people').values()] as PersonRecord[]) {
      for (const alias of person.sourceAliases) aliases.set(alias, person.sourcedId);
    }
    return aliases;
  }

  resolveOrgSchools(): Promise<void> {
    return Promise.resolve();
  }

  async preview(
    key: ChangeSetKey,
    entity: RosterEntity,
    deactivation: DeactivationScope,
  ): Promise<EntityChangePreview> {
    const table = this.table(key.connectionId, entity);
    const preview: EntityChangePreview = {
      create: 0,
      update: 0,
      restore: 0,
      deactivate: 0,
      unchanged: 0,
      skip: 0,
      activeBefore: [...table.values()].filter((row) => row.status === 'active').length,
      samples: {},
    };
    const samples: Record<'create' | 'update' | 'restore' | 'deactivate', string[]> = {
      create: [],
      update: [],
      restore: [],
      deactivate: [],
    };
    for (const record of this.stagedOf(key.changeSetId, entity).values()) {
      if (record.status !== 'active') continue;
      const row = table.get(record.sourcedId);
      const action = !row
        ? 'create'
        : row.status === 'inactive'
          ? 'restore'
          : row.hash !== contentHash(record)
            ? 'update'
            : null;
      if (action) samples[action].push(record.sourcedId);
      else preview.unchanged += 1;
    }
    samples.deactivate = this.toDeactivate(key, entity, deactivation);
    for (const action of ['create', 'update', 'restore', 'deactivate'] as const) {
      preview[action] = samples[action].length;
      if (samples[action].length > 0) preview.samples[action] = samples[action].sort().slice(0, 5);
    }
    return preview;
  }

  async countRemappedPeople(): Promise<number> {
    return 0;
  }

  async remapPeople(): Promise<number> {
    return 0;
  }

  chunkBounds(key: ChangeSetKey, entity: RosterEntity, afterSourcedId: string | null, size: number): Promise<string[]> {
    const ids = [...this.stagedOf(key.changeSetId, entity).values()]
      .filter((record) => record.status === 'active' && record.sourcedId > (afterSourcedId ?? ''))
      .map((record) => record.sourcedId)
      .sort();
    return Promise.resolve(ids.filter((_, index) => (index + 1) % size === 0 || index === ids.length - 1));
  }

  async applyChunk(
    key: ChangeSetKey,
    entity: RosterEntity,
    afterSourcedId: string | null,
    limit: number,
    _options?: unknown,
    throughSourcedId: string | null = null,
  ): Promise<ApplyChunkResult> {
    this.applyCalls.push({ changeSetId: key.changeSetId, entity, after: afterSourcedId });
    const chunk = [...this.stagedOf(key.changeSetId, entity).values()]
      .filter(
        (record) =>
          record.status === 'active' &&
          record.sourcedId > (afterSourcedId ?? '') &&
          (throughSourcedId === null || record.sourcedId <= throughSourcedId),
      )
      .sort((a, b) => (a.sourcedId < b.sourcedId ? -1 : 1))
      .slice(0, limit);
    const result: ApplyChunkResult = {
      lastSourcedId: chunk.at(-1)?.sourcedId ?? null,
      processed: chunk.length,
      created: [],
      updated: [],
      restored: [],
      unchanged: 0,
      unresolved: [],
      warnings: [],
      conflicts: [],
    };
    const table = this.table(key.connectionId, entity);
    for (const record of chunk) {
      const missing = (REFERENCES[entity] ?? []).find((reference) => {
        const target = reference.of(record);
        return !target || this.table(key.connectionId, reference.entity).get(target)?.status !== 'active';
      });
      if (missing) {
        result.unresolved.push({
          sourcedId: record.sourcedId,
          field: missing.field,
          reference: missing.of(record) ?? '',
        });
        continue;
      }
      const row = table.get(record.sourcedId);
      const hash = contentHash(record);
      if (!row) {
        const id = randomUUID();
        table.set(record.sourcedId, { id, status: 'active', hash, record: structuredClone(record) });
        result.created.push(id);
      } else if (row.status === 'inactive' || row.hash !== hash) {
        result[row.status === 'inactive' ? 'restored' : 'updated'].push(row.id);
        Object.assign(row, { status: 'active', hash, record: structuredClone(record) });
      } else {
        result.unchanged += 1;
      }
    }
    return result;
  }

  refreshStagedStatistics(): Promise<void> {
    return Promise.resolve();
  }

  refreshMirrorStatistics(_key: ChangeSetKey, entity: RosterEntity, rows: number): Promise<void> {
    this.statisticsChecks.push({ entity, rows, appliedChunks: this.applyCalls.length });
    return Promise.resolve();
  }

  restoreRun(): Promise<RestoreResult> {
    return Promise.reject(new Error('Restoring is covered by the PostgreSQL mirror tests'));
  }

  async deactivateChunk(
    key: ChangeSetKey,
    entity: RosterEntity,
    deactivation: DeactivationScope,
    limit: number,
  ): Promise<string[]> {
    const table = this.table(key.connectionId, entity);
    return this.toDeactivate(key, entity, deactivation)
      .slice(0, limit)
      .map((sourcedId) => {
        const row = table.get(sourcedId)!;
        row.status = 'inactive';
        return row.id;
      });
  }

  /** Active rows that reference an inactive parent (the fake does not tell apart which run deactivated it). */
  async deactivateDependentsChunk(key: ChangeSetKey, entity: RosterEntity, limit: number): Promise<string[]> {
    const parentsOf = (record: RosterRecord): [RosterEntity, string][] => {
      if (entity === 'enrollments') {
        const enrollment = record as EnrollmentRecord;
        return [
          ['classes', enrollment.classSourcedId],
          ['people', enrollment.userSourcedId],
        ];
      }
      if (entity === 'classes') return [['courses', (record as ClassRecord).courseSourcedId ?? '']];
      if (entity === 'demographics') return [['people', record.sourcedId]];
      return [];
    };
    const victims = [...this.table(key.connectionId, entity).values()]
      .filter(
        (row) =>
          row.status === 'active' &&
          parentsOf(row.record).some(([parent, id]) => this.row(key.connectionId, parent, id)?.status === 'inactive'),
      )
      .slice(0, limit);
    for (const row of victims) row.status = 'inactive';
    return victims.map((row) => row.id);
  }

  private toDeactivate(key: ChangeSetKey, entity: RosterEntity, deactivation: DeactivationScope): string[] {
    if (deactivation.schoolScope.length > 0) throw new Error('school scopes are not modelled by this fake');
    const staged = this.stagedOf(key.changeSetId, entity);
    const unreadable = this.unreadable.get(key.changeSetId)?.get(entity);
    return [...this.table(key.connectionId, entity).entries()]
      .filter(([sourcedId, row]) => {
        if (row.status !== 'active') return false;
        const record = staged.get(sourcedId);
        if (!record && unreadable?.has(sourcedId)) return false;
        return record ? record.status === 'tobedeleted' : deactivation.absent;
      })
      .map(([sourcedId]) => sourcedId)
      .sort();
  }

  private stagedOf(changeSetId: string, entity: RosterEntity): Map<string, RosterRecord> {
    let byEntity = this.staged.get(changeSetId);
    if (!byEntity) this.staged.set(changeSetId, (byEntity = new Map()));
    let records = byEntity.get(entity);
    if (!records) byEntity.set(entity, (records = new Map()));
    return records;
  }

  private table(connectionId: string, entity: RosterEntity): Map<string, MirrorRow> {
    let byEntity = this.tables.get(connectionId);
    if (!byEntity) this.tables.set(connectionId, (byEntity = new Map()));
    let table = byEntity.get(entity);
    if (!table) byEntity.set(entity, (table = new Map()));
    return table;
  }
}

type Dataset = { [E in RosterEntity]?: RosterRecord<E>[] };

interface SourceScript {
  data: Dataset;
  pageSize: number;
  /** Throws this error instead of yielding the given page (0-based) of the entity. */
  failAt?: { entity: RosterEntity; page: number; error: SisSourceError };
  /** Reported through `onIssue` while the entity is pulled (records the source refused and skipped). */
  issues?: Partial<Record<RosterEntity, SisRecordIssue[]>>;
  /** The mode the source's data has whatever the run asked (a CSV package). */
  fixedMode?: SyncMode;
}

/** A SIS that serves a fixed data set as complete snapshots, page by page. */
class ScriptedSisSource extends SisSource {
  closed = false;
  readonly pulled: RosterEntity[] = [];

  constructor(private readonly script: SourceScript) {
    super();
  }

  entities(): readonly RosterEntity[] {
    return ROSTER_APPLY_ORDER.filter((entity) => this.script.data[entity] !== undefined);
  }

  async pull<E extends RosterEntity>(entity: E, options: SisPullOptions): Promise<SisEntityPull<E>> {
    this.pulled.push(entity);
    const records: RosterRecord<E>[] = this.script.data[entity] ?? [];
    const { pageSize, failAt } = this.script;
    const issues = this.script.issues?.[entity] ?? [];
    async function* pages(): AsyncGenerator<RosterRecord<E>[]> {
      for (const issue of issues) options.onIssue?.(issue);
      for (let page = 0; page * pageSize < records.length; page += 1) {
        if (failAt?.entity === entity && failAt.page === page) throw failAt.error;
        yield records.slice(page * pageSize, (page + 1) * pageSize);
      }
    }
    return { snapshot: true, pages: pages() };
  }

  checkAccess(): Promise<SisCheckResult[]> {
    return Promise.resolve([]);
  }

  override fixedMode(): SyncMode | null {
    return this.script.fixedMode ?? null;
  }

  describe(): string {
    return 'Scripted SIS (test)';
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

class ScriptedSisSourceFactory extends SisSourceFactory {
  script: SourceScript = { data: {}, pageSize: 1000 };
  readonly opened: ScriptedSisSource[] = [];
  readonly contexts: Omit<OpenSourceContext, 'observer'>[] = [];

  async open(_connection: SisConnection, _secret: string | null, context: OpenSourceContext): Promise<SisSource> {
    const source = new ScriptedSisSource(this.script);
    const { observer: _observer, ...rest } = context;
    this.contexts.push(rest);
    this.opened.push(source);
    return source;
  }
}

class RecordingRealtimePublisher extends RealtimePublisher {
  readonly published: { rooms: string | readonly string[]; event: string; payload: unknown }[] = [];

  publish(rooms: string | readonly string[], event: string, payload: unknown): void {
    this.published.push({ rooms, event, payload });
  }

  endConnections(): void {}
}

class RecordingSyncMetrics extends SyncMetrics {
  readonly settled: { provider: string; outcome: SyncRunState }[] = [];
  readonly applied: { entity: string; action: string; count: number }[] = [];

  runSettled(provider: string, outcome: SyncRunState): void {
    this.settled.push({ provider, outcome });
  }
  recordsApplied(entity: string, action: string, count: number): void {
    this.applied.push({ entity, action, count });
  }
  sisRequest(): void {}
}

class FakeImportFileStore extends ImportFileStore {
  readonly deleted: string[] = [];

  async save(_content: Readable): Promise<{ fileId: string; bytes: number }> {
    return { fileId: randomUUID(), bytes: 0 };
  }
  async materialise(fileId: string): Promise<string> {
    return `/tmp/${fileId}.zip`;
  }
  async release(): Promise<void> {}
  async delete(fileId: string): Promise<void> {
    this.deleted.push(fileId);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Records and a world to run the engine in
// ---------------------------------------------------------------------------------------------------------------

const base = { status: 'active' as const, dateLastModified: '2026-09-01T12:00:00.000Z', metadata: {} };

const org = (sourcedId: string, name = `School ${sourcedId}`): OrgRecord => ({
  ...base,
  sourcedId,
  name,
  type: 'school',
  identifier: null,
  parentSourcedId: null,
});

const course = (sourcedId: string): CourseRecord => ({
  ...base,
  sourcedId,
  title: `Course ${sourcedId}`,
  courseCode: null,
  grades: [],
  subjects: [],
  orgSourcedId: 'o1',
  schoolYearSourcedId: null,
});

const klass = (sourcedId: string, courseSourcedId: string): ClassRecord => ({
  ...base,
  sourcedId,
  title: `Class ${sourcedId}`,
  classCode: null,
  classType: 'scheduled',
  location: null,
  grades: [],
  subjects: [],
  periods: [],
  courseSourcedId,
  schoolSourcedId: 'o1',
  termSourcedIds: [],
});

const person = (sourcedId: string, familyName = 'Family'): PersonRecord => ({
  ...base,
  sourcedId,
  givenName: 'Given',
  familyName,
  middleName: null,
  preferredFirstName: null,
  preferredLastName: null,
  pronouns: null,
  username: null,
  email: null,
  identifier: null,
  enabled: true,
  roles: [{ role: 'student', roleType: 'primary', orgSourcedId: 'o1', beginDate: null, endDate: null }],
  primaryRole: 'student',
  orgSourcedIds: ['o1'],
  primaryOrgSourcedId: 'o1',
  grades: ['05'],
  agentSourcedIds: [],
  userIds: [],
  phone: null,
  sms: null,
  sourceAliases: [],
});

const enrollment = (sourcedId: string, classSourcedId: string, userSourcedId: string): EnrollmentRecord => ({
  ...base,
  sourcedId,
  classSourcedId,
  schoolSourcedId: 'o1',
  userSourcedId,
  role: 'student',
  primary: false,
  beginDate: '2026-08-20',
  endDate: null,
});

const personId = (n: number): string => `p${String(n).padStart(5, '0')}`;
const orgs = (count: number): OrgRecord[] => Array.from({ length: count }, (_, index) => org(`o${index + 1}`));

function connectionSettings(overrides: Partial<SisConnectionSettings> = {}): SisConnectionSettings {
  return {
    version: '1.2',
    vendor: 'generic',
    baseUrl: 'https://sis.test/ims/oneroster/rostering/v1p2',
    auth: { type: 'oauth2', tokenUrl: 'https://sis.test/token', clientId: 'client' },
    pageSize: 1000,
    concurrency: 1,
    peakHours: null,
    requestTimeoutMs: 30_000,
    schedule: null,
    blackoutWindows: [],
    schoolScope: [],
    thresholds: structuredClone(DEFAULT_THRESHOLDS),
    deltaOverlapSeconds: 300,
    fullReconciliationDays: 7,
    personMergeRule: 'none',
    ...overrides,
  };
}

const LEASE_SECONDS = 30;

function world(settings: Partial<SisConnectionSettings> = {}) {
  const clock = new FakeClock(new Date('2026-11-20T08:00:00Z'));
  const runs = new InMemorySyncRunRepository();
  const connections = new InMemorySisConnectionRepository();
  const mirror = new InMemoryRosterMirror();
  const sources = new ScriptedSisSourceFactory();
  const transactions = new FakeTransactionRunner([runs, mirror]);
  const events: unknown[] = [];
  const eventBus = { publish: (event: unknown) => void events.push(event) } as unknown as EventBus;
  const realtime = new RecordingRealtimePublisher();
  const metrics = new RecordingSyncMetrics();
  const importFiles = new FakeImportFileStore();
  const config: SisSyncConfig = {
    secretsKey: undefined,
    previousSecretsKeys: [],
    allowHttpSisUrls: true,
    addressPolicy: PERMISSIVE_ADDRESS_POLICY,
    runLeaseSeconds: LEASE_SECONDS,
    // The fake transaction runner snapshots the whole fake database: it models one transaction at a time.
    applyChunkSize: 5000,
    maxResponseBytes: 64 * 1024 ** 2,
    writeLanes: 1,
  };
  const connection: SisConnection = {
    id: randomUUID(),
    name: 'Springfield SIS',
    provider: 'oneroster',
    settings: connectionSettings(settings),
    hasSecret: true,
    enabled: true,
    createdAt: clock.now(),
    updatedAt: clock.now(),
  };
  void connections.insert(connection, 'client-secret');

  /** One worker process: each has its own lease owner id. */
  const engine = (): SyncEngine =>
    new SyncEngine(
      runs,
      connections,
      mirror,
      sources,
      transactions,
      clock,
      eventBus,
      new SyncRunBroadcaster(realtime, clock),
      metrics,
      importFiles,
      config,
    );

  const start = async (
    fields: { dryRun?: boolean; data?: Dataset; importFile?: string; importFileName?: string } = {},
  ): Promise<SyncRun> => {
    if (fields.data) sources.script = { data: fields.data, pageSize: 1000 };
    return runs.create({
      id: randomUUID(),
      connectionId: connection.id,
      mode: 'full',
      dryRun: fields.dryRun ?? false,
      trigger: fields.importFile ? 'import' : 'manual',
      requestedBy: null,
      importFile: fields.importFile ?? null,
      importFileName: fields.importFileName ?? null,
      remaster: false,
      createdAt: clock.now(),
    });
  };

  /** Starts a run and executes it to its end on a fresh worker. */
  const sync = async (data: Dataset, fields: { dryRun?: boolean } = {}): Promise<SyncRun> => {
    const run = await start({ ...fields, data });
    const settled = await engine().execute(run.id);
    clock.advance(3_600_000);
    return settled!;
  };

  const eventsOf = <T>(type: new (...args: never[]) => T, runId?: string): T[] =>
    events.filter(
      (event): event is T => event instanceof type && (!runId || (event as { runId?: string }).runId === runId),
    );

  return {
    clock,
    runs,
    connections,
    connection,
    mirror,
    sources,
    transactions,
    realtime,
    metrics,
    events,
    engine,
    start,
    sync,
    eventsOf,
  };
}

beforeAll(() => {
  Logger.overrideLogger(false);
});

afterAll(() => {
  Logger.overrideLogger(['log', 'error', 'warn']);
});

// ---------------------------------------------------------------------------------------------------------------

describe('SyncEngine', () => {
  it('applies a first full sync in dependency order and records its counts', async () => {
    const w = world();
    const run = await w.sync({
      orgs: orgs(2),
      courses: [course('c1')],
      classes: [klass('k1', 'c1')],
      people: [person('p1'), person('p2')],
      enrollments: [enrollment('e1', 'k1', 'p1'), enrollment('e2', 'k1', 'p2')],
    });
    expect(run).toMatchObject({ state: 'succeeded', attempt: 1, checkpoint: { phase: 'done' }, issueCount: 0 });
    expect(run.counts).toMatchObject({
      orgs: { created: 2, pulled: 2 },
      courses: { created: 1 },
      classes: { created: 1 },
      people: { created: 2 },
      enrollments: { created: 2, pulled: 2 },
    });
    expect(w.mirror.applyCalls.map((call) => call.entity)).toEqual([
      'orgs',
      'courses',
      'classes',
      'people',
      'enrollments',
    ]);
    expect(w.mirror.stagedIds(run.id)).toBe(0);
    expect(w.eventsOf(SisSyncRunSettledV1)).toMatchObject([{ runId: run.id, outcome: 'succeeded', dryRun: false }]);
    expect(w.metrics.settled).toEqual([{ provider: w.connection.provider, outcome: 'succeeded' }]);
  });

  it('records a source warning with its own severity: the run still succeeds and the record is not unreadable', async () => {
    const w = world();
    await w.sync({ orgs: orgs(2) });
    w.sources.script = {
      data: { orgs: orgs(2) },
      pageSize: 1000,
      issues: {
        orgs: [
          { entity: 'orgs', sourcedId: 'o1', field: 'status', message: 'taken as tobedeleted', severity: 'warning' },
        ],
      },
    };
    const run = await w.start();
    const settled = (await w.engine().execute(run.id))!;
    expect(settled).toMatchObject({ state: 'succeeded', issueCount: 1 });
    expect(await w.runs.listIssues(run.id, 10, 0)).toMatchObject([
      { entity: 'orgs', sourcedId: 'o1', field: 'status', severity: 'warning' },
    ]);
    // An error from the source is still an error (the default severity); one in 20 stays under the rejected hold.
    w.sources.script = {
      data: { orgs: orgs(20) },
      pageSize: 1000,
      issues: { orgs: [{ entity: 'orgs', sourcedId: null, field: 'type', message: 'type must be one of …' }] },
    };
    const second = (await w.engine().execute((await w.start()).id))!;
    expect(second).toMatchObject({ state: 'succeeded_with_issues' });
  });

  it('fails the run and applies nothing when the SIS fails mid-pull', async () => {
    const w = world();
    await w.sync({ orgs: orgs(3), people: [person('p1'), person('p2')] });
    const before = w.mirror.state(w.connection.id);
    const eventsBefore = w.events.length;
    const appliedBefore = w.mirror.applyCalls.length;

    const run = await w.start();
    w.sources.script = {
      data: { orgs: [org('o1', 'Renamed'), org('o4')], people: [1, 2, 3, 4, 5].map((n) => person(`p${n}`, 'Changed')) },
      pageSize: 2,
      failAt: {
        entity: 'people',
        page: 1,
        error: new SisSourceError('SIS_SYNC.SOURCE_MALFORMED_PAGE', 'Page 2 of /users is not valid JSON', 'people'),
      },
    };
    const settled = await w.engine().execute(run.id);

    expect(settled).toMatchObject({
      state: 'failed',
      errorCode: 'SIS_SYNC.SOURCE_MALFORMED_PAGE',
      errorMessage: 'Page 2 of /users is not valid JSON',
      issueCount: 1,
    });
    expect(await w.runs.listIssues(run.id, 10, 0)).toMatchObject([
      { entity: 'people', severity: 'error', message: 'Page 2 of /users is not valid JSON' },
    ]);
    expect(w.sources.opened.at(-1)?.closed).toBe(true);
    expect(w.mirror.applyCalls).toHaveLength(appliedBefore);
    expect(w.mirror.state(w.connection.id)).toEqual(before);
    expect(w.mirror.stagedIds(run.id)).toBe(0);
    const published = w.events.slice(eventsBefore);
    expect(published.some((event) => event instanceof RosterRecordsChangedV1)).toBe(false);
    expect(published).toMatchObject([{ runId: run.id, outcome: 'failed' }]);
    expect(w.metrics.settled.at(-1)).toEqual({ provider: 'oneroster', outcome: 'failed' });
  });

  it('records each problem of a source error that lists several (a CSV package structure) as an issue', async () => {
    const w = world();
    const run = await w.start();
    w.sources.script = {
      data: { orgs: orgs(2) },
      pageSize: 1,
      failAt: {
        entity: 'orgs',
        page: 0,
        error: new SisSourceError(
          'SIS_SYNC.CSV_INVALID',
          'The package has 2 structural problems (in manifest.csv, users.csv), each reported on its own',
          undefined,
          undefined,
          [
            { field: 'file.users', message: 'manifest.csv: file.users is "full" but must be bulk, delta or absent' },
            { field: 'givenName', message: 'users.csv: the header does not match OneRoster 1.1' },
          ],
        ),
      },
    };
    const settled = await w.engine().execute(run.id);
    expect(settled).toMatchObject({
      state: 'failed',
      errorCode: 'SIS_SYNC.CSV_INVALID',
      errorMessage: expect.stringContaining('2 structural problems'),
      issueCount: 2,
    });
    expect(await w.runs.listIssues(run.id, 10, 0)).toMatchObject([
      { entity: 'run', field: 'file.users', severity: 'error', message: expect.stringContaining('file.users') },
      { entity: 'run', field: 'givenName', severity: 'error', message: expect.stringContaining('users.csv') },
    ]);
  });

  it('previews a dry run, stores the preview and applies nothing, even past the thresholds', async () => {
    const w = world();
    await w.sync({ orgs: orgs(10) });
    const before = w.mirror.state(w.connection.id);

    const run = await w.sync({ orgs: [org('o1', 'Renamed'), ...orgs(5).slice(1), org('o11')] }, { dryRun: true });
    expect(run).toMatchObject({ state: 'succeeded', dryRun: true, checkpoint: { phase: 'done' } });
    expect(run.preview).toEqual({
      orgs: {
        create: 1,
        update: 1,
        restore: 0,
        deactivate: 5,
        unchanged: 4,
        skip: 0,
        activeBefore: 10,
        samples: { create: ['o11'], update: ['o1'], deactivate: ['o10', 'o6', 'o7', 'o8', 'o9'] },
      },
    });
    expect(run.holdReasons).toEqual([
      { kind: 'threshold', entity: 'orgs', action: 'deactivate', count: 5, limit: '10% of 10 active records' },
    ]);
    expect(w.mirror.state(w.connection.id)).toEqual(before);
    expect(w.mirror.applyCalls.filter((call) => call.changeSetId === run.id)).toEqual([]);
    expect(w.mirror.stagedIds(run.id)).toBe(0);
    expect(w.eventsOf(RosterRecordsChangedV1, run.id)).toEqual([]);
    expect(w.eventsOf(SisSyncRunSettledV1, run.id)).toMatchObject([{ outcome: 'succeeded', dryRun: true }]);
  });

  it('holds a run past its thresholds, then applies it once approved, without pulling again', async () => {
    const w = world();
    await w.sync({ orgs: orgs(10) });
    const run = await w.start({ data: { orgs: orgs(6) } });
    const opened = w.sources.opened.length;

    const held = await w.engine().execute(run.id);
    expect(held).toMatchObject({
      state: 'held',
      finishedAt: null,
      checkpoint: { phase: 'review' },
      holdReasons: [
        { kind: 'threshold', entity: 'orgs', action: 'deactivate', count: 4, limit: '10% of 10 active records' },
      ],
      preview: { orgs: { deactivate: 4, unchanged: 6 } },
    });
    expect(w.mirror.active(w.connection.id, 'orgs')).toHaveLength(10);
    expect(await w.mirror.stagedCount(run.id, 'orgs')).toBe(6);
    expect(w.eventsOf(SisSyncRunSettledV1, run.id)).toMatchObject([{ outcome: 'held' }]);
    expect(w.metrics.settled.filter((settled) => settled.outcome === 'held')).toEqual([]);

    // Nobody may run a held run before it is approved.
    expect(await w.engine().execute(run.id)).toBeNull();

    const approver = randomUUID();
    await w.runs.approve(run.id, approver, w.clock.now());
    const applied = await w.engine().execute(run.id);
    expect(applied).toMatchObject({ state: 'succeeded', approvedBy: approver, attempt: 2 });
    expect(applied?.counts.orgs).toMatchObject({ deactivated: 4, unchanged: 6, pulled: 6 });
    expect(w.mirror.active(w.connection.id, 'orgs')).toEqual(['o1', 'o2', 'o3', 'o4', 'o5', 'o6']);
    expect(w.sources.opened.length).toBe(opened + 1);
    expect(w.mirror.stagedIds(run.id)).toBe(0);
    expect(w.eventsOf(RosterRecordsChangedV1, run.id)).toMatchObject([
      { entity: 'orgs', deactivated: expect.arrayContaining([expect.any(String)]) },
    ]);
  });

  describe('records the source refused', () => {
    /** A record the source could not normalise: reported through `onIssue` and skipped. */
    const refused = (entity: RosterEntity, sourcedId: string | null): SisRecordIssue => ({
      entity,
      sourcedId,
      field: 'roles',
      message: `${sourcedId ?? '(no id)'}: roles[0]: role must be one of …`,
    });

    it('counts them as pulled and rejected: 10 rows of which 2 were refused are 10 pulled, 2 rejected', async () => {
      const w = world({ thresholds: { '*': { reject: { maxPercent: 20 } } } });
      w.sources.script = {
        data: { orgs: orgs(1), people: Array.from({ length: 8 }, (_, index) => person(personId(index + 1))) },
        pageSize: 3,
        issues: { people: [refused('people', 'p-bad-1'), refused('people', null)] },
      };
      const run = await w.engine().execute((await w.start()).id);

      // The row without a readable sourcedId also says why nothing was deactivated for being absent.
      expect(run).toMatchObject({ state: 'succeeded_with_issues', holdReasons: [], issueCount: 3 });
      expect(run?.counts.people).toMatchObject({ pulled: 10, rejected: 2, created: 8 });
      expect(run?.counts.orgs).toMatchObject({ pulled: 1, rejected: 0, created: 1 });
    });

    it('neither a detail of a record nor a warning is a rejection', async () => {
      const w = world();
      w.sources.script = {
        data: { orgs: orgs(2) },
        pageSize: 1000,
        issues: {
          orgs: [
            { ...refused('orgs', 'o1'), subject: 'detail' },
            { ...refused('orgs', 'o2'), severity: 'warning' },
          ],
        },
      };
      const run = await w.engine().execute((await w.start()).id);

      // The detail is still an error of the run; the warning is recorded as one.
      expect(run).toMatchObject({ state: 'succeeded_with_issues', holdReasons: [], issueCount: 2 });
      expect(run?.counts.orgs).toMatchObject({ pulled: 2, rejected: 0, created: 2 });
      expect((await w.runs.listIssues(run!.id, 10, 0)).map((issue) => issue.severity)).toEqual(['error', 'warning']);
    });

    it('holds a run, applying nothing, when an entity’s rejected share passes 10 %; approved, it applies the rest', async () => {
      const w = world();
      // Every user row refused: the orgs and courses alone must not be committed as a quiet success.
      const data: Dataset = { orgs: orgs(2), courses: [course('c1')], people: [] };
      w.sources.script = {
        data,
        pageSize: 1000,
        issues: { people: Array.from({ length: 12 }, (_, index) => refused('people', personId(index + 1))) },
      };
      const run = await w.start();
      const held = await w.engine().execute(run.id);

      expect(held).toMatchObject({
        state: 'held',
        checkpoint: { phase: 'review' },
        holdReasons: [
          {
            kind: 'rejected',
            entity: 'people',
            count: 12,
            pulled: 12,
            percent: 100,
            limit: '10% of 12 pulled records',
          },
        ],
      });
      expect(held?.counts.people).toMatchObject({ pulled: 12, rejected: 12 });
      expect(w.mirror.applyCalls).toEqual([]);
      expect(w.mirror.active(w.connection.id, 'orgs')).toEqual([]);
      expect(w.eventsOf(SisSyncRunSettledV1, run.id)).toMatchObject([{ outcome: 'held' }]);

      await w.runs.approve(run.id, randomUUID(), w.clock.now());
      const applied = await w.engine().execute(run.id);
      expect(applied).toMatchObject({ state: 'succeeded_with_issues', issueCount: 12 });
      expect(applied?.counts).toMatchObject({
        orgs: { created: 2, pulled: 2, rejected: 0 },
        people: { pulled: 12, rejected: 12, created: 0 },
      });
      expect(w.mirror.active(w.connection.id, 'orgs')).toEqual(['o1', 'o2']);
    });

    it('a dry run reports the rejected share as a reason without holding', async () => {
      const w = world();
      w.sources.script = {
        data: { orgs: orgs(4) },
        pageSize: 1000,
        issues: { orgs: [refused('orgs', 'o9')] },
      };
      const run = await w.engine().execute((await w.start({ dryRun: true })).id);

      expect(run).toMatchObject({
        state: 'succeeded_with_issues',
        dryRun: true,
        holdReasons: [{ kind: 'rejected', entity: 'orgs', count: 1, pulled: 5, percent: 20 }],
      });
      expect(w.mirror.applyCalls).toEqual([]);
    });

    it('honours the entity’s own reject rule over `*`', async () => {
      const w = world({ thresholds: { '*': { reject: { maxPercent: 10 } }, orgs: { reject: { maxCount: 5 } } } });
      w.sources.script = {
        data: { orgs: orgs(4) },
        pageSize: 1000,
        issues: { orgs: [refused('orgs', 'o8'), refused('orgs', 'o9')] },
      };
      const run = await w.engine().execute((await w.start()).id);
      expect(run).toMatchObject({ state: 'succeeded_with_issues', holdReasons: [] });
      expect(run?.counts.orgs).toMatchObject({ pulled: 6, rejected: 2, created: 4 });
    });
  });

  describe('what the run records about its source', () => {
    it('records the mode the source’s data has (a package of delta files is a delta), without a watermark', async () => {
      const w = world();
      w.sources.script = { data: { orgs: orgs(2) }, pageSize: 1000, fixedMode: 'delta' };
      const run = await w.engine().execute((await w.start()).id);
      expect(run).toMatchObject({ state: 'succeeded', mode: 'delta', deltaSince: null });
      expect(run?.sourceDescription).toBe('Scripted SIS (test)');
    });

    it('hands the source the uploaded file and the name it was uploaded under', async () => {
      const w = world();
      w.sources.script = { data: { orgs: orgs(1) }, pageSize: 1000 };
      const fileId = randomUUID();
      const run = await w.start({ importFile: fileId, importFileName: 'Spring roster.zip' });
      expect(await w.engine().execute(run.id)).toMatchObject({ state: 'succeeded' });
      expect(w.sources.contexts).toEqual([{ importFile: `/tmp/${fileId}.zip`, importFileName: 'Spring roster.zip' }]);
    });
  });

  describe('resuming after a crash', () => {
    const PEOPLE = 11_000;
    const first: Dataset = {
      orgs: orgs(2),
      courses: [course('c1'), course('c2')],
      classes: [klass('k1', 'c1'), klass('k2', 'c1'), klass('k3', 'c2')],
      people: Array.from({ length: PEOPLE }, (_, index) => person(personId(index + 1))),
      enrollments: Array.from({ length: 30 }, (_, index) =>
        enrollment(`e${index + 1}`, `k${(index % 3) + 1}`, personId(index + 1)),
      ),
    };
    /** A second pull: renames, removals (class k3 and its enrollments, the last 50 people), additions, a bad enrollment. */
    const second: Dataset = {
      orgs: [org('o1', 'Springfield Elementary'), org('o2')],
      courses: first.courses,
      classes: [klass('k1', 'c1'), klass('k2', 'c1')],
      people: [
        ...Array.from({ length: PEOPLE - 50 }, (_, index) =>
          person(personId(index + 1), index < 100 ? 'Renamed' : 'Family'),
        ),
        ...Array.from({ length: 60 }, (_, index) => person(personId(20_001 + index))),
      ],
      enrollments: [
        ...first.enrollments!.filter((item) => item.classSourcedId !== 'k3'),
        enrollment('e-bad', 'k-missing', personId(1)),
      ],
    };

    it('checks the statistics of every table it applied before the crash, before it applies again', async () => {
      const w = world({ thresholds: {} });
      await w.sync(first);
      const run = await w.start({ data: second });
      w.transactions.crashOnNthWhere(5, () => w.mirror.applyCalls.length);
      await expect(w.engine().execute(run.id)).rejects.toThrow('Connection terminated unexpectedly');

      w.clock.advance(LEASE_SECONDS * 1000 + 1);
      const callsBefore = w.mirror.applyCalls.length;
      const checksBefore = w.mirror.statisticsChecks.length;
      await w.engine().execute(run.id);

      // The tables the crashed attempt wrote (orgs, courses, classes and the first people chunk) may hold rows the
      // statistics never saw; enrollments look people and classes up there.
      expect(
        w.mirror.statisticsChecks.slice(checksBefore).filter((check) => check.appliedChunks === callsBefore),
      ).toEqual([
        { entity: 'orgs', rows: 2, appliedChunks: callsBefore },
        { entity: 'courses', rows: 2, appliedChunks: callsBefore },
        { entity: 'classes', rows: 2, appliedChunks: callsBefore },
        { entity: 'people', rows: PEOPLE + 10, appliedChunks: callsBefore },
      ]);
    });

    it('continues from the checkpoint on another worker and ends as an uninterrupted run would', async () => {
      const uninterrupted = world({ thresholds: {} });
      await uninterrupted.sync(first);
      const expected = await uninterrupted.sync(second);
      expect(expected).toMatchObject({ state: 'succeeded_with_issues', issueCount: 1 });

      const w = world({ thresholds: {} });
      await w.sync(first);
      const keptId = w.mirror.row(w.connection.id, 'people', personId(1))!.id;
      const run = await w.start({ data: second });

      // Apply chunks: orgs, courses, classes, then the people chunks: the second people chunk never commits.
      w.transactions.crashOnNthWhere(5, () => w.mirror.applyCalls.length);
      await expect(w.engine().execute(run.id)).rejects.toThrow('Connection terminated unexpectedly');
      const crashed = w.runs.stored(run.id).run;
      expect(crashed).toMatchObject({
        state: 'running',
        attempt: 1,
        checkpoint: { phase: 'apply', entity: 'people', after: personId(5000), remapped: false },
      });
      expect(crashed.counts.people).toMatchObject({ updated: 100, unchanged: 4900, created: 0 });

      // The lease has not run out yet: another worker leaves the run alone.
      const other = w.engine();
      expect(await other.execute(run.id)).toBeNull();

      w.clock.advance(LEASE_SECONDS * 1000 + 1);
      const callsBefore = w.mirror.applyCalls.length;
      const resumed = await other.execute(run.id);

      expect(w.mirror.applyCalls[callsBefore]).toEqual({
        changeSetId: run.id,
        entity: 'people',
        after: personId(5000),
      });
      expect(w.sources.opened).toHaveLength(2);
      expect(resumed).toMatchObject({ state: expected.state, attempt: 2, issueCount: expected.issueCount });
      expect(resumed?.counts).toEqual(expected.counts);
      expect(resumed?.counts).toMatchObject({
        orgs: { updated: 1, unchanged: 1 },
        classes: { unchanged: 2, deactivated: 1 },
        people: { created: 60, updated: 100, unchanged: PEOPLE - 150, deactivated: 50 },
        enrollments: { unchanged: 20, skipped: 1, deactivated: 10 },
      });
      expect(w.mirror.state(w.connection.id)).toEqual(uninterrupted.mirror.state(uninterrupted.connection.id));
      expect(w.mirror.row(w.connection.id, 'people', personId(1))?.id).toBe(keptId);
      expect(await w.runs.listIssues(run.id, 10, 0)).toMatchObject([
        { entity: 'enrollments', sourcedId: 'e-bad', field: 'classSourcedId', severity: 'error' },
      ]);

      // Every change was announced once: the rolled-back chunk was not published before the crash.
      const announced = w.eventsOf(RosterRecordsChangedV1, run.id).filter((event) => event.entity === 'people');
      const sum = (pick: (event: RosterRecordsChangedV1) => readonly string[]) =>
        announced.reduce((total, event) => total + pick(event).length, 0);
      expect([sum((event) => event.created), sum((event) => event.updated), sum((event) => event.deactivated)]).toEqual(
        [60, 100, 50],
      );
    });

    /** A first sync of `first`, then a run of `second` that `interrupt` stops; the engine that resumes it. */
    async function interrupted(interrupt: (w: ReturnType<typeof world>) => void) {
      const w = world({ thresholds: {} });
      await w.sync(first);
      const run = await w.start({ data: second });
      interrupt(w);
      await expect(w.engine().execute(run.id)).rejects.toThrow('Connection terminated unexpectedly');
      w.clock.advance(LEASE_SECONDS * 1000 + 1);
      return { w, run };
    }

    async function uninterruptedEnd() {
      const uninterrupted = world({ thresholds: {} });
      await uninterrupted.sync(first);
      const run = await uninterrupted.sync(second);
      return { run, mirror: uninterrupted.mirror.state(uninterrupted.connection.id) };
    }

    it('settles a run that dropped its change set but died before settling, deactivating nothing more', async () => {
      const expected = await uninterruptedEnd();
      const { w, run } = await interrupted((world) => world.runs.failNext('settle'));
      expect(w.runs.stored(run.id).run).toMatchObject({ state: 'running', checkpoint: { phase: 'done' } });

      const resumed = await w.engine().execute(run.id);

      expect(resumed).toMatchObject({ state: expected.run.state, attempt: 2 });
      expect(resumed?.counts).toEqual(expected.run.counts);
      expect(w.mirror.state(w.connection.id)).toEqual(expected.mirror);
    });

    it('pulls again when PostgreSQL lost the change set before the review, and ends as an uninterrupted run would', async () => {
      const expected = await uninterruptedEnd();
      const { w, run } = await interrupted((world) => world.runs.failNext('recordPreview'));
      expect(w.runs.stored(run.id).run.checkpoint).toEqual({ phase: 'review' });
      w.mirror.loseStagedChangeSets();

      const resumed = await w.engine().execute(run.id);

      expect(w.sources.opened).toHaveLength(3);
      expect(resumed).toMatchObject({ state: expected.run.state, attempt: 2 });
      expect(resumed?.counts).toEqual(expected.run.counts);
      expect(w.mirror.state(w.connection.id)).toEqual(expected.mirror);
    });

    it('resumes the pull, not the review, when it dies while pulling a lost change set again', async () => {
      const uninterrupted = world({ thresholds: {} });
      await uninterrupted.sync({ orgs: orgs(2) });
      const expected = await uninterrupted.sync({ orgs: orgs(3) });

      const w = world({ thresholds: {} });
      await w.sync({ orgs: orgs(2) });
      const run = await w.start({ data: { orgs: orgs(3) } });
      w.runs.failNext('recordPreview');
      await expect(w.engine().execute(run.id)).rejects.toThrow('Connection terminated unexpectedly');
      w.clock.advance(LEASE_SECONDS * 1000 + 1);
      w.mirror.loseStagedChangeSets();
      // Pulling the lost orgs again, the worker dies writing their page.
      w.transactions.crashOnNthWhere(1, () => w.mirror.stagedCountOf(run.id, 'orgs'));
      await expect(w.engine().execute(run.id)).rejects.toThrow('Connection terminated unexpectedly');
      expect(w.runs.stored(run.id).run.checkpoint).toEqual({ phase: 'pull' });
      w.clock.advance(LEASE_SECONDS * 1000 + 1);

      const resumed = await w.engine().execute(run.id);

      expect(resumed).toMatchObject({ state: 'succeeded', attempt: 3 });
      expect(resumed?.counts).toEqual(expected.counts);
      expect(w.mirror.state(w.connection.id)).toEqual(uninterrupted.mirror.state(uninterrupted.connection.id));
    });

    it('fails, deactivating nothing, when PostgreSQL lost the change set of a run that was applying', async () => {
      const { w, run } = await interrupted((world) =>
        world.transactions.crashOnNthWhere(5, () => world.mirror.applyCalls.length),
      );
      expect(w.runs.stored(run.id).run.checkpoint).toMatchObject({ phase: 'apply', entity: 'people' });
      const before = w.mirror.state(w.connection.id);
      w.mirror.loseStagedChangeSets();

      const resumed = await w.engine().execute(run.id);

      expect(resumed).toMatchObject({ state: 'failed', errorCode: 'SIS_SYNC.CHANGE_SET_LOST' });
      expect(w.mirror.state(w.connection.id)).toEqual(before);
      expect(w.mirror.active(w.connection.id, 'people')).toHaveLength(PEOPLE);
    });

    it('fails an approved run whose held change set PostgreSQL lost, instead of applying a fresh pull nobody saw', async () => {
      const w = world();
      await w.sync({ orgs: orgs(10) });
      const run = await w.start({ data: { orgs: orgs(6) } });
      expect(await w.engine().execute(run.id)).toMatchObject({ state: 'held' });
      w.mirror.loseStagedChangeSets();
      await w.runs.approve(run.id, randomUUID(), w.clock.now());

      const resumed = await w.engine().execute(run.id);

      expect(resumed).toMatchObject({ state: 'failed', errorCode: 'SIS_SYNC.CHANGE_SET_LOST' });
      expect(w.mirror.active(w.connection.id, 'orgs')).toHaveLength(10);
    });
  });

  it('leaves a run alone while another worker holds its lease, and takes it over once the lease expires', async () => {
    const w = world();
    w.sources.script = { data: { orgs: orgs(2) }, pageSize: 1000 };
    const run: SyncRun = {
      ...newRunFields(),
      connectionId: w.connection.id,
      state: 'running',
      attempt: 1,
      startedAt: w.clock.now(),
    };
    w.runs.insert(run, { owner: 'worker-b:4242:abcd', expiresAt: new Date(w.clock.now().getTime() + 20_000) });
    const before = structuredClone(w.runs.stored(run.id));

    expect(await w.engine().execute(run.id)).toBeNull();
    expect(w.runs.stored(run.id)).toEqual(before);
    expect(w.sources.opened).toEqual([]);
    expect(w.events).toEqual([]);
    expect(w.realtime.published).toEqual([]);

    w.clock.advance(20_001);
    expect(await w.engine().execute(run.id)).toMatchObject({ state: 'succeeded', attempt: 2 });
  });

  it(`fails a run for good after ${MAX_RUN_ATTEMPTS} attempts`, async () => {
    const w = world();
    w.sources.script = { data: { orgs: orgs(2) }, pageSize: 1000 };
    const stalled: SyncRun = {
      ...newRunFields(),
      connectionId: w.connection.id,
      state: 'running',
      attempt: MAX_RUN_ATTEMPTS,
      checkpoint: { phase: 'apply', entity: 'orgs', after: null, remapped: false },
      counts: {
        orgs: { created: 0, updated: 0, restored: 0, deactivated: 0, unchanged: 0, skipped: 0, pulled: 2, rejected: 0 },
      },
      startedAt: w.clock.now(),
    };
    w.runs.insert(stalled, { owner: 'dead-worker', expiresAt: new Date(w.clock.now().getTime() - 1) });
    await w.mirror.stage({ changeSetId: stalled.id, connectionId: w.connection.id }, 'orgs', orgs(2));

    const settled = await w.engine().execute(stalled.id);
    expect(settled).toMatchObject({
      state: 'failed',
      attempt: MAX_RUN_ATTEMPTS + 1,
      errorCode: 'SIS_SYNC.RUN_ATTEMPTS_EXHAUSTED',
      counts: stalled.counts,
    });
    expect(w.mirror.stagedIds(stalled.id)).toBe(0);
    expect(w.mirror.applyCalls).toEqual([]);
    expect(w.sources.opened).toEqual([]);
    expect(w.eventsOf(SisSyncRunSettledV1)).toMatchObject([{ runId: stalled.id, outcome: 'failed' }]);
    expect(w.runs.stored(stalled.id)).toMatchObject({ leaseOwner: null, leaseExpiresAt: null });
  });

  it(`still runs the ${MAX_RUN_ATTEMPTS}th attempt`, async () => {
    const w = world();
    w.sources.script = { data: { orgs: orgs(2) }, pageSize: 1000 };
    const run: SyncRun = {
      ...newRunFields(),
      connectionId: w.connection.id,
      state: 'running',
      attempt: MAX_RUN_ATTEMPTS - 1,
    };
    w.runs.insert(run, { owner: 'dead-worker', expiresAt: new Date(w.clock.now().getTime() - 1) });
    expect(await w.engine().execute(run.id)).toMatchObject({ state: 'succeeded', attempt: MAX_RUN_ATTEMPTS });
    expect(w.mirror.active(w.connection.id, 'orgs')).toEqual(['o1', 'o2']);
  });
});
