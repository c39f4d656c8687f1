import { applyPendingMigrations, buildOrmOptions, runSql } from '@app/persistence';
import { createTestDatabase, type TestDatabase } from '@app/testing';
import { MikroORM, type EntityManager } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { migrations } from '../../../migrations/index.js';
import type { AuditMetrics } from '../application/ports/audit-metrics.port.js';
import type { AuditEntryDraft, AuditOutcome } from '../domain/audit-entry.js';
import { AUDIT_PROJECTIONS } from './audit-projections.js';
import { PostgresAuditLog } from './postgres-audit-log.js';
import { PostgresAuditProjector } from './postgres-audit-projector.js';
import { PostgresAuditRetention } from './postgres-audit-retention.js';

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
  const projector = (batchSize: number): PostgresAuditProjector => {
    const created = new PostgresAuditProjector(em());
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
  });

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
});
