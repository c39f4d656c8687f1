import type {
  ClassRecord,
  CourseRecord,
  DemographicsRecord,
  EnrollmentRecord,
  OrgRecord,
  PersonRecord,
  PersonRole,
  RosterEntity,
  RosterRecord,
} from '@app/contracts';
import { applyPendingMigrations, buildOrmOptions, runSql } from '@app/persistence';
import { createTestDatabase, eventually, type TestDatabase } from '@app/testing';
import { MikroORM, type EntityManager } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrations } from '../../../migrations/index.js';
import type { ChangeSetKey, DeactivationScope } from '../application/ports/roster-mirror.port.js';
import { PostgresRosterMirror } from './postgres-roster-mirror.js';
import { MIRROR_TABLES } from './roster-mirror.tables.js';

const base = { status: 'active' as const, dateLastModified: '2026-09-01T12:00:00.000Z', metadata: {} };

function org(sourcedId: string, fields: Partial<OrgRecord> = {}): OrgRecord {
  return {
    ...base,
    sourcedId,
    name: `School ${sourcedId}`,
    type: 'school',
    identifier: null,
    parentSourcedId: null,
    ...fields,
  };
}

function course(sourcedId: string, fields: Partial<CourseRecord> = {}): CourseRecord {
  return {
    ...base,
    sourcedId,
    title: `Course ${sourcedId}`,
    courseCode: null,
    grades: [],
    subjects: [],
    orgSourcedId: null,
    schoolYearSourcedId: null,
    ...fields,
  };
}

function klass(sourcedId: string, courseSourcedId: string, fields: Partial<ClassRecord> = {}): ClassRecord {
  return {
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
    schoolSourcedId: 'school-1',
    termSourcedIds: [],
    ...fields,
  };
}

function person(sourcedId: string, role: PersonRole = 'student', fields: Partial<PersonRecord> = {}): PersonRecord {
  return {
    ...base,
    sourcedId,
    givenName: 'Given',
    familyName: `Family ${sourcedId}`,
    middleName: null,
    preferredFirstName: null,
    preferredLastName: null,
    pronouns: null,
    username: null,
    email: null,
    identifier: null,
    enabled: true,
    roles: [{ role, roleType: 'primary', orgSourcedId: null, beginDate: null, endDate: null }],
    primaryRole: role,
    orgSourcedIds: [],
    primaryOrgSourcedId: null,
    grades: [],
    agentSourcedIds: [],
    userIds: [],
    phone: null,
    sms: null,
    sourceAliases: [],
    ...fields,
  };
}

function demographics(sourcedId: string, birthDate: string | null): DemographicsRecord {
  return {
    ...base,
    sourcedId,
    birthDate,
    sex: 'female',
    race: {
      americanIndianOrAlaskaNative: null,
      asian: null,
      blackOrAfricanAmerican: null,
      nativeHawaiianOrOtherPacificIslander: null,
      white: true,
      demographicRaceTwoOrMoreRaces: null,
    },
    hispanicOrLatino: false,
    countryOfBirthCode: 'US',
    stateOfBirth: 'IL',
    cityOfBirth: null,
    publicSchoolResidenceStatus: null,
  };
}

function enrollment(sourcedId: string, classSourcedId: string, userSourcedId: string): EnrollmentRecord {
  return {
    ...base,
    sourcedId,
    classSourcedId,
    schoolSourcedId: null,
    userSourcedId,
    role: 'student',
    primary: false,
    beginDate: '2026-08-20',
    endDate: '2027-05-28',
  };
}

const tobedeleted = <R extends RosterRecord>(record: R): R => ({ ...record, status: 'tobedeleted' });

interface MirrorRow {
  id: string;
  sourced_id: string;
  status: 'active' | 'inactive';
  source_hash: string;
  updated_at: string;
  updated_by_run: string | null;
  deactivated_at: string | null;
  deactivated_by_run: string | null;
  [column: string]: unknown;
}

const NO_ABSENCE: DeactivationScope = { absent: false, schoolScope: [] };
const SNAPSHOT: DeactivationScope = { absent: true, schoolScope: [] };

describe('PostgresRosterMirror (PostgreSQL)', () => {
  let database: TestDatabase;
  let orm: MikroORM;

  beforeAll(async () => {
    database = await createTestDatabase('roster_mirror');
    orm = await MikroORM.init(buildOrmOptions({ url: database.url, poolMax: 4, migrations }));
    await applyPendingMigrations(orm, database.url);
  });

  afterAll(async () => {
    await orm?.close(true);
    await database?.drop();
  });

  const fork = (): EntityManager => orm.em.fork();
  const mirror = (em: EntityManager = fork()): PostgresRosterMirror => new PostgresRosterMirror(em);
  const newKey = (connectionId: string = randomUUID()): ChangeSetKey => ({ changeSetId: randomUUID(), connectionId });

  async function rows(entity: RosterEntity, connectionId: string, em: EntityManager = fork()): Promise<MirrorRow[]> {
    return runSql<MirrorRow>(
      em,
      `SELECT * FROM ${MIRROR_TABLES[entity].table} WHERE connection_id = $1 ORDER BY sourced_id`,
      [connectionId],
    );
  }

  async function row(entity: RosterEntity, connectionId: string, sourcedId: string): Promise<MirrorRow | undefined> {
    return (await rows(entity, connectionId)).find((candidate) => candidate.sourced_id === sourcedId);
  }

  async function staged(changeSetId: string, entity: RosterEntity): Promise<Map<string, RosterRecord>> {
    const found = await runSql<{ sourced_id: string; payload: RosterRecord }>(
      fork(),
      'SELECT sourced_id, payload FROM roster_staged_records WHERE run_id = $1 AND entity = $2 ORDER BY sourced_id',
      [changeSetId, entity],
    );
    return new Map(found.map((item) => [item.sourced_id, item.payload]));
  }

  /** Applies every chunk of a staged entity in transactions, as the engine does. */
  async function applyAll(key: ChangeSetKey, entity: RosterEntity, limit = 1000) {
    const em = fork();
    const total = { created: [] as string[], updated: [] as string[], restored: [] as string[], unchanged: 0 };
    const unresolved: { sourcedId: string; field: string; reference: string }[] = [];
    let after: string | null = null;
    for (;;) {
      const chunk = await em.transactional((tx) => mirror(tx).applyChunk(key, entity, after, limit));
      if (chunk.processed === 0) break;
      total.created.push(...chunk.created);
      total.updated.push(...chunk.updated);
      total.restored.push(...chunk.restored);
      total.unchanged += chunk.unchanged;
      unresolved.push(...chunk.unresolved);
      after = chunk.lastSourcedId;
    }
    return { ...total, unresolved };
  }

  /** Brings the mirror of a connection to these records through a change set of its own. */
  async function seed<E extends RosterEntity>(
    connectionId: string,
    entity: E,
    records: RosterRecord<E>[],
  ): Promise<ChangeSetKey> {
    const key = newKey(connectionId);
    await mirror().stage(key, entity, records);
    await applyAll(key, entity);
    await mirror().deactivateChunk(key, entity, NO_ABSENCE, 10_000);
    await mirror().discardStaged(key.changeSetId);
    return key;
  }

  describe('stage', () => {
    it('keeps the last version of a sourcedId staged twice, in one call or across calls', async () => {
      const key = newKey();
      await mirror().stage(key, 'orgs', [org('o1', { name: 'First' }), org('o2'), org('o1', { name: 'Second' })]);
      expect(await mirror().stagedCount(key.changeSetId, 'orgs')).toBe(2);
      expect((await staged(key.changeSetId, 'orgs')).get('o1')).toMatchObject({ name: 'Second' });

      await mirror().stage(key, 'orgs', [org('o1', { name: 'Third' })]);
      expect(await mirror().stagedCount(key.changeSetId, 'orgs')).toBe(2);
      expect((await staged(key.changeSetId, 'orgs')).get('o1')).toMatchObject({ name: 'Third' });
    });

    it('keeps the later page’s version whichever write commits first', async () => {
      const key = newKey();
      await mirror().stage(key, 'orgs', [org('o1', { name: 'Page 3' })], 3);
      await mirror().stage(key, 'orgs', [org('o1', { name: 'Page 2' }), org('o2')], 2);
      expect((await staged(key.changeSetId, 'orgs')).get('o1')).toMatchObject({ name: 'Page 3' });
      await mirror().stage(key, 'orgs', [org('o1', { name: 'Page 3 again' })], 3);
      expect((await staged(key.changeSetId, 'orgs')).get('o1')).toMatchObject({ name: 'Page 3 again' });

      // Two pages that list the same records, written at once: the later page commits first, the earlier one
      // waits for it and then must not overwrite it. Page 5 stages and holds its transaction open until page 4's
      // write is seen waiting on its locks in pg_stat_activity; only then does page 5 commit.
      const ids = Array.from({ length: 200 }, (_, index) => `s${String(index).padStart(3, '0')}`);
      const stage = (tx: EntityManager, page: number, order: string[]) =>
        mirror(tx).stage(
          key,
          'orgs',
          order.map((id) => org(id, { name: `Page ${page}` })),
          page,
        );
      let staged5!: () => void;
      const page5Staged = new Promise<void>((resolve) => (staged5 = resolve));
      let release5!: () => void;
      const page5Released = new Promise<void>((resolve) => (release5 = resolve));
      const write5 = fork().transactional(async (tx) => {
        await stage(tx, 5, ids);
        staged5();
        await page5Released;
      });
      await page5Staged;
      let page4Backend: number | undefined;
      const write4 = fork().transactional(async (tx) => {
        const [backend] = await runSql<{ pid: number }>(tx, 'SELECT pg_backend_pid() AS pid');
        page4Backend = backend.pid;
        await stage(tx, 4, [...ids].reverse());
      });
      try {
        await eventually(
          async () => {
            if (page4Backend === undefined) return undefined;
            const [activity] = await runSql<{ wait_event_type: string | null }>(
              fork(),
              'SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1',
              [page4Backend],
            );
            return activity?.wait_event_type === 'Lock' ? true : undefined;
          },
          5_000,
          'page 4 to wait on page 5’s locks',
          10,
        );
      } finally {
        release5();
      }
      await Promise.all([write5, write4]);
      const rows = await staged(key.changeSetId, 'orgs');
      expect(ids.map((id) => rows.get(id))).toEqual(ids.map(() => expect.objectContaining({ name: 'Page 5' })));
    });

    it('keeps change sets and entities apart, and discards one entity or all of it', async () => {
      const key = newKey();
      const other = newKey(key.connectionId);
      await mirror().stage(key, 'orgs', [org('o1')]);
      await mirror().stage(key, 'courses', [course('c1'), course('c2')]);
      await mirror().stage(other, 'orgs', [org('o1'), org('o2')]);
      await mirror().stage(key, 'orgs', []);
      expect(await mirror().stagedCount(key.changeSetId, 'orgs')).toBe(1);
      expect(await mirror().stagedCount(key.changeSetId, 'courses')).toBe(2);

      await mirror().discardStaged(key.changeSetId, 'courses');
      expect(await mirror().stagedCount(key.changeSetId, 'courses')).toBe(0);
      expect(await mirror().stagedCount(key.changeSetId, 'orgs')).toBe(1);

      await mirror().discardStaged(key.changeSetId);
      expect(await mirror().stagedCount(key.changeSetId, 'orgs')).toBe(0);
      expect(await mirror().stagedCount(other.changeSetId, 'orgs')).toBe(2);
    });

    it('keeps the content hash of earlier versions: the payload without dateLastModified and status', async () => {
      const key = newKey();
      await mirror().stage(key, 'people', [
        person('p1', 'student', { middleName: 'Ñ', grades: ['05'], metadata: { 'district.flag': 'x' } }),
      ]);
      const [row] = await runSql<{ source_hash: string; expected: string }>(
        fork(),
        `SELECT source_hash, md5((payload - 'dateLastModified' - 'status')::text) AS expected
           FROM roster_staged_records WHERE run_id = $1`,
        [key.changeSetId],
      );
      expect(row?.source_hash).toBe(row?.expected);
    });

    it('names the entities of a change set with nothing staged, as after PostgreSQL empties the unlogged table', async () => {
      const key = newKey();
      await mirror().stage(key, 'orgs', [org('o1')]);
      await mirror().stage(key, 'courses', [course('c1')]);
      expect(await mirror().unstagedEntities(key.changeSetId, ['orgs', 'courses', 'classes'])).toEqual(['classes']);
      expect(await mirror().unstagedEntities(key.changeSetId, [])).toEqual([]);

      await mirror().discardStaged(key.changeSetId, 'orgs');
      expect(await mirror().unstagedEntities(key.changeSetId, ['orgs', 'courses'])).toEqual(['orgs']);
      expect(await mirror().unstagedEntities(newKey().changeSetId, ['courses'])).toEqual(['courses']);
    });
  });

  describe('preview', () => {
    /** o1 unchanged, o2 updated, o3 restored, o4 and o5 absent, o6 explicitly deleted, o7 new. */
    async function scenario(): Promise<ChangeSetKey> {
      const connectionId = randomUUID();
      await seed(
        connectionId,
        'orgs',
        ['o1', 'o2', 'o3', 'o4', 'o5', 'o6'].map((id) => org(id)),
      );
      await seed(connectionId, 'orgs', [tobedeleted(org('o3'))]);
      const key = newKey(connectionId);
      await mirror().stage(key, 'orgs', [
        org('o1', { dateLastModified: '2026-10-01T00:00:00.000Z' }), // bookkeeping only: unchanged
        org('o2', { name: 'Renamed' }),
        org('o3'),
        tobedeleted(org('o6')),
        org('o7'),
      ]);
      return key;
    }

    it('counts creates, updates, restores, unchanged and explicit deletions, with samples', async () => {
      const key = await scenario();
      expect(await mirror().preview(key, 'orgs', NO_ABSENCE)).toEqual({
        create: 1,
        update: 1,
        restore: 1,
        unchanged: 1,
        deactivate: 1,
        skip: 0,
        activeBefore: 5,
        samples: { create: ['o7'], update: ['o2'], restore: ['o3'], deactivate: ['o6'] },
      });
    });

    it('counts records absent from a snapshot only when absence counts, within the school scope', async () => {
      const key = await scenario();
      expect(await mirror().preview(key, 'orgs', SNAPSHOT)).toMatchObject({
        deactivate: 3,
        samples: { deactivate: ['o4', 'o5', 'o6'] },
      });
      expect(await mirror().preview(key, 'orgs', { absent: true, schoolScope: ['o4', 'o6'] })).toMatchObject({
        deactivate: 2,
        samples: { deactivate: ['o4', 'o6'] },
      });
      // An explicit deletion counts whatever the scope.
      expect((await mirror().preview(key, 'orgs', { absent: true, schoolScope: ['elsewhere'] })).deactivate).toBe(1);
      const people = await mirror().preview(key, 'people', SNAPSHOT);
      expect(people).toEqual({
        create: 0,
        update: 0,
        restore: 0,
        unchanged: 0,
        deactivate: 0,
        skip: 0,
        activeBefore: 0,
        samples: {},
      });
    });

    it('caps samples at five, in sourcedId order', async () => {
      const key = newKey();
      await mirror().stage(
        key,
        'courses',
        ['c9', 'c3', 'c7', 'c1', 'c5', 'c2', 'c8'].map((id) => course(id)),
      );
      const preview = await mirror().preview(key, 'courses', NO_ABSENCE);
      expect(preview.create).toBe(7);
      expect(preview.samples).toEqual({ create: ['c1', 'c2', 'c3', 'c5', 'c7'] });
    });

    it('scopes people absence by their orgs', async () => {
      const connectionId = randomUUID();
      await seed(connectionId, 'people', [
        person('p1', 'student', { orgSourcedIds: ['school-a'] }),
        person('p2', 'student', { orgSourcedIds: ['school-b'] }),
        person('p3', 'teacher', { orgSourcedIds: ['school-a', 'school-b'] }),
      ]);
      const key = newKey(connectionId);
      await mirror().stage(key, 'people', [person('p4', 'student', { orgSourcedIds: ['school-a'] })]);
      expect(await mirror().preview(key, 'people', { absent: true, schoolScope: ['school-b'] })).toMatchObject({
        create: 1,
        deactivate: 2,
        activeBefore: 3,
        samples: { create: ['p4'], deactivate: ['p2', 'p3'] },
      });
    });
  });

  describe('applyChunk', () => {
    it('creates, then changes nothing when the same change set or identical data is applied again', async () => {
      const key = newKey();
      await mirror().stage(key, 'orgs', [org('o1'), org('o2'), org('o3')]);
      const first = await applyAll(key, 'orgs');
      expect(first.created).toHaveLength(3);
      const before = await rows('orgs', key.connectionId);
      expect(before.map((item) => [item.sourced_id, item.status, item.updated_by_run])).toEqual([
        ['o1', 'active', key.changeSetId],
        ['o2', 'active', key.changeSetId],
        ['o3', 'active', key.changeSetId],
      ]);
      expect(new Set(first.created)).toEqual(new Set(before.map((item) => item.id)));

      const again = await applyAll(key, 'orgs');
      expect(again).toEqual({ created: [], updated: [], restored: [], unchanged: 3, unresolved: [] });

      const next = newKey(key.connectionId);
      await mirror().stage(next, 'orgs', [
        org('o1', { dateLastModified: '2026-11-11T11:11:11.000Z' }),
        org('o2'),
        org('o3'),
      ]);
      expect(await applyAll(next, 'orgs')).toEqual({
        created: [],
        updated: [],
        restored: [],
        unchanged: 3,
        unresolved: [],
      });
      expect(await rows('orgs', key.connectionId)).toEqual(before);
    });

    it('updates a changed record in place and reports its local id', async () => {
      const connectionId = randomUUID();
      await seed(connectionId, 'orgs', [org('o1'), org('o2')]);
      const before = await row('orgs', connectionId, 'o2');
      const key = newKey(connectionId);
      await mirror().stage(key, 'orgs', [org('o1'), org('o2', { name: 'Renamed', identifier: 'X-2' })]);
      expect(await applyAll(key, 'orgs')).toMatchObject({ created: [], updated: [before!.id], unchanged: 1 });
      expect(await row('orgs', connectionId, 'o2')).toMatchObject({
        id: before!.id,
        name: 'Renamed',
        identifier: 'X-2',
        updated_by_run: key.changeSetId,
      });
    });

    it('walks the change set in sourcedId chunks and resumes after a checkpoint', async () => {
      const key = newKey();
      const ids = ['k1', 'k2', 'k3', 'k4', 'k5'];
      await mirror().stage(
        key,
        'courses',
        [...ids].reverse().map((id) => course(id)),
      );
      const target = mirror();
      const first = await target.applyChunk(key, 'courses', null, 2);
      expect(first).toMatchObject({ lastSourcedId: 'k2', processed: 2, unchanged: 0 });
      expect(first.created).toHaveLength(2);

      // A crash after the first chunk: the second one is rolled back and re-done from the checkpoint.
      const em = fork();
      await expect(
        em.transactional(async (tx) => {
          await mirror(tx).applyChunk(key, 'courses', first.lastSourcedId, 2);
          throw new Error('worker died');
        }),
      ).rejects.toThrow('worker died');
      expect((await rows('courses', key.connectionId)).map((item) => item.sourced_id)).toEqual(['k1', 'k2']);

      const second = await target.applyChunk(key, 'courses', first.lastSourcedId, 2);
      expect(second).toMatchObject({ lastSourcedId: 'k4', processed: 2 });
      expect(second.created).toHaveLength(2);
      const third = await target.applyChunk(key, 'courses', second.lastSourcedId, 2);
      expect(third).toMatchObject({ lastSourcedId: 'k5', processed: 1 });
      expect(await target.applyChunk(key, 'courses', third.lastSourcedId, 2)).toEqual({
        lastSourcedId: null,
        processed: 0,
        created: [],
        updated: [],
        restored: [],
        unchanged: 0,
        unresolved: [],
        warnings: [],
        conflicts: [],
      });
      expect((await rows('courses', key.connectionId)).map((item) => item.sourced_id)).toEqual(ids);

      // Re-applying a chunk that was already committed (the checkpoint was lost with it) changes nothing.
      expect(await target.applyChunk(key, 'courses', first.lastSourcedId, 2)).toMatchObject({
        created: [],
        updated: [],
        unchanged: 2,
      });
    });

    it('splits the change set into chunk bounds, and a chunk stops at its bound', async () => {
      const key = newKey();
      const ids = ['k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7'];
      await mirror().stage(key, 'courses', [...ids.map((id) => course(id)), course('k35', { status: 'tobedeleted' })]);
      const target = mirror();
      expect(await target.chunkBounds(key, 'courses', null, 3)).toEqual(['k3', 'k6', 'k7']);
      expect(await target.chunkBounds(key, 'courses', 'k3', 3)).toEqual(['k6', 'k7']);
      expect(await target.chunkBounds(key, 'courses', null, 7)).toEqual(['k7']);
      expect(await target.chunkBounds(key, 'courses', 'k7', 3)).toEqual([]);

      const middle = await target.applyChunk(key, 'courses', 'k3', 3, undefined, 'k5');
      expect(middle).toMatchObject({ lastSourcedId: 'k5', processed: 2 });
      expect((await rows('courses', key.connectionId)).map((item) => item.sourced_id)).toEqual(['k4', 'k5']);
    });

    it('skips records whose references do not resolve, and reports them', async () => {
      const connectionId = randomUUID();
      await seed(connectionId, 'orgs', [org('school-1')]);
      await seed(connectionId, 'courses', [course('math')]);
      const key = newKey(connectionId);
      await mirror().stage(key, 'classes', [klass('k-math', 'math'), klass('k-ghost', 'no-such-course')]);
      const classes = await applyAll(key, 'classes');
      expect(classes.created).toHaveLength(1);
      expect(classes.unchanged).toBe(0);
      expect(classes.unresolved).toEqual([
        { sourcedId: 'k-ghost', field: 'courseSourcedId', reference: 'no-such-course' },
      ]);
      expect((await rows('classes', connectionId)).map((item) => item.sourced_id)).toEqual(['k-math']);

      await seed(connectionId, 'people', [person('s1'), person('gone')]);
      await seed(connectionId, 'people', [tobedeleted(person('gone'))]);
      await mirror().stage(key, 'enrollments', [
        enrollment('e1', 'k-math', 's1'),
        enrollment('e2', 'k-ghost', 's1'),
        enrollment('e3', 'k-math', 'nobody'),
        enrollment('e4', 'k-math', 'gone'),
      ]);
      const enrollments = await applyAll(key, 'enrollments');
      expect(enrollments.created).toHaveLength(1);
      expect(enrollments.unresolved).toEqual([
        { sourcedId: 'e2', field: 'classSourcedId', reference: 'k-ghost' },
        { sourcedId: 'e3', field: 'userSourcedId', reference: 'nobody' },
        { sourcedId: 'e4', field: 'userSourcedId', reference: 'gone' },
      ]);
      expect((await rows('enrollments', connectionId)).map((item) => item.sourced_id)).toEqual(['e1']);

      // A reference to another connection's record does not count either.
      const elsewhere = newKey();
      await mirror().stage(elsewhere, 'classes', [klass('k-math', 'math')]);
      expect((await applyAll(elsewhere, 'classes')).unresolved).toHaveLength(1);
    });

    it('keeps records whose optional references do not resolve, and reports each missing one', async () => {
      const connectionId = randomUUID();
      await seed(connectionId, 'orgs', [org('school-1')]);
      await seed(connectionId, 'courses', [course('math')]);
      const key = newKey(connectionId);
      // A term of the same change set counts; one nobody lists does not.
      await mirror().stage(key, 'academicSessions', [
        {
          ...base,
          sourcedId: 't1',
          title: 'Fall',
          type: 'term',
          startDate: null,
          endDate: null,
          schoolYear: null,
          parentSourcedId: 'no-such-year',
          orgSourcedId: 'school-1',
        },
      ]);
      await mirror().stage(key, 'classes', [klass('k1', 'math', { termSourcedIds: ['t1', 't-ghost', 't-gone'] })]);
      const chunk = await fork().transactional((tx) => mirror(tx).applyChunk(key, 'classes', null, 100));
      expect(chunk.created).toHaveLength(1);
      expect(chunk.unresolved).toEqual([]);
      expect(chunk.warnings).toEqual([
        { sourcedId: 'k1', field: 'termSourcedIds', reference: 't-ghost', reason: 'missing' },
        { sourcedId: 'k1', field: 'termSourcedIds', reference: 't-gone', reason: 'missing' },
      ]);
      const sessions = await fork().transactional((tx) => mirror(tx).applyChunk(key, 'academicSessions', null, 100));
      expect(sessions.warnings).toEqual([
        { sourcedId: 't1', field: 'parentSourcedId', reference: 'no-such-year', reason: 'missing' },
      ]);
    });

    it('previews the skips the apply makes, following required references through the change set', async () => {
      const connectionId = randomUUID();
      await seed(connectionId, 'orgs', [org('school-1')]);
      await seed(connectionId, 'courses', [course('math')]);
      await seed(connectionId, 'people', [person('s1'), person('s2')]);
      const key = newKey(connectionId);
      await mirror().stage(key, 'courses', [course('art')]);
      await mirror().stage(key, 'classes', [
        klass('k-math', 'math'),
        klass('k-art', 'art'),
        klass('k-ghost', 'no-such-course'),
        klass('k-nowhere', 'math', { schoolSourcedId: 'no-such-school' }),
      ]);
      await mirror().stage(key, 'enrollments', [
        enrollment('e1', 'k-art', 's1'),
        enrollment('e2', 'k-ghost', 's1'),
        enrollment('e3', 'k-ghost', 's2'),
        enrollment('e4', 'k-math', 'nobody'),
        enrollment('e5', 'k-nowhere', 's2'),
      ]);
      const classes = await mirror().preview(key, 'classes', NO_ABSENCE);
      expect(classes).toMatchObject({
        create: 2,
        skip: 2,
        samples: { create: ['k-art', 'k-math'], skip: ['k-ghost', 'k-nowhere'] },
      });
      const enrollments = await mirror().preview(key, 'enrollments', NO_ABSENCE);
      expect(enrollments).toMatchObject({
        create: 1,
        skip: 4,
        samples: { create: ['e1'], skip: ['e2', 'e3', 'e4', 'e5'] },
      });

      // The apply does what the preview said.
      await applyAll(key, 'courses');
      const applied = await applyAll(key, 'classes');
      expect([applied.created.length, applied.unresolved.length]).toEqual([classes.create, classes.skip]);
      const appliedEnrollments = await applyAll(key, 'enrollments');
      expect([appliedEnrollments.created.length, appliedEnrollments.unresolved.length]).toEqual([
        enrollments.create,
        enrollments.skip,
      ]);
    });

    it('resolves departments to their school through any number of parents, and reports one of no school', async () => {
      const connectionId = randomUUID();
      await seed(connectionId, 'orgs', [
        org('district', { type: 'district' }),
        org('school-1', { parentSourcedId: 'district' }),
        org('science', { type: 'department', parentSourcedId: 'school-1' }),
        org('physics', { type: 'department', parentSourcedId: 'science' }),
        org('orphan', { type: 'department', parentSourcedId: 'district' }),
        org('loop-a', { type: 'department', parentSourcedId: 'loop-b' }),
        org('loop-b', { type: 'department', parentSourcedId: 'loop-a' }),
      ]);
      await mirror().resolveOrgSchools({ changeSetId: randomUUID(), connectionId });
      expect(
        Object.fromEntries(
          (await rows('orgs', connectionId)).map((item) => [item.sourced_id, item['school_sourced_id']]),
        ),
      ).toEqual({
        district: null,
        'school-1': 'school-1',
        science: 'school-1',
        physics: 'school-1',
        orphan: null,
        'loop-a': null,
        'loop-b': null,
      });
      await seed(connectionId, 'courses', [course('math')]);
      const key = newKey(connectionId);
      await mirror().stage(key, 'classes', [
        klass('k-physics', 'math', { schoolSourcedId: 'physics' }),
        klass('k-orphan', 'math', { schoolSourcedId: 'orphan' }),
      ]);
      await mirror().stage(key, 'people', [person('s1', 'student', { orgSourcedIds: ['physics', 'orphan'] })]);
      const classes = await fork().transactional((tx) => mirror(tx).applyChunk(key, 'classes', null, 100));
      expect(classes.created).toHaveLength(2);
      expect(classes.warnings).toEqual([
        { sourcedId: 'k-orphan', field: 'schoolSourcedId', reference: 'orphan', reason: 'noSchool' },
      ]);
      const people = await fork().transactional((tx) => mirror(tx).applyChunk(key, 'people', null, 100));
      expect(people.warnings).toEqual([
        { sourcedId: 's1', field: 'orgSourcedIds', reference: 'orphan', reason: 'noSchool' },
      ]);
    });

    it('restores an inactive record under its local id', async () => {
      const connectionId = randomUUID();
      await seed(connectionId, 'orgs', [org('o1'), org('o2')]);
      const deactivation = await seed(connectionId, 'orgs', [tobedeleted(org('o1'))]);
      const inactive = await row('orgs', connectionId, 'o1');
      expect(inactive).toMatchObject({ status: 'inactive', deactivated_by_run: deactivation.changeSetId });
      expect(inactive?.deactivated_at).not.toBeNull();

      const key = newKey(connectionId);
      await mirror().stage(key, 'orgs', [org('o1'), org('o2')]);
      expect(await mirror().preview(key, 'orgs', NO_ABSENCE)).toMatchObject({ restore: 1, unchanged: 1 });
      expect(await applyAll(key, 'orgs')).toEqual({
        created: [],
        updated: [],
        restored: [inactive!.id],
        unchanged: 1,
        unresolved: [],
      });
      expect(await row('orgs', connectionId, 'o1')).toMatchObject({
        id: inactive!.id,
        status: 'active',
        deactivated_at: null,
        deactivated_by_run: null,
        updated_by_run: key.changeSetId,
      });
    });

    it('never applies records staged as tobedeleted', async () => {
      const key = newKey();
      await mirror().stage(key, 'orgs', [org('o1'), tobedeleted(org('o2'))]);
      expect(await applyAll(key, 'orgs')).toMatchObject({ created: [expect.any(String)], unchanged: 0 });
      expect((await rows('orgs', key.connectionId)).map((item) => item.sourced_id)).toEqual(['o1']);
    });

    it('stores birth dates as calendar dates whatever the session time zone', async () => {
      const connectionId = randomUUID();
      await seed(connectionId, 'people', [person('s1'), person('s2'), person('s3')]);
      const key = newKey(connectionId);
      const em = fork();
      const read = await em.transactional(async (tx) => {
        await runSql(tx, "SET LOCAL TIME ZONE 'Pacific/Kiritimati'");
        const target = mirror(tx);
        await target.stage(key, 'demographics', [
          demographics('s1', '2012-01-01'),
          demographics('s2', '2011-12-31'),
          demographics('s3', null),
        ]);
        const chunk = await target.applyChunk(key, 'demographics', null, 100);
        expect(chunk.created).toHaveLength(3);
        return runSql<{ zone: string; sourced_id: string; birth_date: unknown; birth_text: string | null }>(
          tx,
          `SELECT current_setting('TimeZone') AS zone, sourced_id, birth_date, birth_date::text AS birth_text
             FROM roster_demographics WHERE connection_id = $1 ORDER BY sourced_id`,
          [connectionId],
        );
      });
      expect(read).toEqual([
        { zone: 'Pacific/Kiritimati', sourced_id: 's1', birth_date: '2012-01-01', birth_text: '2012-01-01' },
        { zone: 'Pacific/Kiritimati', sourced_id: 's2', birth_date: '2011-12-31', birth_text: '2011-12-31' },
        { zone: 'Pacific/Kiritimati', sourced_id: 's3', birth_date: null, birth_text: null },
      ]);
      // And read back from a session in another zone.
      const utc = await rows('demographics', connectionId);
      expect(utc.map((item) => item['birth_date'])).toEqual(['2012-01-01', '2011-12-31', null]);

      // Re-staging the same dates from a session far west changes nothing.
      const again = newKey(connectionId);
      const west = fork();
      const reapplied = await west.transactional(async (tx) => {
        await runSql(tx, "SET LOCAL TIME ZONE 'Pacific/Pago_Pago'");
        const target = mirror(tx);
        await target.stage(again, 'demographics', [
          demographics('s1', '2012-01-01'),
          demographics('s2', '2011-12-31'),
          demographics('s3', null),
        ]);
        return target.applyChunk(again, 'demographics', null, 100);
      });
      expect(reapplied).toMatchObject({ created: [], updated: [], unchanged: 3 });
    });
  });

  describe('deactivateChunk', () => {
    async function scenario(): Promise<ChangeSetKey> {
      const connectionId = randomUUID();
      await seed(connectionId, 'people', [
        person('p1', 'student', { orgSourcedIds: ['school-a'] }),
        person('p2', 'student', { orgSourcedIds: ['school-b'] }),
        person('p3', 'student', { orgSourcedIds: ['school-b'] }),
        person('p4', 'teacher', { orgSourcedIds: ['school-a', 'school-b'] }),
      ]);
      const key = newKey(connectionId);
      await mirror().stage(key, 'people', [
        person('p1', 'student', { orgSourcedIds: ['school-a'] }),
        tobedeleted(person('p2', 'student', { orgSourcedIds: ['school-b'] })),
        person('p5', 'student', { orgSourcedIds: ['school-a'] }),
      ]);
      return key;
    }

    const active = async (connectionId: string) =>
      (await rows('people', connectionId)).filter((item) => item.status === 'active').map((item) => item.sourced_id);

    it('deactivates explicit deletions only, when absence does not count', async () => {
      const key = await scenario();
      const p2 = await row('people', key.connectionId, 'p2');
      expect(await mirror().deactivateChunk(key, 'people', NO_ABSENCE, 100)).toEqual([p2!.id]);
      expect(await active(key.connectionId)).toEqual(['p1', 'p3', 'p4']);
      expect(await row('people', key.connectionId, 'p2')).toMatchObject({
        status: 'inactive',
        deactivated_by_run: key.changeSetId,
        updated_by_run: key.changeSetId,
      });
      expect(await mirror().deactivateChunk(key, 'people', NO_ABSENCE, 100)).toEqual([]);
    });

    it('deactivates records absent from a snapshot, in chunks, until none is left', async () => {
      const key = await scenario();
      const first = await mirror().deactivateChunk(key, 'people', SNAPSHOT, 2);
      const second = await mirror().deactivateChunk(key, 'people', SNAPSHOT, 2);
      expect(first).toHaveLength(2);
      expect(second).toHaveLength(1);
      expect(await mirror().deactivateChunk(key, 'people', SNAPSHOT, 2)).toEqual([]);
      expect(await active(key.connectionId)).toEqual(['p1']);
    });

    it('deactivates absent records only inside the school scope', async () => {
      const key = await scenario();
      await mirror().deactivateChunk(key, 'people', { absent: true, schoolScope: ['school-a'] }, 100);
      // p4 is absent and in school-a; p3 is absent but only in school-b; p2 was deleted explicitly.
      expect(await active(key.connectionId)).toEqual(['p1', 'p3']);
    });

    it('scopes classes by school and leaves other connections alone', async () => {
      const connectionId = randomUUID();
      const otherConnection = randomUUID();
      for (const id of [connectionId, otherConnection]) {
        await seed(id, 'orgs', [org('school-a'), org('school-b')]);
        await seed(id, 'courses', [course('math')]);
        await seed(id, 'classes', [
          klass('k-a', 'math', { schoolSourcedId: 'school-a' }),
          klass('k-b', 'math', { schoolSourcedId: 'school-b' }),
        ]);
      }
      const key = newKey(connectionId);
      await mirror().stage(key, 'classes', [klass('k-new', 'math', { schoolSourcedId: 'school-a' })]);
      const deactivated = await mirror().deactivateChunk(
        key,
        'classes',
        { absent: true, schoolScope: ['school-b'] },
        100,
      );
      expect(deactivated).toEqual([(await row('classes', connectionId, 'k-b'))!.id]);
      const others = await rows('classes', otherConnection);
      expect(others.length).toBeGreaterThan(0);
      expect(others.every((item) => item.status === 'active')).toBe(true);
    });
  });

  describe('1.1 per-role people', () => {
    it('merges Infinite Campus role-prefixed ids into one person with both roles (ic-role-prefix)', async () => {
      const key = newKey();
      await mirror().stage(key, 'people', [
        person('t123', 'teacher', {
          givenName: 'Ada',
          email: 'ada@district.test',
          orgSourcedIds: ['school-a'],
          roles: [{ role: 'teacher', roleType: 'primary', orgSourcedId: 'school-a', beginDate: null, endDate: null }],
        }),
        person('p123', 'parent', {
          givenName: 'Ada',
          phone: '555-0100',
          orgSourcedIds: ['school-b'],
          roles: [{ role: 'parent', roleType: 'primary', orgSourcedId: 'school-b', beginDate: null, endDate: null }],
          agentSourcedIds: ['s456'],
        }),
        person('s456', 'student', { orgSourcedIds: ['school-b'] }),
        person('789', 'student'),
      ]);
      expect(await mirror().mergeStagedPeople(key, 'ic-role-prefix')).toBe(1);

      const people = await staged(key.changeSetId, 'people');
      expect([...people.keys()]).toEqual(['123', '456', '789']);
      const merged = people.get('123') as PersonRecord;
      expect(merged).toMatchObject({
        sourcedId: '123',
        status: 'active',
        primaryRole: 'teacher',
        email: 'ada@district.test',
        phone: '555-0100',
        orgSourcedIds: expect.arrayContaining(['school-a', 'school-b']),
      });
      expect(merged.roles.map((role) => `${role.role}@${role.orgSourcedId}`).sort()).toEqual([
        'parent@school-b',
        'teacher@school-a',
      ]);
      expect([...merged.sourceAliases].sort()).toEqual(['p123', 't123']);
      expect(people.get('456')).toMatchObject({ sourcedId: '456', sourceAliases: ['s456'] });
      expect(people.get('789')).toMatchObject({ sourceAliases: [] });

      expect(await mirror().personAliases(key)).toEqual(
        new Map([
          ['p123', '123'],
          ['t123', '123'],
          ['s456', '456'],
        ]),
      );

      await applyAll(key, 'people');
      const stored = await row('people', key.connectionId, '123');
      expect(stored).toMatchObject({ primary_role: 'teacher', given_name: 'Ada' });
      expect([...(stored!['source_aliases'] as string[])].sort()).toEqual(['p123', 't123']);
      expect((stored!['search_text'] as string).length).toBeGreaterThan(0);

      // The aliases now come from the mirror too, for the next run's enrollments and demographics.
      await mirror().discardStaged(key.changeSetId);
      expect(await mirror().personAliases(newKey(key.connectionId))).toEqual(
        new Map([
          ['p123', '123'],
          ['t123', '123'],
          ['s456', '456'],
        ]),
      );
    });

    it('merges people sharing an identifier under the first sourcedId (identifier)', async () => {
      const key = newKey();
      await mirror().stage(key, 'people', [
        person('u2', 'guardian', { identifier: 'S-1 ' }),
        person('u1', 'teacher', { identifier: 'S-1' }),
        person('u3', 'student', { identifier: null }),
        person('u4', 'student', { identifier: '  ' }),
        person('u5', 'student', { identifier: '' }),
        person('u6', 'student', { identifier: 'S-6', status: 'tobedeleted' }),
        person('u7', 'aide', { identifier: 'S-6' }),
      ]);
      expect(await mirror().mergeStagedPeople(key, 'identifier')).toBe(2);
      const people = await staged(key.changeSetId, 'people');
      expect([...people.keys()]).toEqual(['u1', 'u3', 'u4', 'u5', 'u6']);
      expect(people.get('u1')).toMatchObject({ primaryRole: 'teacher', sourceAliases: ['u2'] });
      expect((people.get('u1') as PersonRecord).roles.map((role) => role.role).sort()).toEqual(['guardian', 'teacher']);
      // One active role keeps the merged person active.
      expect(people.get('u6')).toMatchObject({ status: 'active', sourceAliases: ['u7'] });
      expect(await mirror().personAliases(key)).toEqual(
        new Map([
          ['u2', 'u1'],
          ['u7', 'u6'],
        ]),
      );
      expect(await mirror().mergeStagedPeople(key, 'identifier')).toBe(0);
    });
  });

  describe('id remaps (Infinite Campus 1.1 → 1.2)', () => {
    it('re-keys people to their new sourcedIds, keeping local ids, demographics and enrollments', async () => {
      const connectionId = randomUUID();
      await seed(connectionId, 'orgs', [org('school-1')]);
      await seed(connectionId, 'courses', [course('math')]);
      await seed(connectionId, 'classes', [klass('k1', 'math')]);
      await seed(connectionId, 'people', [person('s100'), person('t200', 'teacher'), person('s300')]);
      await seed(connectionId, 'demographics', [demographics('s100', '2012-02-29')]);
      await seed(connectionId, 'enrollments', [enrollment('e1', 'k1', 's100'), enrollment('e2', 'k1', 's300')]);
      const before = {
        person: await row('people', connectionId, 's100'),
        demographics: await row('demographics', connectionId, 's100'),
        enrollment: await row('enrollments', connectionId, 'e1'),
      };

      const key = newKey(connectionId);
      await mirror().stage(key, 'people', [
        person('9f1c-100', 'student', { metadata: { ic: { legacysourceId: 's100' } } }),
        person('t200', 'teacher'),
        person('9f1c-300', 'student', { metadata: { 'ic.legacysourceId': 's300' } }),
        person('9f1c-999', 'student', { metadata: { ic: { legacysourceId: 'never-existed' } } }),
      ]);
      expect(await mirror().countRemappedPeople(key)).toBe(2);
      // Applying without the remap would create the new ids and deactivate the old ones.
      expect(await mirror().preview(key, 'people', SNAPSHOT)).toMatchObject({ create: 3, deactivate: 2 });

      const em = fork();
      expect(await em.transactional((tx) => mirror(tx).remapPeople(key))).toBe(2);
      expect(await mirror().countRemappedPeople(key)).toBe(0);

      const person100 = await row('people', connectionId, '9f1c-100');
      expect(person100).toMatchObject({ id: before.person!.id, updated_by_run: key.changeSetId });
      expect(person100!['source_aliases']).toEqual(['s100']);
      expect(await row('people', connectionId, 's100')).toBeUndefined();
      expect(await row('demographics', connectionId, '9f1c-100')).toMatchObject({
        id: before.demographics!.id,
        birth_date: '2012-02-29',
      });
      expect(await row('enrollments', connectionId, 'e1')).toMatchObject({
        id: before.enrollment!.id,
        user_sourced_id: '9f1c-100',
      });
      expect(await row('enrollments', connectionId, 'e2')).toMatchObject({ user_sourced_id: '9f1c-300' });

      expect(await mirror().preview(key, 'people', SNAPSHOT)).toMatchObject({ create: 1, deactivate: 0 });
      const applied = await applyAll(key, 'people');
      expect(applied.created).toHaveLength(1);
      expect(applied.updated.sort()).toEqual(
        [before.person!.id, (await row('people', connectionId, '9f1c-300'))!.id].sort(),
      );
      expect(await mirror().remapPeople(key)).toBe(0);
    });

    it('finds a remapped person through an alias it is already known by', async () => {
      const connectionId = randomUUID();
      const merge = newKey(connectionId);
      await mirror().stage(merge, 'people', [person('t42', 'teacher'), person('p42', 'parent')]);
      await mirror().mergeStagedPeople(merge, 'ic-role-prefix');
      await applyAll(merge, 'people');
      const before = await row('people', connectionId, '42');

      const key = newKey(connectionId);
      await mirror().stage(key, 'people', [
        person('guid-42', 'teacher', { metadata: { ic: { legacysourceId: 't42' } } }),
      ]);
      expect(await mirror().countRemappedPeople(key)).toBe(1);
      expect(await mirror().remapPeople(key)).toBe(1);
      const after = await row('people', connectionId, 'guid-42');
      expect(after?.id).toBe(before!.id);
      expect([...(after!['source_aliases'] as string[])].sort()).toEqual(['42', 'p42', 't42']);
    });
  });
});
