export {
  RosterMirror,
  type ApplyChunkResult,
  type ApplyOptions,
  type ChangeSetKey,
  type DeactivationScope,
  type EntityChangePreview,
  type FieldOwnership,
  type RestoreConflict,
  type RestoreResult,
  type StickyConflict,
} from './application/ports/roster-mirror.port.js';
export type { SourcedStudentReference } from './application/ports/roster-read-model.port.js';
export { GetClassRosterQuery } from './application/queries/get-class-roster.query.js';
export { FindExistingStudentIdsQuery } from './application/queries/find-existing-student-ids.query.js';
export { FindStudentIdsBySourcedIdsQuery } from './application/queries/find-student-ids-by-sourced-ids.query.js';
export { FindStudentSchoolsQuery } from './application/queries/find-student-schools.query.js';
export { GetStaffQuery } from './application/queries/get-staff.query.js';
export { GetStudentQuery } from './application/queries/get-student.query.js';
export { ListClassesQuery, type ListClassesOptions } from './application/queries/list-classes.query.js';
export { ListSchoolsQuery, type ListSchoolsOptions } from './application/queries/list-schools.query.js';
export { ListStaffQuery, type ListStaffOptions } from './application/queries/list-staff.query.js';
export { ListStudentsQuery, type ListStudentsOptions } from './application/queries/list-students.query.js';
export {
  DEMOGRAPHICS_ROLES,
  DISTRICT_WIDE_ROLES,
  type RosterViewer,
  type SchoolReference,
} from './application/roster-access-scope.js';
export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './application/roster-page-cursor.js';
export type {
  ClassMemberView,
  ClassRosterView,
  ClassView,
  DemographicsView,
  GuardianView,
  Page,
  RecordSourceView,
  SchoolSummaryView,
  SchoolView,
  StaffView,
  StudentDetailView,
  StudentEnrollmentView,
  StudentView,
} from './application/roster-views.js';
export { normaliseSearchQuery, personSearchText, type PersonSearchFields } from './domain/person-search-text.js';
export {
  InvalidRosterCursorError,
  InvalidRosterPageSizeError,
  RosterAccessDeniedError,
  RosterClassNotFoundError,
  RosterStudentNotFoundError,
} from './domain/roster.errors.js';
export { STAFF_ROLES, type StaffRole } from './domain/staff-roles.js';
export { RosterModule } from './roster.module.js';
