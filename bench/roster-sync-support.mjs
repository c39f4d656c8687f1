// Probes for the roster-sync benchmarks (OneRoster, PowerSchool): the app process booted by support.mjs (pid,
// database, memory, CPU), a small HTTP client for the SIS sync API, a watcher that follows one sync run to the
// end while it samples what PostgreSQL is executing for the app, and the report helpers both benchmarks print with.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { ADMIN_EMAIL, ADMIN_PASSWORD, formatRate, startService } from './support.mjs';

export const SETTLED = new Set(['held', 'succeeded', 'succeeded_with_issues', 'failed', 'cancelled']);
export const ENTITIES = ['orgs', 'academicSessions', 'courses', 'classes', 'people', 'demographics', 'enrollments'];

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

// Processes ------------------------------------------------------------------------------------------------

function childAppPids() {
  const pids = new Set();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('dist/src/main.js')) pids.add(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/**
 * `startService` of support.mjs (same boot, same scratch database), plus what this benchmark needs to know about
 * the app process it spawned: its pid (memory, CPU) and its DATABASE_URL (read from /proc/<pid>/environ).
 */
export async function startAppService(extraEnv, options = {}) {
  const before = childAppPids();
  const service = await startService(extraEnv, options);
  try {
    const started = [...childAppPids()].filter((pid) => !before.has(pid));
    if (started.length !== 1) throw new Error(`expected one new app process, found ${started.length}`);
    const pid = started[0];
    if (options.embedded) return { ...service, pid, ...embeddedDatabaseOf(service.dataDir) };
    const environ = Object.fromEntries(
      readFileSync(`/proc/${pid}/environ`, 'utf8')
        .split('\0')
        .filter(Boolean)
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    if (service.database !== 'PostgreSQL' || !environ.DATABASE_URL) {
      throw new Error(
        `the roster-sync benchmark needs PostgreSQL at 127.0.0.1:5432 (the app started on ${service.database})`,
      );
    }
    const databaseUrl = environ.DATABASE_URL;
    const databaseName = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
    if (!/bench|test/.test(databaseName)) throw new Error(`refusing to benchmark against database "${databaseName}"`);
    return { ...service, pid, databaseUrl, databaseName };
  } catch (error) {
    await service.stop();
    throw error;
  }
}

/**
 * The embedded default's server, read from its data directory as an operator would for pg_dump: the superuser's
 * password from postgres.pgpass, the port from the postmaster's pid file.
 */
function embeddedDatabaseOf(dataDir) {
  const password = readFileSync(join(dataDir, 'postgres.pgpass'), 'utf8')
    .split('\n')
    .map((line) => line.split(':'))
    .find((fields) => fields[3] === 'homeroom_admin')?.[4];
  const port = readFileSync(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8')
    .split('\n')[3]
    ?.trim();
  const url = (database) => `postgres://homeroom_admin:${password}@127.0.0.1:${port}/${database}`;
  return { databaseUrl: url('homeroom'), databaseName: 'homeroom', adminUrl: url('postgres') };
}

/**
 * Boots the app on a fresh scratch database (`startAppService` with `extraEnv`; `options.embedded`: on the
 * embedded default instead), logs in, runs `body` with `{ service, api, idleRssKb }`, and stops the app whatever
 * happens.
 */
export async function withAppService(extraEnv, body, options = {}) {
  const service = await startAppService(extraEnv, options);
  try {
    const api = new SisApi(service.url);
    await api.login();
    return await body({ service, api, idleRssKb: memoryOf(service.pid).rssKb });
  } finally {
    await stopAppService(service);
  }
}

/**
 * `service.stop()` (SIGTERM, wait, drop the database), but a SIGKILL after `graceMs` when the app does not exit:
 * an app in the middle of applying a run waits for it to finish before it shuts down.
 */
export async function stopAppService(service, graceMs = 10_000) {
  const stopping = service.stop();
  const timer = setTimeout(() => {
    try {
      process.kill(service.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }, graceMs);
  try {
    await stopping;
  } finally {
    clearTimeout(timer);
  }
}

/** VmRSS and VmHWM (peak RSS since start or since the last `resetPeakRss`) in kB. */
export function memoryOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { rssKb: field('VmRSS'), peakKb: field('VmHWM') };
}

/** Resets VmHWM to the current RSS (Linux: `echo 5 > /proc/<pid>/clear_refs`); false when not allowed. */
export function resetPeakRss(pid) {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** User + system CPU seconds a process has used so far (0 when it is gone or unreadable). */
export function cpuSecondsOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

// HTTP -----------------------------------------------------------------------------------------------------

export class SisApi {
  constructor(url) {
    this.url = url;
    this.token = null;
  }

  async login() {
    const response = await fetch(`${this.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: ADMIN_EMAIL, password: ADMIN_PASSWORD }),
    });
    if (!response.ok) throw new Error(`login failed: ${response.status} ${await response.text()}`);
    this.token = (await response.json()).accessToken;
  }

  async request(method, path, { json, form, expect } = {}) {
    const headers = { authorization: `Bearer ${this.token}` };
    let body;
    if (json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(json);
    } else if (form !== undefined) {
      body = form;
    }
    const response = await fetch(`${this.url}${path}`, { method, headers, body });
    const text = await response.text();
    if (expect !== undefined && response.status !== expect) {
      throw new Error(`${method} ${path}: expected ${expect}, got ${response.status} ${text.slice(0, 2000)}`);
    }
    return text ? JSON.parse(text) : null;
  }

  createConnection(fields) {
    return this.request('POST', '/api/v1/sis/connections', { json: fields, expect: 201 });
  }

  /**
   * `createConnection`, then a check that the saved `*` thresholds bound nothing (a benchmark run must never be
   * held for review). Resolves to the connection as the API shows it.
   */
  async createUnheldConnection(fields) {
    const connection = await this.createConnection(fields);
    for (const [action, rule] of Object.entries(connection.thresholds?.['*'] ?? {})) {
      if (rule.maxCount !== undefined || rule.maxPercent !== undefined) {
        throw new Error(
          `the benchmark connection would still hold ${action}s: ${JSON.stringify(connection.thresholds)}`,
        );
      }
    }
    return connection;
  }

  async startSync(connectionId, mode) {
    const accepted = await this.request('POST', `/api/v1/sis/connections/${connectionId}/sync`, {
      json: { mode },
      expect: 202,
    });
    return accepted.runId;
  }

  async importCsv(zip, fileName) {
    const form = new FormData();
    form.append('file', new Blob([zip], { type: 'application/zip' }), fileName);
    const accepted = await this.request('POST', '/api/v1/sis/imports', { form, expect: 202 });
    return accepted.runId;
  }

  run(runId) {
    return this.request('GET', `/api/v1/sis/runs/${runId}`, { expect: 200 });
  }
}

// What PostgreSQL executes for the app ---------------------------------------------------------------------

/** A label for a statement of the sync engine (see src/modules/roster/infrastructure/postgres-roster-mirror.ts). */
export function statementLabel(query) {
  const sql = query.replace(/\s+/g, ' ').trim();
  if (/^INSERT INTO roster_staged_records/i.test(sql)) return 'stage: INSERT roster_staged_records (jsonb page)';
  if (/^WITH (chunk|slice) AS/i.test(sql)) {
    // pg_stat_activity keeps the first 1024 bytes (track_activity_query_size): find the table early in the text.
    const table =
      /LATERAL \(SELECT t FROM (roster_\w+) t/i.exec(sql)?.[1] ??
      /FROM (roster_\w+) t JOIN chunk/i.exec(sql)?.[1] ??
      /INSERT INTO (roster_\w+) AS t/i.exec(sql)?.[1];
    return `apply: upsert chunk into ${table ?? 'a mirror table'}`;
  }
  if (/^WITH victims AS/i.test(sql)) return 'deactivate: chunk UPDATE';
  if (/count\(\*\) FILTER/i.test(sql) || /action IS NOT NULL GROUP BY action/i.test(sql))
    return 'review: preview counts/samples';
  if (/array_agg\(t\.sourced_id ORDER BY t\.sourced_id\)/i.test(sql)) return 'review: preview deactivations';
  if (/^DELETE FROM roster_staged_records/i.test(sql)) return 'discard staged records';
  if (/source_aliases/i.test(sql) && /UNION ALL/i.test(sql)) return 'pull: person aliases';
  if (/legacy AS/i.test(sql)) return 'review: id remap check';
  if (/sis_import_file_chunks/i.test(sql)) return 'import file store (bytea chunks)';
  if (/sis_sync_run|sis_sync_runs/i.test(sql)) return 'run bookkeeping (sis_sync_runs/pulls/issues)';
  if (/^(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)/i.test(sql)) return 'transaction control';
  return `other: ${sql.slice(0, 60)}`;
}

/**
 * Polls pg_stat_activity for the app's database (from another database, so it never samples itself) and weighs
 * each observation by the time since the previous one: roughly where the database spends the run's wall time.
 */
export class ActivitySampler {
  constructor(adminUrl, databaseName, intervalMs = 50) {
    this.adminUrl = adminUrl;
    this.databaseName = databaseName;
    this.intervalMs = intervalMs;
    this.labels = new Map();
    this.waits = new Map();
    this.busyMs = 0;
    this.totalMs = 0;
    this.backendCpu = new Map();
    this.statements = new Map();
    this.running = false;
  }

  async start() {
    this.client = new pg.Client({ connectionString: this.adminUrl });
    await this.client.connect();
    this.running = true;
    await this.sample(0);
    this.loop = (async () => {
      let last = performance.now();
      while (this.running) {
        await new Promise((resolve) => setTimeout(resolve, this.intervalMs));
        const now = performance.now();
        await this.sample(now - last);
        last = now;
      }
    })();
  }

  async stop() {
    this.running = false;
    await this.loop;
    await this.sample(0);
    await this.client.end();
    let cpu = 0;
    for (const { first, last } of this.backendCpu.values()) cpu += last - first;
    const durations = new Map();
    for (const { label, ms } of this.statements.values()) {
      if (!durations.has(label)) durations.set(label, []);
      durations.get(label).push(ms);
    }
    const longest = [...durations.entries()]
      .map(([label, values]) => {
        values.sort((a, b) => a - b);
        return { label, count: values.length, median: values[Math.floor(values.length / 2)], max: values.at(-1) };
      })
      .filter((entry) => entry.max >= 500)
      .sort((a, b) => b.max * b.count - a.max * a.count);
    return {
      longest,
      labels: [...this.labels.entries()].sort((a, b) => b[1] - a[1]),
      waits: [...this.waits.entries()].sort((a, b) => b[1] - a[1]),
      busyMs: this.busyMs,
      totalMs: this.totalMs,
      backendCpuSeconds: cpu,
    };
  }

  async sample(weightMs) {
    const { rows } = await this.client.query(
      `SELECT pid, state, wait_event_type, wait_event, query, query_start,
              extract(epoch FROM clock_timestamp() - query_start) * 1000 AS age_ms FROM pg_stat_activity
        WHERE datname = $1 AND backend_type = 'client backend'`,
      [this.databaseName],
    );
    for (const row of rows) {
      // CPU of every backend that serves the app's database; a backend first seen mid-run counts from zero.
      const seconds = cpuSecondsOf(row.pid);
      const known = this.backendCpu.get(row.pid);
      if (known) known.last = seconds;
      else this.backendCpu.set(row.pid, { first: this.totalMs === 0 && weightMs === 0 ? seconds : 0, last: seconds });
    }
    if (weightMs === 0) return;
    this.totalMs += weightMs;
    let busy = false;
    for (const row of rows) {
      let label;
      if (row.state === 'active') {
        busy = true;
        label = statementLabel(row.query ?? '');
        // How long each statement has been running when seen: durations of the slow ones (fast ones are missed).
        this.statements.set(`${row.pid}@${row.query_start?.toISOString()}`, { label, ms: Number(row.age_ms) });
        const wait = row.wait_event_type ? `${row.wait_event_type}:${row.wait_event}` : 'CPU (no wait event)';
        this.waits.set(wait, (this.waits.get(wait) ?? 0) + weightMs);
      } else if (row.state === 'idle in transaction') {
        label = 'idle in transaction (app works between statements)';
      } else {
        continue;
      }
      this.labels.set(label, (this.labels.get(label) ?? 0) + weightMs);
    }
    if (busy) this.busyMs += weightMs;
  }
}

// Following a run ------------------------------------------------------------------------------------------

function appliedOf(counts) {
  if (!counts) return 0;
  return (
    (counts.created ?? 0) +
    (counts.updated ?? 0) +
    (counts.restored ?? 0) +
    (counts.unchanged ?? 0) +
    (counts.skipped ?? 0)
  );
}

/** What a run is doing, judged from its state and counts (pulled per entity, then applied per entity). */
function phaseOf(view, entities) {
  if (!view) return 'request (upload / create run)';
  if (view.state === 'queued') return 'queued';
  if (SETTLED.has(view.state)) return 'settled';
  const counts = view.counts ?? {};
  const pulling = entities.find((entity) => counts[entity]?.pulled === undefined);
  if (pulling) return `pull ${pulling}`;
  if (!entities.some((entity) => appliedOf(counts[entity]) > 0)) return 'review (preview, holds)';
  const applying = entities.find((entity) => appliedOf(counts[entity]) < (counts[entity]?.pulled ?? 0));
  return applying ? `apply ${applying}` : 'deactivate + settle';
}

/**
 * Runs `start` (which resolves to a run id) and follows the run until it settles or `timeoutMs` passes. Returns
 * its wall time (from calling `start` to the run's `finishedAt`), the app's peak RSS over that time,
 * a phase timeline, CPU seconds per process and what PostgreSQL executed. A run still going at the deadline is
 * returned with `timedOut: true` and its progress (it cannot be cancelled once it applies: stop the app).
 *
 * `analyzeStagedAfterPull` (a what-if, off by default): once every entity is pulled, the benchmark runs
 * `ANALYZE roster_staged_records` on the app's database, giving the planner statistics for the change set.
 */
export async function measureRun({
  api,
  service,
  adminUrl,
  start,
  entities = ENTITIES,
  pollMs = 200,
  timeoutMs,
  analyzeStagedAfterPull = false,
}) {
  const peakReset = resetPeakRss(service.pid);
  const startedEpochMs = Date.now();
  const before = memoryOf(service.pid);
  let sampledPeakKb = before.rssKb;
  const sampler = new ActivitySampler(adminUrl, service.databaseName);
  await sampler.start();
  const appCpu0 = cpuSecondsOf(service.pid);
  const benchCpu0 = process.cpuUsage();
  const phases = new Map();
  const t0 = performance.now();
  let phase = phaseOf(null, entities);
  let last = t0;
  const note = (now, next) => {
    phases.set(phase, (phases.get(phase) ?? 0) + (now - last));
    phase = next;
    last = now;
  };
  let view;
  let requestMs;
  let activity;
  let timedOut = false;
  let analyzed = null;
  try {
    const runId = await start();
    requestMs = performance.now() - t0;
    for (;;) {
      view = await api.run(runId);
      const now = performance.now();
      sampledPeakKb = Math.max(sampledPeakKb, memoryOf(service.pid).rssKb);
      note(now, phaseOf(view, entities));
      if (SETTLED.has(view.state)) break;
      if (now - t0 > timeoutMs) {
        timedOut = true;
        break;
      }
      if (analyzeStagedAfterPull && analyzed === null && !phase.startsWith('pull') && view.state === 'running') {
        const startedAnalyze = performance.now();
        const client = new pg.Client({ connectionString: service.databaseUrl });
        await client.connect();
        try {
          await client.query('ANALYZE roster_staged_records');
        } finally {
          await client.end();
        }
        analyzed = { atMs: startedAnalyze - t0, tookMs: performance.now() - startedAnalyze };
        continue;
      }
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  } finally {
    activity = await sampler.stop();
  }
  // The app runs on this machine, so its clock is this process's: a settled run's `finishedAt` ends the wall time
  // exactly, where the poll that first sees it settled comes up to `pollMs` (and a final sample) later.
  const finishedEpochMs = view?.finishedAt ? Date.parse(view.finishedAt) : Number.NaN;
  const wallMs =
    !timedOut && finishedEpochMs >= startedEpochMs ? finishedEpochMs - startedEpochMs : performance.now() - t0;
  const benchCpu = process.cpuUsage(benchCpu0);
  const after = memoryOf(service.pid);
  const counts = Object.values(view.counts ?? {});
  const records = counts.reduce((sum, entity) => sum + (entity.pulled ?? 0), 0);
  const applied = counts.reduce((sum, entity) => sum + appliedOf(entity), 0);
  return {
    run: view,
    timedOut,
    analyzed,
    wallMs,
    requestMs,
    records,
    applied,
    rate: records / (wallMs / 1000),
    rssBeforeKb: before.rssKb,
    peakRssKb: peakReset ? Math.max(after.peakKb, sampledPeakKb) : sampledPeakKb,
    peakRssSource: peakReset ? 'VmHWM, reset before each run' : 'sampled VmRSS',
    phases: [...phases.entries()].filter(([name]) => name !== 'settled'),
    cpu: {
      app: cpuSecondsOf(service.pid) - appCpu0,
      postgres: activity.backendCpuSeconds,
      bench: (benchCpu.user + benchCpu.system) / 1e6,
    },
    activity,
  };
}

// Report ---------------------------------------------------------------------------------------------------

export const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
export const megabytes = (kb) => `${Math.round(kb / 1024)} MB`;
export const percent = (value) => `${(value * 100).toFixed(1)} %`;
export const count = (value) => Number(value).toLocaleString('en-US');
export const log = (message) => console.log(`  · ${message}`);
export const verdict = (ok) => (ok ? 'met' : 'MISSED');

export function printTable(rows, widths) {
  for (const row of rows) console.log(row.map((cell, index) => String(cell).padEnd(widths[index] ?? 14)).join(''));
}

/** How far a run got: entities pulled, pulled records applied. */
export function progress(measured, entities = ENTITIES) {
  const counts = measured.run.counts ?? {};
  const pulled = entities.filter((entity) => counts[entity]?.pulled !== undefined).length;
  return `${pulled}/${entities.length} entities pulled, ${count(measured.applied)} of ${count(measured.records)} pulled records applied`;
}

/**
 * A run that finished must have succeeded (and, given `expectedCreated` — records per entity — created them all:
 * a shortfall is logged as a warning); one that timed out is reported with its progress and `false` returned.
 */
export function checkRun(label, measured, expectedCreated) {
  const { run } = measured;
  if (measured.timedOut) {
    log(`${label}: still ${run.state} after ${seconds(measured.wallMs)} (${progress(measured)})`);
    return false;
  }
  if (!['succeeded', 'succeeded_with_issues'].includes(run.state)) {
    throw new Error(
      `${label}: run ${run.id} ended ${run.state}: ${run.errorCode ?? ''} ${run.errorMessage ?? ''} ${JSON.stringify(run.holdReasons)}`,
    );
  }
  for (const [entity, records] of Object.entries(expectedCreated ?? {})) {
    const created = run.counts?.[entity]?.created ?? 0;
    if (created !== records) log(`WARNING ${label}: ${count(created)} ${entity} created, expected ${count(records)}`);
  }
  if (run.issueCount > 0) log(`WARNING ${label}: ${run.issueCount} issue(s) recorded`);
  log(
    `${label}: ${seconds(measured.wallMs)}, ${formatRate(measured.rate)} records/s, app peak RSS ${megabytes(measured.peakRssKb)}`,
  );
  return true;
}

/** Wall time and rate of a run, or "> limit" and an upper bound when it did not finish. */
export function runFigures(measured) {
  if (!measured) return ['not run', '', '', ''];
  const wall = measured.timedOut ? `> ${seconds(measured.wallMs)}` : seconds(measured.wallMs);
  const rate = measured.timedOut ? `< ${formatRate(measured.rate)}` : formatRate(measured.rate);
  return [count(measured.records), wall, rate, megabytes(measured.peakRssKb)];
}

/** The baseline's rows, INSERT time and rate per scratch table. */
export function printBaselineTables(baseline) {
  printTable(
    [
      ['  table', 'rows', 'INSERT time', 'rows/s'],
      ...baseline.results.map((result) => [
        `  ${result.table}`,
        count(result.records),
        seconds(result.ms),
        formatRate(result.records / (result.ms / 1000)),
      ]),
    ],
    [34, 12, 14, 12],
  );
}

/** Where a run's wall time went: phases, CPU per process, what PostgreSQL was executing. */
export function printRunDetail(title, measured, entities = ENTITIES) {
  if (!measured) return;
  const wall = measured.wallMs;
  const status = measured.timedOut
    ? `DID NOT FINISH within ${seconds(wall)}: ${progress(measured, entities)}`
    : `${seconds(wall)} wall`;
  console.log(
    `\n${title}: ${status}; run ${measured.run.id}, startedAt→finishedAt ${measured.run.durationMs ?? '–'} ms`,
  );
  if (measured.analyzed) {
    console.log(
      `  what-if: ANALYZE roster_staged_records at ${seconds(measured.analyzed.atMs)} took ${seconds(measured.analyzed.tookMs)}`,
    );
  }
  const polledMs = measured.phases.reduce((sum, [, ms]) => sum + ms, 0) || 1;
  const counts = measured.run.counts ?? {};
  const perEntity = entities
    .filter((entity) => counts[entity])
    .map((entity) => {
      const c = counts[entity];
      return `${entity} ${count(c.pulled)}→${count(c.created + c.updated + c.restored + c.unchanged + c.skipped)}`;
    });
  console.log(`  pulled→applied: ${perEntity.join(', ')}`);
  printTable(
    [
      ['  phase (from polled run counts, so up to one poll late)', 'time', 'share'],
      ...measured.phases.map(([name, ms]) => [`  ${name}`, seconds(ms), percent(ms / polledMs)]),
    ],
    [44, 12, 10],
  );
  const { activity, cpu } = measured;
  console.log(
    `  CPU: app process ${cpu.app.toFixed(1)} s, its PostgreSQL backends ${cpu.postgres.toFixed(1)} s, ` +
      `benchmark process (fake SIS) ${cpu.bench.toFixed(1)} s; some statement running ${percent(activity.busyMs / Math.max(1, activity.totalMs))} of the time`,
  );
  printTable(
    [
      ['  PostgreSQL (pg_stat_activity sampled every 50 ms)', 'time', 'share'],
      ...activity.labels.slice(0, 8).map(([label, ms]) => [`  ${label}`, seconds(ms), percent(ms / wall)]),
    ],
    [66, 12, 10],
  );
  if (activity.longest.length > 0) {
    console.log('  statements caught running (how many, median and longest time seen running):');
    for (const entry of activity.longest.slice(0, 4)) {
      console.log(`    ${entry.label}: ${entry.count}, ${seconds(entry.median)}, ${seconds(entry.max)}`);
    }
  }
  const waits = activity.waits
    .slice(0, 4)
    .map(([wait, ms]) => `${wait} ${percent(ms / Math.max(1, activity.busyMs))}`)
    .join(', ');
  if (waits) console.log(`  while a statement ran: ${waits}`);
}

export async function serverVersion(adminUrl) {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return (await client.query('SHOW server_version')).rows[0].server_version;
  } finally {
    await client.end();
  }
}
