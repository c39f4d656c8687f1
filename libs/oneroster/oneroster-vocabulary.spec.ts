import { describe, expect, it } from 'vitest';
import { ONEROSTER_CSV_COLUMNS } from './oneroster-csv.columns.js';
import { normaliseCsvRole, normaliseCsvRow, normaliseRestRecord } from './oneroster-normalise.js';
import { OneRosterSchoolScope } from './oneroster-school-scope.js';
import { OneRosterVocabulary } from './oneroster-vocabulary.js';

type Result = { ok: true; record: unknown } | { ok: false; issue: { field: string | null; message: string } };

function ok<T>(result: { ok: true; record: T } | { ok: false; issue: unknown }): T {
  if (!result.ok) throw new Error(`expected a record, got ${JSON.stringify(result.issue)}`);
  return result.record;
}

function refused(result: Result): { field: string | null; message: string } {
  if (result.ok) throw new Error('expected the record to be refused');
  return result.issue;
}

const ORG = { sourcedId: 'o-1', status: 'active', dateLastModified: '2026-01-05T10:00:00Z', name: 'North' };
const SESSION = {
  sourcedId: 't-1',
  status: 'active',
  dateLastModified: '2026-01-05T10:00:00Z',
  title: 'Fall',
  startDate: '2026-08-15',
  endDate: '2026-12-20',
  schoolYear: '2027',
};
const CLASS = {
  sourcedId: 'c-1',
  status: 'active',
  dateLastModified: '2026-01-05T10:00:00Z',
  title: 'Algebra',
  course: { sourcedId: 'co-1', href: 'https://sis.example/courses/co-1', type: 'course' },
  school: { sourcedId: 'o-1', href: 'https://sis.example/orgs/o-1', type: 'org' },
  terms: [{ sourcedId: 't-1', href: 'https://sis.example/academicSessions/t-1', type: 'academicSession' }],
};
const ENROLLMENT = {
  sourcedId: 'e-1',
  status: 'active',
  dateLastModified: '2026-01-05T10:00:00Z',
  user: { sourcedId: 'u-1', href: 'https://sis.example/users/u-1', type: 'user' },
  class: { sourcedId: 'c-1', href: 'https://sis.example/classes/c-1', type: 'class' },
  school: { sourcedId: 'o-1', href: 'https://sis.example/orgs/o-1', type: 'org' },
};
const USER = {
  sourcedId: 'u-1',
  status: 'active',
  dateLastModified: '2026-01-05T10:00:00Z',
  enabledUser: 'true',
  givenName: 'Ada',
  familyName: 'Lovelace',
};
const membership = (role: string) => ({
  roleType: 'primary',
  role,
  org: { sourcedId: 'o-1', href: 'https://sis.example/orgs/o-1', type: 'org' },
});

/** One REST record per vocabulary, with the value under test in its place. */
const VOCABULARIES = [
  { name: 'org type', entity: 'orgs', field: 'type', core: 'school', raw: (v: string) => ({ ...ORG, type: v }) },
  {
    name: 'academic session type',
    entity: 'academicSessions',
    field: 'type',
    core: 'term',
    raw: (v: string) => ({ ...SESSION, type: v }),
  },
  {
    name: 'class type',
    entity: 'classes',
    field: 'classType',
    core: 'homeroom',
    raw: (v: string) => ({ ...CLASS, classType: v }),
  },
  {
    name: 'enrollment role',
    entity: 'enrollments',
    field: 'role',
    core: 'teacher',
    raw: (v: string) => ({ ...ENROLLMENT, role: v }),
  },
  {
    name: 'demographics sex',
    entity: 'demographics',
    field: 'sex',
    core: 'female',
    raw: (v: string) => ({ ...USER, sex: v }),
  },
] as const;

describe('OneRoster 1.2 extension vocabularies (REST)', () => {
  it.each(VOCABULARIES)('$name: 1.2 accepts an ext: value and stores it as given', ({ entity, field, raw }) => {
    const record = ok(normaliseRestRecord(entity, raw('ext:district.Campus-1_b'), '1.2')) as unknown as Record<
      string,
      unknown
    >;
    expect(record[field]).toBe('ext:district.Campus-1_b');
    expect(record.extensionValues).toEqual({ [field]: 'ext:district.Campus-1_b' });
  });

  it.each(VOCABULARIES)('$name: 1.1 refuses an ext: value (1.1 has no extensions)', ({ entity, field, raw }) => {
    const issue = refused(normaliseRestRecord(entity, raw('ext:campus'), '1.1'));
    expect(issue.field).toBe(field);
    expect(issue.message).toContain('OneRoster 1.1 has no extension values');
  });

  it.each(VOCABULARIES)(
    '$name: core values are unchanged and carry no extension values',
    ({ entity, field, core, raw }) => {
      for (const version of ['1.1', '1.2'] as const) {
        const record = ok(normaliseRestRecord(entity, raw(core), version)) as unknown as Record<string, unknown>;
        expect(record[field]).toBe(core);
        expect(record).not.toHaveProperty('extensionValues');
      }
    },
  );

  it.each(VOCABULARIES)('$name: a malformed ext: value is refused, unquoted', ({ entity, field, raw }) => {
    for (const bad of ['ext:', 'ext:two words', 'EXT:campus', 'ext:campus!', 'x-campus']) {
      const issue = refused(normaliseRestRecord(entity, raw(bad), '1.2'));
      expect(issue.field).toBe(field);
      expect(issue.message).toContain('extension value ext:');
      if (bad !== 'ext:') expect(issue.message).not.toContain(bad);
    }
  });

  it('user roles[].role: 1.2 accepts ext: (kept as sourceRole), 1.1-shaped role refuses it', () => {
    const person = ok(normaliseRestRecord('people', { ...USER, roles: [membership('ext:coach')] }, '1.2'));
    expect(person.roles[0]).toMatchObject({ role: 'ext:coach', sourceRole: 'ext:coach', orgSourcedId: 'o-1' });
    expect(person.primaryRole).toBe('ext:coach');

    const teacher = ok(normaliseRestRecord('people', { ...USER, roles: [membership('teacher')] }, '1.2'));
    expect(teacher.roles[0]).not.toHaveProperty('sourceRole');

    expect(refused(normaliseRestRecord('people', { ...USER, roles: [membership('ext:coach!')] }, '1.2')).field).toBe(
      'roles[0].role',
    );
    const legacy = refused(
      normaliseRestRecord(
        'people',
        { ...USER, username: 'ada', role: 'ext:coach', orgs: [{ sourcedId: 'o-1' }] },
        '1.1',
      ),
    );
    expect(legacy.field).toBe('role');
    expect(legacy.message).toContain('OneRoster 1.1 has no extension values');
  });

  it('classType may be left out of a 1.2 REST class, as ClassDType allows; 1.1 still requires it', () => {
    expect(ok(normaliseRestRecord('classes', CLASS, '1.2')).classType).toBeNull();
    expect(ok(normaliseRestRecord('classes', { ...CLASS, classType: null }, '1.2')).classType).toBeNull();
    expect(refused(normaliseRestRecord('classes', CLASS, '1.1')).field).toBe('classType');
  });
});

describe('extension mappings and notices', () => {
  const mappings = {
    orgType: { 'ext:campus': 'school' as const },
    sessionType: { 'ext:trimester': 'term' as const },
    classType: { 'ext:advisory': 'homeroom' as const },
    role: { 'ext:coTeacher': 'teacher' as const },
    enrollmentRole: { 'ext:coTeacher': 'teacher' as const },
  };

  it('maps a configured extension value to its core meaning and keeps the given value', () => {
    const vocabulary = new OneRosterVocabulary(mappings);
    const org = ok(normaliseRestRecord('orgs', { ...ORG, type: 'ext:campus' }, '1.2', vocabulary));
    expect(org).toMatchObject({ type: 'school', extensionValues: { type: 'ext:campus' } });
    const session = ok(
      normaliseRestRecord('academicSessions', { ...SESSION, type: 'ext:trimester' }, '1.2', vocabulary),
    );
    expect(session).toMatchObject({ type: 'term', extensionValues: { type: 'ext:trimester' } });
    const klass = ok(normaliseRestRecord('classes', { ...CLASS, classType: 'ext:advisory' }, '1.2', vocabulary));
    expect(klass).toMatchObject({ classType: 'homeroom', extensionValues: { classType: 'ext:advisory' } });
    const enrollment = ok(
      normaliseRestRecord('enrollments', { ...ENROLLMENT, role: 'ext:coTeacher' }, '1.2', vocabulary),
    );
    expect(enrollment).toMatchObject({ role: 'teacher', extensionValues: { role: 'ext:coTeacher' } });
    const person = ok(
      normaliseRestRecord('people', { ...USER, roles: [membership('ext:coTeacher')] }, '1.2', vocabulary),
    );
    expect(person.roles[0]).toMatchObject({ role: 'teacher', sourceRole: 'ext:coTeacher' });
    expect(person.primaryRole).toBe('teacher');
    for (const entity of ['orgs', 'academicSessions', 'classes', 'enrollments', 'people'] as const) {
      expect(vocabulary.drain(entity)).toEqual([]);
    }
  });

  it('an unmapped extension keeps no core meaning and is noticed once per value with its count', () => {
    const vocabulary = new OneRosterVocabulary(mappings);
    for (const id of ['o-1', 'o-2', 'o-3']) {
      normaliseRestRecord('orgs', { ...ORG, sourcedId: id, type: 'ext:annex' }, '1.2', vocabulary);
    }
    normaliseRestRecord('orgs', { ...ORG, sourcedId: 'o-4', type: 'ext:hub' }, '1.2', vocabulary);
    normaliseRestRecord('orgs', { ...ORG, sourcedId: 'o-5', type: 'ext:campus' }, '1.2', vocabulary);
    // A record refused for another reason does not count.
    normaliseRestRecord('orgs', { ...ORG, sourcedId: 'o-6', type: 'ext:annex', name: '' }, '1.2', vocabulary);
    const notices = vocabulary.drain('orgs');
    expect(notices.map(({ field, count }) => ({ field, count }))).toEqual([
      { field: 'type', count: 3 },
      { field: 'type', count: 1 },
    ]);
    expect(notices[0].message).toContain('"ext:annex"');
    expect(notices[0].message).toContain('not a school');
    expect(notices[0].message).toContain('extensionMappings.orgType');
    expect(vocabulary.drain('orgs')).toEqual([]);
  });

  it('an unmapped user role grants nothing and is noticed on people', () => {
    const vocabulary = new OneRosterVocabulary(mappings);
    const person = ok(normaliseRestRecord('people', { ...USER, roles: [membership('ext:coach')] }, '1.2', vocabulary));
    expect(person.primaryRole).toBe('ext:coach');
    const [notice] = vocabulary.drain('people');
    expect(notice).toMatchObject({ entity: 'people', field: 'roles.role', count: 1 });
    expect(notice.message).toContain('grants nothing');
  });

  it('an unmapped extension org type is neither a school nor district-level in the school scope', () => {
    const scope = new OneRosterSchoolScope(['s-1']);
    const annex = ok(normaliseRestRecord('orgs', { ...ORG, sourcedId: 'a-1', type: 'ext:annex' }, '1.2'));
    expect(scope.includes('orgs', annex)).toBe(false);
    const mapped = ok(
      normaliseRestRecord(
        'orgs',
        { ...ORG, sourcedId: 'r-1', type: 'ext:region' },
        '1.2',
        new OneRosterVocabulary({ orgType: { 'ext:region': 'district' } }),
      ),
    );
    expect(scope.includes('orgs', mapped)).toBe(true);
  });

  it('status inactive is taken as tobedeleted under 1.1 and 1.2, and noticed once per entity', () => {
    const vocabulary = new OneRosterVocabulary();
    for (const version of ['1.1', '1.2'] as const) {
      const org = ok(normaliseRestRecord('orgs', { ...ORG, status: 'inactive', type: 'school' }, version, vocabulary));
      expect(org.status).toBe('tobedeleted');
    }
    const [notice, ...rest] = vocabulary.drain('orgs');
    expect(rest).toEqual([]);
    expect(notice).toMatchObject({ entity: 'orgs', field: 'status', count: 2 });
    expect(notice.message).toContain('taken as "tobedeleted"');
    expect(vocabulary.drain('orgs')).toEqual([]);
  });
});

describe('OneRoster 1.2 extension vocabularies (CSV)', () => {
  function row(version: '1.1' | '1.2', file: 'orgs' | 'classes' | 'enrollments', values: Record<string, string>) {
    const all: Record<string, string> = {};
    for (const column of ONEROSTER_CSV_COLUMNS[version][file]!) all[column] = '';
    return { ...all, ...values };
  }

  it('accepts ext: org types and enrollment roles in a 1.2 package, refuses them in 1.1', () => {
    const org = row('1.2', 'orgs', { sourcedId: 'o-1', name: 'North', type: 'ext:campus' });
    expect(ok(normaliseCsvRow('orgs', org, { version: '1.2' })).type).toBe('ext:campus');
    expect(refused(normaliseCsvRow('orgs', row('1.1', 'orgs', { ...org }), { version: '1.1' })).field).toBe('type');
    const enrollment = {
      sourcedId: 'e-1',
      classSourcedId: 'c-1',
      schoolSourcedId: 'o-1',
      userSourcedId: 'u-1',
      role: 'ext:coTeacher',
    };
    const vocabulary = new OneRosterVocabulary({ enrollmentRole: { 'ext:coTeacher': 'teacher' } });
    expect(
      ok(normaliseCsvRow('enrollments', row('1.2', 'enrollments', enrollment), { version: '1.2', vocabulary })).role,
    ).toBe('teacher');
  });

  it('requires classType in classes.csv (the CSV binding requires it)', () => {
    const klass = row('1.2', 'classes', {
      sourcedId: 'c-1',
      title: 'Algebra',
      courseSourcedId: 'co-1',
      schoolSourcedId: 'o-1',
      termSourcedIds: 't-1',
    });
    expect(refused(normaliseCsvRow('classes', klass, { version: '1.2' })).field).toBe('classType');
  });

  it('reads an ext: role in roles.csv', () => {
    const role = normaliseCsvRole({
      sourcedId: 'r-1',
      status: '',
      dateLastModified: '',
      userSourcedId: 'u-1',
      roleType: 'primary',
      role: 'ext:coach',
      beginDate: '',
      endDate: '',
      orgSourcedId: 'o-1',
      userProfileSourcedId: '',
    });
    expect(ok(role).membership).toMatchObject({ role: 'ext:coach', sourceRole: 'ext:coach' });
    expect(
      refused(
        normaliseCsvRole({
          sourcedId: 'r-2',
          userSourcedId: 'u-1',
          roleType: 'primary',
          role: 'ext:',
          orgSourcedId: 'o',
        }),
      ).field,
    ).toBe('role');
  });
});

describe('optional 1.2 REST fields', () => {
  it('a 1.2 REST course may leave out org (CourseDType does not require it); 1.1 and CSV still require it', () => {
    const course = { sourcedId: 'co-1', status: 'active', dateLastModified: '2026-01-05T10:00:00Z', title: 'Art' };
    expect(ok(normaliseRestRecord('courses', { ...course, courseCode: 'ART' }, '1.2')).orgSourcedId).toBeNull();
    expect(refused(normaliseRestRecord('courses', course, '1.1')).field).toBe('orgSourcedId');
  });
});
