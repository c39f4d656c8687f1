import { createTestDatabase, type TestDatabase } from '@app/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDistrict, writeOneRosterCsvZip, type OneRosterDataset } from '../fakes/oneroster/index.js';
import { runHomeroom } from '../support/cli.js';
import { sql } from './sync-support.js';

const DISTRICT = { schools: 1, students: 25, teachers: 4, classes: 4 };

/** The dataset without `count` of its students (their enrollments and demographics go with them). */
function withoutStudents(dataset: OneRosterDataset, count: number): OneRosterDataset {
  const gone = new Set(
    dataset.users
      .filter((user) => user.roles.some((role) => role.role === 'student'))
      .slice(0, count)
      .map((user) => user.sourcedId),
  );
  return {
    ...dataset,
    users: dataset.users.filter((user) => !gone.has(user.sourcedId)),
    enrollments: dataset.enrollments.filter((enrollment) => !gone.has(enrollment.userSourcedId)),
    demographics: dataset.demographics.filter((demographics) => !gone.has(demographics.sourcedId)),
  };
}

interface RunDocument {
  id: string;
  state: string;
  holdReasons: { kind: string; entity?: string; action?: string; count: number }[];
  preview: Record<string, Record<string, unknown>> | null;
  approvedBy: string | null;
  approvedAt: string | null;
}

describe('homeroom runs: work a held run from a shell', () => {
  let database: TestDatabase;
  let env: Record<string, string>;
  let dir: string;
  let dropZip: string;

  beforeAll(async () => {
    database = await createTestDatabase('runs_cli');
    dir = mkdtempSync(join(tmpdir(), 'homeroom-runs-cli-'));
    env = {
      DATABASE_URL: database.url,
      JWT_SECRET: 'cli-test-secret-that-is-long-enough-0123456789',
      SIS_SECRETS_KEY: 'cnVucy1jbGktdGVzdC1rZXktMzItYnl0ZXMtbG9uZyE=',
      HOMEROOM_DATA_DIR: dir,
      REDIS_URL: '',
    };
    const dataset = generateDistrict({ seed: 'runs-cli', ...DISTRICT });
    const fullZip = join(dir, 'full.zip');
    dropZip = join(dir, 'drop.zip');
    await writeOneRosterCsvZip(dataset, { version: '1.2', mode: 'bulk', path: fullZip });
    await writeOneRosterCsvZip(withoutStudents(dataset, 10), { version: '1.2', mode: 'bulk', path: dropZip });
    const first = await runHomeroom(['sync', 'import', fullZip], env);
    expect(first.status, first.output).toBe(0);
  }, 240_000);

  afterAll(async () => {
    await database?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function holdARun(): Promise<RunDocument> {
    const held = await runHomeroom(['sync', 'import', dropZip, '--json'], env);
    expect(held.status, held.output).toBe(2);
    const run = JSON.parse(held.stdout) as RunDocument;
    expect(run.state).toBe('held');
    return run;
  }

  async function auditEntries(action: string): Promise<Record<string, unknown>[]> {
    const rows = await sql<{ entry: string }>(
      database.url,
      'SELECT entry::text AS entry FROM audit_event_payloads ORDER BY seq',
    );
    return rows
      .map((row) => JSON.parse(row.entry) as Record<string, unknown>)
      .filter((entry) => entry['action'] === action);
  }

  it('a mass drop exits 2 (held); runs list and runs show report it with its hold reasons and counts', async () => {
    const run = await holdARun();
    expect(run.holdReasons).toContainEqual(
      expect.objectContaining({ kind: 'threshold', entity: 'people', action: 'deactivate', count: 10 }),
    );

    const listed = await runHomeroom(['runs', 'list', '--state', 'held', '--json'], env);
    expect(listed.status, listed.output).toBe(0);
    expect((JSON.parse(listed.stdout) as { items: RunDocument[] }).items.map((item) => item.id)).toEqual([run.id]);
    const human = await runHomeroom(['runs', 'list', '--state', 'held', '--limit', '5'], env);
    expect(human.status, human.output).toBe(0);
    expect(human.stdout).toContain(run.id);
    expect(human.stdout).toMatch(/people deactivate: 10 exceeds/);
    const none = await runHomeroom(['runs', 'list', '--state', 'running'], env);
    expect(none.stdout).toContain('No sync runs.');

    const shown = await runHomeroom(['runs', 'show', run.id], env);
    expect(shown.status, shown.output).toBe(0);
    expect(shown.stdout).toContain(`Run ${run.id}: held`);
    expect(shown.stdout).toContain('Held for review:');
    expect(shown.stdout).toMatch(/people deactivate: 10 exceeds/);
    expect(shown.stdout).toContain(`homeroom runs approve ${run.id}`);
    const document = JSON.parse((await runHomeroom(['runs', 'show', run.id, '--json'], env)).stdout) as RunDocument;
    expect(document.preview?.['people']).toMatchObject({ deactivate: 10 });
    // Sample sourcedIds name students: reading them is an audited HTTP access, so the CLI leaves them out.
    expect(document.preview?.['people']).not.toHaveProperty('samples');
  }, 300_000);

  it('runs discard cancels it, recording the OS user and the reason; approving it afterwards is refused', async () => {
    const [held] = (
      JSON.parse((await runHomeroom(['runs', 'list', '--state', 'held', '--json'], env)).stdout) as {
        items: RunDocument[];
      }
    ).items;
    const discarded = await runHomeroom(['runs', 'discard', held.id, '--reason', 'export from the wrong term'], env);
    expect(discarded.status, discarded.output).toBe(0);
    expect(discarded.stdout).toContain(`Run ${held.id} discarded`);
    expect(await sql(database.url, 'SELECT state FROM sis_sync_runs WHERE id = $1', [held.id])).toEqual([
      { state: 'cancelled' },
    ]);
    expect(await auditEntries('sync_run.discard')).toEqual([
      expect.objectContaining({
        resource: { type: 'sync_run', id: held.id },
        actor: expect.objectContaining({ type: 'system', id: null }),
        outcome: 'allowed',
        origin: expect.objectContaining({ channel: 'cli', route: 'homeroom runs discard' }),
        details: { osUser: userInfo().username, reason: 'export from the wrong term' },
      }),
    ]);

    const late = await runHomeroom(['runs', 'approve', held.id], env);
    expect(late.status).toBe(1);
    expect(late.stdout).toBe('');
    expect(late.stderr).toContain('SIS_SYNC.');
    expect(await auditEntries('sync_run.approve')).toEqual([
      expect.objectContaining({ outcome: 'failed', resource: { type: 'sync_run', id: held.id } }),
    ]);
  }, 300_000);

  it('runs approve queues a held run again for a worker to apply, and records who approved it', async () => {
    const run = await holdARun();
    const approved = await runHomeroom(['runs', 'approve', run.id, '--reason', 'leavers confirmed', '--json'], env);
    expect(approved.status, approved.output).toBe(0);
    const document = JSON.parse(approved.stdout) as RunDocument;
    expect(document).toMatchObject({ id: run.id, state: 'queued', approvedBy: null, approvedAt: expect.any(String) });
    const rows = await sql<{ state: string; approved_at: Date | null }>(
      database.url,
      'SELECT state, approved_at FROM sis_sync_runs WHERE id = $1',
      [run.id],
    );
    expect(rows[0]).toMatchObject({ state: 'queued', approved_at: expect.any(Date) });
    expect((await auditEntries('sync_run.approve')).at(-1)).toMatchObject({
      resource: { type: 'sync_run', id: run.id },
      outcome: 'allowed',
      details: { osUser: userInfo().username, reason: 'leavers confirmed' },
    });
  }, 300_000);

  it('refuses malformed input clearly, with status 1 and nothing on stdout', async () => {
    for (const [args, message] of [
      [['runs', 'list', '--state', 'stuck'], /--state must be one of queued, running, held/],
      [['runs', 'list', '--limit', '0'], /--limit must be a whole number from 1 to 200/],
      [['runs', 'list', '--connection', 'district-1'], /--connection must be a SIS connection id/],
      [['runs', 'show', 'not-a-run'], /Not a run id: not-a-run/],
      [['runs', 'discard', '00000000-0000-4000-8000-000000000000'], /SIS_SYNC.RUN_NOT_FOUND/],
    ] as const) {
      const result = await runHomeroom([...args], env);
      expect(result.status, `${args.join(' ')}\n${result.output}`).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(message);
    }
  }, 600_000);
});
