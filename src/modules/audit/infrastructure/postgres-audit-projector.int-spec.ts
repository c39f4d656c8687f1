import { canonicalJson, entryHash } from '@app/audit-chain';
import { applyPendingMigrations, buildOrmOptions, runSql } from '@app/persistence';
import { createTestDatabase, type TestDatabase } from '@app/testing';
import { MikroORM, type EntityManager } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { migrations } from '../../../migrations/index.js';
import type { EventBus } from '@nestjs/cqrs';
import { AuditProjectionFailedEvent } from '../application/audit-projection-failed.event.js';
import type { AuditMetrics } from '../application/ports/audit-metrics.port.js';
import { ListAuditEventsHandler, ListAuditEventsQuery } from '../application/queries/list-audit-events.query.js';
import type { AuditEntryDraft, AuditOutcome } from '../domain/audit-entry.js';
import { MAX_AUDIT_STRING } from '../domain/storable-audit-entry.js';
import { RecordingAuditMetrics } from './audit-integrity-wiring.fake.js';
import { AUDIT_PROJECTIONS } from './audit-projections.js';
import { PostgresAuditLog } from './postgres-audit-log.js';
import { PostgresAuditProjector } from './postgres-audit-projector.js';
import { PostgresAuditRetention } from './postgres-audit-retention.js';
import { PostgresAuditTrailReadModel } from './postgres-audit-trail.read-model.js';

const TABLES = AUDIT_PROJECTIONS.map((projection) => projection.table);
const ORDER_BY: Record<string, string> = {
  audit_access_by_student: 'student_id, seq',
  audit_access_by_actor: 'actor_id, seq',
  audit_denied_access: 'seq',
  audit_disclosure_log: 'student_id, seq',
};

const noMetrics = new Proxy({}, { get: () => () => undefined }) as AuditMetrics;

describe('audit read models (PostgresAuditProjector)', () => {
  let database: TestDatabase;
  let orm: MikroORM;
  const em = (): EntityManager => orm.em.fork();
  const log = (): PostgresAuditLog => new PostgresAuditLog(em(), noMetrics);
  let metrics = new RecordingAuditMetrics();
  let published: unknown[] = [];
  const events = { publish: (event: unknown) => published.push(event) } as unknown as EventBus;
  const projector = (batchSize: number): PostgresAuditProjector => {
    const created = new PostgresAuditProjector(em(), metrics, events);
    created.batchSize = batchSize;
    return created;
  };

  const students = Array.from({ length: 6 }, () => randomUUID());
  const actors = Array.from({ length: 3 }, () => randomUUID());

  function draft(index: number, occurredAt = new Date()): AuditEntryDraft {
    const kind = index % 7;
    const actorId = actors[index % actors.length];
    const user = { type: 'user' as const, id: actorId, roles: ['teacher'], schoolIds: [] };
    const base = {
      resource: { type: 'student', id: null },
      dataCategories: ['directory'] as const,
      origin: { channel: 'http' as const, requestId: `req-${index}`, clientIp: '127.0.0.1' },
      occurredAt,
    };
    const outcome = (value: AuditOutcome) => value;
    switch (kind) {
      case 0:
        return { ...base, action: 'student.read', actor: user, studentIds: [students[index % 6]], outcome: 'allowed' };
      case 1:
        return {
          ...base,
          action: 'student.list',
          actor: user,
          studentIds: [students[0], students[1], students[2]],
          outcome: 'allowed',
        };
      case 2:
        return {
          ...base,
          action: 'student.read',
          actor: user,
          studentIds: [students[(index + 1) % 6]],
          outcome: outcome('denied'),
          reason: 'ROSTER.ACCESS_DENIED',
        };
      case 3:
        return {
          ...base,
          action: 'student.read',
          actor: { type: 'user', id: null, roles: [], schoolIds: [] },
          studentIds: [students[index % 6]],
          outcome: 'denied',
          reason: 'IDENTITY.TOKEN_INVALID',
        };
      case 4:
        return {
          ...base,
          action: 'disclosure.recorded',
          resource: { type: 'disclosure', id: randomUUID() },
          actor: user,
          studentIds: [students[3], students[4]],
          dataCategories: ['disclosures'],
          outcome: 'allowed',
        };
      case 5:
        return {
          ...base,
          action: 'roster_sync.applied',
          resource: { type: 'sync_run', id: randomUUID() },
          actor: { type: 'system', id: null, roles: [], schoolIds: [] },
          studentIds: [],
          outcome: 'allowed',
          origin: { channel: 'job' },
        };
      default:
        return {
          ...base,
          action: 'student.update',
          actor: user,
          studentIds: [students[5]],
          outcome: 'failed',
          reason: 'REQUEST.VALIDATION_FAILED',
        };
    }
  }

  async function append(from: number, count: number, occurredAt?: Date): Promise<void> {
    await log().append(Array.from({ length: count }, (_unused, offset) => draft(from + offset, occurredAt)));
  }

  async function snapshot(): Promise<Record<string, unknown[]>> {
    const result: Record<string, unknown[]> = {};
    for (const table of TABLES) {
      result[table] = await runSql(em(), `SELECT * FROM ${table} ORDER BY ${ORDER_BY[table]}`);
    }
    result['positions'] = await runSql(
      em(),
      'SELECT name, position::text AS position FROM audit_projection_positions ORDER BY name',
    );
    return result;
  }

  async function count(table: string): Promise<number> {
    const [row] = await runSql<{ count: number }>(em(), `SELECT count(*)::int AS count FROM ${table}`);
    return row.count;
  }

  beforeAll(async () => {
    database = await createTestDatabase('audit_projector');
    orm = await MikroORM.init(buildOrmOptions({ url: database.url, poolMax: 8, migrations }));
    await applyPendingMigrations(orm, database.url);
  });

  afterAll(async () => {
    await orm?.close(true);
    await database?.drop();
  });

  beforeEach(async () => {
    // The chain is append-only; each test starts from empty read models over whatever the chain holds.
    await projector(1000).rebuild();
    metrics = new RecordingAuditMetrics();
    published = [];
  });

  async function head(): Promise<string> {
    const [row] = await runSql<{ head: string }>(em(), 'SELECT coalesce(max(seq), 0)::text AS head FROM audit_events');
    return row.head;
  }

  /** Appends entry texts as the app did before entries were made storable (an existing deployment's rows). */
  async function appendRaw(texts: string[], outcome: AuditOutcome = 'denied'): Promise<void> {
    await runSql(
      em(),
      `WITH input AS (SELECT * FROM unnest($1::text[]) WITH ORDINALITY AS i (entry, ord)),
            chained AS (INSERT INTO audit_events (entry_hash)
                        SELECT sha256(convert_to(entry, 'UTF8')) FROM input ORDER BY ord RETURNING seq, entry_hash)
       INSERT INTO audit_event_payloads (seq, occurred_at, action, outcome, actor_id, student_ids, entry)
       SELECT c.seq, now(), 'student.read', $2, NULL, ARRAY[$3::uuid], i.entry
         FROM chained c JOIN input i ON sha256(convert_to(i.entry, 'UTF8')) = c.entry_hash`,
      [texts, outcome, students[0]],
    );
  }

  it('projects each kind of entry into the read models that need it', async () => {
    const [{ head }] = await runSql<{ head: string }>(
      em(),
      'SELECT coalesce(max(seq), 0)::text AS head FROM audit_events',
    );
    await append(0, 7);
    expect(await projector(100).catchUp()).toBe(7);
    const after = (table: string, column = 'seq') =>
      runSql<Record<string, unknown>>(em(), `SELECT * FROM ${table} WHERE ${column} > $1 ORDER BY seq`, [head]);

    const byStudent = await after('audit_access_by_student');
    // read (1) + list (3) + denied (1) + unauthenticated (1) + disclosure (2) + failed update (1); the sync run names none
    expect(byStudent).toHaveLength(9);
    const byActor = await after('audit_access_by_actor');
    expect(byActor.map((row) => row['action'])).toEqual([
      'student.read',
      'student.list',
      'student.read',
      'disclosure.recorded',
      'student.update',
    ]);
    expect(byActor.find((row) => row['action'] === 'student.list')?.['student_count']).toBe(3);
    const denied = await after('audit_denied_access');
    expect(denied.map((row) => [row['reason'], row['actor_id']])).toEqual([
      ['ROSTER.ACCESS_DENIED', actors[2]],
      ['IDENTITY.TOKEN_INVALID', null],
    ]);
    const disclosures = await after('audit_disclosure_log');
    expect(disclosures.map((row) => row['student_id']).sort()).toEqual([students[3], students[4]].sort());
    expect(new Set(disclosures.map((row) => row['disclosure_id'])).size).toBe(1);
    const positions = await runSql<{ position: string }>(
      em(),
      'SELECT position::text AS position FROM audit_projection_positions',
    );
    expect(positions).toHaveLength(TABLES.length);
    expect(new Set(positions.map((row) => row.position))).toEqual(new Set([(BigInt(head) + 7n).toString()]));
  });

  it('gives exactly the incremental result when rebuilt from scratch', async () => {
    const incremental = projector(4);
    let appended = 0;
    for (const size of [3, 9, 1, 14, 5]) {
      await append(appended, size);
      appended += size;
      await incremental.catchUp();
    }
    // A purge between catch-ups, then more entries: the read models lose the purged entries.
    await append(appended, 10, new Date('2001-01-01T00:00:00Z'));
    appended += 10;
    await incremental.catchUp();
    expect(await new PostgresAuditRetention(em()).purgeBatch(new Date('2002-01-01T00:00:00Z'), 1000)).toBe(10);
    await append(appended, 6);
    await incremental.catchUp();

    const before = await snapshot();
    expect(before['audit_denied_access'].length).toBeGreaterThan(0);
    expect(before['audit_disclosure_log'].length).toBeGreaterThan(0);
    await projector(7).rebuild();
    expect(await snapshot()).toEqual(before);
  });

  it('applies each entry once when projectors in several processes catch up at the same time', async () => {
    const [{ head }] = await runSql<{ head: string }>(
      em(),
      'SELECT coalesce(max(seq), 0)::text AS head FROM audit_events',
    );
    const [{ start }] = await runSql<{ start: string }>(
      em(),
      'SELECT min(position)::text AS start FROM audit_projection_positions',
    );
    expect(start).toBe(head);
    await append(0, 300);
    const writers = Promise.all([append(300, 100), append(400, 100), append(500, 100)]);
    const racing = await Promise.all(
      [projector(25), projector(40), projector(25), projector(60)].map((p) => p.catchUp()),
    );
    await writers;
    const last = await projector(25).catchUp();
    // Every entry was read by exactly one batch of one projector: nothing applied twice, nothing skipped.
    expect(racing.reduce((sum, read) => sum + read, 0) + last).toBe(600);
    const before = await snapshot();
    await projector(1000).rebuild();
    expect(await snapshot()).toEqual(before);
  });

  it('drops purged entries from the read models and keeps those of held students', async () => {
    const old = new Date('2003-06-01T00:00:00Z');
    const held = students[0];
    await runSql(
      em(),
      `INSERT INTO audit_legal_holds (id, student_id, reason, placed_by, placed_at) VALUES ($1, $2, 'Inspection request', $3, now())`,
      [randomUUID(), held, actors[0]],
    );
    // Student reads of every student, from long ago.
    await log().append(
      students.map((studentId, index) => ({
        action: 'student.read',
        resource: { type: 'student', id: studentId },
        actor: { type: 'user', id: actors[index % 3], roles: ['teacher'], schoolIds: [] },
        studentIds: [studentId],
        dataCategories: ['directory'],
        outcome: index === 1 ? 'denied' : 'allowed',
        reason: index === 1 ? 'ROSTER.ACCESS_DENIED' : null,
        origin: { channel: 'http' },
        occurredAt: old,
      })),
    );
    await projector(3).catchUp();
    const oldRows = async (table: string) =>
      (
        await runSql<{ count: number }>(em(), `SELECT count(*)::int AS count FROM ${table} WHERE occurred_at = $1`, [
          old.toISOString(),
        ])
      )[0].count;
    expect(await oldRows('audit_access_by_student')).toBe(6);
    expect(await oldRows('audit_denied_access')).toBe(1);

    const retention = new PostgresAuditRetention(em());
    let purged = 0;
    for (;;) {
      const batch = await retention.purgeBatch(new Date('2004-01-01T00:00:00Z'), 2);
      if (batch === 0) break;
      purged += batch;
    }
    expect(purged).toBe(5);
    const kept = await runSql<{ student_id: string }>(
      em(),
      'SELECT student_id FROM audit_access_by_student WHERE occurred_at = $1',
      [old.toISOString()],
    );
    expect(kept.map((row) => row.student_id)).toEqual([held]);
    expect(await oldRows('audit_access_by_actor')).toBe(1);
    expect(await oldRows('audit_denied_access')).toBe(0);
    expect(await count('audit_purged_events')).toBeGreaterThanOrEqual(5);
  });

  it('stores fuzzed entries (NUL, lone surrogates, undecodable bytes, 100 kB values) as valid jsonb that projects', async () => {
    // A seeded generator (mulberry32), so a failure replays.
    let state = 0x5eed;
    const random = (): number => {
      state = (state + 0x6d2b79f5) | 0;
      let t = Math.imul(state ^ (state >>> 15), 1 | state);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const pieces = [
      '\u0000',
      '\ud800',
      '\udfff',
      '\ud83d\ude00',
      '\\u0000',
      '"',
      '\n\t\u0001\u001f',
      '\uffff\ufffe',
      Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80]).toString('utf8'),
      Buffer.from([0x00, 0xe9, 0x80, 0xff]).toString('latin1'),
      'é',
      'plain',
    ];
    const fuzz = (): string => {
      const size = Math.floor(random() * 8);
      let text = '';
      for (let index = 0; index < size; index += 1) text += pieces[Math.floor(random() * pieces.length)];
      return text;
    };
    const big = 'x\u0000'.repeat(50_000) + '\ud800';
    const start = await head();
    const drafts: AuditEntryDraft[] = Array.from({ length: 60 }, (_unused, index) => ({
      action: index === 0 ? big : `student.read${fuzz()}`,
      resource: { type: fuzz() || 'student', id: index === 1 ? big : fuzz() },
      actor: { type: 'user', id: null, roles: [fuzz()], schoolIds: [fuzz(), fuzz()] },
      studentIds: [students[index % 6]],
      dataCategories: [fuzz()],
      purpose: index === 2 ? big : fuzz(),
      outcome: 'denied',
      reason: index === 3 ? big : `IDENTITY.TOKEN_INVALID${fuzz()}`,
      origin: { channel: 'http', requestId: fuzz(), clientIp: fuzz(), userAgent: fuzz(), route: fuzz() },
      details: { [fuzz()]: fuzz(), big: index === 4 ? big : null, list: [fuzz(), Number.NaN, 7n] },
      occurredAt: new Date(),
    }));
    const appended = await log().append(drafts);
    expect(appended).toHaveLength(60);
    expect(await projector(16).catchUp()).toBe(60);
    expect(metrics.projectionFailures).toEqual([]);

    const rows = await runSql<{ seq: string; entry: string; entry_hash: Buffer; reason: string | null }>(
      em(),
      `SELECT p.seq::text AS seq, p.entry, e.entry_hash, p.entry::jsonb ->> 'reason' AS reason
         FROM audit_event_payloads p JOIN audit_events e USING (seq) WHERE p.seq > $1 ORDER BY p.seq`,
      [start],
    );
    expect(rows).toHaveLength(60);
    for (const row of rows) {
      // A plain cast: every stored entry is valid jsonb, and still hashes and reads back canonically.
      expect(entryHash(row.entry).equals(row.entry_hash)).toBe(true);
      expect(canonicalJson(JSON.parse(row.entry))).toBe(row.entry);
      const values: string[] = [];
      JSON.stringify(JSON.parse(row.entry), (key, value: unknown) => {
        values.push(key);
        if (typeof value === 'string') values.push(value);
        return value;
      });
      for (const value of values) {
        expect(value.length).toBeLessThanOrEqual(MAX_AUDIT_STRING);
        expect(value.includes('\u0000')).toBe(false);
        expect(value).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/);
      }
    }
    const denied = await runSql<{ reason: string }>(
      em(),
      'SELECT reason FROM audit_denied_access WHERE seq > $1 ORDER BY seq',
      [start],
    );
    expect(denied.map((row) => row.reason)).toEqual(rows.map((row) => row.reason));
    expect(denied[3].reason).toMatch(/…\[truncated\]$/);
  });

  it('projects entries stored before entries were made storable, which hold \\u0000 and lone surrogates', async () => {
    const start = await head();
    const entry = (reason: string, id: string): string =>
      canonicalJson({ v: 1, id: randomUUID(), action: 'student.read', outcome: 'denied', reason, resource: { id } });
    await appendRaw([
      entry('IDENTITY.TOKEN_INVALID\u0000', 'a\u0000b'),
      entry('IDENTITY.\ud800FORBIDDEN\udc00', '\ud800'),
      entry('ROSTER.ACCESS_DENIED', 'fine'),
      '{"not json',
    ]);
    expect(await projector(2).catchUp()).toBe(4);
    expect(metrics.projectionFailures).toEqual([]);
    const denied = await runSql<{ reason: string }>(
      em(),
      'SELECT reason FROM audit_denied_access WHERE seq > $1 ORDER BY seq',
      [start],
    );
    expect(denied.map((row) => row.reason)).toEqual([
      'IDENTITY.TOKEN_INVALID\ufffd',
      'IDENTITY.\ufffdFORBIDDEN\ufffd',
      'ROSTER.ACCESS_DENIED',
      'UNSPECIFIED',
    ]);
    expect(await count('audit_access_by_student')).toBeGreaterThanOrEqual(4);
    const before = await snapshot();
    await projector(200).rebuild();
    expect(await snapshot()).toEqual(before);
  });

  it('skips and reports an entry a projection fails on, and applies every other entry', async () => {
    await runSql(em(), `ALTER TABLE audit_denied_access ADD CONSTRAINT test_poison CHECK (reason <> 'TEST.POISON')`);
    try {
      const start = await head();
      const denied = (reason: string, index: number): AuditEntryDraft => ({
        action: 'student.read',
        resource: { type: 'student', id: null },
        actor: { type: 'user', id: actors[0], roles: ['teacher'], schoolIds: [] },
        studentIds: [students[index % 6]],
        dataCategories: ['directory'],
        outcome: 'denied',
        reason,
        origin: { channel: 'http' },
        occurredAt: new Date(),
      });
      await log().append(
        Array.from({ length: 11 }, (_unused, index) =>
          denied(index === 6 ? 'TEST.POISON' : 'ROSTER.ACCESS_DENIED', index),
        ),
      );
      const poisoned = (BigInt(start) + 7n).toString();
      expect(await projector(4).catchUp()).toBe(11);

      // Every other entry is in every read model; the poisoned one is missing from the one it failed in only.
      const deniedSeqs = await runSql<{ seq: string }>(
        em(),
        'SELECT seq::text AS seq FROM audit_denied_access WHERE seq > $1 ORDER BY seq',
        [start],
      );
      expect(deniedSeqs.map((row) => row.seq)).toHaveLength(10);
      expect(deniedSeqs.map((row) => row.seq)).not.toContain(poisoned);
      const [{ actor }] = await runSql<{ actor: number }>(
        em(),
        'SELECT count(*)::int AS actor FROM audit_access_by_actor WHERE seq > $1',
        [start],
      );
      expect(actor).toBe(11);
      const positions = await runSql<{ position: string }>(
        em(),
        'SELECT DISTINCT position::text AS position FROM audit_projection_positions',
      );
      expect(positions).toEqual([{ position: await head() }]);

      // Reported: recorded, counted, and announced to the compliance room.
      expect(
        await runSql(em(), 'SELECT projection, seq::text AS seq, error_code FROM audit_projection_failures'),
      ).toEqual([{ projection: 'audit_denied_access@v1', seq: poisoned, error_code: '23514' }]);
      expect(metrics.projectionFailures).toEqual(['audit_denied_access@v1']);
      expect(published).toEqual([
        new AuditProjectionFailedEvent('audit_denied_access@v1', poisoned, '23514', expect.any(Date) as Date),
      ]);

      // Queries keep answering, the skipped entry included (it is in every other read model).
      const listed = await new ListAuditEventsHandler(new PostgresAuditTrailReadModel(em()), projector(4)).execute(
        new ListAuditEventsQuery({ studentId: students[0] }, { limit: 100 }),
      );
      expect(listed.items.map((item) => item.seq)).toContain(poisoned);

      // Later entries keep flowing.
      await log().append([denied('ROSTER.ACCESS_DENIED', 1)]);
      expect(await projector(4).catchUp()).toBe(1);
      expect(await count('audit_projection_failures')).toBe(1);
    } finally {
      await runSql(em(), 'ALTER TABLE audit_denied_access DROP CONSTRAINT IF EXISTS test_poison');
    }
    // A rebuild retries the skipped entry.
    await projector(200).rebuild();
    expect(await count('audit_projection_failures')).toBe(0);
    const [{ missing }] = await runSql<{ missing: number }>(
      em(),
      `SELECT count(*)::int AS missing FROM audit_event_payloads p
        WHERE p.outcome = 'denied' AND NOT EXISTS (SELECT 1 FROM audit_denied_access d WHERE d.seq = p.seq)`,
    );
    expect(missing).toBe(0);
  });

  it('keeps the old read models intact when a rebuild fails midway', async () => {
    await append(0, 40);
    await projector(1000).catchUp();
    const before = await snapshot();
    const [{ middle }] = await runSql<{ middle: string }>(
      em(),
      'SELECT (max(seq) / 2)::text AS middle FROM audit_access_by_actor',
    );
    // Not something an entry causes (a cancelled statement): the rebuild fails instead of skipping an entry.
    await runSql(
      em(),
      `CREATE FUNCTION test_cancel_rebuild() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF NEW.seq > ${middle} THEN RAISE EXCEPTION 'canceling statement' USING ERRCODE = 'query_canceled'; END IF;
         RETURN NEW;
       END $$`,
    );
    await runSql(
      em(),
      `CREATE TRIGGER test_cancel_rebuild BEFORE INSERT ON audit_access_by_actor
         FOR EACH ROW EXECUTE FUNCTION test_cancel_rebuild()`,
    );
    try {
      await expect(projector(100).rebuild()).rejects.toThrow(/canceling statement/);
    } finally {
      await runSql(em(), 'DROP TRIGGER test_cancel_rebuild ON audit_access_by_actor');
      await runSql(em(), 'DROP FUNCTION test_cancel_rebuild()');
    }
    expect(await snapshot()).toEqual(before);
    expect(await projector(100).catchUp()).toBe(0);
    await projector(100).rebuild();
    expect(await snapshot()).toEqual(before);
  });
});
