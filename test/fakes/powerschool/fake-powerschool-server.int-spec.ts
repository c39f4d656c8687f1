import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedMirrorCounts, FakePowerSchoolServer, generatePowerSchoolDistrict } from './index.js';

/** Wire JSON, read loosely: these tests look at the shapes themselves. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Wire = Record<string, any>;

describe('FakePowerSchoolServer', () => {
  let server: FakePowerSchoolServer;
  let token: string;

  const get = async (path: string, init: RequestInit = {}) => {
    const response = await fetch(`${server.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(init.headers ?? {}) },
    });
    return { status: response.status, headers: response.headers, body: (await response.json()) as Wire };
  };

  beforeAll(async () => {
    server = new FakePowerSchoolServer({
      dataset: generatePowerSchoolDistrict({ seed: 'wire', schools: 2, students: 12, teachers: 2 }),
      maxPageSizes: { students: 4 },
    });
    await server.start();
  });

  afterAll(async () => {
    await server.stop();
  });

  it('issues one long-lived token (expires_in as a string) to Basic client credentials, and refuses others', async () => {
    const basic = (secret: string) => `Basic ${Buffer.from(`${server.clientId}:${secret}`).toString('base64')}`;
    const ask = (secret: string) =>
      fetch(server.tokenUrl, {
        method: 'POST',
        headers: { authorization: basic(secret), 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
      });
    const first = (await (await ask(server.clientSecret)).json()) as Record<string, unknown>;
    expect(first).toMatchObject({ token_type: 'Bearer', expires_in: expect.stringMatching(/^\d+$/) });
    const again = (await (await ask(server.clientSecret)).json()) as Record<string, unknown>;
    expect(again['access_token']).toBe(first['access_token']);
    expect(server.tokensIssued).toBe(1);
    expect((await ask('wrong')).status).toBe(401);
    token = first['access_token'] as string;
  });

  it('answers /ws/v1/time without a token and everything else only with one', async () => {
    expect((await fetch(`${server.url}/ws/v1/time`)).status).toBe(200);
    expect((await fetch(`${server.url}/ws/v1/metadata`)).status).toBe(401);
    const metadata = await get('/ws/v1/metadata');
    expect(metadata.body['metadata']).toMatchObject({ student_max_page_size: 4, section_max_page_size: 100 });
  });

  it('sends one record as an object, empty expansions as "", numbers and booleans as strings', async () => {
    const lonely = server.dataset.schools[server.dataset.schools.length - 1];
    const students = await get(
      `/ws/v1/school/${lonely.dcid}/student?expansions=phones,contact_info,school_enrollment,alerts`,
    );
    const student = students.body['students']['student'];
    expect(Array.isArray(student)).toBe(false);
    expect(student['id']).not.toBe(student['local_id']);
    expect(student['alerts']).toBe('');
    expect(typeof student['school_enrollment']['grade_level']).toBe('string');
    const terms = await get(`/ws/v1/school/${lonely.dcid}/term`);
    expect(terms.body['terms']['term']).toMatchObject({ portion: '1' });
    const enrollments = await get(`/ws/v1/section/${server.dataset.sections[0].dcid}/section_enrollment`);
    const first = [enrollments.body['section_enrollments']['section_enrollment']].flat()[0];
    expect(first['dropped']).toMatch(/^(true|false)$/);
    const count = await get(`/ws/v1/school/${lonely.dcid}/student/count`);
    expect(count.body).toEqual({ resource: { count: 1 } });
  });

  it('pages with page and pagesize (capped at the maximum); past the end the envelope is empty', async () => {
    const school = server.dataset.schools[0];
    const page1 = await get(`/ws/v1/school/${school.dcid}/student?pagesize=50&page=1`);
    expect(page1.body['students']['student']).toHaveLength(4);
    const beyond = await get(`/ws/v1/school/${school.dcid}/student?page=99`);
    expect(beyond.body['students']['student']).toBeUndefined();
    expect((await get(`/ws/v1/school/${school.dcid}/student?page=0`)).status).toBe(400);
  });

  it('withholds a resource with 403, and serves the PowerQuery with strings and table ids beside DCIDs', async () => {
    server.forbid('staff');
    expect((await get(`/ws/v1/school/${server.dataset.schools[0].dcid}/staff/count`)).status).toBe(403);
    server.allow('staff');
    const rows = await get(`/ws/schema/query/${server.powerQueryName}?pagesize=3`, { method: 'POST', body: '{}' });
    const row = rows.body['record'][0] as Record<string, string>;
    expect(Object.keys(row).length).toBeGreaterThan(0);
    expect(Object.values(row).every((value) => typeof value === 'string')).toBe(true);
    expect(row['cc.studentid']).not.toBe(row['students.dcid']);
    const counted = await get(`/ws/schema/query/${server.powerQueryName}/count`, { method: 'POST', body: '{}' });
    expect(counted.body).toEqual({ count: server.dataset.sectionEnrollments.length });
  });

  it('generates the same district for the same seed, and 50,000 students in a few seconds', () => {
    const options = { seed: 'same', schools: 3, students: 40, teachers: 6 };
    expect(JSON.stringify(generatePowerSchoolDistrict(options))).toBe(
      JSON.stringify(generatePowerSchoolDistrict(options)),
    );
    const started = performance.now();
    const large = generatePowerSchoolDistrict({ seed: 'bench', schools: 25, students: 50_000, teachers: 2_200 });
    const elapsed = performance.now() - started;
    expect(large.students).toHaveLength(50_001);
    expect(large.sectionEnrollments.length).toBeGreaterThan(200_000);
    expect(expectedMirrorCounts(large)['people']).toBeGreaterThan(52_000);
    expect(elapsed).toBeLessThan(5_000);
  });

  it('generates the school year of today by default (July onwards: the one starting that August)', () => {
    const options = { seed: 'year', schools: 1, students: 4, teachers: 1 };
    const today = new Date();
    const endingYear = today.getUTCMonth() >= 6 ? today.getUTCFullYear() + 1 : today.getUTCFullYear();
    expect(JSON.stringify(generatePowerSchoolDistrict(options))).toBe(
      JSON.stringify(generatePowerSchoolDistrict({ ...options, schoolYear: endingYear })),
    );
    const [year] = generatePowerSchoolDistrict(options).terms;
    expect([year.startDate, year.endDate]).toEqual([`${endingYear - 1}-08-18`, `${endingYear}-06-05`]);
  });
});
