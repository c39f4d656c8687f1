export const ROLES = ['district_admin', 'sis_operator', 'compliance_officer', 'school_admin', 'teacher'] as const;
export type Role = (typeof ROLES)[number];

/** Least privilege: a user created without roles is a teacher, who sees only their own classes. */
export const DEFAULT_ROLES: readonly Role[] = ['teacher'];

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}
