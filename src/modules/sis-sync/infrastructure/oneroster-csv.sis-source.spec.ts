import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RosterEntity, RosterRecord } from '@app/contracts';
import { ONEROSTER_CSV_COLUMNS } from '@app/oneroster';
import yazl from 'yazl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SisSourceError, type SisRecordIssue } from '../application/ports/sis-source.port.js';
import { OneRosterCsvSisSource } from './oneroster-csv.sis-source.js';

let directory: string;
let zipCount = 0;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'oneroster-csv-source-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function buildZip(files: Record<string, string>): Promise<string> {
  const path = join(directory, `package-${++zipCount}.zip`);
  const zip = new yazl.ZipFile();
  for (const [name, content] of Object.entries(files)) zip.addBuffer(Buffer.from(content, 'utf8'), name);
  zip.end();
  await new Promise<void>((resolve, reject) => {
    zip.outputStream.pipe(createWriteStream(path)).on('close', resolve).on('error', reject);
  });
  return path;
}

type Version = '1.1' | '1.2';
type File = 'orgs' | 'users' | 'roles' | 'enrollments' | 'courses';

/** A CSV file with the spec header; rows give only the columns they need. */
function csv(version: Version, file: File, rows: Record<string, string>[]): string {
  const header = ONEROSTER_CSV_COLUMNS[version][file]!;
  return (
    [header.join(','), ...rows.map((row) => header.map((column) => row[column] ?? '').join(','))].join('\r\n') + '\r\n'
  );
}

function manifest(version: Version, files: Record<string, 'bulk' | 'delta' | 'absent'>): string {
  return [
    'propertyName,value',
    `oneroster.version,${version}`,
    ...Object.entries(files).map(([f, m]) => `file.${f},${m}`),
  ].join('\n');
}

async function pullAll<E extends RosterEntity>(source: OneRosterCsvSisSource, entity: E) {
  const issues: SisRecordIssue[] = [];
  const pull = await source.pull(entity, { mode: 'full', onIssue: (issue) => issues.push(issue) });
  const records: RosterRecord<E>[] = [];
  for await (const page of pull.pages) records.push(...page);
  return { snapshot: pull.snapshot, records, issues };
}

const person = (sourcedId: string, extra: Record<string, string> = {}) => ({
  sourcedId,
  enabledUser: 'true',
  username: sourcedId,
  givenName: 'Ada',
  familyName: 'Lovelace',
  ...extra,
});

describe('OneRosterCsvSisSource', () => {
  it('maps 1.2 extension values with the connection mappings and warns once per unmapped value and for inactive', async () => {
    const path = await buildZip({
      'manifest.csv': manifest('1.2', { orgs: 'bulk', users: 'bulk', roles: 'bulk' }),
      'orgs.csv': csv('1.2', 'orgs', [
        { sourcedId: 'sch-1', name: 'North', type: 'ext:campus' },
        { sourcedId: 'ann-1', name: 'Annex', type: 'ext:annex' },
        { sourcedId: 'ann-2', name: 'Annex 2', type: 'ext:annex' },
        { sourcedId: 'old-1', status: 'inactive', name: 'Closed', type: 'school' },
      ]),
      'users.csv': csv('1.2', 'users', [person('u-1'), person('u-2'), person('u-3')]),
      'roles.csv': csv('1.2', 'roles', [
        { sourcedId: 'r-1', userSourcedId: 'u-1', roleType: 'primary', role: 'ext:coTeacher', orgSourcedId: 'sch-1' },
        { sourcedId: 'r-2', userSourcedId: 'u-2', roleType: 'primary', role: 'ext:coach', orgSourcedId: 'sch-1' },
        { sourcedId: 'r-3', userSourcedId: 'u-3', roleType: 'primary', role: 'ext:coach', orgSourcedId: 'sch-1' },
      ]),
    });
    const source = await OneRosterCsvSisSource.open({
      zipPath: path,
      extensionMappings: { orgType: { 'ext:campus': 'school' }, role: { 'ext:coTeacher': 'teacher' } },
    });
    const orgs = await pullAll(source, 'orgs');
    expect(orgs.records.map((org) => [org.sourcedId, org.status, org.type])).toEqual([
      ['sch-1', 'active', 'school'],
      ['ann-1', 'active', 'ext:annex'],
      ['ann-2', 'active', 'ext:annex'],
      ['old-1', 'tobedeleted', 'school'],
    ]);
    expect(orgs.issues.map(({ field, severity, sourcedId }) => ({ field, severity, sourcedId }))).toEqual([
      { field: 'status', severity: 'warning', sourcedId: null },
      { field: 'type', severity: 'warning', sourcedId: null },
    ]);
    expect(orgs.issues[1].message).toMatch(/^2 orgs records carried the extension value "ext:annex" in type/);
    const people = await pullAll(source, 'people');
    expect(people.records.map((record) => [record.sourcedId, record.primaryRole])).toEqual([
      ['u-1', 'teacher'],
      ['u-2', 'ext:coach'],
      ['u-3', 'ext:coach'],
    ]);
    expect(people.issues).toMatchObject([{ entity: 'people', field: 'roles.role', severity: 'warning' }]);
    expect(people.issues[0].message).toMatch(/^2 people records carried the extension value "ext:coach"/);
    await source.close();

    const legacy = await OneRosterCsvSisSource.open({
      zipPath: await buildZip({
        'manifest.csv': manifest('1.1', { orgs: 'bulk' }),
        'orgs.csv': csv('1.1', 'orgs', [{ sourcedId: 'sch-1', name: 'North', type: 'ext:campus' }]),
      }),
      extensionMappings: { orgType: { 'ext:campus': 'school' } },
    });
    const refused = await pullAll(legacy, 'orgs');
    expect(refused.records).toEqual([]);
    expect(refused.issues).toMatchObject([{ field: 'type', sourcedId: 'sch-1' }]);
    expect(refused.issues[0].message).toContain('OneRoster 1.1 has no extension values');
    await legacy.close();
  });

  it('offers the files the manifest supplies, a bulk file as a snapshot and a delta file as changes', async () => {
    const path = await buildZip({
      'manifest.csv': manifest('1.1', { orgs: 'bulk', users: 'absent', enrollments: 'delta' }),
      'orgs.csv': csv('1.1', 'orgs', [{ sourcedId: 'd-1', name: 'District', type: 'district' }]),
      'enrollments.csv': csv('1.1', 'enrollments', [
        {
          sourcedId: 'e-1',
          status: 'tobedeleted',
          dateLastModified: '2026-01-05T10:00:00Z',
          classSourcedId: 'c-1',
          schoolSourcedId: 'sch-1',
          userSourcedId: 's-1',
          role: 'student',
        },
        { sourcedId: 'e-2', classSourcedId: 'c-1', schoolSourcedId: 'sch-1', userSourcedId: 's-2', role: 'student' },
      ]),
    });
    const source = await OneRosterCsvSisSource.open({ zipPath: path });
    expect(source.entities()).toEqual(['orgs', 'enrollments']);
    // A mixed package is a full pull of its bulk files; the source says which files were deltas.
    expect(source.fixedMode()).toBe('full');
    expect(source.describe()).toMatch(/^OneRoster 1\.1 CSV package-\d+\.zip \(bulk: orgs; delta: enrollments\)$/);

    const orgs = await pullAll(source, 'orgs');
    expect(orgs.snapshot).toBe(true);
    expect(orgs.records).toMatchObject([{ sourcedId: 'd-1', status: 'active', type: 'district' }]);

    const enrollments = await pullAll(source, 'enrollments');
    expect(enrollments.snapshot).toBe(false);
    expect(enrollments.records).toMatchObject([{ sourcedId: 'e-1', status: 'tobedeleted' }]);
    expect(enrollments.issues).toEqual([
      {
        entity: 'enrollments',
        sourcedId: 'e-2',
        field: 'status',
        message: 'enrollments.csv line 3: status is required in a delta file',
      },
    ]);

    await expect(source.pull('people', { mode: 'full' })).rejects.toMatchObject({
      code: 'SIS_SYNC.CSV_INVALID',
      entity: 'people',
    });
    await source.close();
  });

  it('joins 1.2 roles.csv onto users.csv, skipping deleted roles and reporting users without a role', async () => {
    const path = await buildZip({
      'manifest.csv': manifest('1.2', { users: 'bulk', roles: 'bulk' }),
      'users.csv': csv('1.2', 'users', [
        person('t-1', { preferredGivenName: 'Addie', primaryOrgSourcedId: 'sch-1' }),
        person('s-1'),
        person('x-1'),
      ]),
      'roles.csv': csv('1.2', 'roles', [
        { sourcedId: 'r-1', userSourcedId: 't-1', roleType: 'primary', role: 'teacher', orgSourcedId: 'sch-1' },
        { sourcedId: 'r-2', userSourcedId: 't-1', roleType: 'secondary', role: 'counselor', orgSourcedId: 'sch-2' },
        {
          sourcedId: 'r-3',
          status: 'tobedeleted',
          userSourcedId: 't-1',
          roleType: 'secondary',
          role: 'aide',
          orgSourcedId: 'sch-3',
        },
        { sourcedId: 'r-4', userSourcedId: 's-1', roleType: 'primary', role: 'student', orgSourcedId: 'sch-1' },
        { sourcedId: 'r-5', userSourcedId: 's-1', roleType: 'primary', role: 'wizard', orgSourcedId: 'sch-1' },
      ]),
    });
    const source = await OneRosterCsvSisSource.open({ zipPath: path });
    expect(source.entities()).toEqual(['people']);
    const people = await pullAll(source, 'people');
    expect(people.snapshot).toBe(true);
    expect(people.records.map((record) => record.sourcedId)).toEqual(['t-1', 's-1']);
    expect(people.records[0]).toMatchObject({
      preferredFirstName: 'Addie',
      primaryRole: 'teacher',
      orgSourcedIds: ['sch-1', 'sch-2'],
      primaryOrgSourcedId: 'sch-1',
      roles: [
        { role: 'teacher', roleType: 'primary', orgSourcedId: 'sch-1' },
        { role: 'counselor', roleType: 'secondary', orgSourcedId: 'sch-2' },
      ],
    });
    expect(people.issues).toEqual([
      {
        entity: 'people',
        sourcedId: 'r-5',
        field: 'role',
        message: expect.stringMatching(/^roles\.csv line 6: role must be one of /),
        // The sourcedId is the role's: the issue is about a detail of a user, not a people record.
        subject: 'detail',
      },
      {
        entity: 'people',
        sourcedId: 'x-1',
        field: 'roles',
        message: 'users.csv line 4: no active role for this user in roles.csv',
      },
    ]);
    await source.close();
  });

  it('applies a school scope', async () => {
    const path = await buildZip({
      'manifest.csv': manifest('1.1', { orgs: 'bulk', courses: 'bulk', users: 'bulk' }),
      'orgs.csv': csv('1.1', 'orgs', [
        { sourcedId: 'd-1', name: 'District', type: 'district' },
        { sourcedId: 'sch-1', name: 'North', type: 'school', parentSourcedId: 'd-1' },
        { sourcedId: 'sch-2', name: 'South', type: 'school', parentSourcedId: 'd-1' },
      ]),
      'courses.csv': csv('1.1', 'courses', [
        { sourcedId: 'crs-d', title: 'Algebra', orgSourcedId: 'd-1' },
        { sourcedId: 'crs-2', title: 'Chemistry', orgSourcedId: 'sch-2' },
      ]),
      'users.csv': csv('1.1', 'users', [
        person('s-1', { role: 'student', orgSourcedIds: 'sch-1' }),
        person('s-2', { role: 'student', orgSourcedIds: 'sch-2' }),
      ]),
    });
    const source = await OneRosterCsvSisSource.open({ zipPath: path, schoolScope: ['sch-1'] });
    expect((await pullAll(source, 'courses')).records.map((record) => record.sourcedId)).toEqual(['crs-d']);
    expect((await pullAll(source, 'people')).records.map((record) => record.sourcedId)).toEqual(['s-1']);
    await source.close();
  });

  it('keeps rows with empty trailing fields and with a non-ISO dateLastModified, warning once per file', async () => {
    const users = csv('1.1', 'users', [
      person('t-1', { orgSourcedIds: 'sch-1', role: 'teacher', dateLastModified: '1/05/2023' }),
      person('s-1', { orgSourcedIds: 'sch-1', role: 'student', dateLastModified: '12/31/2022' }),
      person('s-2', { orgSourcedIds: 'sch-1', role: 'student', dateLastModified: '2023-01-05T10:00:00Z' }),
    ])
      .split('\r\n')
      .map((line, index) => (index === 1 || index === 2 ? `${line},` : line))
      .join('\r\n');
    const path = await buildZip({ 'manifest.csv': manifest('1.1', { users: 'bulk' }), 'users.csv': users });
    const source = await OneRosterCsvSisSource.open({ zipPath: path });
    const people = await pullAll(source, 'people');
    expect(people.records.map((record) => [record.sourcedId, record.dateLastModified])).toEqual([
      ['t-1', null],
      ['s-1', null],
      ['s-2', '2023-01-05T10:00:00.000Z'],
    ]);
    expect(people.issues).toEqual([
      {
        entity: 'people',
        sourcedId: null,
        field: null,
        severity: 'warning',
        message:
          'users.csv: 2 rows have empty fields beyond the 18 columns of the header (the first at line 2); ' +
          'the empty fields were ignored and the rows kept',
      },
      {
        entity: 'people',
        sourcedId: null,
        field: 'dateLastModified',
        severity: 'warning',
        message:
          '2 users.csv rows have a dateLastModified that is not an ISO 8601 date-time (shaped like 9/99/9999, ' +
          '99/99/9999): the dateLastModified was ignored and the records kept',
      },
    ]);
    expect(JSON.stringify(people.issues)).not.toMatch(/2023|2022/);
    await source.close();
  });

  it('fails to open a package with several structural problems with one SisSourceError listing each', async () => {
    const path = await buildZip({
      'manifest.csv': manifest('1.1', { orgs: 'bulk', courses: 'bulk' }) + '\nfile.users,full',
      'orgs.csv': 'sourcedId,name,type\n',
      'users.csv': 'sourcedId\n',
      'courses.csv': csv('1.1', 'courses', []),
    });
    const error = await OneRosterCsvSisSource.open({ zipPath: path }).catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(SisSourceError);
    expect((error as SisSourceError).message).toMatch(/^The package has 3 structural problems/);
    expect((error as SisSourceError).problems).toEqual([
      { field: 'file.users', message: expect.stringContaining('file.users is "full"') },
      { field: 'status', message: expect.stringContaining('orgs.csv: the header does not match') },
      { field: 'status', message: expect.stringContaining('users.csv: the header does not match') },
    ]);
  });

  it('gives the mode its manifest decides and names the file as it was uploaded', async () => {
    const files = (mode: 'bulk' | 'delta') => ({
      'manifest.csv': manifest('1.2', { orgs: mode, users: 'absent' }),
      'orgs.csv': csv('1.2', 'orgs', [{ sourcedId: 'd-1', status: 'active', name: 'District', type: 'district' }]),
    });
    const delta = await OneRosterCsvSisSource.open({
      zipPath: await buildZip(files('delta')),
      displayName: 'Spring roster (delta).zip',
    });
    expect(delta.fixedMode()).toBe('delta');
    expect(delta.describe()).toBe('OneRoster 1.2 CSV Spring roster (delta).zip');
    await delta.close();

    const bulk = await OneRosterCsvSisSource.open({ zipPath: await buildZip(files('bulk')), displayName: null });
    expect(bulk.fixedMode()).toBe('full');
    expect(bulk.describe()).toMatch(/^OneRoster 1\.2 CSV package-\d+\.zip$/);
    await bulk.close();
  });

  it('fails to open a structurally invalid package with SIS_SYNC.CSV_INVALID', async () => {
    const path = await buildZip({
      'manifest.csv': manifest('1.1', { orgs: 'bulk' }),
      'orgs.csv': 'sourcedId,name,type\n',
    });
    const error = await OneRosterCsvSisSource.open({ zipPath: path }).catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(SisSourceError);
    expect(error).toMatchObject({ code: 'SIS_SYNC.CSV_INVALID', field: 'status' });
    expect((error as Error).message).toContain('orgs.csv');
  });
});
