import { applyPendingMigrations, buildOrmOptions } from '@app/persistence';
import { createTestDatabase, type TestDatabase } from '@app/testing';
import { MikroORM } from '@mikro-orm/postgresql';
import type { EventBus } from '@nestjs/cqrs';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrations } from '../../../migrations/index.js';
import { accessDraft, auditIntegrity, RecordingAuditMetrics } from './audit-integrity-wiring.fake.js';
import { AUDIT_PROJECTIONS } from './audit-projections.js';
import { PostgresAuditProjector } from './postgres-audit-projector.js';
import { PostgresAuditReadModelVerifier } from './postgres-audit-read-model.verifier.js';

/** Every row of every read model, as text, to show verification leaves them as they were. */
async function snapshot(client: pg.Client): Promise<string[]> {
  const rows: string[] = [];
  for (const { table } of AUDIT_PROJECTIONS) {
    const result = await client.query<{ row: string }>(`SELECT to_jsonb(t)::text AS row FROM ${table} t ORDER BY 1`);
    rows.push(...result.rows.map(({ row }) => `${table} ${row}`));
  }
  return rows;
}

describe('audit read model verification (PostgreSQL)', () => {
  let database: TestDatabase;
  let orm: MikroORM;
  let superuser: pg.Client;
  let verifier: PostgresAuditReadModelVerifier;

  beforeAll(async () => {
    database = await createTestDatabase('audit_read_model_verify');
    orm = await MikroORM.init(buildOrmOptions({ url: database.url, poolMax: 4, migrations }));
    await applyPendingMigrations(orm, database.url);
    superuser = new pg.Client({ connectionString: database.url });
    await superuser.connect();
    const { log } = auditIntegrity(orm.em);
    await log.append(
      Array.from({ length: 40 }, (_unused, index) => {
        const draft = accessDraft(index);
        if (index === 20) {
          return {
            ...draft,
            action: 'disclosure.recorded',
            outcome: 'allowed' as const,
            resource: { type: 'disclosure', id: randomUUID() },
          };
        }
        return index % 4 === 1 ? { ...draft, studentIds: [randomUUID(), randomUUID()] } : draft;
      }),
    );
    const noEvents = { publish: () => undefined } as unknown as EventBus;
    await new PostgresAuditProjector(orm.em.fork(), new RecordingAuditMetrics(), noEvents).catchUp();
    verifier = new PostgresAuditReadModelVerifier(orm.em.fork());
    verifier.batchEntries = 7;
  });

  afterAll(async () => {
    await superuser?.end();
    await orm?.close(true);
    await database?.drop();
  });

  it('finds the read models as the projections recompute them from the log, and leaves them untouched', async () => {
    const before = await snapshot(superuser);
    expect(before.some((row) => row.startsWith('audit_disclosure_log '))).toBe(true);
    expect(before.some((row) => row.startsWith('audit_denied_access '))).toBe(true);
    expect(await verifier.verify({})).toMatchObject({
      ok: true,
      fromSeq: 1,
      toSeq: 40,
      checkedEntries: 40,
      firstDifference: null,
    });
    expect(await snapshot(superuser)).toEqual(before);
  });

  it('reports the first difference: a row removed, a row changed, a row added', async () => {
    const before = await snapshot(superuser);
    const removedRows = (
      await superuser.query<{ student_id: string }>(
        'DELETE FROM audit_access_by_student WHERE seq = 30 RETURNING student_id::text',
      )
    ).rows;
    const removed = removedRows[0];
    await superuser.query(`UPDATE audit_access_by_actor SET action = 'student.list' WHERE seq = 19`);
    await superuser.query(
      `INSERT INTO audit_denied_access (seq, occurred_at, actor_id, action, reason)
       SELECT seq, occurred_at, actor_id, action, 'FORGED' FROM audit_event_payloads WHERE seq = 25`,
    );

    const result = await verifier.verify({});
    expect(result).toMatchObject({
      ok: false,
      checkedEntries: 18,
      firstDifference: {
        table: 'audit_access_by_actor',
        seq: 19,
        kind: 'different',
        expected: expect.objectContaining({ action: 'student.read' }),
        actual: expect.objectContaining({ action: 'student.list' }),
      },
    });
    expect(await verifier.verify({ fromSeq: 20 })).toMatchObject({
      ok: false,
      firstDifference: { table: 'audit_denied_access', seq: 25, kind: 'unexpected', expected: null },
    });
    expect(await verifier.verify({ fromSeq: 26, toSeq: 35 })).toMatchObject({
      ok: false,
      fromSeq: 26,
      toSeq: 35,
      firstDifference: {
        table: 'audit_access_by_student',
        seq: 30,
        kind: 'missing',
        expected: expect.objectContaining({ student_id: removed.student_id }),
        actual: null,
      },
    });
    expect(await verifier.verify({ fromSeq: 31 })).toMatchObject({ ok: true, checkedEntries: 10 });

    // Verification changed nothing: the tampering is still there, and only there.
    const after = await snapshot(superuser);
    expect(after).not.toEqual(before);
    expect(after.length).toBe(before.length - removedRows.length + 1);
    expect(after.filter((row) => row.includes('"FORGED"'))).toHaveLength(1);
  });
});
