import { SystemClock } from '@app/ddd';
import { JobQueue } from '@app/queue';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { FakeOneRosterServer, generateDistrict } from '../fakes/oneroster/index.js';
import { bearer, login } from '../support/auth.js';
import { bootTestApp, type TestApp } from '../support/test-app.js';
import { createOneRosterConnection, eventually, sql, waitForRun, type RunDetails } from './sync-support.js';

const TIME_ZONE = 'America/Chicago';
const EVERY_MINUTE = { cron: '* * * * *', timeZone: TIME_ZONE };

/** A calendar date `days` away from today in the schedule's time zone. */
function chicagoDate(days: number): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: TIME_ZONE,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(new Date(Date.now() + days * 86_400_000));
}

describe('scheduled sync runs', () => {
  let app: TestApp;
  let token: string;
  let queue: JobQueue;
  let server: FakeOneRosterServer;

  beforeAll(async () => {
    app = await bootTestApp();
    token = (await login(app.url)).accessToken;
    queue = app.app.get(JobQueue);
    server = new FakeOneRosterServer({
      dataset: generateDistrict({ seed: 'scheduled', schools: 1, students: 12, teachers: 2, classes: 3 }),
      auth: { kind: 'oauth2', clientId: 'homeroom', clientSecret: 'fake-secret' },
    });
    await server.start();
  });

  afterAll(async () => {
    await server?.stop();
    await app?.close();
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  /**
   * Holds the app's clock (every `SystemClock`) still for one scenario and returns the minute tick it falls in.
   * The app's own every-minute dispatch may still fire at a minute boundary mid-scenario, but it then reads the
   * same instant, so the same tick, as the scenario's own dispatches: one more dispatch racing for it, never a
   * second tick. (Instead of waiting for a scenario to start early enough in a minute to end inside it.)
   */
  function freezeClock(): number {
    const at = Date.now();
    vi.spyOn(SystemClock.prototype, 'now').mockImplementation(() => new Date(at));
    return Math.floor(at / 60_000) * 60_000;
  }

  /** A scheduled connection whose settings were last changed ten minutes ago, so the current minute's tick is due. */
  async function scheduledConnection(name: string, fields: Record<string, unknown> = {}): Promise<string> {
    const id = await createOneRosterConnection(app.url, token, {
      name,
      baseUrl: server.baseUrlFor('1.2'),
      auth: { type: 'oauth2', tokenUrl: server.tokenUrl, clientId: 'homeroom', clientSecret: 'fake-secret' },
      schedule: EVERY_MINUTE,
      ...fields,
    });
    await sql(app.databaseUrl, `UPDATE sis_connections SET updated_at = now() - interval '10 minutes' WHERE id = $1`, [
      id,
    ]);
    return id;
  }

  async function runsOf(connectionId: string): Promise<RunDetails[]> {
    const response = await request(app.url)
      .get(`/api/v1/sis/runs?connectionId=${connectionId}`)
      .set(bearer(token))
      .expect(200);
    return response.body.items as RunDetails[];
  }

  /** Enqueues the dispatch job `times` times at once and waits until the queue has nothing waiting or running. */
  async function dispatch(times: number): Promise<void> {
    await Promise.all(Array.from({ length: times }, () => queue.enqueue('sis-sync.dispatch-scheduled-runs', {})));
    await eventually(
      async () => {
        const counts = await queue.counts();
        return counts.waiting === 0 && counts.active === 0 ? true : undefined;
      },
      10_000,
      'the queue to drain',
      50,
    );
  }

  async function lastScheduledAt(connectionId: string): Promise<number | null> {
    const [row] = await sql<{ at: Date | null }>(
      app.databaseUrl,
      'SELECT last_scheduled_at AS at FROM sis_connections WHERE id = $1',
      [connectionId],
    );
    return row?.at ? new Date(row.at).getTime() : null;
  }

  it('starts exactly one run per tick, however many dispatches race for it', async () => {
    const tick = freezeClock();
    const connectionId = await scheduledConnection('Scheduled district');

    await dispatch(2);
    const [first, ...others] = await runsOf(connectionId);
    expect(others).toEqual([]);
    expect(first).toMatchObject({ trigger: 'schedule', mode: 'full', dryRun: false, requestedBy: null });
    const settled = await waitForRun(app.url, token, first.id);
    expect(settled.state, JSON.stringify(settled)).toBe('succeeded');
    expect(await lastScheduledAt(connectionId)).toBe(tick);

    // The run is over, so only the tick's claim stands between these dispatches and a second run.
    await dispatch(3);
    const runs = await runsOf(connectionId);
    expect(runs.map((run) => run.id)).toEqual([first.id]);
  });

  it('skips a tick inside a blackout window, and claims it so it is not retried', async () => {
    const tick = freezeClock();
    const connectionId = await scheduledConnection('Summer rollover district', {
      blackoutWindows: [{ from: chicagoDate(-1), to: chicagoDate(1), reason: 'summer rollover' }],
    });
    await dispatch(2);
    expect(await runsOf(connectionId)).toEqual([]);
    expect(await lastScheduledAt(connectionId)).toBe(tick);

    // A window that ended yesterday does not hold back the next tick.
    const past = await scheduledConnection('Back from summer district', {
      blackoutWindows: [{ from: chicagoDate(-10), to: chicagoDate(-1), reason: 'summer rollover' }],
    });
    await dispatch(1);
    const [run] = await runsOf(past);
    expect(run).toMatchObject({ trigger: 'schedule' });
    expect((await waitForRun(app.url, token, run.id)).state).toBe('succeeded');
  });

  it('leaves a connection without a schedule, or a disabled one, alone', async () => {
    freezeClock();
    const unscheduled = await scheduledConnection('Manual district', { schedule: null });
    const disabled = await scheduledConnection('Disabled district');
    await request(app.url)
      .patch(`/api/v1/sis/connections/${disabled}`)
      .set(bearer(token))
      .send({ enabled: false })
      .expect(200);
    await sql(app.databaseUrl, `UPDATE sis_connections SET updated_at = now() - interval '10 minutes' WHERE id = $1`, [
      disabled,
    ]);
    await dispatch(2);
    expect(await runsOf(unscheduled)).toEqual([]);
    expect(await runsOf(disabled)).toEqual([]);
  });
});
