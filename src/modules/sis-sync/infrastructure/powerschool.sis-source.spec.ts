import type { EnrollmentRecord, RosterEntity, RosterRecord } from '@app/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FakePowerSchoolServer,
  expectedMirrorCounts,
  generatePowerSchoolDistrict,
  psDayBefore,
  type FakePowerSchoolServerOptions,
} from '../../../../test/fakes/powerschool/index.js';
import { SisSourceError, type SisRecordIssue } from '../application/ports/sis-source.port.js';
import type { SisConnectionSettings } from '../domain/sis-connection.js';
import { POWERSCHOOL_MAPPING_VERSION, PowerSchoolSisSource } from './powerschool.sis-source.js';

const servers: FakePowerSchoolServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

const DISTRICT = {
  schools: 2,
  students: 24,
  teachers: 4,
  sectionsPerTeacher: 3,
  enrollmentsPerStudent: 3,
  schoolYear: 2026,
};

async function fake(seed: string, options: Partial<FakePowerSchoolServerOptions> = {}): Promise<FakePowerSchoolServer> {
  const server = new FakePowerSchoolServer({
    dataset: generatePowerSchoolDistrict({ seed, ...DISTRICT }),
    maxPageSizes: { students: 5, section_enrollment: 4, sections: 4, staff: 3 },
    ...options,
  });
  await server.start();
  servers.push(server);
  return server;
}

function settings(
  server: FakePowerSchoolServer,
  overrides: Partial<SisConnectionSettings> = {},
): SisConnectionSettings {
  return {
    version: null,
    vendor: 'generic',
    baseUrl: server.url,
    auth: { type: 'oauth2', tokenUrl: server.tokenUrl, clientId: server.clientId },
    pageSize: 1_000,
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

function source(
  server: FakePowerSchoolServer,
  overrides: Partial<SisConnectionSettings> = {},
  extra: { sleeps?: number[]; tokens?: (Date | null)[]; secret?: string } = {},
): PowerSchoolSisSource {
  return new PowerSchoolSisSource({
    settings: settings(server, overrides),
    secret: extra.secret ?? server.clientSecret,
    observer: {
      onRequest: () => undefined,
      onToken: (event) => extra.tokens?.push(event.expiresAt),
    },
    client: {
      backoffBaseMs: 1,
      backoffCapMs: 5,
      sleep: async (ms) => {
        extra.sleeps?.push(ms);
      },
    },
  });
}

async function pullAll<E extends RosterEntity>(
  sis: PowerSchoolSisSource,
  entity: E,
): Promise<{ records: RosterRecord<E>[]; issues: SisRecordIssue[]; snapshot: boolean }> {
  const issues: SisRecordIssue[] = [];
  const pull = await sis.pull(entity, { mode: 'full', onIssue: (issue) => issues.push(issue) });
  const records: RosterRecord<E>[] = [];
  for await (const page of pull.pages) records.push(...page);
  return { records, issues, snapshot: pull.snapshot };
}

async function pullEverything(sis: PowerSchoolSisSource) {
  return {
    orgs: (await pullAll(sis, 'orgs')).records,
    academicSessions: (await pullAll(sis, 'academicSessions')).records,
    courses: (await pullAll(sis, 'courses')).records,
    classes: (await pullAll(sis, 'classes')).records,
    people: (await pullAll(sis, 'people')).records,
    demographics: (await pullAll(sis, 'demographics')).records,
    enrollments: (await pullAll(sis, 'enrollments')).records,
  };
}

const active = <T extends { status: string }>(records: T[]): T[] => records.filter((r) => r.status === 'active');

describe('PowerSchoolSisSource', () => {
  it('pulls every entity of the district, keyed on DCIDs, with the quirks read correctly', async () => {
    const server = await fake('full');
    const data = server.dataset;
    const sis = source(server);
    expect(sis.supportsDelta()).toBe(false);
    expect(sis.describe()).toContain(POWERSCHOOL_MAPPING_VERSION);
    const pulled = await pullEverything(sis);
    const expected = expectedMirrorCounts(data);
    for (const entity of Object.keys(expected) as RosterEntity[]) {
      expect(active(pulled[entity] as { status: string }[]), entity).toHaveLength(expected[entity]);
    }

    // The single-student school's collections (one student, term, course, section, staff member) arrive as objects.
    const lonely = data.schools[data.schools.length - 1];
    const lonelyStudent = data.students.find((student) => student.schoolDcid === lonely.dcid)!;
    const person = pulled.people.find((candidate) => candidate.sourcedId === String(lonelyStudent.dcid))!;
    expect(person).toMatchObject({
      identifier: String(lonelyStudent.localId),
      primaryOrgSourcedId: String(lonely.dcid),
      metadata: { powerschool: { localId: String(lonelyStudent.localId), schoolNumber: String(lonely.schoolNumber) } },
    });
    expect(person.roles[0]).toMatchObject({
      role: 'student',
      beginDate: lonelyStudent.entryDate,
      endDate: psDayBefore(lonelyStudent.exitDate),
    });
    expect(pulled.academicSessions.filter((term) => term.orgSourcedId === String(lonely.dcid))).toHaveLength(1);

    // Staff are `staff-<Users.DCID>`: DCIDs overlap across tables (student 5001 and staff 5001 both exist).
    expect(pulled.people.some((candidate) => candidate.sourcedId === '5001')).toBe(true);
    expect(pulled.people.some((candidate) => candidate.sourcedId === 'staff-5001')).toBe(true);
    const shared = data.staff.find((member) => member.affiliations.length > 1)!;
    const sharedPerson = pulled.people.find((candidate) => candidate.sourcedId === `staff-${shared.usersDcid}`)!;
    expect(sharedPerson.roles.map((role) => role.orgSourcedId)).toEqual(
      shared.affiliations.map((affiliation) => String(affiliation.schoolDcid)).sort((a, b) => Number(a) - Number(b)),
    );
    expect(sharedPerson.roles.map((role) => role.roleType)).toEqual(['primary', 'secondary']);
    const admin = data.staff.find((member) => member.adminUsername)!;
    expect(pulled.people.find((candidate) => candidate.sourcedId === `staff-${admin.usersDcid}`)?.primaryRole).toBe(
      'administrator',
    );

    // Exit dates are exclusive in PowerSchool and inclusive in the mirror; dropped enrolments are withdrawn.
    const enrollment = data.sectionEnrollments.find((candidate) => !candidate.dropped)!;
    expect(pulled.enrollments.find((candidate) => candidate.sourcedId === String(enrollment.dcid))).toMatchObject({
      status: 'active',
      classSourcedId: String(enrollment.sectionDcid),
      userSourcedId: String(enrollment.studentDcid),
      beginDate: enrollment.entryDate,
      endDate: psDayBefore(enrollment.exitDate),
    });
    const dropped = data.sectionEnrollments.find((candidate) => candidate.dropped);
    if (dropped) {
      expect(pulled.enrollments.find((candidate) => candidate.sourcedId === String(dropped.dcid))?.status).toBe(
        'tobedeleted',
      );
    }
    const section = data.sections[0];
    const teacher = data.staff.find((member) =>
      member.affiliations.some((affiliation) => affiliation.schoolStaffDcid === section.staffSchoolStaffDcid),
    )!;
    expect(
      pulled.enrollments.find(
        (candidate) => candidate.sourcedId === `section-${section.dcid}-staff-${section.staffSchoolStaffDcid}`,
      ),
    ).toMatchObject({ role: 'teacher', primary: true, userSourcedId: `staff-${teacher.usersDcid}` });

    // Terms: the year (portion 1) is the parent; schoolYear is the ending year.
    const semester = pulled.academicSessions.find((term) => term.type === 'semester')!;
    const year = pulled.academicSessions.find((term) => term.sourcedId === semester.parentSourcedId)!;
    expect(year).toMatchObject({ type: 'schoolYear', schoolYear: 2026, orgSourcedId: semester.orgSourcedId });

    // Demographics: single race sent as an object, "" for no ethnicity, M/F.
    const withRace = data.students.find((student) => student.races.length === 1)!;
    const demographics = pulled.demographics.find((record) => record.sourcedId === String(withRace.dcid))!;
    expect(demographics.birthDate).toBe(withRace.birthDate);
    expect(Object.values(demographics.race).filter((value) => value === true)).toHaveLength(1);
    expect(pulled.orgs[0]).toMatchObject({ type: 'district', sourcedId: `district-${data.district.uuid}` });
  });

  it('pages within the plugin maximum and the connection cap, one request at a time per listing', async () => {
    const server = await fake('paging');
    const sis = source(server, { pageSize: 2, concurrency: 3 });
    await pullEverything(sis);
    const pages = server.dataRequests('/student').filter((entry) => !entry.path.endsWith('/count'));
    expect(pages.length).toBeGreaterThan(4);
    expect(pages.every((entry) => entry.query['pagesize'] === '2')).toBe(true);
    expect(server.maxConcurrentRequests).toBeLessThanOrEqual(3);

    const capped = await fake('paging-capped');
    await pullEverything(source(capped));
    const enrollmentPages = capped
      .dataRequests('/section_enrollment')
      .filter((entry) => !entry.path.endsWith('/count'));
    expect(new Set(enrollmentPages.map((entry) => entry.query['pagesize']))).toEqual(new Set(['4']));
  });

  it('re-counts once when /count disagrees, and fails the listing when it still does', async () => {
    const server = await fake('counts');
    server.injectFault({ kind: 'wrong-count', path: '/student/count', times: 1 });
    const recounted = await pullAll(source(server), 'people');
    expect(active(recounted.records).length).toBe(expectedMirrorCounts(server.dataset)['people']);

    server.injectFault({ kind: 'wrong-count', path: '/student/count', delta: 2 });
    const failure = await pullAll(source(server), 'people').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(SisSourceError);
    expect(failure).toMatchObject({ code: 'SIS_SYNC.SOURCE_INCOMPLETE_LISTING', entity: 'people' });
  });

  it('rides out a token revoked mid-run, 429 with Retry-After, 5xx and a reset', async () => {
    const server = await fake('faults');
    const sleeps: number[] = [];
    const tokens: (Date | null)[] = [];
    server.injectFault({ kind: 'revoke-tokens', afterRequests: 7, times: 2 });
    server.injectFault({ kind: 'rate-limit', retryAfterSeconds: 2, path: '/section_enrollment', times: 1 });
    server.injectFault({ kind: 'server-error', status: 503, path: '/staff', times: 2 });
    server.injectFault({ kind: 'reset', path: '/term', times: 1 });
    const pulled = await pullEverything(source(server, {}, { sleeps, tokens }));
    expect(active(pulled.enrollments)).toHaveLength(expectedMirrorCounts(server.dataset)['enrollments']);
    expect(server.tokensIssued).toBe(3);
    expect(tokens).toHaveLength(3);
    expect(tokens[0]!.getTime()).toBeGreaterThan(Date.now() + 29 * 24 * 3600 * 1000);
    expect(sleeps).toContain(2_000);
  });

  it('fails with SOURCE_FORBIDDEN naming the resource the plugin does not grant', async () => {
    const server = await fake('forbidden');
    server.forbid('section_enrollment');
    const sis = source(server);
    await pullAll(sis, 'classes');
    const failure = await pullAll(sis, 'enrollments').catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 'SIS_SYNC.SOURCE_FORBIDDEN', entity: 'enrollments' });
    expect((failure as Error).message).toMatch(/section_enrollment/);

    const badSecret = await pullAll(source(server, {}, { secret: 'wrong' }), 'orgs').catch((error: unknown) => error);
    expect(badSecret).toMatchObject({ code: 'SIS_SYNC.SOURCE_AUTH_FAILED' });
  });

  it('reads enrolments from a PowerQuery (DCID columns, not table ids) with the same result as per section', async () => {
    const server = await fake('powerquery');
    const perSection = await pullEverything(source(server));
    server.resetObservations();
    const viaQuery = await pullEverything(source(server, { enrollmentPowerQuery: server.powerQueryName }));
    const key = (records: EnrollmentRecord[]) => records.map((record) => JSON.stringify(record)).sort();
    expect(key(viaQuery.enrollments)).toEqual(key(perSection.enrollments));
    expect(server.dataRequests('/section_enrollment')).toHaveLength(0);
    expect(server.dataRequests('/ws/schema/query/').length).toBeGreaterThan(0);
  });

  it('keeps to the school scope', async () => {
    const server = await fake('scope');
    const school = server.dataset.schools[1];
    const pulled = await pullEverything(source(server, { schoolScope: [String(school.dcid)] }));
    expect(pulled.orgs.map((org) => org.sourcedId)).toEqual([pulled.orgs[0].sourcedId, String(school.dcid)]);
    expect(pulled.classes.length).toBeGreaterThan(0);
    expect(pulled.classes.every((klass) => klass.schoolSourcedId === String(school.dcid))).toBe(true);
    const students = server.dataset.students.filter((student) => student.schoolDcid === school.dcid);
    expect(pulled.people.filter((person) => person.primaryRole === 'student')).toHaveLength(students.length);
    expect(pulled.enrollments.length).toBeGreaterThan(0);
    expect(pulled.enrollments.every((enrollment) => enrollment.schoolSourcedId === String(school.dcid))).toBe(true);
  });

  it('checks reachability, credentials and every resource, naming what the plugin does not grant', async () => {
    const server = await fake('access');
    const verdicts = await source(server).checkAccess();
    expect(verdicts.map((verdict) => verdict.check)).toEqual([
      'reachability',
      'credentials',
      'permission:district',
      'permission:schools',
      'permission:students',
      'permission:staff',
      'permission:terms',
      'permission:courses',
      'permission:sections',
      'permission:section_enrollment',
    ]);
    expect(verdicts.every((verdict) => verdict.ok)).toBe(true);

    server.forbid('staff');
    const withPowerQuery = await source(server, { enrollmentPowerQuery: 'com.no.such.query' }).checkAccess();
    const staff = withPowerQuery.find((verdict) => verdict.check === 'permission:staff')!;
    expect(staff.ok).toBe(false);
    expect(staff.detail).toMatch(/staff/);
    expect(withPowerQuery.find((verdict) => verdict.check === 'permission:powerquery')?.ok).toBe(false);

    const refused = await source(server, {}, { secret: 'wrong' }).checkAccess();
    expect(refused.map((verdict) => [verdict.check, verdict.ok])).toEqual([
      ['reachability', true],
      ['credentials', false],
    ]);

    await server.stop();
    const unreachable = await source(server).checkAccess();
    expect(unreachable).toEqual([expect.objectContaining({ check: 'reachability', ok: false })]);
  });
});
