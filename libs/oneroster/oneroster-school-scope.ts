import type { OrgRecord, RosterEntity, RosterRecord } from '@app/contracts';

const DISTRICT_LEVEL_ORG_TYPES = new Set<OrgRecord['type']>(['district', 'local', 'state', 'national']);

/**
 * Client-side school scoping for a district feed: keeps what belongs to the listed schools (org sourcedIds) plus the
 * district-level records they hang from. An empty list keeps everything.
 *
 * Courses often belong to the district rather than a school, so courses owned by a district-level org are kept;
 * `rememberOrg` (fed every org the source reads) teaches the scope which orgs those are.
 */
export class OneRosterSchoolScope {
  private readonly schools: ReadonlySet<string>;
  private readonly districtLevelOrgs = new Set<string>();

  constructor(schoolSourcedIds: readonly string[]) {
    this.schools = new Set(schoolSourcedIds);
  }

  get active(): boolean {
    return this.schools.size > 0;
  }

  rememberOrg(org: OrgRecord): void {
    if (DISTRICT_LEVEL_ORG_TYPES.has(org.type)) this.districtLevelOrgs.add(org.sourcedId);
  }

  includes<E extends RosterEntity>(entity: E, record: RosterRecord<E>): boolean {
    if (!this.active) return true;
    switch (entity) {
      case 'orgs': {
        const org = record as RosterRecord<'orgs'>;
        this.rememberOrg(org);
        if (DISTRICT_LEVEL_ORG_TYPES.has(org.type)) return true;
        if (org.type === 'department') return org.parentSourcedId !== null && this.schools.has(org.parentSourcedId);
        return this.schools.has(org.sourcedId);
      }
      case 'courses': {
        const orgSourcedId = (record as RosterRecord<'courses'>).orgSourcedId;
        return orgSourcedId !== null && (this.schools.has(orgSourcedId) || this.districtLevelOrgs.has(orgSourcedId));
      }
      case 'classes':
        return this.inScope((record as RosterRecord<'classes'>).schoolSourcedId);
      case 'enrollments':
        return this.inScope((record as RosterRecord<'enrollments'>).schoolSourcedId);
      case 'people':
        return (record as RosterRecord<'people'>).orgSourcedIds.some((id) => this.schools.has(id));
      case 'academicSessions':
      case 'demographics':
        return true;
    }
  }

  private inScope(schoolSourcedId: string | null): boolean {
    return schoolSourcedId !== null && this.schools.has(schoolSourcedId);
  }
}
