import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yazl from 'yazl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ONEROSTER_CSV_COLUMNS } from './oneroster-csv.columns.js';
import {
  DEFAULT_ONEROSTER_CSV_LIMITS,
  openOneRosterCsvZip,
  type OneRosterCsvPackage,
  type OneRosterCsvRow,
  type OneRosterCsvRowIssue,
} from './oneroster-csv.reader.js';
import { OneRosterError } from './oneroster.error.js';

let directory: string;
let zipCount = 0;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'oneroster-csv-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function buildZip(entries: Record<string, string | Buffer>): Promise<string> {
  const path = join(directory, `package-${++zipCount}.zip`);
  const zip = new yazl.ZipFile();
  for (const [name, content] of Object.entries(entries)) {
    if (name.endsWith('/')) zip.addEmptyDirectory(name);
    else zip.addBuffer(Buffer.isBuffer(content) ? content : Buffer.from(content, 'utf8'), name);
  }
  zip.end();
  await new Promise<void>((resolve, reject) => {
    zip.outputStream.pipe(createWriteStream(path)).on('close', resolve).on('error', reject);
  });
  return path;
}

function manifest(version: '1.1' | '1.2', files: Record<string, 'bulk' | 'delta' | 'absent'>, eol = '\n'): string {
  const rows = [
    'propertyName,value',
    'manifest.version,1.0',
    `oneroster.version,${version}`,
    ...Object.entries(files).map(([file, mode]) => `file.${file},${mode}`),
    'source.systemName,Test SIS',
  ];
  return rows.join(eol) + eol;
}

const ORGS_HEADER = ONEROSTER_CSV_COLUMNS['1.1'].orgs!.join(',');

async function readAll(csvPackage: OneRosterCsvPackage, file: 'orgs' | 'users' | 'roles', batchSize?: number) {
  const issues: OneRosterCsvRowIssue[] = [];
  const batches: OneRosterCsvRow[][] = [];
  for await (const batch of csvPackage.rows(file, { batchSize, onIssue: (issue) => issues.push(issue) })) {
    batches.push(batch);
  }
  return { batches, rows: batches.flat(), issues };
}

async function openFailure(path: string, limits?: Parameters<typeof openOneRosterCsvZip>[1]): Promise<OneRosterError> {
  const error = await openOneRosterCsvZip(path, limits).then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(OneRosterError);
  expect((error as OneRosterError).code).toBe('SIS_SYNC.CSV_INVALID');
  return error as OneRosterError;
}

describe('openOneRosterCsvZip', () => {
  it('reads the manifest: version and the mode of each file', async () => {
    const path = await buildZip({
      'manifest.csv': manifest('1.1', { orgs: 'bulk', users: 'absent', enrollments: 'absent', results: 'absent' }),
      'orgs.csv': `${ORGS_HEADER}\n`,
    });
    const csvPackage = await openOneRosterCsvZip(path);
    expect(csvPackage.version).toBe('1.1');
    expect(csvPackage.files).toMatchObject({ orgs: 'bulk', users: 'absent', classes: 'absent', roles: 'absent' });
    expect(csvPackage.manifest['source.systemName']).toBe('Test SIS');
    await csvPackage.close();
  });

  it('reads UTF-8 with a BOM and CRLF line ends, RFC 4180 quoting, and metadata columns', async () => {
    const path = await buildZip({
      'manifest.csv': '\uFEFF' + manifest('1.1', { orgs: 'bulk' }, '\r\n'),
      'orgs.csv':
        '\uFEFF' +
        `${ORGS_HEADER},metadata.ic.code\r\n` +
        'o1,,,"Lincoln, Abraham High",school,LHS,d1,A7\r\n' +
        'o2,,,"The ""Best"" School",school,,d1,\r\n' +
        'd1,,,Springfield Unified,district,,,\r\n',
    });
    const csvPackage = await openOneRosterCsvZip(path);
    const { rows, issues } = await readAll(csvPackage, 'orgs');
    expect(issues).toEqual([]);
    expect(rows.map((row) => [row.line, row.values.sourcedId, row.values.name])).toEqual([
      [2, 'o1', 'Lincoln, Abraham High'],
      [3, 'o2', 'The "Best" School'],
      [4, 'd1', 'Springfield Unified'],
    ]);
    expect(rows[0].values['metadata.ic.code']).toBe('A7');
    await csvPackage.close();
  });

  it('reads CR-only line ends', async () => {
    const path = await buildZip({
      'manifest.csv': manifest('1.1', { orgs: 'bulk' }, '\r'),
      'orgs.csv': `${ORGS_HEADER}\ro1,,,North,school,,d1\ro2,,,South,school,,d1\r`,
    });
    const csvPackage = await openOneRosterCsvZip(path);
    const { rows } = await readAll(csvPackage, 'orgs');
    expect(rows.map((row) => [row.line, row.values.name])).toEqual([
      [2, 'North'],
      [3, 'South'],
    ]);
    await csvPackage.close();
  });

  it('streams rows in batches', async () => {
    const lines = Array.from({ length: 25 }, (_, index) => `o${index},,,School ${index},school,,d1`);
    const path = await buildZip({
      'manifest.csv': manifest('1.1', { orgs: 'bulk' }),
      'orgs.csv': [ORGS_HEADER, ...lines].join('\n'),
    });
    const csvPackage = await openOneRosterCsvZip(path);
    const { batches } = await readAll(csvPackage, 'orgs', 10);
    expect(batches.map((batch) => batch.length)).toEqual([10, 10, 5]);
    await csvPackage.close();
  });

  it('fails clearly on a header that is not the spec header, naming the file and both column lists', async () => {
    const path = await buildZip({
      'manifest.csv': manifest('1.1', { orgs: 'bulk' }),
      'orgs.csv': 'sourcedId,status,dateLastModified,Name,type,identifier,parentSourcedId\no1,,,X,school,,\n',
    });
    const error = await openFailure(path);
    expect(error.file).toBe('orgs.csv');
    expect(error.line).toBe(1);
    expect(error.field).toBe('name');
    expect(error.message).toContain('orgs.csv');
    expect(error.message).toContain('column 4 should be "name" but is "Name"');
    expect(error.message).toContain(`Expected "${ORGS_HEADER}"`);
    expect(error.message).toContain('found "sourcedId,status,dateLastModified,Name,type,identifier,parentSourcedId"');
  });

  it('rejects extra columns that are not metadata.*', async () => {
    const path = await buildZip({
      'manifest.csv': manifest('1.1', { orgs: 'bulk' }),
      'orgs.csv': `${ORGS_HEADER},notes\n`,
    });
    const error = await openFailure(path);
    expect(error.message).toContain('"notes" is not a spec column');
  });

  it('checks users.csv against the 1.2 header (no orgSourcedIds or role; preferred names appended)', async () => {
    const path = await buildZip({
      'manifest.csv': manifest('1.2', { users: 'bulk', roles: 'bulk' }),
      'users.csv': `${ONEROSTER_CSV_COLUMNS['1.1'].users!.join(',')}\n`,
      'roles.csv': `${ONEROSTER_CSV_COLUMNS['1.2'].roles!.join(',')}\n`,
    });
    const error = await openFailure(path);
    expect(error.file).toBe('users.csv');
    expect(error.message).toContain('OneRoster 1.2');
    expect(error.message).toContain('column 5 should be "username" but is "orgSourcedIds"');
  });

  it('fails when manifest.csv is missing', async () => {
    const path = await buildZip({ 'orgs.csv': `${ORGS_HEADER}\n` });
    const error = await openFailure(path);
    expect(error.message).toContain('no manifest.csv at its root');
  });

  it('explains a package zipped inside a folder', async () => {
    const path = await buildZip({
      'export/': '',
      'export/manifest.csv': manifest('1.1', { orgs: 'bulk' }),
      'export/orgs.csv': `${ORGS_HEADER}\n`,
    });
    const error = await openFailure(path);
    expect(error.message).toContain('manifest.csv is inside a folder (export/manifest.csv)');
    expect(error.message).toContain('root');
  });

  it('ignores __MACOSX entries and files in folders when the package is at the root', async () => {
    const path = await buildZip({
      'manifest.csv': manifest('1.1', { orgs: 'bulk' }),
      'orgs.csv': `${ORGS_HEADER}\no1,,,North,school,,\n`,
      '__MACOSX/._orgs.csv': Buffer.from([0, 5, 22, 7, 0, 2]),
      'old/orgs.csv': 'garbage',
    });
    const csvPackage = await openOneRosterCsvZip(path);
    expect((await readAll(csvPackage, 'orgs')).rows).toHaveLength(1);
    await csvPackage.close();
  });

  it('fails when the manifest lists a file the zip does not hold', async () => {
    const path = await buildZip({
      'manifest.csv': manifest('1.1', { orgs: 'bulk', users: 'delta' }),
      'orgs.csv': ORGS_HEADER,
    });
    const error = await openFailure(path);
    expect(error.message).toContain('users.csv');
  });

  it.each([
    [
      'an unsupported version',
      'propertyName,value\noneroster.version,1.0\n',
      'oneroster.version "1.0" is not supported',
    ],
    ['no version', 'propertyName,value\nfile.orgs,bulk\n', 'no oneroster.version'],
    ['a bad file mode', 'propertyName,value\noneroster.version,1.1\nfile.orgs,full\n', 'file.orgs is "full"'],
    ['a bad header', 'name,value\noneroster.version,1.1\n', 'must be "propertyName,value"'],
  ])('rejects a manifest with %s', async (_case, content, message) => {
    const error = await openFailure(await buildZip({ 'manifest.csv': content }));
    expect(error.file).toBe('manifest.csv');
    expect(error.message).toContain(message);
  });

  it('reports every structural problem of the package at once: manifest values, missing files and headers', async () => {
    const usersHeader = ONEROSTER_CSV_COLUMNS['1.1'].users!.join(',');
    const path = await buildZip({
      'manifest.csv': [
        'propertyName,value',
        'oneroster.version,1.1',
        'file.orgs,bulk',
        'file.users,full',
        'file.classes,bulk',
        'file.courses,bulk',
        'file.enrollments,bulk',
      ].join('\n'),
      'orgs.csv': 'sourcedId,status,dateLastModified,Name,type,identifier,parentSourcedId\n',
      'users.csv': `${usersHeader.replace('givenName', 'firstName')}\n`,
      'classes.csv': `${ONEROSTER_CSV_COLUMNS['1.1'].classes!.join(',')},notes\n`,
      'enrollments.csv': `${ONEROSTER_CSV_COLUMNS['1.1'].enrollments!.join(',')}\n`,
    });
    const error = await openFailure(path);
    expect(error.problems.map((problem) => [problem.file, problem.field])).toEqual([
      ['manifest.csv', 'file.users'],
      ['courses.csv', undefined],
      ['orgs.csv', 'name'],
      ['classes.csv', 'notes'],
      // A file whose mode is not valid is still checked when the zip holds it.
      ['users.csv', 'givenName'],
    ]);
    expect(error.problems[0].message).toContain('file.users is "full" but must be bulk, delta or absent');
    expect(error.problems[1].message).toContain('no courses.csv');
    expect(error.problems[2].message).toContain('column 4 should be "name" but is "Name"');
    expect(error.problems[4].message).toContain('users.csv: the header does not match');
    expect(error.message).toBe(
      'The package has 5 structural problems (in manifest.csv, courses.csv, orgs.csv, classes.csv, users.csv), ' +
        'each reported on its own; nothing was read from it',
    );
  });

  it('reports a manifest with several bad values at once, and reads no header without a known version', async () => {
    const path = await buildZip({
      'manifest.csv': 'propertyName,value\noneroster.version,1.0\nfile.orgs,full\nfile.users,bulk,extra\n',
      'orgs.csv': 'not,a,header\n',
    });
    const error = await openFailure(path);
    expect(error.problems.map((problem) => problem.message)).toEqual([
      'manifest.csv line 4: expected 2 fields, found 3',
      'manifest.csv: oneroster.version "1.0" is not supported (1.1 or 1.2)',
      'manifest.csv: file.orgs is "full" but must be bulk, delta or absent',
    ]);
    expect(error.message).toContain('3 structural problems (in manifest.csv)');
  });

  it('keeps the error of a package with one structural problem as it is', async () => {
    const path = await buildZip({
      'manifest.csv': manifest('1.1', { orgs: 'bulk' }),
      'orgs.csv': `${ORGS_HEADER},notes\n`,
    });
    const error = await openFailure(path);
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0].message).toBe(error.message);
    expect(error.file).toBe('orgs.csv');
  });

  it('refuses an entry whose compression ratio betrays a zip bomb', async () => {
    const path = await buildZip({
      'manifest.csv': manifest('1.1', { orgs: 'bulk' }),
      'orgs.csv': Buffer.concat([Buffer.from(`${ORGS_HEADER}\n`), Buffer.alloc(4 * 1024 ** 2, 0x20)]),
    });
    const error = await openFailure(path);
    expect(error.file).toBe('orgs.csv');
    expect(error.message).toMatch(/compression ratio of \d+:1, past the limit of 100:1/);
  });

  it('refuses packages past the entry and size limits', async () => {
    const path = await buildZip({
      'manifest.csv': manifest('1.1', { orgs: 'bulk' }),
      'orgs.csv': `${ORGS_HEADER}\no1,,,North,school,,\n`,
      'readme.txt': 'hello',
    });
    expect((await openFailure(path, { limits: { maxEntries: 2 } })).message).toContain('3 entries');
    expect((await openFailure(path, { limits: { maxTotalUncompressedBytes: 100 } })).message).toContain(
      'limit of 100 bytes',
    );
  });

  it('fails on a record longer than maxRecordBytes (a huge quoted field) instead of holding it in memory', async () => {
    const huge = 'x'.repeat(5_000);
    const path = await buildZip({
      'manifest.csv': manifest('1.1', { orgs: 'bulk' }),
      'orgs.csv': `${ORGS_HEADER}\no1,,,North,school,,\no2,,,"${huge}",school,,\no3,,,East,school,,\n`,
    });
    // Found while the package is opened (its headers are read from the first chunk), or while its rows are read.
    const error = await openOneRosterCsvZip(path, { limits: { maxRecordBytes: 1_000 } }).then(
      async (csvPackage) => {
        try {
          await readAll(csvPackage, 'orgs');
          return undefined;
        } catch (reason) {
          return reason as OneRosterError;
        } finally {
          await csvPackage.close();
        }
      },
      (reason: unknown) => reason as OneRosterError,
    );
    expect(error).toBeInstanceOf(OneRosterError);
    expect(error?.code).toBe('SIS_SYNC.CSV_INVALID');
    expect(error?.file).toBe('orgs.csv');
    expect(error?.message).toMatch(/orgs\.csv line 3: a record is longer than the limit of 1000 characters/);
    expect(error?.message).not.toContain('xxxx');
    expect(DEFAULT_ONEROSTER_CSV_LIMITS.maxRecordBytes).toBe(1024 ** 2);
  });

  it('fails with the line of an unclosed quote', async () => {
    const path = await buildZip({
      'manifest.csv': manifest('1.1', { orgs: 'bulk' }),
      'orgs.csv': `${ORGS_HEADER}\no1,,,North,school,,\no2,,,"South,school,,\n`,
    });
    const csvPackage = await openOneRosterCsvZip(path);
    const error = await readAll(csvPackage, 'orgs').then(
      () => undefined,
      (reason: unknown) => reason as OneRosterError,
    );
    expect(error?.code).toBe('SIS_SYNC.CSV_INVALID');
    expect(error?.file).toBe('orgs.csv');
    expect(error?.message).toContain('never closed');
    await csvPackage.close();
  });

  it('reports, without failing, delta rows without status or dateLastModified and rows with the wrong field count', async () => {
    const path = await buildZip({
      'manifest.csv': manifest('1.1', { orgs: 'delta' }),
      'orgs.csv': [
        ORGS_HEADER,
        'o1,active,2026-01-05T10:00:00Z,North,school,,d1',
        'o2,,2026-01-05T10:00:00Z,South,school,,d1',
        'o3,tobedeleted,,East,school,,d1',
        'o4,active,2026-01-05T10:00:00Z,West,school',
        'o5,tobedeleted,2026-01-05T10:00:00Z,Old,school,,d1',
      ].join('\n'),
    });
    const csvPackage = await openOneRosterCsvZip(path);
    const { rows, issues } = await readAll(csvPackage, 'orgs');
    expect(rows.map((row) => row.values.sourcedId)).toEqual(['o1', 'o5']);
    expect(issues).toEqual([
      { file: 'orgs.csv', line: 3, sourcedId: 'o2', field: 'status', message: 'status is required in a delta file' },
      {
        file: 'orgs.csv',
        line: 4,
        sourcedId: 'o3',
        field: 'dateLastModified',
        message: 'dateLastModified is required in a delta file',
      },
      // The first column still names the record: it is present, only unreadable.
      { file: 'orgs.csv', line: 5, sourcedId: 'o4', field: null, message: 'The row has 5 fields but the header has 7' },
    ]);
    await csvPackage.close();
  });

  it('accepts rows with empty fields beyond the header, with one warning per file counting them', async () => {
    const path = await buildZip({
      'manifest.csv': manifest('1.1', { orgs: 'bulk' }),
      'orgs.csv': [
        ORGS_HEADER,
        'o1,,,North,school,,d1,',
        'o2,,,South,school,,d1',
        'o3,,,East,school,,d1, ,',
        'o4,,,West,school,,d1,""',
      ].join('\n'),
    });
    const csvPackage = await openOneRosterCsvZip(path);
    const { rows, issues } = await readAll(csvPackage, 'orgs');
    expect(rows.map((row) => [row.line, row.values.sourcedId, row.values.parentSourcedId])).toEqual([
      [2, 'o1', 'd1'],
      [3, 'o2', 'd1'],
      [4, 'o3', 'd1'],
      [5, 'o4', 'd1'],
    ]);
    expect(Object.keys(rows[0].values)).toEqual(ONEROSTER_CSV_COLUMNS['1.1'].orgs);
    expect(issues).toEqual([
      {
        file: 'orgs.csv',
        line: 2,
        sourcedId: null,
        field: null,
        severity: 'warning',
        message:
          '3 rows have empty fields beyond the 7 columns of the header (the first at line 2); the empty fields were ignored and the rows kept',
      },
    ]);
    await csvPackage.close();
  });

  it('still rejects a row whose fields beyond the header are not empty, and says so', async () => {
    const path = await buildZip({
      'manifest.csv': manifest('1.1', { orgs: 'bulk' }),
      'orgs.csv': [ORGS_HEADER, 'o1,,,North,school,,d1,', 'o2,,,South,Annex,school,,d1'].join('\n'),
    });
    const csvPackage = await openOneRosterCsvZip(path);
    const { rows, issues } = await readAll(csvPackage, 'orgs');
    expect(rows.map((row) => row.values.sourcedId)).toEqual(['o1']);
    expect(issues).toEqual([
      {
        file: 'orgs.csv',
        line: 3,
        sourcedId: 'o2',
        field: null,
        message: 'The row has 8 fields but the header has 7, and the fields beyond the header are not empty',
      },
      {
        file: 'orgs.csv',
        line: 2,
        sourcedId: null,
        field: null,
        severity: 'warning',
        message:
          '1 row has empty fields beyond the 7 columns of the header (the first at line 2); the empty fields were ignored and the row kept',
      },
    ]);
    expect(JSON.stringify(issues)).not.toContain('Annex');
    await csvPackage.close();
  });

  it('accepts blank status and dateLastModified in bulk files', async () => {
    const path = await buildZip({
      'manifest.csv': manifest('1.1', { orgs: 'bulk' }),
      'orgs.csv': `${ORGS_HEADER}\no1,,,North,school,,d1\n`,
    });
    const csvPackage = await openOneRosterCsvZip(path);
    expect((await readAll(csvPackage, 'orgs')).issues).toEqual([]);
    await csvPackage.close();
  });

  it('reports a row that is not valid UTF-8', async () => {
    const path = await buildZip({
      'manifest.csv': manifest('1.1', { orgs: 'bulk' }),
      'orgs.csv': Buffer.concat([
        Buffer.from(`${ORGS_HEADER}\no1,,,`),
        Buffer.from([0x4d, 0xfc, 0x6e]), // "Mün" in Windows-1252
        Buffer.from(',school,,d1\no2,,,North,school,,d1\n'),
      ]),
    });
    const csvPackage = await openOneRosterCsvZip(path);
    const { rows, issues } = await readAll(csvPackage, 'orgs');
    expect(rows.map((row) => row.values.sourcedId)).toEqual(['o2']);
    expect(issues).toEqual([
      { file: 'orgs.csv', line: 2, sourcedId: 'o1', field: 'name', message: 'The value is not valid UTF-8' },
    ]);
    await csvPackage.close();
  });

  it('fails on a file that is not a zip', async () => {
    const path = join(directory, 'not-a-zip.zip');
    await new Promise<void>((resolve) => createWriteStream(path).end('sourcedId,name\n', resolve));
    const error = await openFailure(path);
    expect(error.message).toContain('not a readable zip');
  });
});
