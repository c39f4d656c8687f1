import { BundleDivergedError, readBundleCheckpoints, verifyBundle } from '@app/audit-chain';
import { Clock } from '@app/ddd';
import { applyPendingMigrations, buildOrmOptions } from '@app/persistence';
import { createTestDatabase, type TestDatabase } from '@app/testing';
import { MikroORM } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { migrations } from '../../../migrations/index.js';
import { AuditVerificationFailedEvent } from '../application/audit-verification-failed.event.js';
import { ExportAuditBundleCommand } from '../application/commands/export-audit-bundle.command.js';
import { SignAuditCheckpointCommand } from '../application/commands/sign-audit-checkpoint.command.js';
import {
  VerifyAuditChainQuery,
  type VerifyAuditChainOptions,
} from '../application/queries/verify-audit-chain.query.js';
import { AuditCheckpointRefusedError } from '../domain/audit-integrity.errors.js';
import { accessDraft, auditIntegrity, TEST_AUDIT_CONFIG } from './audit-integrity-wiring.fake.js';

class MovableClock extends Clock {
  at = new Date();
  now(): Date {
    return new Date(this.at);
  }
}

interface ChainDatabase {
  orm: MikroORM;
  /** The `postgres` superuser, who can disable triggers: the adversary these tests play. */
  superuser: pg.Client;
  integrity: ReturnType<typeof auditIntegrity>;
  clock: MovableClock;
  append(count: number): Promise<void>;
  verify(options?: VerifyAuditChainOptions): ReturnType<ReturnType<typeof auditIntegrity>['verify']['execute']>;
  sign(when?: 'always' | 'due' | 'uncovered'): ReturnType<ReturnType<typeof auditIntegrity>['sign']['execute']>;
}

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'audit-tamper-'));
  cleanups.push(() => Promise.resolve(rmSync(dir, { recursive: true, force: true })));
  return dir;
}

/** A fresh database (each scenario tampers with its own) holding `events` entries. */
async function chainDatabase(label: string, events: number): Promise<ChainDatabase> {
  const database: TestDatabase = await createTestDatabase(label);
  const orm = await MikroORM.init(buildOrmOptions({ url: database.url, poolMax: 6, migrations }));
  await applyPendingMigrations(orm, database.url);
  const superuser = new pg.Client({ connectionString: database.url });
  await superuser.connect();
  cleanups.push(async () => {
    await superuser.end();
    await orm.close(true);
    await database.drop();
  });
  const clock = new MovableClock();
  const integrity = auditIntegrity(orm.em, TEST_AUDIT_CONFIG, clock);
  const chain: ChainDatabase = {
    orm,
    superuser,
    integrity,
    clock,
    append: async (count) => {
      await integrity.log.append(Array.from({ length: count }, (_unused, index) => accessDraft(index)));
    },
    // Checked twice: in one statement, and in runs of 7 entries, so that runs join and checkpoint heads fall
    // inside runs and at their ends; both must give the same result.
    verify: async (options = {}) => {
      const whole = await integrity.verify.execute(new VerifyAuditChainQuery(options));
      const inRuns = await integrity.verify.execute(new VerifyAuditChainQuery({ ...options, rangeEntries: 7 }));
      expect({ ...inRuns, verifiedAt: whole.verifiedAt }).toEqual(whole);
      return whole;
    },
    sign: (when = 'always') => integrity.sign.execute(new SignAuditCheckpointCommand(when)),
  };
  await chain.append(events);
  return chain;
}

/** Runs statements with the user triggers of the given tables disabled, as a superuser can. */
async function withTriggersDisabled(client: pg.Client, tables: string[], statements: string[]): Promise<void> {
  for (const table of tables) await client.query(`ALTER TABLE ${table} DISABLE TRIGGER USER`);
  try {
    for (const statement of statements) await client.query(statement);
  } finally {
    for (const table of tables) await client.query(`ALTER TABLE ${table} ENABLE TRIGGER USER`);
  }
}

/** Replaces entry `seq` and recomputes its entry hash and every later hash: a rewrite no link check can see. */
function consistentRewrite(seq: number): string[] {
  return [
    `UPDATE audit_event_payloads SET entry = replace(entry, '"student.', '"staff.') WHERE seq = ${seq}`,
    `UPDATE audit_event_payloads SET action = replace(action, 'student.', 'staff.') WHERE seq = ${seq}`,
    `UPDATE audit_events e SET entry_hash = sha256(convert_to(p.entry, 'UTF8'))
       FROM audit_event_payloads p WHERE p.seq = e.seq AND e.seq = ${seq}`,
    `DO $$
     DECLARE r record; prev bytea; next_hash bytea;
     BEGIN
       SELECT hash INTO prev FROM audit_events WHERE seq = ${seq - 1};
       FOR r IN SELECT seq, entry_hash FROM audit_events WHERE seq >= ${seq} ORDER BY seq LOOP
         next_hash := sha256(prev || int8send(r.seq) || r.entry_hash);
         UPDATE audit_events SET prev_hash = prev, hash = next_hash WHERE seq = r.seq;
         prev := next_hash;
       END LOOP;
     END $$`,
  ];
}

/** A SQL string literal (test values only). */
function literal(value: unknown): string {
  return `'${String(value).replaceAll("'", "''")}'`;
}

let sharedColumnsChain: Promise<ChainDatabase> | null = null;

/**
 * One database for the column scenarios (each restores what it changed): 20 entries of every shape the capture
 * writes, with details that repeat the keys the column check looks for (a nested occurredAt, outcome and
 * studentIds), system and anonymous actors, no, one and several students, denied and failed outcomes.
 */
function columnsChain(): Promise<ChainDatabase> {
  sharedColumnsChain ??= (async () => {
    const chain = await chainDatabase('audit_tamper_columns', 0);
    const drafts = Array.from({ length: 20 }, (_unused, index) => {
      const draft = accessDraft(index);
      switch (index % 5) {
        case 1:
          return {
            ...draft,
            action: 'roster_sync.applied',
            actor: { type: 'system' as const, id: null, roles: [], schoolIds: [] },
            studentIds: [],
            details: {
              counts: { people: { created: 2 } },
              outcome: 'completed',
              nested: { occurredAt: '2020-01-01T00:00:00.000Z', origin: { channel: 'job' }, outcome: 'allowed' },
              studentIds: [randomUUID()],
            },
          };
        case 2:
          return {
            ...draft,
            actor: { type: 'user' as const, id: null, roles: [], schoolIds: [] },
            outcome: 'denied' as const,
          };
        case 3:
          return { ...draft, studentIds: [randomUUID(), randomUUID(), randomUUID()], outcome: 'failed' as const };
        default:
          return { ...draft, purpose: 'counselling "review"\n', reason: null };
      }
    });
    await chain.integrity.log.append(drafts);
    return chain;
  })();
  return sharedColumnsChain;
}

describe('audit chain verification against tampering (PostgreSQL)', () => {
  it('names the seq of an entry a superuser edited with the triggers off', async () => {
    const chain = await chainDatabase('audit_tamper_edit', 40);
    await chain.sign();
    expect(await chain.verify()).toMatchObject({ ok: true, checkedEntries: 40, lastCheckpoint: { id: 1, size: 40 } });

    await withTriggersDisabled(
      chain.superuser,
      ['audit_event_payloads'],
      [`UPDATE audit_event_payloads SET entry = replace(entry, '"student.', '"staff.') WHERE seq = 17`],
    );
    const result = await chain.verify();
    expect(result).toMatchObject({
      ok: false,
      checkedEntries: 16,
      firstBadSeq: 17,
      problem: { code: 'AUDIT_CHAIN.ENTRY_ALTERED', seq: 17 },
    });
    // Each verify() above ran twice (whole and in runs).
    expect(chain.integrity.metrics.verifications.map((verification) => verification.ok)).toEqual([
      true,
      true,
      false,
      false,
    ]);
    const failed = new AuditVerificationFailedEvent('17', 'AUDIT_CHAIN.ENTRY_ALTERED', result.verifiedAt);
    expect(chain.integrity.published).toEqual([failed, failed]);

    // A range that ends before the edit passes; one that includes it fails at the same seq.
    expect(await chain.verify({ fromSeq: 5, toSeq: 16 })).toMatchObject({ ok: true, checkedEntries: 12 });
    expect(await chain.verify({ fromSeq: 11, toSeq: 30 })).toMatchObject({ ok: false, firstBadSeq: 17 });
  });

  it('catches a consistent rewrite through checkpoints, even after the stored ones are deleted', async () => {
    const chain = await chainDatabase('audit_tamper_rewrite', 25);
    await chain.sign();
    await chain.append(15);
    const bundle = tempDir();
    const exported = await chain.integrity.export.execute(new ExportAuditBundleCommand(bundle, true, 10));
    expect(exported).toMatchObject({ lastSeq: 40, checkpoints: 2, checkpoint: { created: true } });
    const heldOutside = await readBundleCheckpoints(bundle);

    await withTriggersDisabled(chain.superuser, ['audit_events', 'audit_event_payloads'], consistentRewrite(10));
    // Every link and hash recomputes; the head checkpoint 1 signed at entry 25 does not.
    expect(await chain.verify()).toMatchObject({
      ok: false,
      firstBadSeq: 25,
      checkedEntries: 25,
      problem: { code: 'AUDIT_CHAIN.CHECKPOINT_HEAD_MISMATCH', checkpointId: 1 },
    });
    await expect(chain.sign()).rejects.toBeInstanceOf(AuditCheckpointRefusedError);

    // The adversary also deletes the checkpoints stored beside the chain: the database alone now looks fine…
    await withTriggersDisabled(chain.superuser, ['audit_checkpoints'], ['DELETE FROM audit_checkpoints']);
    expect(await chain.verify()).toMatchObject({ ok: true, checkedEntries: 40, lastCheckpoint: null });
    // …but not against the checkpoints handed out earlier, which nobody can re-sign without the key.
    expect(await chain.verify({ externalCheckpoints: heldOutside })).toMatchObject({
      ok: false,
      firstBadSeq: 25,
      problem: { code: 'AUDIT_CHAIN.CHECKPOINT_HEAD_MISMATCH', checkpointId: 1 },
    });
    // The bundle still holds the original and verifies; extending it from the rewritten database is refused.
    const keys = chain.integrity.signer.publishedKeys().map((key) => key.publicKeyPem);
    expect(await verifyBundle(bundle, keys)).toMatchObject({ ok: true, checkedEntries: 40 });
    await expect(chain.integrity.export.execute(new ExportAuditBundleCommand(bundle, false))).rejects.toBeInstanceOf(
      BundleDivergedError,
    );
  });

  it('reports a truncated tail against the last checkpoint, and refuses to sign over it', async () => {
    const chain = await chainDatabase('audit_tamper_truncate', 30);
    const bundle = tempDir();
    await chain.integrity.export.execute(new ExportAuditBundleCommand(bundle, true));
    const heldOutside = await readBundleCheckpoints(bundle);
    expect(heldOutside.map((checkpoint) => checkpoint.size)).toEqual([30]);

    await withTriggersDisabled(
      chain.superuser,
      ['audit_events', 'audit_event_payloads'],
      ['DELETE FROM audit_event_payloads WHERE seq > 25', 'DELETE FROM audit_events WHERE seq > 25'],
    );
    expect(await chain.verify()).toMatchObject({
      ok: false,
      checkedEntries: 25,
      firstBadSeq: 26,
      problem: { code: 'AUDIT_CHAIN.TRUNCATED', checkpointId: 1 },
    });
    const refused = await chain.sign().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AuditCheckpointRefusedError);
    expect(refused).toMatchObject({ problem: 'AUDIT_CHAIN.TRUNCATED', firstBadSeq: 26 });
    expect(chain.integrity.published.at(-1)).toMatchObject({ firstBadSeq: '26', problem: 'AUDIT_CHAIN.TRUNCATED' });

    await withTriggersDisabled(chain.superuser, ['audit_checkpoints'], ['DELETE FROM audit_checkpoints']);
    expect(await chain.verify()).toMatchObject({ ok: true, checkedEntries: 25 });
    expect(await chain.verify({ externalCheckpoints: heldOutside })).toMatchObject({
      ok: false,
      firstBadSeq: 26,
      problem: { code: 'AUDIT_CHAIN.TRUNCATED', checkpointId: 1 },
    });
  });

  it('verifies entries removed by the retention purge, but not a payload deleted any other way', async () => {
    const chain = await chainDatabase('audit_tamper_purge', 20);
    const [{ audit_purge_payloads: purged }] = (
      await chain.superuser.query<{ audit_purge_payloads: string }>(
        "SELECT audit_purge_payloads(now() + interval '1 day', 6)",
      )
    ).rows;
    expect(purged).toBe('6');
    await chain.sign();
    expect(await chain.verify()).toMatchObject({ ok: true, checkedEntries: 20, purgedEntries: 6 });
    const bundle = tempDir();
    await chain.integrity.export.execute(new ExportAuditBundleCommand(bundle, true));
    const keys = chain.integrity.signer.publishedKeys().map((key) => key.publicKeyPem);
    expect(await verifyBundle(bundle, keys)).toMatchObject({ ok: true, checkedEntries: 20, purgedEntries: 6 });

    await withTriggersDisabled(
      chain.superuser,
      ['audit_event_payloads'],
      ['DELETE FROM audit_event_payloads WHERE seq = 9'],
    );
    expect(await chain.verify()).toMatchObject({
      ok: false,
      firstBadSeq: 9,
      purgedEntries: 6,
      problem: { code: 'AUDIT_CHAIN.ENTRY_MISSING' },
    });
  });

  it('names the first entry a superuser removed from the middle of the chain, and a replaced hash', async () => {
    const chain = await chainDatabase('audit_tamper_remove', 30);
    await withTriggersDisabled(
      chain.superuser,
      ['audit_event_payloads', 'audit_events'],
      ['DELETE FROM audit_event_payloads WHERE seq IN (12, 13)', 'DELETE FROM audit_events WHERE seq IN (12, 13)'],
    );
    expect(await chain.verify()).toMatchObject({
      ok: false,
      checkedEntries: 11,
      firstBadSeq: 12,
      problem: { code: 'AUDIT_CHAIN.SEQ_NOT_CONTIGUOUS' },
    });
    expect(await chain.verify({ fromSeq: 14 })).toMatchObject({ ok: true, checkedEntries: 17 });

    await withTriggersDisabled(
      chain.superuser,
      ['audit_events'],
      ["UPDATE audit_events SET hash = sha256('forged'::bytea) WHERE seq = 21"],
    );
    expect(await chain.verify({ fromSeq: 14 })).toMatchObject({
      ok: false,
      firstBadSeq: 21,
      problem: { code: 'AUDIT_CHAIN.HASH_MISMATCH' },
    });
  });

  // The columns beside the hashed text are what the trail, "who saw this student" and the filters read: each
  // must agree with the text, or a superuser could hide an access without touching a hash.
  it.each([
    ['action', 9, `UPDATE audit_event_payloads SET action = 'student.list' WHERE seq = 9`],
    ['action', 9, `UPDATE audit_event_payloads SET action = 'student.rea_' WHERE seq = 9`],
    ['student_ids', 9, `UPDATE audit_event_payloads SET student_ids = '{}' WHERE seq = 9`],
    ['student_ids', 9, `UPDATE audit_event_payloads SET student_ids = student_ids || gen_random_uuid() WHERE seq = 9`],
    ['outcome', 9, `UPDATE audit_event_payloads SET outcome = 'allowed' WHERE seq = 9`],
    ['actor_id', 9, `UPDATE audit_event_payloads SET actor_id = gen_random_uuid() WHERE seq = 9`],
    ['actor_id', 9, `UPDATE audit_event_payloads SET actor_id = NULL WHERE seq = 9`],
    ['occurred_at', 9, `UPDATE audit_event_payloads SET occurred_at = occurred_at - interval '1 day' WHERE seq = 9`],
    [
      'occurred_at',
      9,
      `UPDATE audit_event_payloads SET occurred_at = occurred_at + interval '1 microsecond' WHERE seq = 9`,
    ],
    // Entry 2's details repeat occurredAt, outcome and studentIds: the values found there must not pass either.
    ['occurred_at', 2, `UPDATE audit_event_payloads SET occurred_at = '2020-01-01T00:00:00Z' WHERE seq = 2`],
    ['outcome', 2, `UPDATE audit_event_payloads SET outcome = 'denied' WHERE seq = 2`],
    [
      'student_ids',
      2,
      `UPDATE audit_event_payloads SET student_ids = ARRAY[(regexp_match(entry, '"studentIds":\\["([0-9a-f-]+)"'))[1]::uuid] WHERE seq = 2`,
    ],
    ['actor_id', 2, `UPDATE audit_event_payloads SET actor_id = gen_random_uuid() WHERE seq = 2`],
    // An anonymous (401) entry's user has no id.
    ['actor_id', 3, `UPDATE audit_event_payloads SET actor_id = gen_random_uuid() WHERE seq = 3`],
  ])(
    'names the seq whose %s column a superuser changed beside its hashed text (entry %i)',
    async (column, seq, tamper) => {
      const chain = await columnsChain();
      const original = await chain.superuser.query('SELECT * FROM audit_event_payloads WHERE seq = $1', [seq]);
      await withTriggersDisabled(chain.superuser, ['audit_event_payloads'], [tamper]);
      try {
        expect(await chain.verify()).toMatchObject({
          ok: false,
          checkedEntries: seq - 1,
          firstBadSeq: seq,
          problem: { code: 'AUDIT_CHAIN.COLUMNS_MISMATCH', seq, message: expect.stringContaining(column) },
        });
        expect(await chain.verify({ fromSeq: seq + 1 })).toMatchObject({ ok: true });
      } finally {
        const row = original.rows[0] as Record<string, unknown>;
        await withTriggersDisabled(
          chain.superuser,
          ['audit_event_payloads'],
          [
            `UPDATE audit_event_payloads SET action = ${literal(row['action'])}, outcome = ${literal(row['outcome'])},
             actor_id = ${row['actor_id'] === null ? 'NULL' : literal(row['actor_id'])},
             student_ids = ${literal(`{${(row['student_ids'] as string[]).join(',')}}`)},
             occurred_at = ${literal((row['occurred_at'] as Date).toISOString())} WHERE seq = ${seq}`,
          ],
        );
      }
      expect(await chain.verify()).toMatchObject({ ok: true });
    },
  );

  it('verifies the columns of every kind of genuine entry, including details that repeat their keys', async () => {
    const chain = await columnsChain();
    expect(await chain.verify()).toMatchObject({ ok: true, checkedEntries: 20 });
  });

  it('refuses to sign a checkpoint over an altered chain, on demand, on schedule and for an export', async () => {
    const chain = await chainDatabase('audit_sign_altered', 20);
    await chain.sign();
    await chain.append(10);
    await withTriggersDisabled(
      chain.superuser,
      ['audit_event_payloads'],
      [`UPDATE audit_event_payloads SET student_ids = '{}' WHERE seq = 24`],
    );
    const refusal = { code: 'AUDIT.CHECKPOINT_REFUSED', problem: 'AUDIT_CHAIN.COLUMNS_MISMATCH', firstBadSeq: 24 };
    await expect(chain.sign()).rejects.toMatchObject(refusal);
    chain.clock.at = new Date(Date.now() + TEST_AUDIT_CONFIG.checkpointIntervalMinutes * 60_000);
    await expect(chain.sign('due')).rejects.toMatchObject(refusal);
    const bundle = tempDir();
    await expect(chain.integrity.export.execute(new ExportAuditBundleCommand(bundle, true))).rejects.toMatchObject(
      refusal,
    );
    expect(readdirSync(bundle).filter((file) => !file.startsWith('.'))).not.toContain('manifest.json');
    expect(chain.integrity.published.at(-1)).toMatchObject({
      firstBadSeq: '24',
      problem: 'AUDIT_CHAIN.COLUMNS_MISMATCH',
    });

    // An entry altered inside a range an earlier checkpoint already covers is refused too.
    await withTriggersDisabled(
      chain.superuser,
      ['audit_event_payloads'],
      [
        `UPDATE audit_event_payloads SET student_ids = ARRAY(SELECT jsonb_array_elements_text(entry::jsonb -> 'studentIds')::uuid) WHERE seq = 24`,
        `UPDATE audit_event_payloads SET entry = replace(entry, '"student.', '"staff.') WHERE seq = 5`,
      ],
    );
    await expect(chain.sign()).rejects.toMatchObject({ problem: 'AUDIT_CHAIN.ENTRY_ALTERED', firstBadSeq: 5 });
    const { rows } = await chain.superuser.query<{ id: string; size: string }>(
      'SELECT id::text, tree_size::text AS size FROM audit_checkpoints ORDER BY id',
    );
    expect(rows).toEqual([{ id: '1', size: '20' }]);
  });

  it('refuses an export whose chain was altered inside what an earlier export holds, leaving its manifest', async () => {
    const chain = await chainDatabase('audit_export_altered_prefix', 20);
    const bundle = tempDir();
    await chain.integrity.export.execute(new ExportAuditBundleCommand(bundle, true, 8));
    const manifest = readFileSync(join(bundle, 'manifest.json'), 'utf8');
    await withTriggersDisabled(
      chain.superuser,
      ['audit_event_payloads'],
      [`UPDATE audit_event_payloads SET outcome = 'denied' WHERE seq = 5`],
    );
    await chain.append(5);
    await expect(chain.integrity.export.execute(new ExportAuditBundleCommand(bundle, true, 8))).rejects.toMatchObject({
      code: 'AUDIT.CHECKPOINT_REFUSED',
      problem: 'AUDIT_CHAIN.COLUMNS_MISMATCH',
      firstBadSeq: 5,
    });
    expect(readFileSync(join(bundle, 'manifest.json'), 'utf8')).toBe(manifest);
    const { rows } = await chain.superuser.query<{ size: string }>(
      'SELECT tree_size::text AS size FROM audit_checkpoints ORDER BY id',
    );
    expect(rows).toEqual([{ size: '20' }]);
  });

  it('signs a prefix an export verified only while the chain still holds the hash it verified', async () => {
    const chain = await chainDatabase('audit_sign_verified_prefix', 12);
    const verification = await chain.verify({ toSeq: 10 });
    const stored = await chain.superuser.query<{ hash: Buffer }>('SELECT hash FROM audit_events WHERE seq = 10');
    await expect(
      chain.integrity.sign.execute(
        new SignAuditCheckpointCommand('uncovered', { verification, head: Buffer.alloc(32, 7) }),
      ),
    ).rejects.toMatchObject({
      code: 'AUDIT.CHECKPOINT_REFUSED',
      problem: 'AUDIT_CHAIN.HASH_MISMATCH',
      firstBadSeq: 10,
    });
    expect(chain.integrity.published.at(-1)).toMatchObject({ firstBadSeq: '10', problem: 'AUDIT_CHAIN.HASH_MISMATCH' });

    const signed = await chain.integrity.sign.execute(
      new SignAuditCheckpointCommand('uncovered', { verification, head: stored.rows[0].hash }),
    );
    // Exactly the verified prefix, not the tip.
    expect(signed).toMatchObject({ created: true, checkpoint: { id: 1, size: 10 } });
    expect(signed.checkpoint.head).toEqual(stored.rows[0].hash);
    expect(await chain.verify()).toMatchObject({ ok: true, checkedEntries: 12, lastCheckpoint: { id: 1, size: 10 } });
  });

  it('signs contiguous, chained checkpoints when several signers race, on schedule only when due', async () => {
    const chain = await chainDatabase('audit_checkpoint_race', 12);
    const signed = await Promise.all(Array.from({ length: 6 }, () => chain.sign()));
    expect(signed.map(({ checkpoint }) => checkpoint.id).sort((left, right) => left - right)).toEqual([
      1, 2, 3, 4, 5, 6,
    ]);
    expect(await chain.verify()).toMatchObject({ ok: true, lastCheckpoint: { id: 6, size: 12 } });
    expect(chain.integrity.metrics.checkpoints).toHaveLength(6);

    // Scheduled: nothing until the interval has passed, then one even though nothing was appended.
    expect(await chain.sign('due')).toMatchObject({ created: false, checkpoint: { id: 6 } });
    chain.clock.at = new Date(Date.now() + TEST_AUDIT_CONFIG.checkpointIntervalMinutes * 60_000);
    expect(await chain.sign('due')).toMatchObject({ created: true, checkpoint: { id: 7, size: 12 } });
    expect(await chain.sign('uncovered')).toMatchObject({ created: false, checkpoint: { id: 7 } });
    await chain.append(3);
    expect(await chain.sign('uncovered')).toMatchObject({ created: true, checkpoint: { id: 8, size: 15 } });
    expect(await chain.verify()).toMatchObject({ ok: true, checkedEntries: 15, lastCheckpoint: { id: 8 } });
  });

  it('exports idempotently: a second export with nothing new writes nothing', async () => {
    const chain = await chainDatabase('audit_export_again', 30);
    const bundle = tempDir();
    const first = await chain.integrity.export.execute(new ExportAuditBundleCommand(bundle, true, 20));
    expect(first.written.sort()).toEqual([
      'checkpoints.jsonl',
      'events-1-20.jsonl',
      'events-21-30.jsonl',
      'manifest.json',
      'public-keys.json',
    ]);
    const times = Object.fromEntries(readdirSync(bundle).map((file) => [file, statSync(join(bundle, file)).mtimeMs]));
    const again = await chain.integrity.export.execute(new ExportAuditBundleCommand(bundle, true, 20));
    expect(again).toMatchObject({ written: [], newEntries: 0, checkpoint: { created: false } });
    expect(Object.fromEntries(readdirSync(bundle).map((file) => [file, statSync(join(bundle, file)).mtimeMs]))).toEqual(
      times,
    );
    await chain.append(5);
    const extended = await chain.integrity.export.execute(new ExportAuditBundleCommand(bundle, true, 20));
    expect(extended.written.sort()).toEqual(['checkpoints.jsonl', 'events-31-35.jsonl', 'manifest.json']);
    const keys = chain.integrity.signer.publishedKeys().map((key) => key.publicKeyPem);
    expect(await verifyBundle(bundle, keys)).toMatchObject({ ok: true, checkedEntries: 35, lastCheckpoint: { id: 2 } });
  });
});
