import type { RosterEntity } from '@app/contracts';
import type { OneRosterCsvFile } from './oneroster-csv.columns.js';

/** The REST rostering collection each roster entity is listed from. */
export const ONEROSTER_REST_COLLECTIONS: Readonly<Record<RosterEntity, string>> = {
  orgs: 'orgs',
  academicSessions: 'academicSessions',
  courses: 'courses',
  classes: 'classes',
  people: 'users',
  demographics: 'demographics',
  enrollments: 'enrollments',
};

/** The CSV file each roster entity is read from (1.2 people also need roles.csv). */
export const ONEROSTER_CSV_FILES_BY_ENTITY: Readonly<Record<RosterEntity, OneRosterCsvFile>> = {
  orgs: 'orgs',
  academicSessions: 'academicSessions',
  courses: 'courses',
  classes: 'classes',
  people: 'users',
  demographics: 'demographics',
  enrollments: 'enrollments',
};
