import type { OneRosterVersion } from './oneroster-version.js';

/** The rostering files this library reads, by manifest name (`file.users` → `users`). */
export const ONEROSTER_CSV_FILES = [
  'orgs',
  'academicSessions',
  'courses',
  'classes',
  'users',
  'roles',
  'demographics',
  'enrollments',
] as const;
export type OneRosterCsvFile = (typeof ONEROSTER_CSV_FILES)[number];

export function isOneRosterCsvFile(value: string): value is OneRosterCsvFile {
  return (ONEROSTER_CSV_FILES as readonly string[]).includes(value);
}

/** Every `file.<name>` a manifest may list; the ones not read here (gradebook, resources) must still be valid. */
export const MANIFEST_FILE_NAMES: Readonly<Record<OneRosterVersion, readonly string[]>> = {
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

const LIFECYCLE = ['sourcedId', 'status', 'dateLastModified'] as const;

const USERS_1_1 = [
  ...LIFECYCLE,
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
];

const USERS_1_2 = [
  ...LIFECYCLE,
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
];

const SHARED_COLUMNS = {
  academicSessions: [...LIFECYCLE, 'title', 'type', 'startDate', 'endDate', 'parentSourcedId', 'schoolYear'],
  orgs: [...LIFECYCLE, 'name', 'type', 'identifier', 'parentSourcedId'],
  courses: [
    ...LIFECYCLE,
    'schoolYearSourcedId',
    'title',
    'courseCode',
    'grades',
    'orgSourcedId',
    'subjects',
    'subjectCodes',
  ],
  classes: [
    ...LIFECYCLE,
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
  ],
  enrollments: [
    ...LIFECYCLE,
    'classSourcedId',
    'schoolSourcedId',
    'userSourcedId',
    'role',
    'primary',
    'beginDate',
    'endDate',
  ],
  demographics: [
    ...LIFECYCLE,
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
  ],
};

/**
 * The exact, case-sensitive header of each file in spec order (OneRoster 1.1 CSV tables; 1.2.1 CSV binding),
 * which may be followed only by `metadata.*` columns. Absent entries are files the version does not define.
 */
export const ONEROSTER_CSV_COLUMNS: Readonly<
  Record<OneRosterVersion, Readonly<Partial<Record<OneRosterCsvFile, readonly string[]>>>>
> = {
  '1.1': { ...SHARED_COLUMNS, users: USERS_1_1 },
  '1.2': {
    ...SHARED_COLUMNS,
    users: USERS_1_2,
    roles: [
      ...LIFECYCLE,
      'userSourcedId',
      'roleType',
      'role',
      'beginDate',
      'endDate',
      'orgSourcedId',
      'userProfileSourcedId',
    ],
  },
};
