import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RosterEntity, RosterRecord } from '@app/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { SisSourceError, type SisRecordIssue } from '../application/ports/sis-source.port.js';
import type { SisConnectionSettings } from '../domain/sis-connection.js';
import { OneRosterRestSisSource, concurrencyAt } from './oneroster-rest.sis-source.js';

const ref = (sourcedId: string) => ({ href: `https://sis/${sourcedId}`, sourcedId, type: 'x' });
const user = (sourcedId: string, role: string, orgs: string[]) => ({
  sourcedId,
  status: 'active',
  dateLastModified: '2026-01-05T10:00:00Z',
  enabledUser: 'true',
  username: sourcedId,
  givenName: 'Alex',
  familyName: 'Rivera',
  role,
  orgs: orgs.map(ref),
});

const DATA: Record<string, Record<string, unknown>[]> = {
  orgs: [
    { sourcedId: 'd-1', status: 'active', name: 'Springfield USD', type: 'district' },
    { sourcedId: 'sch-1', status: 'active', name: 'North High', type: 'school', parent: ref('d-1') },
    { sourcedId: 'sch-2', status: 'active', name: 'South High', type: 'school', parent: ref('d-1') },
  ],
  academicSessions: [
    {
      sourcedId: 'y-2026',
      status: 'active',
      title: '2025-26',
      type: 'schoolYear',
      startDate: '2025-08-15',
      endDate: '2026-06-10',
      schoolYear: '2026',
    },
  ],
  courses: [
    { sourcedId: 'crs-d', status: 'active', title: 'District Algebra', org: ref('d-1') },
    { sourcedId: 'crs-1', status: 'active', title: 'North Biology', org: ref('sch-1') },
    { sourcedId: 'crs-2', status: 'active', title: 'South Biology', org: ref('sch-2') },
  ],
  classes: [
    {
      sourcedId: 'c-1',
      status: 'active',
      title: 'Biology P1',
      classType: 'scheduled',
      course: ref('crs-1'),
      school: ref('sch-1'),
      terms: [ref('y-2026')],
    },
    {
      sourcedId: 'c-2',
      status: 'active',
      title: 'Biology P2',
      classType: 'scheduled',
      course: ref('crs-2'),
      school: ref('sch-2'),
      terms: [ref('y-2026')],
    },
  ],
  users: [
    user('t-1', 'teacher', ['sch-1']),
    user('s-1', 'student', ['sch-1']),
    user('s-2', 'student', ['sch-2']),
    { ...user('s-3', 'student', ['sch-1']), givenName: undefined },
  ],
  demographics: [
    { sourcedId: 's-1', status: 'active', birthDate: '2011-02-03', sex: 'female' },
    { sourcedId: 's-2', status: 'active', birthDate: '2011-04-05', sex: 'male' },
  ],
  enrollments: [
    { sourcedId: 'e-1', status: 'active', user: ref('s-1'), class: ref('c-1'), school: ref('sch-1'), role: 'student' },
    { sourcedId: 'e-2', status: 'active', user: ref('s-2'), class: ref('c-2'), school: ref('sch-2'), role: 'student' },
  ],
};

interface FakeSis {
  origin: string;
  requests: URL[];
  server: Server;
}

const running: Server[] = [];
afterEach(async () => {
  await Promise.all(
    running.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    ),
  );
});

/** Just enough OneRoster 1.1 to exercise the adapter: a token endpoint and paged collections. */
async function fakeSis(
  options: { forbidden?: string[]; data?: Record<string, Record<string, unknown>[]> } = {},
): Promise<FakeSis> {
  const requests: URL[] = [];
  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    requests.push(url);
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(JSON.stringify(body));
    };
    if (url.pathname === '/oauth2/token') {
      for await (const _chunk of request);
      const expected = `Basic ${Buffer.from('homeroom:top-secret').toString('base64')}`;
      if (request.headers.authorization !== expected) return reply(401, { error: 'invalid_client' });
      return reply(200, { access_token: 'tok', expires_in: '3600' });
    }
    if (request.headers.authorization !== 'Bearer tok') return reply(401, {});
    const collection = url.pathname.replace('/ims/oneroster/v1p1/', '');
    if (options.forbidden?.includes(collection)) return reply(403, { imsx_description: 'scope not granted' });
    const records = options.data?.[collection] ?? DATA[collection];
    if (!records) return reply(404, {});
    const limit = Number(url.searchParams.get('limit'));
    const offset = Number(url.searchParams.get('offset'));
    reply(200, { [collection]: records.slice(offset, offset + limit) }, { 'x-total-count': String(records.length) });
  };
  const server = createServer((request, response) => void handle(request, response));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  running.push(server);
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, server };
}

function settings(origin: string, overrides: Partial<SisConnectionSettings> = {}): SisConnectionSettings {
  return {
    version: '1.1',
    vendor: 'generic',
    baseUrl: `${origin}/ims/oneroster/v1p1`,
    auth: { type: 'oauth2', tokenUrl: `${origin}/oauth2/token`, clientId: 'homeroom' },
    pageSize: 2,
    concurrency: 2,
    peakHours: null,
    requestTimeoutMs: 5_000,
    schedule: null,
    blackoutWindows: [],
    schoolScope: [],
    thresholds: {},
    deltaOverlapSeconds: 300,
    fullReconciliationDays: 7,
    personMergeRule: 'none',
    ...overrides,
  };
}

async function pullAll<E extends RosterEntity>(
  source: OneRosterRestSisSource,
  entity: E,
  options: { mode?: 'full' | 'delta'; since?: Date } = {},
) {
  const issues: SisRecordIssue[] = [];
  const pull = await source.pull(entity, {
    mode: options.mode ?? 'full',
    since: options.since,
    onIssue: (issue) => issues.push(issue),
  });
  const records: RosterRecord<E>[] = [];
  for await (const page of pull.pages) records.push(...page);
  return { snapshot: pull.snapshot, records, issues };
}

const ids = (records: { sourcedId: string }[]) => records.map((record) => record.sourcedId);

describe('OneRosterRestSisSource', () => {
  it('pulls every entity as normalised records, people from users, reporting records it must skip', async () => {
    const sis = await fakeSis();
    const events: unknown[] = [];
    const source = new OneRosterRestSisSource({
      settings: settings(sis.origin),
      secret: 'top-secret',
      observer: { onRequest: (event) => events.push(event) },
    });
    expect(source.entities()).toEqual([
      'orgs',
      'academicSessions',
      'courses',
      'classes',
      'people',
      'demographics',
      'enrollments',
    ]);

    const people = await pullAll(source, 'people');
    expect(people.snapshot).toBe(true);
    expect(ids(people.records)).toEqual(['t-1', 's-1', 's-2']);
    expect(people.records[1]).toMatchObject({ primaryRole: 'student', orgSourcedIds: ['sch-1'], enabled: true });
    expect(people.issues).toEqual([
      { entity: 'people', sourcedId: 's-3', field: 'givenName', message: 'givenName is required' },
    ]);

    const classes = await pullAll(source, 'classes');
    expect(classes.records[0]).toMatchObject({
      courseSourcedId: 'crs-1',
      schoolSourcedId: 'sch-1',
      termSourcedIds: ['y-2026'],
    });
    expect((await pullAll(source, 'academicSessions')).records[0]).toMatchObject({ schoolYear: 2026 });

    expect(events[0]).toMatchObject({ status: 200, retry: false });
    expect(sis.requests.filter((url) => url.pathname === '/oauth2/token')).toHaveLength(1);
    expect(JSON.stringify(events)).not.toContain('top-secret');
  });

  it('keeps records whose dateLastModified is not ISO 8601, with one warning per entity counting them', async () => {
    const sis = await fakeSis({
      data: {
        users: [
          { ...user('t-1', 'teacher', ['sch-1']), dateLastModified: '1/05/2023' },
          { ...user('s-1', 'student', ['sch-1']), dateLastModified: '1/06/2023' },
          user('s-2', 'student', ['sch-1']),
        ],
      },
    });
    const source = new OneRosterRestSisSource({ settings: settings(sis.origin), secret: 'top-secret' });
    const people = await pullAll(source, 'people');
    expect(people.records.map((record) => [record.sourcedId, record.dateLastModified])).toEqual([
      ['t-1', null],
      ['s-1', null],
      ['s-2', '2026-01-05T10:00:00.000Z'],
    ]);
    expect(people.issues).toEqual([
      {
        entity: 'people',
        sourcedId: null,
        field: 'dateLastModified',
        severity: 'warning',
        message:
          '2 users records have a dateLastModified that is not an ISO 8601 date-time (shaped like 9/99/9999): ' +
          'the dateLastModified was ignored and the records kept',
      },
    ]);
  });

  it('pulls deltas with a dateLastModified filter and reports them as not a snapshot', async () => {
    const sis = await fakeSis();
    const source = new OneRosterRestSisSource({ settings: settings(sis.origin), secret: 'top-secret' });
    const pull = await pullAll(source, 'enrollments', { mode: 'delta', since: new Date('2026-01-01T00:00:00Z') });
    expect(pull.snapshot).toBe(false);
    const listing = sis.requests.find((url) => url.pathname.endsWith('/enrollments'))!;
    expect(listing.searchParams.get('filter')).toBe("dateLastModified>='2026-01-01T00:00:00.000Z'");
    await expect(source.pull('orgs', { mode: 'delta' })).rejects.toThrow('since');
  });

  it('keeps only the scoped schools and what belongs to them', async () => {
    const sis = await fakeSis();
    const source = new OneRosterRestSisSource({
      settings: settings(sis.origin, { schoolScope: ['sch-1'] }),
      secret: 'top-secret',
    });
    // Courses first, in a delta run: the adapter reads the orgs itself to learn which are district-level.
    expect(ids((await pullAll(source, 'courses', { mode: 'delta', since: new Date(0) })).records)).toEqual([
      'crs-d',
      'crs-1',
    ]);
    expect(ids((await pullAll(source, 'orgs')).records)).toEqual(['d-1', 'sch-1']);
    expect(ids((await pullAll(source, 'classes')).records)).toEqual(['c-1']);
    expect(ids((await pullAll(source, 'enrollments')).records)).toEqual(['e-1']);
    expect(ids((await pullAll(source, 'people')).records)).toEqual(['t-1', 's-1']);
    expect(ids((await pullAll(source, 'demographics')).records)).toEqual(['s-1', 's-2']);
  });

  it('fails the pull with a SisSourceError naming the entity', async () => {
    const sis = await fakeSis({ forbidden: ['demographics'] });
    const source = new OneRosterRestSisSource({ settings: settings(sis.origin), secret: 'top-secret' });
    const error = await pullAll(source, 'demographics').catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(SisSourceError);
    expect(error).toMatchObject({ code: 'SIS_SYNC.SOURCE_FORBIDDEN', entity: 'demographics' });
    expect((error as Error).message).toContain('scope not granted');
  });

  it('fails with SOURCE_AUTH_FAILED on a wrong secret, and refuses a connection without one', async () => {
    const sis = await fakeSis();
    const source = new OneRosterRestSisSource({ settings: settings(sis.origin), secret: 'wrong' });
    await expect(pullAll(source, 'orgs')).rejects.toMatchObject({
      code: 'SIS_SYNC.SOURCE_AUTH_FAILED',
      entity: 'orgs',
    });
    expect(() => new OneRosterRestSisSource({ settings: settings(sis.origin), secret: null })).toThrow(SisSourceError);
  });

  it('describes itself by its base URL, taking the version from it when unset', () => {
    const source = new OneRosterRestSisSource({
      settings: settings('https://sis.example', {
        version: null,
        baseUrl: 'https://sis.example/campus/api/ims/oneroster/rostering/v1p2/?x=1',
        auth: { type: 'none' },
      }),
      secret: null,
    });
    expect(source.describe()).toBe('OneRoster 1.2 REST https://sis.example/campus/api/ims/oneroster/rostering/v1p2');
  });
});

describe('concurrencyAt', () => {
  const peak = { start: '07:00', end: '16:30', concurrency: 1 };
  const chicago = { cron: '0 2 * * *', timeZone: 'America/Chicago' };

  it('uses the peak limit inside peak hours, local to the connection time zone', () => {
    // 14:00 UTC is 08:00 in Chicago (CST) in January.
    expect(
      concurrencyAt({ concurrency: 5, peakHours: peak, schedule: chicago }, new Date('2026-01-15T14:00:00Z')),
    ).toBe(1);
    // 23:00 UTC is 17:00 in Chicago.
    expect(
      concurrencyAt({ concurrency: 5, peakHours: peak, schedule: chicago }, new Date('2026-01-15T23:00:00Z')),
    ).toBe(5);
    // Without a schedule the hours are UTC.
    expect(concurrencyAt({ concurrency: 5, peakHours: peak, schedule: null }, new Date('2026-01-15T23:00:00Z'))).toBe(
      5,
    );
    expect(concurrencyAt({ concurrency: 5, peakHours: peak, schedule: null }, new Date('2026-01-15T16:29:00Z'))).toBe(
      1,
    );
  });

  it('handles windows past midnight, no peak hours, and unknown time zones politely', () => {
    const night = { start: '22:00', end: '05:00', concurrency: 2 };
    expect(concurrencyAt({ concurrency: 4, peakHours: night, schedule: null }, new Date('2026-01-15T23:30:00Z'))).toBe(
      2,
    );
    expect(concurrencyAt({ concurrency: 4, peakHours: night, schedule: null }, new Date('2026-01-15T04:59:00Z'))).toBe(
      2,
    );
    expect(concurrencyAt({ concurrency: 4, peakHours: night, schedule: null }, new Date('2026-01-15T12:00:00Z'))).toBe(
      4,
    );
    expect(concurrencyAt({ concurrency: 3, peakHours: null, schedule: null }, new Date())).toBe(3);
    expect(
      concurrencyAt({ concurrency: 5, peakHours: peak, schedule: { cron: '', timeZone: 'Mars/Olympus' } }, new Date()),
    ).toBe(1);
  });
});
