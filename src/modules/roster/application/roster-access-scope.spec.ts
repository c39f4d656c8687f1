import { describe, expect, it } from 'vitest';
import type { Role } from '../../identity/index.js';
import {
  mayViewDemographics,
  rosterAccessScope,
  scopeCoversClass,
  scopeCoversSchool,
  scopeCoversStaff,
  scopeCoversStudent,
  type ClassAccessFacts,
  type StudentAccessFacts,
} from './roster-access-scope.js';

const north = { id: '11111111-1111-4111-8111-111111111111', sourcedId: 'sch-north' };
const south = { id: '22222222-2222-4222-8222-222222222222', sourcedId: 'sch-south' };

const viewer = (roles: Role[], schoolIds: string[] = [], email = 'ms.rivera@district.test') => ({
  roles,
  schoolIds,
  email,
});

const algebra: ClassAccessFacts = { school: north, teacherEmails: ['ms.rivera@district.test'] };
const art: ClassAccessFacts = { school: south, teacherEmails: ['mr.chen@district.test'] };
const orphan: ClassAccessFacts = { school: null, teacherEmails: [] };

describe('rosterAccessScope', () => {
  it.each(['district_admin', 'sis_operator', 'compliance_officer'] as Role[])('gives %s the whole district', (role) => {
    const scope = rosterAccessScope(viewer([role]));
    expect(scope).toEqual({ kind: 'district' });
    expect(scopeCoversClass(scope, orphan)).toBe(true);
    expect(scopeCoversStudent(scope, { schools: [], classes: [] })).toBe(true);
  });

  it('a district role wins over narrower roles held alongside it', () => {
    expect(rosterAccessScope(viewer(['teacher', 'sis_operator'])).kind).toBe('district');
  });

  it('scopes a school admin to their schools by local id', () => {
    const scope = rosterAccessScope(viewer(['school_admin'], [` ${north.id.toUpperCase()} `, north.id]));
    expect(scope).toEqual({ kind: 'restricted', schoolKeys: [north.id], teacherEmail: null });
    expect(scopeCoversSchool(scope, north)).toBe(true);
    expect(scopeCoversSchool(scope, south)).toBe(false);
    expect(scopeCoversClass(scope, algebra)).toBe(true);
    expect(scopeCoversClass(scope, art)).toBe(false);
    expect(scopeCoversClass(scope, orphan)).toBe(false);
  });

  it('never matches a school by sourcedId: another SIS connection may have a school with the same one', () => {
    const scope = rosterAccessScope(viewer(['school_admin'], ['sch-north']));
    expect(scopeCoversSchool(scope, north)).toBe(false);
    expect(scopeCoversClass(scope, algebra)).toBe(false);
    expect(scopeCoversStudent(scope, { schools: [north], classes: [algebra] })).toBe(false);
  });

  it('gives a school admin the students listed in their school or attending one of its classes', () => {
    const scope = rosterAccessScope(viewer(['school_admin'], [north.id]));
    expect(scopeCoversStudent(scope, { schools: [north], classes: [] })).toBe(true);
    expect(scopeCoversStudent(scope, { schools: [south], classes: [algebra] })).toBe(true);
    expect(scopeCoversStudent(scope, { schools: [south], classes: [art] })).toBe(false);
  });

  it('does not let schoolIds widen the scope of someone who is not a school admin', () => {
    const scope = rosterAccessScope(viewer(['teacher'], [north.id, south.sourcedId], 'nobody@district.test'));
    expect(scope).toEqual({ kind: 'restricted', schoolKeys: [], teacherEmail: 'nobody@district.test' });
    expect(scopeCoversClass(scope, algebra)).toBe(false);
  });

  it('scopes a teacher to the classes they teach, matching the email case-insensitively', () => {
    const scope = rosterAccessScope(viewer(['teacher'], [], 'Ms.Rivera@District.TEST'));
    expect(scopeCoversClass(scope, algebra)).toBe(true);
    expect(scopeCoversClass(scope, { school: north, teacherEmails: ['MS.RIVERA@district.test'] })).toBe(true);
    expect(scopeCoversClass(scope, art)).toBe(false);
    expect(scopeCoversSchool(scope, north)).toBe(false);
  });

  it("gives a teacher the students of their classes only, not their classmates' schools", () => {
    const scope = rosterAccessScope(viewer(['teacher']));
    expect(scopeCoversStudent(scope, { schools: [south], classes: [art, algebra] })).toBe(true);
    expect(scopeCoversStudent(scope, { schools: [north], classes: [art] })).toBe(false);
  });

  it('gives someone with several narrow roles the union', () => {
    const scope = rosterAccessScope(viewer(['teacher', 'school_admin'], [south.id]));
    expect(scopeCoversClass(scope, algebra)).toBe(true);
    expect(scopeCoversClass(scope, art)).toBe(true);
  });

  it('gives a user without roster roles, or a school admin without schools, nothing', () => {
    for (const scope of [rosterAccessScope(viewer([])), rosterAccessScope(viewer(['school_admin']))]) {
      expect(scopeCoversClass(scope, algebra)).toBe(false);
      expect(scopeCoversClass(scope, orphan)).toBe(false);
      expect(scopeCoversStudent(scope, { schools: [north], classes: [algebra] })).toBe(false);
    }
  });

  it('never matches a teacher without an email against teachers without one', () => {
    const scope = rosterAccessScope(viewer(['teacher'], [], '  '));
    expect(scopeCoversClass(scope, { school: null, teacherEmails: [''] })).toBe(false);
  });
});

describe('scopeCoversStaff', () => {
  const rivera = { schools: [north], email: 'Ms.Rivera@District.TEST' };
  const chen = { schools: [south], email: 'mr.chen@district.test' };
  const noEmail = { schools: [], email: null };

  it('gives district roles every staff member', () => {
    expect(scopeCoversStaff(rosterAccessScope(viewer(['compliance_officer'])), noEmail)).toBe(true);
  });

  it('gives a school admin the staff of their schools only', () => {
    const scope = rosterAccessScope(viewer(['school_admin'], [north.id], 'north.admin@district.test'));
    expect(scopeCoversStaff(scope, rivera)).toBe(true);
    expect(scopeCoversStaff(scope, chen)).toBe(false);
    expect(scopeCoversStaff(scope, noEmail)).toBe(false);
  });

  it('gives a teacher their own records only (email, case-insensitively), not colleagues of their school', () => {
    const scope = rosterAccessScope(viewer(['teacher'], [north.id], 'ms.rivera@district.test'));
    expect(scopeCoversStaff(scope, rivera)).toBe(true);
    expect(scopeCoversStaff(scope, { schools: [north], email: 'colleague@district.test' })).toBe(false);
    expect(scopeCoversStaff(scope, noEmail)).toBe(false);
  });

  it('gives a user without roster roles nothing, and the union to a teaching school admin', () => {
    expect(scopeCoversStaff(rosterAccessScope(viewer([])), rivera)).toBe(false);
    const scope = rosterAccessScope(viewer(['teacher', 'school_admin'], [south.id], 'ms.rivera@district.test'));
    expect(scopeCoversStaff(scope, rivera)).toBe(true);
    expect(scopeCoversStaff(scope, chen)).toBe(true);
  });
});

describe('mayViewDemographics', () => {
  const ofNorth: StudentAccessFacts = { schools: [north], classes: [algebra] };
  const ofSouthTaughtInNorth: StudentAccessFacts = { schools: [south], classes: [art] };

  it('allows district admins', () => {
    expect(mayViewDemographics(viewer(['district_admin']), ofSouthTaughtInNorth)).toBe(true);
  });

  it.each(['teacher', 'sis_operator', 'compliance_officer'] as Role[])('refuses %s', (role) => {
    expect(mayViewDemographics(viewer([role]), ofNorth)).toBe(false);
  });

  it('allows a school admin for the students of their schools only', () => {
    expect(mayViewDemographics(viewer(['school_admin'], [north.id]), ofNorth)).toBe(true);
    expect(mayViewDemographics(viewer(['school_admin'], [north.id]), ofSouthTaughtInNorth)).toBe(false);
  });

  it('does not let a school admin who also teaches see demographics of students they only teach', () => {
    const teachesArt = viewer(['school_admin', 'teacher'], [north.id], 'mr.chen@district.test');
    expect(scopeCoversStudent(rosterAccessScope(teachesArt), ofSouthTaughtInNorth)).toBe(true);
    expect(mayViewDemographics(teachesArt, ofSouthTaughtInNorth)).toBe(false);
  });
});
