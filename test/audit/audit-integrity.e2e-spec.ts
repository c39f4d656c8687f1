import { spawn } from 'node:child_process';
import { createPublicKey, randomBytes, randomUUID, verify } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '@app/audit-chain';
import { bearer, login } from '../support/auth.js';
import { bootTestApp, TEST_JWT_SECRET, type TestApp } from '../support/test-app.js';

const bin = join(import.meta.dirname, '../../bin/homeroom.js');
const FIXTURE = join(import.meta.dirname, '../fixtures/audit-bundle');
const SIGNING_KEY = randomBytes(32).toString('base64');
const ORIGIN = 'audit.e2e.district.test';
const PASSWORD = 'a-long-enough-password-for-tests';

/**
 * Runs the compiled CLI asynchronously (the app under test shares this process's event loop). `env` replaces
 * the environment entirely, so a test can show that offline verification needs nothing from it.
 */
function homeroom(args: string[], env: Record<string, string>): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', reject);
    child.once('exit', (status) => {
      clearTimeout(timer);
      resolve({ status, output });
    });
  });
}

describe('audit trail integrity: checkpoints, verification, export and offline verification', () => {
  let app: TestApp;
  let db: pg.Client;
  let adminToken: string;
  let officerToken: string;
  let teacherToken: string;
  const dirs: string[] = [];

  const tempDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'audit-e2e-'));
    dirs.push(dir);
    return dir;
  };
  /** What the CLI sees on an operator's machine pointed at this database. */
  const cliEnv = (): Record<string, string> => ({
    PATH: process.env['PATH'] ?? '',
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    DATABASE_URL: app.databaseUrl,
    DATABASE_MIGRATE_ON_START: 'false',
    JWT_SECRET: TEST_JWT_SECRET,
    AUDIT_SIGNING_KEY: SIGNING_KEY,
    AUDIT_ORIGIN: ORIGIN,
    HOMEROOM_DATA_DIR: tempDir(),
  });

  async function createUser(email: string, roles: string[]): Promise<string> {
    await request(app.url)
      .post('/api/v1/users')
      .set(bearer(adminToken))
      .send({ email, displayName: email, password: PASSWORD, roles, schoolIds: [] })
      .expect(201);
    return (await login(app.url, email, PASSWORD)).accessToken;
  }

  async function entries(action: string): Promise<{ seq: string; entry: Record<string, unknown> }[]> {
    const { rows } = await db.query<{ seq: string; entry: string }>(
      'SELECT seq::text AS seq, entry FROM audit_event_payloads WHERE action = $1 ORDER BY seq',
      [action],
    );
    return rows.map((row) => ({ seq: row.seq, entry: JSON.parse(row.entry) as Record<string, unknown> }));
  }

  async function trustedKeyFile(): Promise<string> {
    const response = await request(app.url).get('/api/v1/audit/public-key').expect(200);
    const file = join(tempDir(), 'homeroom-audit.pem');
    writeFileSync(file, (response.body.keys as { publicKeyPem: string }[]).map((key) => key.publicKeyPem).join(''));
    return file;
  }

  beforeAll(async () => {
    app = await bootTestApp({
      env: { AUDIT_SIGNING_KEY: SIGNING_KEY, AUDIT_ORIGIN: ORIGIN, AUTH_RATE_LIMIT_PER_MINUTE: '1000' },
    });
    db = new pg.Client({ connectionString: app.databaseUrl });
    await db.connect();
    adminToken = (await login(app.url)).accessToken;
    officerToken = await createUser('compliance@district.test', ['compliance_officer']);
    teacherToken = await createUser('teacher@district.test', ['teacher']);
  });

  afterAll(async () => {
    await db?.end();
    await app?.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('signs a checkpoint for a compliance officer, and refuses (and records) a teacher', async () => {
    const signed = await request(app.url).post('/api/v1/audit/checkpoints').set(bearer(officerToken)).expect(201);
    const [{ max }] = (await db.query<{ max: string }>('SELECT max(seq)::text AS max FROM audit_events')).rows;
    // The call's own entry commits with the checkpoint, right after the tip it signed.
    const size = String(Number(max) - 1);
    expect(signed.body).toMatchObject({ size, keyId: expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect(signed.body.body).toContain(`\norigin ${ORIGIN}\nid ${signed.body.id}\nsize ${size}\n`);

    const refused = await request(app.url).post('/api/v1/audit/checkpoints').set(bearer(teacherToken)).expect(403);
    expect(refused.body.code).toBe('IDENTITY.FORBIDDEN');
    await request(app.url).post('/api/v1/audit/checkpoints').expect(401);
    const attempts = await entries('audit_checkpoint.sign');
    expect(attempts.map(({ entry }) => [entry.outcome, entry.reason])).toEqual([
      ['allowed', null],
      ['denied', 'IDENTITY.FORBIDDEN'],
      ['denied', 'IDENTITY.TOKEN_INVALID'],
    ]);
    expect(attempts[0].entry).toMatchObject({
      resource: { type: 'audit_checkpoint' },
      dataCategories: ['audit_trail'],
      studentIds: [],
    });
  });

  it('publishes the key that verifies the stored checkpoints, without sign-in', async () => {
    const response = await request(app.url).get('/api/v1/audit/public-key').expect(200);
    const keys = response.body.keys as { keyId: string; publicKeyPem: string; current: boolean }[];
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ algorithm: 'Ed25519', current: true });
    const { rows } = await db.query<{ body: string; signature: Buffer; key_id: string }>(
      'SELECT body, signature, key_id FROM audit_checkpoints ORDER BY id',
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(row.key_id).toBe(keys[0].keyId);
      expect(verify(null, Buffer.from(row.body), createPublicKey(keys[0].publicKeyPem), row.signature)).toBe(true);
      expect(verify(null, Buffer.from(`${row.body} `), createPublicKey(keys[0].publicKeyPem), row.signature)).toBe(
        false,
      );
    }
  });

  it('lists checkpoints newest first, page by page', async () => {
    await request(app.url).post('/api/v1/audit/checkpoints').set(bearer(officerToken)).expect(201);
    const all = await request(app.url).get('/api/v1/audit/checkpoints').set(bearer(officerToken)).expect(200);
    const ids = (all.body.items as { id: number }[]).map((item) => item.id);
    expect(ids.length).toBeGreaterThanOrEqual(2);
    expect(ids).toEqual([...ids].sort((left, right) => right - left));
    const first = await request(app.url).get('/api/v1/audit/checkpoints?limit=1').set(bearer(officerToken)).expect(200);
    expect(first.body.items.map((item: { id: number }) => item.id)).toEqual([ids[0]]);
    const second = await request(app.url)
      .get(`/api/v1/audit/checkpoints?limit=1&cursor=${first.body.nextCursor as string}`)
      .set(bearer(officerToken))
      .expect(200);
    expect(second.body.items.map((item: { id: number }) => item.id)).toEqual([ids[1]]);
    await request(app.url).get('/api/v1/audit/checkpoints?cursor=abc').set(bearer(officerToken)).expect(400);
    await request(app.url).get('/api/v1/audit/checkpoints?limit=500').set(bearer(officerToken)).expect(400);
    await request(app.url).get('/api/v1/audit/checkpoints').set(bearer(teacherToken)).expect(403);
  });

  it('verifies the chain on request, and records that the trail was read', async () => {
    const response = await request(app.url).get('/api/v1/audit/verify').set(bearer(officerToken)).expect(200);
    expect(response.body).toMatchObject({ ok: true, firstBadSeq: null, problem: null, purgedEntries: 0, fromSeq: '1' });
    expect(response.body.checkedEntries).toBeGreaterThan(5);
    expect(response.body.lastCheckpoint).toMatchObject({ keyId: expect.any(String) });
    const ranged = await request(app.url)
      .get('/api/v1/audit/verify?fromSeq=2&toSeq=4')
      .set(bearer(officerToken))
      .expect(200);
    expect(ranged.body).toMatchObject({ ok: true, checkedEntries: 3, fromSeq: '2', toSeq: '4' });
    const backwards = await request(app.url)
      .get('/api/v1/audit/verify?fromSeq=9&toSeq=4')
      .set(bearer(officerToken))
      .expect(400);
    expect(backwards.body.code).toBe('AUDIT.INVALID_SEQ_RANGE');
    await request(app.url).get('/api/v1/audit/verify?fromSeq=zero').set(bearer(officerToken)).expect(400);
    await request(app.url).get('/api/v1/audit/verify').set(bearer(teacherToken)).expect(403);
    const verifications = await entries('audit.verify');
    expect(verifications.map(({ entry }) => entry.outcome)).toEqual([
      'allowed',
      'allowed',
      'failed',
      'failed',
      'denied',
    ]);
    expect(verifications[0].entry).toMatchObject({
      resource: { type: 'audit_chain' },
      dataCategories: ['audit_trail'],
    });
  });

  it('rebuilds the read models from the log with the CLI, to the same rows', async () => {
    // An audit query brings the read models up to date first.
    await request(app.url).get('/api/v1/audit/events?limit=1').set(bearer(officerToken)).expect(200);
    const snapshot = async (upTo: string) =>
      (
        await db.query<{ row: string }>(
          `SELECT concat_ws('|', 'actor', actor_id, seq, action, outcome, student_count) AS row
             FROM audit_access_by_actor WHERE seq <= $1
           UNION ALL
           SELECT concat_ws('|', 'denied', seq, actor_id, action, reason) FROM audit_denied_access WHERE seq <= $1
           UNION ALL
           SELECT concat_ws('|', 'student', student_id, seq, actor_id, action, outcome)
             FROM audit_access_by_student WHERE seq <= $1
           ORDER BY 1`,
          [upTo],
        )
      ).rows.map(({ row }) => row);
    const { rows } = await db.query<{ position: string }>(
      'SELECT min(position)::text AS position FROM audit_projection_positions',
    );
    const position = rows[0].position;
    const before = await snapshot(position);
    expect(before.some((row) => row.startsWith('denied|'))).toBe(true);
    await db.query('DELETE FROM audit_access_by_actor WHERE seq <= $1', [position]);

    const rebuilt = await homeroom(['audit', 'rebuild-read-models'], cliEnv());
    expect(rebuilt.status, rebuilt.output).toBe(0);
    expect(rebuilt.output).toMatch(/Rebuilt the audit read models from \d+ entries/);
    expect(await snapshot(position)).toEqual(before);
    expect(await entries('audit.read_models.rebuild')).toHaveLength(1);
  });

  it('keeps every audit query and the rebuild working after a request with %00 in the path (and legacy entries)', async () => {
    // Unauthenticated, with a NUL in the path: refused at the edge with a 400 problem, before anything is stored.
    const nul = await request(app.url).get('/api/v1/students/a%00b').expect(400);
    expect(nul.body).toMatchObject({ code: 'HTTP.INVALID_CHARACTERS' });
    // Not UTF-8 (an encoded lone surrogate): a client error, never a 500.
    const undecodable = await request(app.url).get('/api/v1/students/%ED%A0%80x');
    expect(undecodable.status).toBeGreaterThanOrEqual(400);
    expect(undecodable.status).toBeLessThan(500);
    // Entries stored before entries were made safe (an existing deployment) still hold \u0000 and lone surrogates.
    // The columns beside the text agree with it, as the app wrote them (verification checks that too).
    const occurredAt = new Date().toISOString();
    const legacy = [
      { reason: 'IDENTITY.TOKEN_INVALID\u0000', resource: { id: 'x\u0000y', type: 'student' } },
      { reason: 'IDENTITY.\ud800FORBIDDEN', resource: { id: '\udc00', type: 'student' } },
    ].map((fields) =>
      canonicalJson({
        v: 1,
        id: randomUUID(),
        occurredAt,
        action: 'student.read',
        actor: { type: 'user', id: null, roles: [], schoolIds: [] },
        studentIds: [],
        dataCategories: ['directory'],
        purpose: null,
        outcome: 'denied',
        origin: { channel: 'http', requestId: null, clientIp: '127.0.0.1', userAgent: null, route: null },
        details: { note: 'nul \u0000 here' },
        ...fields,
      }),
    );
    await db.query(
      `WITH input AS (SELECT * FROM unnest($1::text[]) WITH ORDINALITY AS i (entry, ord)),
            chained AS (INSERT INTO audit_events (entry_hash)
                        SELECT sha256(convert_to(entry, 'UTF8')) FROM input ORDER BY ord RETURNING seq, entry_hash)
       INSERT INTO audit_event_payloads (seq, occurred_at, action, outcome, actor_id, student_ids, entry)
       SELECT c.seq, $2::timestamptz, 'student.read', 'denied', NULL, '{}', i.entry
         FROM chained c JOIN input i ON sha256(convert_to(i.entry, 'UTF8')) = c.entry_hash`,
      [legacy, occurredAt],
    );

    const officer = bearer(officerToken);
    const someone = '00000000-0000-4000-8000-000000000001';
    await request(app.url).get('/api/v1/audit/events?outcome=denied').set(officer).expect(200);
    await request(app.url).get(`/api/v1/audit/students/${someone}/access`).set(officer).expect(200);
    await request(app.url).get(`/api/v1/audit/actors/${someone}/access`).set(officer).expect(200);
    const exported = await request(app.url).get('/api/v1/audit/export').set(officer).expect(200);
    expect(exported.text).toContain('IDENTITY.TOKEN_INVALID\\u0000');
    const { rows: denied } = await db.query<{ reason: string }>(
      `SELECT d.reason FROM audit_denied_access d JOIN audit_event_payloads p USING (seq)
        WHERE p.entry LIKE '%"details":{"note":%' ORDER BY d.seq`,
    );
    expect(denied.map((row) => row.reason)).toEqual(['IDENTITY.TOKEN_INVALID\ufffd', 'IDENTITY.\ufffdFORBIDDEN']);

    const rebuilt = await homeroom(['audit', 'rebuild-read-models'], cliEnv());
    expect(rebuilt.status, rebuilt.output).toBe(0);
    await request(app.url).get('/api/v1/audit/events').set(officer).expect(200);
    const verified = await request(app.url).get('/api/v1/audit/verify').set(officer).expect(200);
    expect(verified.body).toMatchObject({ ok: true, problem: null });
  });

  it('exports a bundle with the CLI that verifies offline, with no database or configuration', async () => {
    const bundle = join(tempDir(), 'bundle');
    const exported = await homeroom(['audit', 'export', '--out', bundle], cliEnv());
    expect(exported.status, exported.output).toBe(0);
    expect(exported.output).toMatch(/Exported \d+ new entries/);
    // The CLI's entry (an HTTP export above is recorded under the same action).
    const [exportEntry] = (await entries('audit.export')).filter(
      ({ entry }) => (entry.origin as { channel: string }).channel === 'cli',
    );
    expect(exportEntry.entry).toMatchObject({
      actor: { type: 'system', id: null },
      origin: { channel: 'cli' },
      details: { out: bundle, osUser: expect.any(String) },
    });
    const segments = readdirSync(bundle).filter((file) => file.startsWith('events-'));
    const exportedText = segments.map((file) => readFileSync(join(bundle, file), 'utf8')).join('');
    // Ids only: neither the staff members' emails nor display names are in the trail.
    expect(exportedText).not.toContain('@district.test');
    expect(exportedText).toContain(`"seq":"${exportEntry.seq}"`);

    const keyFile = await trustedKeyFile();
    const emptyDataDir = tempDir();
    const offline = await homeroom(['audit', 'verify', '--bundle', bundle, '--public-key', keyFile], {
      PATH: process.env['PATH'] ?? '',
      NODE_ENV: 'production',
      HOMEROOM_DATA_DIR: emptyDataDir,
    });
    expect(offline.status, offline.output).toBe(0);
    expect(offline.output).toMatch(/OK: \d+ entries verified/);
    // Nothing was started: no embedded database, no generated secrets.
    expect(readdirSync(emptyDataDir)).toEqual([]);

    const tampered = tempDir();
    cpSync(bundle, tampered, { recursive: true });
    const segment = join(tampered, segments[0]);
    const lines = readFileSync(segment, 'utf8').split('\n');
    lines[1] = lines[1].replace('\\"outcome\\":\\"', '\\"outcome\\":\\"not-');
    expect(lines[1]).toContain('\\"outcome\\":\\"not-');
    writeFileSync(segment, lines.join('\n'));
    const failed = await homeroom(['audit', 'verify', '--bundle', tampered, '--public-key', keyFile], {
      PATH: process.env['PATH'] ?? '',
    });
    expect(failed.status, failed.output).toBe(1);
    expect(failed.output).toContain('FAILED at seq 2: AUDIT_CHAIN.ENTRY_ALTERED');

    const withoutKey = await homeroom(['audit', 'verify', '--bundle', bundle], { PATH: process.env['PATH'] ?? '' });
    expect(withoutKey.status).toBe(2);
    expect(withoutKey.output).toMatch(/public key must come from outside the bundle/);
  });

  it('verifies the committed fixture bundle offline, and fails a tampered copy', async () => {
    const keyFile = join(FIXTURE, 'public-key.pem');
    const env = { PATH: process.env['PATH'] ?? '' };
    const ok = await homeroom(['audit', 'verify', '--bundle', join(FIXTURE, 'bundle'), '--public-key', keyFile], env);
    expect(ok.status, ok.output).toBe(0);
    expect(ok.output).toContain(
      'OK: 20 entries verified (1 purged by retention), up to seq 20; last checkpoint passed: checkpoint 2',
    );

    const copy = tempDir();
    cpSync(join(FIXTURE, 'bundle'), copy, { recursive: true });
    const segment = join(copy, 'events-1-20.jsonl');
    const lines = readFileSync(segment, 'utf8').split('\n');
    lines[6] = lines[6].replace('\\"roles\\":[\\"teacher\\"]', '\\"roles\\":[\\"district_admin\\"]');
    writeFileSync(segment, lines.join('\n'));
    const failed = await homeroom(['audit', 'verify', '--bundle', copy, '--public-key', keyFile, '--json'], env);
    expect(failed.status, failed.output).toBe(1);
    expect(JSON.parse(failed.output)).toMatchObject({
      ok: false,
      firstBadSeq: 7,
      checkedEntries: 6,
      problem: { code: 'AUDIT_CHAIN.ENTRY_ALTERED', seq: 7 },
    });
  });

  /** Runs one statement with the payload table's triggers off, as a superuser can. */
  async function tamper(statement: string): Promise<void> {
    await db.query('ALTER TABLE audit_event_payloads DISABLE TRIGGER USER');
    try {
      await db.query(statement);
    } finally {
      await db.query('ALTER TABLE audit_event_payloads ENABLE TRIGGER USER');
    }
  }

  it('reports a column changed beside its hashed text over HTTP and from the CLI, and signs nothing over it', async () => {
    const [{ action }] = (await db.query<{ action: string }>('SELECT action FROM audit_event_payloads WHERE seq = 2'))
      .rows;
    const checkpoints = async () =>
      Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM audit_checkpoints')).rows[0].n);
    const before = await checkpoints();
    await tamper(`UPDATE audit_event_payloads SET action = 'audit.verify' WHERE seq = 2`);
    try {
      const response = await request(app.url).get('/api/v1/audit/verify').set(bearer(officerToken)).expect(200);
      expect(response.body).toMatchObject({
        ok: false,
        firstBadSeq: '2',
        problem: { code: 'AUDIT_CHAIN.COLUMNS_MISMATCH', seq: '2' },
      });
      const cli = await homeroom(['audit', 'verify'], cliEnv());
      expect(cli.status, cli.output).toBe(1);
      expect(cli.output).toContain('Audit chain verification FAILED at seq 2: AUDIT_CHAIN.COLUMNS_MISMATCH');

      const refused = await request(app.url).post('/api/v1/audit/checkpoints').set(bearer(officerToken)).expect(409);
      expect(refused.body).toMatchObject({ code: 'AUDIT.CHECKPOINT_REFUSED' });
      const exported = await homeroom(['audit', 'export', '--out', join(tempDir(), 'bundle')], cliEnv());
      expect(exported.status, exported.output).not.toBe(0);
      expect(exported.output).toContain('AUDIT_CHAIN.COLUMNS_MISMATCH');
      expect(await checkpoints()).toBe(before);
    } finally {
      await tamper(`UPDATE audit_event_payloads SET action = '${action}' WHERE seq = 2`);
    }
    await request(app.url)
      .get('/api/v1/audit/verify')
      .set(bearer(officerToken))
      .expect(200, /"ok":true/);
  });

  it('checks the read models against the log with verify --read-models, naming the first difference', async () => {
    const clean = await homeroom(['audit', 'verify', '--read-models'], cliEnv());
    expect(clean.status, clean.output).toBe(0);
    expect(clean.output).toMatch(/^Audit read models OK: audit_access_by_student, .* match the log over seqs 1–\d+/m);

    const [{ seq, outcome }] = (
      await db.query<{ seq: string; outcome: string }>(
        'SELECT seq::text AS seq, outcome FROM audit_access_by_actor ORDER BY seq LIMIT 1 OFFSET 2',
      )
    ).rows;
    await db.query(`UPDATE audit_access_by_actor SET outcome = 'failed' WHERE seq = $1`, [seq]);
    try {
      const tampered = await homeroom(['audit', 'verify', '--read-models'], cliEnv());
      expect(tampered.status, tampered.output).toBe(1);
      expect(tampered.output).toContain('Audit chain OK');
      expect(tampered.output).toContain(
        `Audit read models verification FAILED at seq ${seq}: audit_access_by_actor row different`,
      );
      expect(tampered.output).toContain(`"outcome":"${outcome}"`);
    } finally {
      await db.query('UPDATE audit_access_by_actor SET outcome = $2 WHERE seq = $1', [seq, outcome]);
    }
    expect(await entries('audit.read_models.verify')).toHaveLength(2);
  }, 120_000);

  it('reports tampering in the database over HTTP and from the CLI, naming the seq', async () => {
    const clean = await homeroom(['audit', 'verify'], cliEnv());
    expect(clean.status, clean.output).toBe(0);
    expect(clean.output).toMatch(/^Audit chain OK: \d+ entries verified/m);

    await db.query('ALTER TABLE audit_event_payloads DISABLE TRIGGER USER');
    try {
      await db.query(
        `UPDATE audit_event_payloads SET entry = replace(entry, '"outcome":"', '"outcome":"not-') WHERE seq = 3`,
      );
    } finally {
      await db.query('ALTER TABLE audit_event_payloads ENABLE TRIGGER USER');
    }
    const response = await request(app.url).get('/api/v1/audit/verify').set(bearer(officerToken)).expect(200);
    expect(response.body).toMatchObject({
      ok: false,
      firstBadSeq: '3',
      checkedEntries: 2,
      problem: { code: 'AUDIT_CHAIN.ENTRY_ALTERED', seq: '3' },
    });
    const cli = await homeroom(['audit', 'verify'], cliEnv());
    expect(cli.status, cli.output).toBe(1);
    expect(cli.output).toContain('Audit chain verification FAILED at seq 3: AUDIT_CHAIN.ENTRY_ALTERED');
    const [cliEntry] = (await entries('audit.verify'))
      .filter(({ entry }) => (entry.origin as { channel: string }).channel === 'cli')
      .slice(-1);
    expect(cliEntry.entry).toMatchObject({
      details: { ok: false, firstBadSeq: '3', problem: 'AUDIT_CHAIN.ENTRY_ALTERED' },
    });
  });
});
