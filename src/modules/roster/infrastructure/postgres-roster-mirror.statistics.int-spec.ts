import type { ClassRecord, CourseRecord, OrgRecord } from '@app/contracts';
import { applyPendingMigrations, buildOrmOptions, runSql } from '@app/persistence';
import { createTestDatabase, type TestDatabase } from '@app/testing';
import { MikroORM } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrations } from '../../../migrations/index.js';
import type { ApplyChunkResult, ChangeSetKey } from '../application/ports/roster-mirror.port.js';
import { buildApplySql, PostgresRosterMirror } from './postgres-roster-mirror.js';
import { MIRROR_TABLES } from './roster-mirror.tables.js';

// Issue 20 §11: a second district imported under another connection of the same database crawled (27× slower)
// because the mirror tables' statistics knew only the first connection: the planner took the second one for
// empty and looked each record up through an index on `connection_id` alone, reading all of that connection's
// rows for every record. These tests look at the plans the apply gets, never at timings.

const base = { status: 'active' as const, dateLastModified: '2026-09-01T12:00:00.000Z', metadata: {} };
const CLASSES = 3000;
const CHUNK = 1000;

// The classes' schools: a class's school is a required reference (the apply skips a class without it).
const schools: OrgRecord[] = Array.from({ length: 5 }, (_, index) => ({
  ...base,
  sourcedId: `school-${index}`,
  name: `School ${index}`,
  type: 'school',
  identifier: null,
  parentSourcedId: null,
}));

const course: CourseRecord = {
  ...base,
  sourcedId: 'course-1',
  title: 'Course',
  courseCode: null,
  grades: [],
  subjects: [],
  orgSourcedId: null,
  schoolYearSourcedId: null,
};

const classes: ClassRecord[] = Array.from({ length: CLASSES }, (_, index) => ({
  ...base,
  sourcedId: `class-${String(index).padStart(5, '0')}`,
  title: `Class ${index}`,
  classCode: null,
  classType: 'scheduled',
  location: null,
  grades: [],
  subjects: [],
  periods: [],
  courseSourcedId: 'course-1',
  schoolSourcedId: `school-${index % 5}`,
  termSourcedIds: [],
}));

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  Filter?: string;
  Plans?: PlanNode[];
}

function scansOf(node: PlanNode, table: string): PlanNode[] {
  const own = node['Relation Name'] === table && node['Node Type'] !== 'ModifyTable' ? [node] : [];
  return [...own, ...(node.Plans ?? []).flatMap((child) => scansOf(child, table))];
}

describe('PostgresRosterMirror statistics (PostgreSQL)', () => {
  let database: TestDatabase;
  let orm: MikroORM;

  beforeAll(async () => {
    database = await createTestDatabase('roster_statistics');
    orm = await MikroORM.init(buildOrmOptions({ url: database.url, poolMax: 4, migrations }));
    await applyPendingMigrations(orm, database.url);
  });

  afterAll(async () => {
    await orm?.close(true);
    await database?.drop();
  });

  const mirror = (): PostgresRosterMirror => new PostgresRosterMirror(orm.em.fork());

  /** Stages the schools, the course and the classes for a new change set of the connection. */
  async function stageDistrict(connectionId: string): Promise<ChangeSetKey> {
    const key = { changeSetId: randomUUID(), connectionId };
    await mirror().stage(key, 'orgs', schools);
    await mirror().stage(key, 'courses', [course]);
    await mirror().stage(key, 'classes', classes);
    await mirror().refreshStagedStatistics();
    return key;
  }

  /**
   * Applies the schools, the course and then the classes as the sync engine does: statistics checked before each entity, then
   * after 1, 2, 4… chunks; `stopAfter` chunks of classes stops there, as a crash would (before the refresh).
   */
  async function applyAsEngine(key: ChangeSetKey, stopAfter = Infinity): Promise<string | null> {
    let after: string | null = null;
    for (const [entity, total] of [
      ['orgs', schools.length],
      ['courses', 1],
      ['classes', CLASSES],
    ] as const) {
      await mirror().refreshMirrorStatistics(key, entity, total);
      let applied = 0;
      let chunks = 0;
      after = null;
      for (;;) {
        const from: string | null = after;
        const chunk: ApplyChunkResult = await orm.em
          .fork()
          .transactional((tx) => new PostgresRosterMirror(tx).applyChunk(key, entity, from, CHUNK));
        if (chunk.processed === 0) break;
        applied += chunk.processed;
        chunks += 1;
        after = chunk.lastSourcedId;
        if (entity === 'classes' && chunks >= stopAfter) return after;
        if (chunk.created.length > 0 && (chunks & (chunks - 1)) === 0) {
          await mirror().refreshMirrorStatistics(key, entity, applied);
        }
      }
    }
    return after;
  }

  /** The scans of `roster_classes` in the plan of the apply's next chunk of classes. */
  async function classScansOfNextChunk(key: ChangeSetKey, after: string | null): Promise<PlanNode[]> {
    const [row] = await runSql<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
      orm.em.fork(),
      `EXPLAIN (FORMAT JSON) ${buildApplySql(MIRROR_TABLES.classes, null)}`,
      [key.changeSetId, 'classes', after ?? '', CHUNK, key.connectionId, null],
    );
    return scansOf(row['QUERY PLAN'][0].Plan, 'roster_classes');
  }

  /** Every lookup of a class goes through the source key with both columns, never a scan of the connection. */
  function expectSourceKeyLookups(scans: PlanNode[]): void {
    expect(scans.length).toBeGreaterThan(0);
    for (const scan of scans) {
      expect(scan['Node Type']).toMatch(/Index/);
      expect(scan['Index Name']).toBe('roster_classes_source_unique');
      expect(scan['Index Cond']).toContain('sourced_id');
      expect(scan.Filter ?? '').not.toContain('sourced_id');
    }
  }

  async function analyzeCount(table: string): Promise<number> {
    const [row] = await runSql<{ count: string }>(
      orm.em.fork(),
      'SELECT analyze_count AS count FROM pg_stat_user_tables WHERE relname = $1',
      [table],
    );
    return Number(row?.count ?? 0);
  }

  it('plans a second connection’s apply through the source key once its first chunk is in', async () => {
    const first = await stageDistrict(randomUUID());
    await applyAsEngine(first);
    expectSourceKeyLookups(await classScansOfNextChunk(first, classes[CHUNK - 1].sourcedId));

    // The identical district under a second connection of the same database.
    const second = await stageDistrict(randomUUID());
    const after = await applyAsEngine(second, 1);
    await mirror().refreshMirrorStatistics(second, 'classes', CHUNK);
    expectSourceKeyLookups(await classScansOfNextChunk(second, after));
  });

  it('refreshes before a resumed apply whose earlier chunks the statistics never saw', async () => {
    const third = await stageDistrict(randomUUID());
    // Two chunks in, then a crash before any refresh of the statistics.
    const after = await applyAsEngine(third, 2);
    // The resumed run checks the statistics before it applies again, as the engine does for each entity.
    await mirror().refreshMirrorStatistics(third, 'classes', CLASSES);
    expectSourceKeyLookups(await classScansOfNextChunk(third, after));
  });

  it('leaves the statistics alone when they already cover the connection’s rows (a delta)', async () => {
    const fourth = await stageDistrict(randomUUID());
    await applyAsEngine(fourth);
    // The engine's last refresh came after 2 of 3 chunks: the next run's check brings the statistics up to date.
    await mirror().refreshMirrorStatistics(fourth, 'classes', CLASSES);
    const before = await analyzeCount('roster_classes');
    await mirror().refreshMirrorStatistics(fourth, 'classes', 50);
    await mirror().refreshMirrorStatistics(fourth, 'classes', CLASSES);
    expect(await analyzeCount('roster_classes')).toBe(before);
  });

  it('does not analyse for a connection that has no rows yet (a first sync before its first chunk)', async () => {
    const before = await analyzeCount('roster_classes');
    await mirror().refreshMirrorStatistics(
      { changeSetId: randomUUID(), connectionId: randomUUID() },
      'classes',
      CLASSES,
    );
    expect(await analyzeCount('roster_classes')).toBe(before);
  });
});
