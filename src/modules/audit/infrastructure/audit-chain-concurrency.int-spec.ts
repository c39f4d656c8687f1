import { applyPendingMigrations, buildOrmOptions, runSql } from '@app/persistence';
import { createTestDatabase, type TestDatabase } from '@app/testing';
import { IsolationLevel, MikroORM } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrations } from '../../../migrations/index.js';
import { SignAuditCheckpointCommand } from '../application/commands/sign-audit-checkpoint.command.js';
import { VerifyAuditChainQuery } from '../application/queries/verify-audit-chain.query.js';
import { accessDraft, auditIntegrity, RecordingAuditMetrics } from './audit-integrity-wiring.fake.js';
import { PostgresAuditLog } from './postgres-audit-log.js';

const WRITERS = 8;
const EVENTS_PER_WRITER = 10_000;
const BATCH = 200;

describe('audit chain under concurrent writers (PostgreSQL)', () => {
  let database: TestDatabase;
  let orm: MikroORM;
  const writers: MikroORM[] = [];

  beforeAll(async () => {
    database = await createTestDatabase('audit_concurrency');
    orm = await MikroORM.init(buildOrmOptions({ url: database.url, poolMax: 4, migrations }));
    await applyPendingMigrations(orm, database.url);
    for (let index = 0; index < WRITERS; index += 1) {
      writers.push(await MikroORM.init(buildOrmOptions({ url: database.url, poolMax: 1, migrations })));
    }
  });

  afterAll(async () => {
    for (const writer of writers) await writer.close(true);
    await orm?.close(true);
    await database?.drop();
  });

  it(`keeps one contiguous chain when ${WRITERS} connections append ${EVENTS_PER_WRITER} entries each`, async () => {
    const started = performance.now();
    const idBySeq = new Map<string, string>();
    await Promise.all(
      writers.map(async (writer) => {
        const log = new PostgresAuditLog(writer.em, new RecordingAuditMetrics());
        for (let offset = 0; offset < EVENTS_PER_WRITER; offset += BATCH) {
          const appended = await log.append(
            Array.from({ length: BATCH }, (_unused, index) => accessDraft(offset + index)),
          );
          for (const { seq, entry } of appended) idBySeq.set(seq, entry.id);
        }
      }),
    );
    const appendSeconds = (performance.now() - started) / 1000;

    const [shape] = await runSql<{ count: string; min: string; max: string; forks: string; payloads: string }>(
      orm.em,
      `SELECT count(*)::text AS count, min(seq)::text AS min, max(seq)::text AS max,
              (SELECT count(*) FROM (SELECT prev_hash FROM audit_events GROUP BY prev_hash HAVING count(*) > 1) f)::text
                AS forks,
              (SELECT count(*) FROM audit_event_payloads)::text AS payloads
         FROM audit_events`,
    );
    const total = WRITERS * EVENTS_PER_WRITER;
    expect(shape).toEqual({ count: String(total), min: '1', max: String(total), forks: '0', payloads: String(total) });
    // Each append reported the seq its entry was stored under.
    const stored = await runSql<{ seq: string; id: string }>(
      orm.em,
      `SELECT seq::text AS seq, entry::json->>'id' AS id FROM audit_event_payloads`,
    );
    expect(idBySeq.size).toBe(total);
    expect(stored).toHaveLength(total);
    expect(stored.every((row) => idBySeq.get(row.seq) === row.id)).toBe(true);

    const integrity = auditIntegrity(orm.em);
    await integrity.sign.execute(new SignAuditCheckpointCommand('always'));
    const verifyStarted = performance.now();
    const result = await integrity.verify.execute(new VerifyAuditChainQuery());
    const verifySeconds = (performance.now() - verifyStarted) / 1000;
    expect(result).toMatchObject({ ok: true, checkedEntries: total, lastSeq: total, problem: null });
    expect(result.lastCheckpoint).toMatchObject({ id: 1, size: total });
    console.info(
      `audit chain: ${total} entries appended by ${WRITERS} writers in ${appendSeconds.toFixed(1)} s; ` +
        `verified from PostgreSQL in ${verifySeconds.toFixed(2)} s (${Math.round(total / verifySeconds)} entries/s)`,
    );
  });

  it('refuses to append inside REPEATABLE READ or SERIALIZABLE transactions, whose snapshot can predate the tip', async () => {
    const [before] = await runSql<{ count: string }>(orm.em, 'SELECT count(*)::text AS count FROM audit_events');
    for (const isolationLevel of [IsolationLevel.REPEATABLE_READ, IsolationLevel.SERIALIZABLE]) {
      await expect(
        orm.em
          .fork()
          .transactional((em) => new PostgresAuditLog(em, new RecordingAuditMetrics()).append([accessDraft(1)]), {
            isolationLevel,
          }),
      ).rejects.toThrow(/must be appended in READ COMMITTED transactions/);
    }
    const appended = await orm.em
      .fork()
      .transactional((em) => new PostgresAuditLog(em, new RecordingAuditMetrics()).append([accessDraft(2)]), {
        isolationLevel: IsolationLevel.READ_COMMITTED,
      });
    expect(Number(appended[0].seq)).toBe(Number(before.count) + 1);
  });

  it('stores an entry about one resource once when several writers race to record it', async () => {
    const runDraft = (runId: string) => ({
      ...accessDraft(3),
      action: 'roster_sync.applied',
      resource: { type: 'sync_run', id: runId },
      studentIds: [],
    });
    const racing = await Promise.all(
      writers.map((writer) =>
        new PostgresAuditLog(writer.em, new RecordingAuditMetrics()).appendUnlessRecorded(runDraft('run-1')),
      ),
    );
    expect(racing.filter(Boolean)).toHaveLength(1);
    const log = new PostgresAuditLog(orm.em, new RecordingAuditMetrics());
    expect(await log.appendUnlessRecorded(runDraft('run-2'))).toBe(true);
    expect(await log.appendUnlessRecorded(runDraft('run-1'))).toBe(false);
    const stored = await runSql<{ id: string; count: string }>(
      orm.em,
      `SELECT entry::jsonb->'resource'->>'id' AS id, count(*)::text AS count FROM audit_event_payloads
        WHERE action = 'roster_sync.applied' GROUP BY 1 ORDER BY 1`,
    );
    expect(stored).toEqual([
      { id: 'run-1', count: '1' },
      { id: 'run-2', count: '1' },
    ]);
  });
});
