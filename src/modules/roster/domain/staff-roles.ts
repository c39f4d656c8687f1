import type { PersonRole } from '@app/contracts';

/**
 * The roles that make a person staff: teachers, aides, proctors and every kind of administrator (OneRoster 1.1's
 * `administrator`, and 1.2's district, site and system administrators, principals and counselors). A person who
 * also holds the student role is a student, never staff: their record is a student record, read (and audited)
 * through the student routes only.
 */
export const STAFF_ROLES = [
  'teacher',
  'aide',
  'proctor',
  'administrator',
  'districtAdministrator',
  'siteAdministrator',
  'systemAdministrator',
  'principal',
  'counselor',
] as const satisfies readonly PersonRole[];

export type StaffRole = (typeof STAFF_ROLES)[number];

/** Enrollment roles held by staff in a class (every enrollment role but student and guardian). */
export const STAFF_ENROLLMENT_ROLES = ['teacher', 'administrator', 'proctor', 'aide'] as const;
