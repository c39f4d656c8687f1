import { ResolveSchoolScopeQuery, type SchoolScopeResolution } from '@app/contracts';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { isRosterId } from '../../domain/roster-id.js';
import { RosterReadModel, type SchoolRecord } from '../ports/roster-read-model.port.js';

/** `<connectionId>:<sourcedId>`: a sourcedId qualified by the SIS connection it belongs to. */
const QUALIFIED = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}):(.+)$/i;

@QueryHandler(ResolveSchoolScopeQuery)
export class ResolveSchoolScopeHandler implements IQueryHandler<ResolveSchoolScopeQuery> {
  constructor(private readonly roster: RosterReadModel) {}

  async execute({ entries }: ResolveSchoolScopeQuery): Promise<SchoolScopeResolution[]> {
    const keys = entries.map((entry) => entry.trim());
    const ids = keys.filter(isRosterId).map((key) => key.toLowerCase());
    const sourcedIds = keys.map((key) => QUALIFIED.exec(key)?.[2] ?? key);
    const schools = await this.roster.findSchoolsByKeys(ids, sourcedIds);
    return keys.map((key, index) => resolveSchoolScopeEntry(entries[index], key, schools));
  }
}

/**
 * A local id names its school; a qualified sourcedId the school of that connection; a plain sourcedId the one
 * school that has it, and is ambiguous when schools of several connections share it.
 */
export function resolveSchoolScopeEntry(
  entry: string,
  key: string,
  schools: readonly SchoolRecord[],
): SchoolScopeResolution {
  if (isRosterId(key)) {
    const byId = schools.find((school) => school.id === key.toLowerCase());
    if (byId) return { entry, kind: 'resolved', schoolId: byId.id };
  }
  const qualified = QUALIFIED.exec(key);
  if (qualified) {
    const [, connectionId, sourcedId] = qualified;
    const school = schools.find(
      (candidate) => candidate.connectionId === connectionId.toLowerCase() && candidate.sourcedId === sourcedId,
    );
    return school ? { entry, kind: 'resolved', schoolId: school.id } : { entry, kind: 'unknown' };
  }
  const named = schools.filter((school) => school.sourcedId === key);
  if (named.length === 0) return { entry, kind: 'unknown' };
  if (named.length === 1) return { entry, kind: 'resolved', schoolId: named[0].id };
  return {
    entry,
    kind: 'ambiguous',
    candidates: named.map((school) => ({ schoolId: school.id, connectionId: school.connectionId })),
  };
}
