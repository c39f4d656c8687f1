/**
 * The PowerSchool resources a roster sync reads. Each names a permission the district grants through the
 * plugin's access request, and (for listings) a `*_max_page_size` in `/ws/v1/metadata` and a JSON envelope.
 */
export const POWERSCHOOL_RESOURCES = [
  'district',
  'schools',
  'students',
  'staff',
  'terms',
  'courses',
  'sections',
  'section_enrollment',
  'powerquery',
] as const;
export type PowerSchoolResource = (typeof POWERSCHOOL_RESOURCES)[number];

/** Resources read as paged listings with a `/count` sibling. */
export type PowerSchoolListResource = Exclude<PowerSchoolResource, 'district'>;

/** The `/ws/v1/metadata` field holding each listing's maximum page size. */
export const MAX_PAGE_SIZE_FIELDS: Readonly<Record<PowerSchoolListResource, string>> = {
  schools: 'school_max_page_size',
  students: 'student_max_page_size',
  staff: 'staff_max_page_size',
  terms: 'term_max_page_size',
  courses: 'course_max_page_size',
  sections: 'section_max_page_size',
  section_enrollment: 'section_enrollment_max_page_size',
  powerquery: 'schema_table_query_max_page_size',
};

/**
 * `{ outer: { inner: [records] } }`: `/ws/v1/school/{id}/student` answers `{"students":{"student":[…]}}`.
 * PowerQueries answer `{"name":…,"record":[…]}` (no outer key).
 */
export const LIST_ENVELOPES: Readonly<Record<PowerSchoolListResource, { outer: string | null; inner: string }>> = {
  schools: { outer: 'schools', inner: 'school' },
  students: { outer: 'students', inner: 'student' },
  staff: { outer: 'staffs', inner: 'staff' },
  terms: { outer: 'terms', inner: 'term' },
  courses: { outer: 'courses', inner: 'course' },
  sections: { outer: 'sections', inner: 'section' },
  section_enrollment: { outer: 'section_enrollments', inner: 'section_enrollment' },
  powerquery: { outer: null, inner: 'record' },
};

/** Student expansions a roster pull asks for (people and demographics). */
export const STUDENT_EXPANSIONS = [
  'demographics',
  'addresses',
  'phones',
  'school_enrollment',
  'contact_info',
  'ethnicity_race',
] as const;

/** The lighter set a demographics-only pull asks for. */
export const DEMOGRAPHICS_EXPANSIONS = ['demographics', 'ethnicity_race', 'school_enrollment'] as const;

export const STAFF_EXPANSIONS = ['emails', 'school_affiliations'] as const;

/** Paths, relative to the server, of every endpoint the sync uses. */
export const POWERSCHOOL_PATHS = {
  token: '/oauth/access_token',
  time: '/ws/v1/time',
  metadata: '/ws/v1/metadata',
  district: '/ws/v1/district',
  schools: '/ws/v1/district/school',
  schoolStudents: (schoolId: string) => `/ws/v1/school/${encodeURIComponent(schoolId)}/student`,
  schoolStaff: (schoolId: string) => `/ws/v1/school/${encodeURIComponent(schoolId)}/staff`,
  schoolTerms: (schoolId: string) => `/ws/v1/school/${encodeURIComponent(schoolId)}/term`,
  schoolCourses: (schoolId: string) => `/ws/v1/school/${encodeURIComponent(schoolId)}/course`,
  schoolSections: (schoolId: string) => `/ws/v1/school/${encodeURIComponent(schoolId)}/section`,
  sectionEnrollments: (sectionId: string) => `/ws/v1/section/${encodeURIComponent(sectionId)}/section_enrollment`,
  powerQuery: (name: string) => `/ws/schema/query/${encodeURIComponent(name)}`,
} as const;
