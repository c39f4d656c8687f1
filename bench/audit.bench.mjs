// FERPA audit trail: what the tamper-evident chain costs.
// 1. Append rate through the app's own `AuditLog` (chain trigger under the advisory lock, payload row, group
//    commit) against plain INSERTs of the same rows into an unchained copy of the payload table (same columns
//    and indexes), measured back to back: 8 concurrent writers appending one entry at a time (requests), and
//    batches of 500 (bulk).
// 2. Verification rate of the chain (database and offline bundle), 3. p95 of one student's trail over 1M
//    entries, 4. an audited `GET /api/v1/students/{id}` against the same route with capture disabled.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { adminAccessToken, formatRate, startService } from './support.mjs';

const dist = join(import.meta.dirname, '../dist');
const load = (path) => import(pathToFileURL(join(dist, path)).href);

const CONCURRENT_ENTRIES = Number(process.env.BENCH_AUDIT_CONCURRENT_ENTRIES || 20_000);
const WRITERS = 8;
const BULK_ENTRIES = Number(process.env.BENCH_AUDIT_BULK_ENTRIES || 100_000);
const BULK_BATCH = 500;
const ROUNDS = 4;
const TRAIL_ENTRIES = Number(process.env.BENCH_AUDIT_TRAIL_ENTRIES || 1_000_000);
const STUDENTS = 20_000;
const ACTORS = 400;
const HTTP_SECONDS = Number(process.env.BENCH_DURATION_SECONDS || 16);
const HTTP_CONNECTIONS = Number(process.env.BENCH_CONNECTIONS || 20);

const students = Array.from({ length: STUDENTS }, () => randomUUID());
const actors = Array.from({ length: ACTORS }, () => randomUUID());
const pick = (list) => list[Math.floor(Math.random() * list.length)];

/** A realistic read entry: one actor, one to three students, the origin of an HTTP call. */
function draft() {
  const count = 1 + Math.floor(Math.random() * 3);
  return {
    action: 'student.read',
    resource: { type: 'student', id: null },
    actor: { type: 'user', id: pick(actors), roles: ['teacher'], schoolIds: [randomUUID()] },
    studentIds: Array.from({ length: count }, () => pick(students)),
    dataCategories: ['directory', 'enrollment'],
    purpose: null,
    outcome: 'allowed',
    reason: null,
    origin: {
      channel: 'http',
      requestId: randomUUID(),
      clientIp: '10.0.0.12',
      userAgent: 'Mozilla/5.0 (Chromebook) Homeroom bench',
      route: 'GET /api/v1/students/:id',
    },
    occurredAt: new Date(),
  };
}

async function createDatabase() {
  const adminUrl = process.env.DATABASE_URL_ADMIN || 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `homeroom_test_bench_audit_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await client.end();
    },
  };
}

/** The app's module graph in this process (role `cli`: no HTTP, no job consumers), on the given database. */
async function startAppContext(databaseUrl, dataDir) {
  await import('reflect-metadata');
  const { NestFactory } = await import('@nestjs/core');
  const { AppModule } = await load('src/app.module.js');
  const { prepareRuntimeEnvironment } = await load('src/runtime-environment.js');
  const runtime = await prepareRuntimeEnvironment({
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    DATABASE_URL: databaseUrl,
    DATABASE_POOL_MAX: '10',
    HOMEROOM_DATA_DIR: dataDir,
    JWT_SECRET: randomBytes(32).toString('hex'),
    SIS_SECRETS_KEY: randomBytes(32).toString('base64'),
    AUDIT_SIGNING_KEY: randomBytes(32).toString('base64'),
  });
  const app = await NestFactory.createApplicationContext(
    AppModule.forRole({ role: 'cli', configuration: runtime.configuration, databaseUrl: runtime.databaseUrl }),
    { logger: ['error', 'warn'] },
  );
  return { app, close: async () => (await app.close(), await runtime.stop()) };
}

async function plainTable(client) {
  await client.query('DROP TABLE IF EXISTS bench_plain_audit');
  await client.query('CREATE TABLE bench_plain_audit (LIKE audit_event_payloads INCLUDING ALL)');
  await client.query('ALTER TABLE bench_plain_audit ADD COLUMN entry_hash bytea NOT NULL');
  await client.query('CREATE SEQUENCE IF NOT EXISTS bench_plain_audit_seq');
}

const PLAIN_INSERT = `
  INSERT INTO bench_plain_audit (seq, entry_hash, occurred_at, action, outcome, actor_id, student_ids, entry)
  SELECT nextval('bench_plain_audit_seq'), h, o, a, oc, act, s::uuid[], e
    FROM unnest($1::bytea[], $2::timestamptz[], $3::text[], $4::text[], $5::uuid[], $6::text[], $7::text[])
      AS u (h, o, a, oc, act, s, e)`;

/** The rows the app would store for these drafts, as plain INSERT parameters. */
function plainParams(drafts, toAuditEntry, serialise, entryHash) {
  const entries = drafts.map((item) => toAuditEntry(randomUUID(), item));
  const texts = entries.map((entry) => serialise(entry));
  return [
    texts.map((text) => entryHash(text)),
    entries.map((entry) => entry.occurredAt),
    entries.map((entry) => entry.action),
    entries.map((entry) => entry.outcome),
    entries.map((entry) => entry.actor.id),
    entries.map((entry) => `{${entry.studentIds.join(',')}}`),
    texts,
  ];
}

async function measureAppend({ auditLog, databaseUrl, toAuditEntry, serialise, entryHash }) {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: WRITERS });
  const client = await pool.connect();
  await plainTable(client);
  client.release();
  try {
    // Chain and plain alternate in rounds (writers) and batch by batch (bulk), so that drift in the machine's
    // speed during the run falls on both sides alike.
    const perRound = Math.ceil(CONCURRENT_ENTRIES / WRITERS / ROUNDS);
    const writers = async (work) => {
      const started = performance.now();
      await Promise.all(
        Array.from({ length: WRITERS }, async () => {
          for (let index = 0; index < perRound; index += 1) await work();
        }),
      );
      return performance.now() - started;
    };
    // Warm up both paths.
    for (let index = 0; index < 200; index += 1) await auditLog.append([draft()]);
    await pool.query(PLAIN_INSERT, plainParams([draft()], toAuditEntry, serialise, entryHash));

    const elapsed = { concurrentPlain: 0, concurrentChain: 0, bulkPlain: 0, bulkChain: 0 };
    for (let round = 0; round < ROUNDS; round += 1) {
      elapsed.concurrentPlain += await writers(() =>
        pool.query(PLAIN_INSERT, plainParams([draft()], toAuditEntry, serialise, entryHash)),
      );
      elapsed.concurrentChain += await writers(() => auditLog.append([draft()]));
    }
    const batches = Math.ceil(BULK_ENTRIES / BULK_BATCH);
    for (let index = 0; index < batches; index += 1) {
      // Both sides turn drafts into canonical entries and hashes inside their timing, as the app does.
      let drafts = Array.from({ length: BULK_BATCH }, draft);
      let started = performance.now();
      await pool.query(PLAIN_INSERT, plainParams(drafts, toAuditEntry, serialise, entryHash));
      elapsed.bulkPlain += performance.now() - started;
      drafts = Array.from({ length: BULK_BATCH }, draft);
      started = performance.now();
      await auditLog.append(drafts);
      elapsed.bulkChain += performance.now() - started;
    }
    const rate = (entries, milliseconds) => entries / (milliseconds / 1000);
    const concurrentEntries = perRound * WRITERS * ROUNDS;
    const concurrentPlain = rate(concurrentEntries, elapsed.concurrentPlain);
    const concurrentChain = rate(concurrentEntries, elapsed.concurrentChain);
    const bulkPlain = rate(batches * BULK_BATCH, elapsed.bulkPlain);
    const bulkChain = rate(batches * BULK_BATCH, elapsed.bulkChain);
    return { concurrentPlain, concurrentChain, bulkPlain, bulkChain };
  } finally {
    await pool.query('DROP TABLE IF EXISTS bench_plain_audit');
    await pool.end();
  }
}

/**
 * Fills the chain to TRAIL_ENTRIES, then measures the projection catch-up, verification from the database and
 * of an exported bundle offline, and the latency of one student's trail over HTTP.
 */
async function measureTrail({ context, databaseUrl, auditLog, dataDir }) {
  const { CommandBus, QueryBus } = await import('@nestjs/cqrs');
  const { AuditProjector } = await load('src/modules/audit/index.js');
  const { VerifyAuditChainQuery } = await load('src/modules/audit/application/queries/verify-audit-chain.query.js');
  const { GetAuditPublicKeysQuery } = await load(
    'src/modules/audit/application/queries/get-audit-public-keys.query.js',
  );
  const { ExportAuditBundleCommand } = await load(
    'src/modules/audit/application/commands/export-audit-bundle.command.js',
  );
  const { verifyBundle } = await load('libs/audit-chain/index.js');
  const queries = context.app.get(QueryBus);
  const commands = context.app.get(CommandBus);

  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const count = async () => Number((await client.query('SELECT max(seq) AS n FROM audit_events')).rows[0].n ?? 0);
  let present = await count();
  let started = performance.now();
  const batch = 2_000;
  while (present < TRAIL_ENTRIES) {
    const size = Math.min(batch, TRAIL_ENTRIES - present);
    await auditLog.append(Array.from({ length: size }, draft));
    present += size;
  }
  const fillSeconds = (performance.now() - started) / 1000;
  await client.query('VACUUM ANALYZE audit_events, audit_event_payloads');
  console.log(
    `chain filled to ${formatRate(present)} entries (${formatRate(TRAIL_ENTRIES / fillSeconds)} entries/s in batches of ${batch})`,
  );

  started = performance.now();
  const projected = await context.app.get(AuditProjector).catchUp();
  const projectSeconds = (performance.now() - started) / 1000;
  console.log(
    `projection catch-up: ${formatRate(projected)} entries in ${projectSeconds.toFixed(1)} s (${formatRate(projected / projectSeconds)} entries/s)`,
  );

  started = performance.now();
  const verification = await queries.execute(new VerifyAuditChainQuery());
  const verifySeconds = (performance.now() - started) / 1000;
  if (!verification.ok) throw new Error(`verification failed: ${JSON.stringify(verification.problem)}`);
  console.log(
    `verify from PostgreSQL: ${formatRate(verification.checkedEntries)} entries in ${verifySeconds.toFixed(1)} s (${formatRate(verification.checkedEntries / verifySeconds)} entries/s; target ≥ 200,000)`,
  );

  const bundleDir = join(dataDir, 'bundle');
  started = performance.now();
  await commands.execute(new ExportAuditBundleCommand(bundleDir));
  const exportSeconds = (performance.now() - started) / 1000;
  const keys = (await queries.execute(new GetAuditPublicKeysQuery())).map((key) => key.publicKeyPem);
  started = performance.now();
  const offline = await verifyBundle(bundleDir, keys);
  const offlineSeconds = (performance.now() - started) / 1000;
  if (!offline.ok) throw new Error(`bundle verification failed: ${JSON.stringify(offline.problem)}`);
  console.log(
    `export bundle: ${exportSeconds.toFixed(1)} s; verify bundle offline: ${formatRate(offline.checkedEntries)} entries in ${offlineSeconds.toFixed(1)} s (${formatRate(offline.checkedEntries / offlineSeconds)} entries/s; target ≥ 200,000)`,
  );
  rmSync(bundleDir, { recursive: true, force: true });
  await client.end();

  const service = await startService({}, { databaseUrl });
  try {
    const accessToken = await adminAccessToken(service.url);
    const timings = [];
    let entries = 0;
    for (let index = 0; index < 400; index += 1) {
      const at = performance.now();
      const response = await fetch(`${service.url}/api/v1/audit/students/${pick(students)}/access`, {
        headers: { authorization: `Bearer ${accessToken}` },
      });
      if (!response.ok) throw new Error(`student trail: ${response.status}`);
      const body = await response.json();
      entries += body.items.length;
      timings.push(performance.now() - at);
    }
    timings.sort((a, b) => a - b);
    const quantile = (q) => timings[Math.min(timings.length - 1, Math.floor(q * timings.length))].toFixed(1);
    console.log(
      `one student's trail over ${formatRate(present)} entries (GET /api/v1/audit/students/{id}/access, first page, ${(entries / timings.length).toFixed(0)} entries on average): p50 ${quantile(0.5)} ms, p95 ${quantile(0.95)} ms, p99 ${quantile(0.99)} ms`,
    );
  } finally {
    await service.stop();
  }
}

async function seedStudent(databaseUrl) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const id = randomUUID();
    const connectionId = randomUUID();
    await client.query(
      `INSERT INTO roster_orgs (id, connection_id, sourced_id, source_hash, name, type)
       VALUES ($1, $2, 'sch-bench', 'h', 'Bench High', 'school')`,
      [randomUUID(), connectionId],
    );
    await client.query(
      `INSERT INTO roster_people (id, connection_id, sourced_id, source_hash, given_name, family_name, primary_role,
                                  roles, org_sourced_ids, search_text)
       VALUES ($1, $2, 'stu-bench', 'h', 'Ana', 'Lopez', 'student', '[{"role":"student","org":"sch-bench"}]',
               '["sch-bench"]', 'ana lopez')`,
      [id, connectionId],
    );
    return id;
  } finally {
    await client.end();
  }
}

/**
 * Two services on one database, one with capture off: warmed up, then measured in alternating rounds, so that
 * drift in the machine's speed falls on both alike.
 */
async function measureAuditedRead() {
  const database = await createDatabase();
  const services = {};
  try {
    for (const [label, captureEnabled] of [
      ['capture off', 'false'],
      ['audited', 'true'],
    ]) {
      services[label] = await startService(
        { NODE_ENV: 'test', AUDIT_CAPTURE_ENABLED: captureEnabled },
        { databaseUrl: database.url },
      );
    }
    const studentId = await seedStudent(database.url);
    const targets = {};
    for (const [label, service] of Object.entries(services)) {
      const accessToken = await adminAccessToken(service.url);
      targets[label] = {
        url: `${service.url}/api/v1/students/${studentId}`,
        headers: { authorization: `Bearer ${accessToken}` },
      };
      await autocannon({ ...targets[label], connections: 5, duration: 2 });
    }
    const results = Object.fromEntries(
      Object.keys(targets).map((label) => [label, { requests: 0, seconds: 0, latencies: [] }]),
    );
    const roundSeconds = Math.max(1, Math.round(HTTP_SECONDS / ROUNDS));
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const [label, target] of Object.entries(targets)) {
        const measured = await autocannon({ ...target, connections: HTTP_CONNECTIONS, duration: roundSeconds });
        if (measured.non2xx > 0) throw new Error(`${label}: ${measured.non2xx} non-2xx responses`);
        results[label].requests += measured.requests.total;
        results[label].seconds += measured.duration;
        results[label].latencies.push(measured.latency.p50);
      }
    }
    return results;
  } finally {
    for (const service of Object.values(services)) await service.stop();
    await database.drop();
  }
}

export async function run() {
  const database = await createDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'homeroom-bench-audit-'));
  const context = await startAppContext(database.url, dataDir);
  try {
    const { AuditLog } = await load('src/modules/audit/index.js');
    const { toAuditEntry, serialiseAuditEntry } = await load('src/modules/audit/domain/audit-entry.js');
    const { entryHash } = await load('libs/audit-chain/index.js');
    const auditLog = context.app.get(AuditLog);

    const append = await measureAppend({
      auditLog,
      databaseUrl: database.url,
      toAuditEntry,
      serialise: serialiseAuditEntry,
      entryHash,
    });
    console.log('append (entries/s)               chain        plain INSERT   ratio');
    console.log(
      `${WRITERS} writers, 1 entry per append   ${formatRate(append.concurrentChain).padEnd(12)} ${formatRate(append.concurrentPlain).padEnd(14)} ${(append.concurrentChain / append.concurrentPlain).toFixed(2)}`,
    );
    console.log(
      `bulk, ${BULK_BATCH} entries per append     ${formatRate(append.bulkChain).padEnd(12)} ${formatRate(append.bulkPlain).padEnd(14)} ${(append.bulkChain / append.bulkPlain).toFixed(2)}`,
    );
    await measureTrail({ context, databaseUrl: database.url, auditLog, dataDir });
  } finally {
    await context.close();
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }

  const read = await measureAuditedRead();
  const rateOf = (label) => read[label].requests / read[label].seconds;
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  console.log(`GET /api/v1/students/{id}, ${HTTP_CONNECTIONS} connections, ${ROUNDS} alternating rounds`);
  for (const label of ['capture off', 'audited']) {
    console.log(
      `  ${`${label}:`.padEnd(12)} ${formatRate(rateOf(label))} req/s (median p50 ${median(read[label].latencies)} ms)`,
    );
  }
  console.log(`ratio audited ÷ capture off: ${(rateOf('audited') / rateOf('capture off')).toFixed(2)}`);
}
