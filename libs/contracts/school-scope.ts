import { Query } from '@nestjs/cqrs';

/** What one school scope entry names in the roster mirror. */
export type SchoolScopeResolution =
  | { entry: string; kind: 'resolved'; schoolId: string }
  | { entry: string; kind: 'unknown' }
  /** A sourcedId that schools of several SIS connections share: which one is meant cannot be told. */
  | { entry: string; kind: 'ambiguous'; candidates: { schoolId: string; connectionId: string }[] };

/**
 * Resolves what an administrator types as a user's school scope into schools of the roster mirror, one
 * resolution per entry in order. An entry is a school's local id, `<connectionId>:<sourcedId>`, or a plain
 * sourcedId (resolved only when exactly one connection has a school with it). Answered by the roster module.
 */
export class ResolveSchoolScopeQuery extends Query<SchoolScopeResolution[]> {
  constructor(readonly entries: readonly string[]) {
    super();
  }
}
