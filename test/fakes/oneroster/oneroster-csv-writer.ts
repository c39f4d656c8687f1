import { createWriteStream } from 'node:fs';
import { ZipFile } from 'yazl';
import {
  expandTo11Users,
  OneRoster11IdResolver,
  sortedBySourcedId,
  type OneRoster11Options,
  type OneRoster11Role,
  type OneRosterDataset,
  type OneRosterRecordBase,
} from './oneroster-dataset.js';

export type OneRosterCsvVersion = '1.1' | '1.2';
export type OneRosterCsvMode = 'bulk' | 'delta';
export type OneRosterCsvFile =
  'academicSessions' | 'orgs' | 'courses' | 'classes' | 'users' | 'roles' | 'enrollments' | 'demographics';

const ACADEMIC_SESSION_HEADERS: readonly string[] = [
  'sourcedId',
  'status',
  'dateLastModified',
  'title',
  'type',
  'startDate',
  'endDate',
  'parentSourcedId',
  'schoolYear',
];

const COURSE_HEADERS: readonly string[] = [
  'sourcedId',
  'status',
  'dateLastModified',
  'schoolYearSourcedId',
  'title',
  'courseCode',
  'grades',
  'orgSourcedId',
  'subjects',
  'subjectCodes',
];

const CLASS_HEADERS: readonly string[] = [
  'sourcedId',
  'status',
  'dateLastModified',
  'title',
  'grades',
  'courseSourcedId',
  'classCode',
  'classType',
  'location',
  'schoolSourcedId',
  'termSourcedIds',
  'subjects',
  'subjectCodes',
  'periods',
];

const ENROLLMENT_HEADERS: readonly string[] = [
  'sourcedId',
  'status',
  'dateLastModified',
  'classSourcedId',
  'schoolSourcedId',
  'userSourcedId',
  'role',
  'primary',
  'beginDate',
  'endDate',
];

const DEMOGRAPHICS_HEADERS: readonly string[] = [
  'sourcedId',
  'status',
  'dateLastModified',
  'birthDate',
  'sex',
  'americanIndianOrAlaskaNative',
  'asian',
  'blackOrAfricanAmerican',
  'nativeHawaiianOrOtherPacificIslander',
  'white',
  'demographicRaceTwoOrMoreRaces',
  'hispanicOrLatinoEthnicity',
  'countryOfBirthCode',
  'stateOfBirthAbbreviation',
  'cityOfBirth',
  'publicSchoolResidenceStatus',
];

/** Exact header rows (sis-apis.md §2.5), in spec order. */
export const ONEROSTER_CSV_HEADERS: Readonly<
  Record<OneRosterCsvVersion, Readonly<Partial<Record<OneRosterCsvFile, readonly string[]>>>>
> = {
  '1.1': {
    academicSessions: ACADEMIC_SESSION_HEADERS,
    orgs: ['sourcedId', 'status', 'dateLastModified', 'name', 'type', 'identifier', 'parentSourcedId'],
    courses: COURSE_HEADERS,
    classes: CLASS_HEADERS,
    users: [
      'sourcedId',
      'status',
      'dateLastModified',
      'enabledUser',
      'orgSourcedIds',
      'role',
      'username',
      'userIds',
      'givenName',
      'familyName',
      'middleName',
      'identifier',
      'email',
      'sms',
      'phone',
      'agentSourcedIds',
      'grades',
      'password',
    ],
    enrollments: ENROLLMENT_HEADERS,
    demographics: DEMOGRAPHICS_HEADERS,
  },
  '1.2': {
    academicSessions: ACADEMIC_SESSION_HEADERS,
    orgs: ['sourcedId', 'status', 'dateLastModified', 'name', 'type', 'identifier', 'parentSourcedId'],
    courses: COURSE_HEADERS,
    classes: CLASS_HEADERS,
    users: [
      'sourcedId',
      'status',
      'dateLastModified',
      'enabledUser',
      'username',
      'userIds',
      'givenName',
      'familyName',
      'middleName',
      'identifier',
      'email',
      'sms',
      'phone',
      'agentSourcedIds',
      'grades',
      'password',
      'userMasterIdentifier',
      'preferredGivenName',
      'preferredMiddleName',
      'preferredFamilyName',
      'primaryOrgSourcedId',
      'pronouns',
    ],
    roles: [
      'sourcedId',
      'status',
      'dateLastModified',
      'userSourcedId',
      'roleType',
      'role',
      'beginDate',
      'endDate',
      'orgSourcedId',
      'userProfileSourcedId',
    ],
    enrollments: ENROLLMENT_HEADERS,
    demographics: DEMOGRAPHICS_HEADERS,
  },
};

const MANIFEST_FILES: Readonly<Record<OneRosterCsvVersion, readonly string[]>> = {
  '1.1': [
    'academicSessions',
    'categories',
    'classes',
    'classResources',
    'courses',
    'courseResources',
    'demographics',
    'enrollments',
    'lineItems',
    'orgs',
    'resources',
    'results',
    'users',
  ],
  '1.2': [
    'academicSessions',
    'categories',
    'classes',
    'classResources',
    'courses',
    'courseResources',
    'demographics',
    'enrollments',
    'lineItemLearningObjectiveIds',
    'lineItems',
    'lineItemScoreScales',
    'orgs',
    'resources',
    'resultLearningObjectiveIds',
    'results',
    'resultScoreScales',
    'roles',
    'scoreScales',
    'userProfiles',
    'userResources',
    'users',
  ],
};

export interface OneRosterCsvOptions extends OneRoster11Options {
  version: OneRosterCsvVersion;
  mode: OneRosterCsvMode;
  /** Data files to write; the rest are `absent` in the manifest. Default: all this fake has (1.2 adds roles). */
  files?: readonly OneRosterCsvFile[];
  /** A UTF-8 byte order mark at the start of every CSV. */
  bom?: boolean;
  /** Default `crlf` (RFC 4180). */
  lineEnding?: 'crlf' | 'lf' | 'cr';
  /** Quote every field, not only those that need it. */
  quoteAll?: boolean;
  /** Delta only: just the records modified at or after this instant (default all of them). */
  since?: Date | string;
  sourceSystemName?: string;
}

export interface WriteOneRosterCsvZipOptions extends OneRosterCsvOptions {
  path: string;
}

export interface ZipEntry {
  name: string;
  content: string | Buffer;
}

const LINE_ENDINGS = { crlf: '\r\n', lf: '\n', cr: '\r' } as const;
const ZIP_MTIME = new Date('2025-01-01T00:00:00Z');

/** Every file of the bundle as text, `manifest.csv` first, in insertion order. */
export function buildOneRosterCsvFiles(dataset: OneRosterDataset, options: OneRosterCsvOptions): Map<string, string> {
  const { version, mode } = options;
  const files = options.files ?? defaultFiles(version);
  if (version === '1.1' && files.includes('roles')) throw new Error('roles.csv exists only in OneRoster 1.2');
  const since = options.since === undefined ? null : new Date(options.since).getTime();
  const include = (record: OneRosterRecordBase): boolean =>
    mode === 'bulk'
      ? record.status === 'active'
      : since === null || new Date(record.dateLastModified).getTime() >= since;
  const stamp = (record: { status: string; dateLastModified: string }): [string, string] =>
    mode === 'bulk' ? ['', ''] : [record.status, record.dateLastModified];
  const ids = new OneRoster11IdResolver(dataset.users, options);
  const eol = LINE_ENDINGS[options.lineEnding ?? 'crlf'];
  const quoteAll = options.quoteAll ?? false;
  const csv = (rows: Iterable<readonly CsvValue[]>, header: readonly string[]): string => {
    const lines = [header.map((value) => csvField(value, quoteAll)).join(',')];
    for (const row of rows) lines.push(row.map((value) => csvField(value, quoteAll)).join(','));
    return (options.bom ? '\uFEFF' : '') + lines.join(eol) + eol;
  };
  const headers = ONEROSTER_CSV_HEADERS[version];

  const output = new Map<string, string>();
  const manifest: [string, string][] = [
    ['manifest.version', '1.0'],
    ['oneroster.version', version],
    ...MANIFEST_FILES[version].map((name): [string, string] => [
      `file.${name}`,
      files.includes(name as OneRosterCsvFile) ? mode : 'absent',
    ]),
    ['source.systemName', options.sourceSystemName ?? 'Homeroom Fake SIS'],
    ['source.systemCode', 'homeroom-fake'],
  ];
  output.set('manifest.csv', csv(manifest, ['propertyName', 'value']));

  const writers: Record<OneRosterCsvFile, () => Iterable<readonly CsvValue[]>> = {
    academicSessions: () =>
      sortedBySourcedId(dataset.academicSessions)
        .filter(include)
        .map((session) => [
          session.sourcedId,
          ...stamp(session),
          session.title,
          session.type,
          session.startDate,
          session.endDate,
          session.parentSourcedId,
          session.schoolYear,
        ]),
    orgs: () =>
      sortedBySourcedId(dataset.orgs)
        .filter(include)
        .map((org) => [org.sourcedId, ...stamp(org), org.name, org.type, org.identifier, org.parentSourcedId]),
    courses: () =>
      sortedBySourcedId(dataset.courses)
        .filter(include)
        .map((course) => [
          course.sourcedId,
          ...stamp(course),
          course.schoolYearSourcedId,
          course.title,
          course.courseCode,
          course.grades,
          course.orgSourcedId,
          course.subjects,
          course.subjectCodes,
        ]),
    classes: () =>
      sortedBySourcedId(dataset.classes)
        .filter(include)
        .map((schoolClass) => [
          schoolClass.sourcedId,
          ...stamp(schoolClass),
          schoolClass.title,
          schoolClass.grades,
          schoolClass.courseSourcedId,
          schoolClass.classCode,
          schoolClass.classType,
          schoolClass.location,
          schoolClass.schoolSourcedId,
          schoolClass.termSourcedIds,
          schoolClass.subjects,
          schoolClass.subjectCodes,
          schoolClass.periods,
        ]),
    users: () =>
      version === '1.1'
        ? sortedBySourcedId(expandTo11Users(dataset.users.filter(include), options)).map((user) => {
            const person = user.person;
            return [
              user.sourcedId,
              ...stamp(user),
              person.enabledUser,
              user.orgSourcedIds,
              user.role,
              person.username,
              userIdsField(person.userIds),
              person.givenName,
              person.familyName,
              person.middleName,
              person.identifier,
              person.email,
              person.sms,
              person.phone,
              person.agentSourcedIds.map((id) => ids.agentId(id, user.role)),
              user.role === 'student' ? person.grades : [],
              null,
            ];
          })
        : sortedBySourcedId(dataset.users)
            .filter(include)
            .map((person) => [
              person.sourcedId,
              ...stamp(person),
              person.enabledUser,
              person.username,
              userIdsField(person.userIds),
              person.givenName,
              person.familyName,
              person.middleName,
              person.identifier,
              person.email,
              person.sms,
              person.phone,
              person.agentSourcedIds,
              person.grades,
              null,
              person.userMasterIdentifier,
              person.preferredFirstName,
              person.preferredMiddleName,
              person.preferredLastName,
              person.primaryOrgSourcedId,
              person.pronouns,
            ]),
    roles: () =>
      sortedBySourcedId(dataset.users)
        .filter(include)
        .flatMap((person) =>
          person.roles.map((membership) => [
            `${person.sourcedId}-${membership.role}-${membership.orgSourcedId}`,
            ...stamp(person),
            person.sourcedId,
            membership.roleType,
            membership.role,
            membership.beginDate,
            membership.endDate,
            membership.orgSourcedId,
            null,
          ]),
        ),
    enrollments: () =>
      sortedBySourcedId(dataset.enrollments)
        .filter(include)
        .map((enrollment) => [
          enrollment.sourcedId,
          ...stamp(enrollment),
          enrollment.classSourcedId,
          enrollment.schoolSourcedId,
          version === '1.1'
            ? ids.userId(enrollment.userSourcedId, enrollment.role as OneRoster11Role)
            : enrollment.userSourcedId,
          enrollment.role,
          enrollment.primary,
          enrollment.beginDate,
          enrollment.endDate,
        ]),
    demographics: () =>
      sortedBySourcedId(dataset.demographics)
        .filter(include)
        .map((record) => [
          version === '1.1' ? ids.userId(record.sourcedId, 'student') : record.sourcedId,
          ...stamp(record),
          record.birthDate,
          record.sex,
          record.americanIndianOrAlaskaNative,
          record.asian,
          record.blackOrAfricanAmerican,
          record.nativeHawaiianOrOtherPacificIslander,
          record.white,
          record.demographicRaceTwoOrMoreRaces,
          record.hispanicOrLatinoEthnicity,
          record.countryOfBirthCode,
          record.stateOfBirthAbbreviation,
          record.cityOfBirth,
          record.publicSchoolResidenceStatus,
        ]),
  };
  for (const file of files) output.set(`${file}.csv`, csv(writers[file](), headers[file]!));
  return output;
}

/** Writes a OneRoster CSV bundle; resolves to the zip's path and the files in it. */
export async function writeOneRosterCsvZip(
  dataset: OneRosterDataset,
  options: WriteOneRosterCsvZipOptions,
): Promise<{ path: string; files: string[] }> {
  const files = buildOneRosterCsvFiles(dataset, options);
  await writeZip(
    options.path,
    [...files].map(([name, content]) => ({ name, content })),
  );
  return { path: options.path, files: [...files.keys()] };
}

export async function writeZip(path: string, entries: readonly ZipEntry[]): Promise<void> {
  const zip = new ZipFile();
  for (const entry of entries) {
    if (entry.name.endsWith('/')) zip.addEmptyDirectory(entry.name, { mtime: ZIP_MTIME });
    else zip.addBuffer(Buffer.from(entry.content), entry.name, { mtime: ZIP_MTIME });
  }
  zip.end();
  await new Promise<void>((resolve, reject) => {
    const output = createWriteStream(path);
    output.once('close', resolve);
    output.once('error', reject);
    zip.outputStream.once('error', reject);
    zip.outputStream.pipe(output);
  });
}

export type BrokenOneRosterZipKind =
  /** A header renamed (`givenName` → `firstName` in users.csv, or the first header of `file`). */
  | 'bad-header'
  /** The headers of one file in a different order. */
  | 'reordered-header'
  | 'missing-manifest'
  /** Everything inside `oneroster/` instead of at the root. */
  | 'nested-folder'
  /** A valid bundle plus macOS `__MACOSX/._*.csv` resource forks. */
  | 'macosx-junk'
  /** The manifest declares a file that the zip lacks. */
  | 'missing-declared-file'
  /** A bulk file with status/dateLastModified filled and a `tobedeleted` row. */
  | 'bulk-with-status';

export interface WriteBrokenOneRosterZipOptions extends WriteOneRosterCsvZipOptions {
  breakage: BrokenOneRosterZipKind;
  /** The data file to break (default `users`). */
  file?: OneRosterCsvFile;
}

/** A deliberately invalid bundle for the CSV importer's structural checks. */
export async function writeBrokenOneRosterCsvZip(
  dataset: OneRosterDataset,
  options: WriteBrokenOneRosterZipOptions,
): Promise<{ path: string; files: string[] }> {
  const target = `${options.file ?? 'users'}.csv`;
  let files = buildOneRosterCsvFiles(dataset, options);
  const eol = LINE_ENDINGS[options.lineEnding ?? 'crlf'];
  const editHeader = (edit: (headers: string[]) => string[]): void => {
    const text = files.get(target);
    if (text === undefined) throw new Error(`${target} is not in the bundle`);
    const [header, ...rest] = text.split(eol);
    const bom = header.startsWith('\uFEFF') ? '\uFEFF' : '';
    files.set(target, [bom + edit(header.slice(bom.length).split(',')).join(','), ...rest].join(eol));
  };
  let entries: ZipEntry[];
  switch (options.breakage) {
    case 'bad-header':
      editHeader((headers) => {
        const index = headers.includes('givenName') ? headers.indexOf('givenName') : 0;
        return headers.map((header, position) =>
          position === index ? (header === 'givenName' ? 'firstName' : `${header}X`) : header,
        );
      });
      entries = toEntries(files);
      break;
    case 'reordered-header':
      editHeader((headers) => [headers[1], headers[0], ...headers.slice(2)]);
      entries = toEntries(files);
      break;
    case 'missing-manifest':
      files.delete('manifest.csv');
      entries = toEntries(files);
      break;
    case 'nested-folder':
      entries = [
        { name: 'oneroster/', content: '' },
        ...toEntries(files).map((entry) => ({ ...entry, name: `oneroster/${entry.name}` })),
      ];
      break;
    case 'macosx-junk':
      entries = [
        ...toEntries(files),
        ...[...files.keys()].map((name) => ({
          name: `__MACOSX/._${name}`,
          content: Buffer.from([0, 5, 22, 7, 0, 2, 0, 0]),
        })),
      ];
      break;
    case 'missing-declared-file':
      files.delete(target);
      entries = toEntries(files);
      break;
    case 'bulk-with-status': {
      const delta = buildOneRosterCsvFiles(dataset, { ...options, mode: 'delta' });
      const text = delta.get(target);
      if (text === undefined) throw new Error(`${target} is not in the bundle`);
      const lines = text.split(eol);
      lines[1] = lines[1]?.replace(',active,', ',tobedeleted,');
      files = new Map(files);
      files.set(target, lines.join(eol));
      entries = toEntries(files);
      break;
    }
  }
  await writeZip(options.path, entries);
  return { path: options.path, files: entries.map((entry) => entry.name) };
}

function toEntries(files: Map<string, string>): ZipEntry[] {
  return [...files].map(([name, content]) => ({ name, content }));
}

function defaultFiles(version: OneRosterCsvVersion): OneRosterCsvFile[] {
  const files: OneRosterCsvFile[] = [
    'academicSessions',
    'orgs',
    'courses',
    'classes',
    'users',
    'enrollments',
    'demographics',
  ];
  return version === '1.2' ? [...files.slice(0, 5), 'roles', ...files.slice(5)] : files;
}

type CsvValue = string | boolean | null | undefined | readonly string[];

function userIdsField(userIds: readonly { type: string; identifier: string }[]): string[] {
  return userIds.map((userId) => `{${userId.type}:${userId.identifier}}`);
}

/** RFC 4180: quote when the value holds a comma, quote or line break; lists become a comma list. */
export function csvField(value: CsvValue, quoteAll = false): string {
  const text = value === null || value === undefined ? '' : Array.isArray(value) ? value.join(',') : String(value);
  return quoteAll || /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
