import { JobQueue } from '@app/queue';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeOneRosterServer, generateDistrict } from '../fakes/oneroster/index.js';
import { login } from '../support/auth.js';
import { bootTestApp, TEST_JWT_SECRET, type TestApp } from '../support/test-app.js';
import {
  createOneRosterConnection,
  eventually,
  getRun,
  mirrorSnapshot,
  sql,
  startRun,
  waitForRun,
  type RunDetails,
} from './sync-support.js';

const LEASE_SECONDS = 3;
const DISTRICT = { schools: 2, students: 30, teachers: 4, classes: 6 };
/** The OneRoster REST collection each mirror entity is read from. */
const COLLECTION: Record<string, string> = {
  orgs: 'orgs',
  academicSessions: 'academicSessions',
  courses: 'courses',
  classes: 'classes',
  people: 'users',
  demographics: 'demographics',
  enrollments: 'enrollments',
};

interface Worker {
  process: ChildProcess;
  output: () => string;
}

/**
 * A run's worker dies (SIGKILL) or stalls half-way; another worker process resumes the run from its checkpoint
 * once the lease lapses, and the mirror ends up exactly as a clean run would leave it.
 */
// Several worker processes and lease waits: generous limits, so a loaded CI machine does not fail them.
describe('sync runs survive worker crashes (API + separate worker processes on Redis)', { timeout: 150_000 }, () => {
  const secretsKey = randomBytes(32).toString('base64');
  let api: TestApp;
  let token: string;
  let server: FakeOneRosterServer;
  const workers: Worker[] = [];

  function startWorker(): Promise<Worker> {
    const child = spawn(process.execPath, [join(import.meta.dirname, '../../dist/src/worker.js')], {
      env: {
        ...process.env,
        NODE_ENV: 'test',
        LOG_LEVEL: 'info',
        DATABASE_URL: api.databaseUrl,
        DATABASE_POOL_MAX: '5',
        REDIS_URL: process.env['REDIS_URL_TEST'] || 'redis://127.0.0.1:6379',
        REDIS_PREFIX: api.redisPrefix!,
        JWT_SECRET: TEST_JWT_SECRET,
        SIS_SECRETS_KEY: secretsKey,
        SIS_SYNC_RUN_LEASE_SECONDS: String(LEASE_SECONDS),
        METRICS_HOST: '127.0.0.1',
        METRICS_PORT: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const worker = { process: child, output: () => output };
    workers.push(worker);
    return eventually(
      () => {
        if (child.exitCode !== null) throw new Error(`the worker exited with ${child.exitCode}:\n${output}`);
        return output.includes('Processing') ? worker : undefined;
      },
      30_000,
      'the worker to start',
    );
  }

  async function stop(worker: Worker, signal: NodeJS.Signals): Promise<void> {
    if (worker.process.exitCode !== null || worker.process.signalCode !== null) return;
    const exited = new Promise((resolve) => worker.process.once('exit', resolve));
    worker.process.kill(signal);
    await exited;
  }

  beforeAll(async () => {
    api = await bootTestApp({
      redis: true,
      role: 'api',
      env: { SIS_SYNC_RUN_LEASE_SECONDS: String(LEASE_SECONDS), SIS_SECRETS_KEY: secretsKey },
    });
    token = (await login(api.url)).accessToken;
    server = new FakeOneRosterServer({
      dataset: generateDistrict({ seed: 'crash-resume', ...DISTRICT }),
      auth: { kind: 'oauth2', clientId: 'homeroom', clientSecret: 'fake-secret' },
    });
    await server.start();
  }, 60_000);

  afterAll(async () => {
    for (const worker of workers) {
      if (worker.process.exitCode === null && worker.process.signalCode === null) worker.process.kill('SIGCONT');
      await stop(worker, 'SIGTERM');
    }
    await server?.stop();
    await api?.close();
  }, 60_000);

  function connect(name: string): Promise<string> {
    return createOneRosterConnection(api.url, token, {
      name,
      baseUrl: server.baseUrlFor('1.2'),
      auth: { type: 'oauth2', tokenUrl: server.tokenUrl, clientId: 'homeroom', clientSecret: 'fake-secret' },
      // Small serial pages, so a slowed server makes the run last several seconds.
      pageSize: 10,
      concurrency: 1,
    });
  }

  /** The run, once it pulled at least two entities and is still pulling (counts appear per pulled entity). */
  function midPull(runId: string): Promise<RunDetails> {
    return eventually(
      async () => {
        const run = await getRun(api.url, token, runId);
        if (run.state !== 'running' && run.state !== 'queued') {
          throw new Error(`the run settled before it could be interrupted: ${JSON.stringify(run)}`);
        }
        const pulled = Object.keys(run.counts).length;
        return pulled >= 2 && !('enrollments' in run.counts) ? run : undefined;
      },
      30_000,
      'the run to be half-way through its pull',
      50,
    );
  }

  async function leaseOf(
    runId: string,
  ): Promise<{ owner: string | null; expired: boolean; attempt: number; state: string }> {
    const [row] = await sql<{ owner: string | null; expired: boolean; attempt: number; state: string }>(
      api.databaseUrl,
      `SELECT lease_owner AS owner, coalesce(lease_expires_at < now(), true) AS expired, attempt, state
         FROM sis_sync_runs WHERE id = $1`,
      [runId],
    );
    return row;
  }

  /** The mirror a clean, uninterrupted run of the same dataset leaves (on a connection of its own). */
  let clean:
    | { snapshot: Awaited<ReturnType<typeof mirrorSnapshot>>; counts: Record<string, Record<string, number>> }
    | undefined;
  async function cleanMirror(): Promise<NonNullable<typeof clean>> {
    if (!clean) {
      server.clearFaults();
      const connectionId = await connect('clean run');
      const run = await waitForRun(api.url, token, await startRun(api.url, token, connectionId), 60_000);
      expect(run.state, JSON.stringify(run)).toBe('succeeded');
      clean = { snapshot: await mirrorSnapshot(api.databaseUrl, connectionId), counts: run.counts };
    }
    return clean;
  }

  function expectSameAsClean(
    run: RunDetails,
    snapshot: Awaited<ReturnType<typeof mirrorSnapshot>>,
    reference: NonNullable<typeof clean>,
  ): void {
    const dataset = server.dataset;
    expect(snapshot['roster_people']).toHaveLength(dataset.users.length);
    expect(snapshot['roster_enrollments']).toHaveLength(dataset.enrollments.length);
    for (const [table, rows] of Object.entries(reference.snapshot)) expect(snapshot[table], table).toEqual(rows);
    // Counted once, not once per worker that touched the run.
    for (const [entity, counts] of Object.entries(reference.counts)) {
      expect(run.counts[entity]?.['created'], entity).toBe(counts['created']);
      expect(run.counts[entity]?.['pulled'], entity).toBe(counts['pulled']);
    }
  }

  it('a worker killed half-way: another worker resumes from the checkpoint and the mirror equals a clean run', async () => {
    const first = await startWorker();
    const connectionId = await connect('crashing district');
    server.injectFault({ kind: 'slow', delayMs: 100 });
    const runId = await startRun(api.url, token, connectionId);

    const interrupted = await midPull(runId);
    const pulledBeforeCrash = Object.keys(interrupted.counts);
    await stop(first, 'SIGKILL');
    const afterCrash = await leaseOf(runId);
    expect(afterCrash).toMatchObject({ state: 'running', attempt: 1 });
    expect(afterCrash.owner).toContain(`:${first.process.pid}:`);

    // Nothing moves while no worker is alive; once the lease lapses, a new worker's start-up sweep takes the run.
    await eventually(
      async () => ((await leaseOf(runId)).expired ? true : undefined),
      (LEASE_SECONDS + 5) * 1000,
      'the lease to lapse',
    );
    expect((await getRun(api.url, token, runId)).state).toBe('running');
    const requestsBeforeResume = server.requests.length;
    const second = await startWorker();
    const resumed = await waitForRun(api.url, token, runId, 60_000);
    server.clearFaults();
    expect(resumed.state, `${JSON.stringify(resumed)}\n${second.output()}`).toBe('succeeded');
    const details = await getRun(api.url, token, runId);
    expect(details.attempt).toBe(2);

    // Resumed, not restarted: the entities pulled before the crash were not fetched again.
    const resumedPaths = server.requests.slice(requestsBeforeResume).map((entry) => entry.path.split('/'));
    for (const entity of pulledBeforeCrash) {
      expect(
        resumedPaths.filter((segments) => segments.includes(COLLECTION[entity])),
        entity,
      ).toEqual([]);
    }
    expect(resumedPaths.some((segments) => segments.includes('enrollments'))).toBe(true);

    expectSameAsClean(details, await mirrorSnapshot(api.databaseUrl, connectionId), await cleanMirror());
  });

  it('two workers racing for one run never both apply it', async () => {
    const live = workers.filter((worker) => worker.process.exitCode === null && worker.process.signalCode === null);
    while (live.length < 2) live.push(await startWorker());
    const reference = await cleanMirror();
    const queue = api.app.get(JobQueue);

    // Duplicate deliveries: every worker is handed the same run several times while it runs.
    const connectionId = await connect('duplicated district');
    server.injectFault({ kind: 'slow', delayMs: 40 });
    const runId = await startRun(api.url, token, connectionId);
    await Promise.all(
      [1, 2, 3, 4, 5, 6].map((copy) =>
        queue.enqueue('sis-sync.run', { runId }, { jobId: `duplicate-${runId}-${copy}` }),
      ),
    );
    const run = await waitForRun(api.url, token, runId, 60_000);
    server.clearFaults();
    expect(run.state, JSON.stringify(run)).toBe('succeeded');
    const details = await getRun(api.url, token, runId);
    expect(details.attempt, 'only one worker ever claimed the run').toBe(1);
    expectSameAsClean(details, await mirrorSnapshot(api.databaseUrl, connectionId), reference);
  });

  it('a worker that stalls past its lease and wakes up while another finishes the run does not apply it again', async () => {
    const live = workers.filter((worker) => worker.process.exitCode === null && worker.process.signalCode === null);
    while (live.length < 2) live.push(await startWorker());
    const reference = await cleanMirror();
    const queue = api.app.get(JobQueue);

    const connectionId = await connect('stalling district');
    server.injectFault({ kind: 'slow', delayMs: 100 });
    const runId = await startRun(api.url, token, connectionId);
    await midPull(runId);
    const { owner } = await leaseOf(runId);
    const stalled = live.find((worker) => owner?.includes(`:${worker.process.pid}:`));
    expect(stalled, `lease owner ${owner}`).toBeDefined();
    const other = live.find((worker) => worker !== stalled)!;

    // The owner freezes (a long GC pause, a hung VM): its lease lapses and the other worker takes the run over.
    stalled!.process.kill('SIGSTOP');
    try {
      await eventually(
        async () => ((await leaseOf(runId)).expired ? true : undefined),
        (LEASE_SECONDS + 5) * 1000,
        'the lease to lapse',
      );
      await queue.enqueue('sis-sync.run', { runId }, { jobId: `takeover-${runId}` });
      await eventually(
        async () => {
          const lease = await leaseOf(runId);
          return lease.attempt === 2 && lease.owner?.includes(`:${other.process.pid}:`) ? true : undefined;
        },
        // The frozen worker may have taken the job off the queue itself; BullMQ's stalled-job check (30 s) or the
        // every-minute stalled-run sweep then hands it to the other worker.
        75_000,
        'the other worker to take the run over',
      );
    } finally {
      // It wakes up believing it still owns the run, while the other worker is still pulling.
      stalled!.process.kill('SIGCONT');
    }
    const run = await waitForRun(api.url, token, runId, 60_000);
    server.clearFaults();
    expect(run.state, `${JSON.stringify(run)}\n${stalled!.output()}`).toBe('succeeded');
    const details = await getRun(api.url, token, runId);
    expect(details.attempt).toBe(2);
    expectSameAsClean(details, await mirrorSnapshot(api.databaseUrl, connectionId), reference);
    // The woken worker did not settle or re-open the run behind the other's back.
    await new Promise((resolve) => setTimeout(resolve, LEASE_SECONDS * 1000));
    const later = await getRun(api.url, token, runId);
    expect(later).toMatchObject({ state: 'succeeded', attempt: 2, counts: details.counts });
  });
});
