import { ResolveSchoolScopeQuery } from '@app/contracts';
import { Injectable } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { SchoolScopeAmbiguousError, SchoolScopeUnknownError } from '../../domain/school-scope.errors.js';

/**
 * Turns the school scope an administrator gives (school ids, `connectionId:sourcedId`, or sourcedIds) into the
 * schools' local ids, which is what a user's scope stores: a sourcedId is unique only within one SIS connection,
 * so a stored sourcedId could later cover a namesake school of another connection. Refuses the whole change when
 * any entry names no school or several.
 */
@Injectable()
export class SchoolScopeResolver {
  constructor(private readonly queries: QueryBus) {}

  async resolve(entries: readonly string[]): Promise<string[]> {
    const distinct = [...new Set(entries.map((entry) => entry.trim()))];
    if (distinct.length === 0) return [];
    const resolutions = await this.queries.execute(new ResolveSchoolScopeQuery(distinct));
    const ambiguous = resolutions.flatMap((resolution) => (resolution.kind === 'ambiguous' ? [resolution] : []));
    if (ambiguous.length > 0) throw new SchoolScopeAmbiguousError(ambiguous);
    const unknown = resolutions.flatMap((resolution) => (resolution.kind === 'unknown' ? [resolution.entry] : []));
    if (unknown.length > 0) throw new SchoolScopeUnknownError(unknown);
    return [
      ...new Set(resolutions.flatMap((resolution) => (resolution.kind === 'resolved' ? [resolution.schoolId] : []))),
    ];
  }
}
