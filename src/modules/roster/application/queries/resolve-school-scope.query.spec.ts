import { describe, expect, it } from 'vitest';
import { InMemoryRosterReadModel } from './roster-read-model.fake.js';
import { ResolveSchoolScopeHandler } from './resolve-school-scope.query.js';
import { ResolveSchoolScopeQuery } from '@app/contracts';

const CONNECTION_A = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const CONNECTION_B = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';
const SCHOOL_A1 = '11111111-1111-4111-8111-111111111111';
const SCHOOL_A2 = '22222222-2222-4222-8222-222222222222';
const SCHOOL_B2 = '33333333-3333-4333-8333-333333333333';
// A SIS whose sourcedIds are GUIDs.
const GUID_SOURCED = '44444444-4444-4444-8444-444444444444';
const SCHOOL_B_GUID = '55555555-5555-4555-8555-555555555555';

describe('resolving a school scope', () => {
  const roster = new InMemoryRosterReadModel();
  roster.schools.push(
    { id: SCHOOL_A1, connectionId: CONNECTION_A, sourcedId: 'org-sch-001' },
    { id: SCHOOL_A2, connectionId: CONNECTION_A, sourcedId: 'org-sch-002' },
    { id: SCHOOL_B2, connectionId: CONNECTION_B, sourcedId: 'org-sch-002' },
    { id: SCHOOL_B_GUID, connectionId: CONNECTION_B, sourcedId: GUID_SOURCED },
  );
  const resolve = (...entries: string[]) =>
    new ResolveSchoolScopeHandler(roster).execute(new ResolveSchoolScopeQuery(entries));

  it('resolves local ids, unique sourcedIds (GUIDs too) and connection:sourcedId to local ids', async () => {
    expect(await resolve(SCHOOL_A1.toUpperCase(), 'org-sch-001', `${CONNECTION_B}:org-sch-002`, GUID_SOURCED)).toEqual([
      { entry: SCHOOL_A1.toUpperCase(), kind: 'resolved', schoolId: SCHOOL_A1 },
      { entry: 'org-sch-001', kind: 'resolved', schoolId: SCHOOL_A1 },
      { entry: `${CONNECTION_B}:org-sch-002`, kind: 'resolved', schoolId: SCHOOL_B2 },
      { entry: GUID_SOURCED, kind: 'resolved', schoolId: SCHOOL_B_GUID },
    ]);
  });

  it('calls a sourcedId that two connections share ambiguous, naming both schools', async () => {
    expect(await resolve('org-sch-002')).toEqual([
      {
        entry: 'org-sch-002',
        kind: 'ambiguous',
        candidates: [
          { schoolId: SCHOOL_A2, connectionId: CONNECTION_A },
          { schoolId: SCHOOL_B2, connectionId: CONNECTION_B },
        ],
      },
    ]);
  });

  it('calls unknown what names no school, including a sourcedId qualified by the wrong connection', async () => {
    expect((await resolve('org-sch-999', `${CONNECTION_B}:org-sch-001`, CONNECTION_A)).map((r) => r.kind)).toEqual([
      'unknown',
      'unknown',
      'unknown',
    ]);
  });
});
