import { describe, expect, it } from 'vitest';
import {
  DISCLOSURE_BASES,
  DisclosureIncompleteError,
  recordDisclosure,
  type DisclosureDraft,
  type DisclosureFieldProblem,
} from './disclosure.js';

const STUDENT = '6f1d2c4e-8a3b-4c5d-9e6f-0a1b2c3d4e5f';
const OTHER = '7a2e3d5f-9b4c-4d6e-8f70-1b2c3d4e5f60';
const CONTEXT = {
  id: 'd0000000-0000-4000-8000-000000000001',
  recordedBy: 'officer',
  recordedAt: new Date('2026-11-20T15:00:00Z'),
};

function complete(overrides: DisclosureDraft = {}): DisclosureDraft {
  return {
    studentIds: [STUDENT],
    party: { name: 'County Health Department', type: 'agency' },
    basis: 'authorized_representative',
    legitimateInterest: 'Evaluation of the state-funded attendance programme',
    dataCategories: ['attendance', 'enrollment'],
    disclosedOn: '2026-11-19',
    ...overrides,
  };
}

function problemsOf(draft: DisclosureDraft): DisclosureFieldProblem[] {
  try {
    recordDisclosure(draft, CONTEXT);
  } catch (error) {
    expect(error).toBeInstanceOf(DisclosureIncompleteError);
    const incomplete = error as DisclosureIncompleteError;
    expect(incomplete.code).toBe('AUDIT.DISCLOSURE_INCOMPLETE');
    expect(incomplete.kind).toBe('unprocessable');
    expect(incomplete.details?.['fields']).toEqual(incomplete.problems.map((problem) => problem.field));
    return [...incomplete.problems];
  }
  throw new Error('the draft was accepted');
}

const fields = (draft: DisclosureDraft): string[] => problemsOf(draft).map((problem) => problem.field);

describe('recordDisclosure (34 CFR 99.32)', () => {
  it('returns the record with normalised fields and the 99.32(d) flag', () => {
    const disclosure = recordDisclosure(
      complete({
        studentIds: [STUDENT.toUpperCase(), STUDENT, OTHER],
        party: { name: '  County Health Department ', type: 'agency' },
        dataCategories: ['attendance', 'attendance'],
        redisclosureParties: [{ name: 'State Department of Education', legitimateInterest: 'Programme audit' }],
        parentNotifiedAt: '2026-11-19T16:30:00-05:00',
      }),
      CONTEXT,
    );
    expect(disclosure).toEqual({
      id: CONTEXT.id,
      studentIds: [STUDENT, OTHER],
      party: { name: 'County Health Department', type: 'agency' },
      basis: 'authorized_representative',
      legitimateInterest: 'Evaluation of the state-funded attendance programme',
      dataCategories: ['attendance'],
      disclosedOn: '2026-11-19',
      redisclosureParties: [{ name: 'State Department of Education', legitimateInterest: 'Programme audit' }],
      emergency: null,
      parentNotifiedAt: new Date('2026-11-19T21:30:00Z'),
      recordedBy: 'officer',
      recordedAt: CONTEXT.recordedAt,
      recordRequired: true,
    });
  });

  it.each(['school_official', 'parent_or_eligible_student', 'written_consent', 'directory_information'] as const)(
    'flags %s as not required by 99.32(d)',
    (basis) => {
      expect(recordDisclosure(complete({ basis }), CONTEXT).recordRequired).toBe(false);
    },
  );

  it('requires recording for every other basis', () => {
    const required = DISCLOSURE_BASES.filter(
      (basis) =>
        !['school_official', 'parent_or_eligible_student', 'written_consent', 'directory_information'].includes(
          basis,
        ) && basis !== 'health_safety_emergency',
    );
    for (const basis of required) expect(recordDisclosure(complete({ basis }), CONTEXT).recordRequired).toBe(true);
  });

  it.each([
    ['studentIds', { studentIds: undefined }, ['studentIds']],
    ['an empty studentIds', { studentIds: [] }, ['studentIds']],
    ['party', { party: undefined }, ['party.name', 'party.type']],
    ['party.name', { party: { type: 'agency' } }, ['party.name']],
    ['a blank party.name', { party: { name: '   ', type: 'agency' } }, ['party.name']],
    ['party.type', { party: { name: 'County' } }, ['party.type']],
    ['basis', { basis: undefined }, ['basis']],
    ['legitimateInterest', { legitimateInterest: undefined }, ['legitimateInterest']],
    ['a blank legitimateInterest', { legitimateInterest: ' \n ' }, ['legitimateInterest']],
    ['dataCategories', { dataCategories: undefined }, ['dataCategories']],
    ['an empty dataCategories', { dataCategories: [] }, ['dataCategories']],
    ['disclosedOn', { disclosedOn: undefined }, ['disclosedOn']],
  ] as const)('reports a missing %s', (_name, overrides, expected) => {
    const problems = problemsOf(complete(overrides));
    expect(problems.map((problem) => problem.field)).toEqual(expected);
    expect(problems.every((problem) => problem.problem === 'missing')).toBe(true);
  });

  it('lists every missing field at once for an empty draft', () => {
    expect(fields({})).toEqual([
      'studentIds',
      'party.name',
      'party.type',
      'basis',
      'legitimateInterest',
      'dataCategories',
      'disclosedOn',
    ]);
  });

  it.each([
    ['studentIds that are not UUIDs', { studentIds: ['not-a-uuid'] }, 'studentIds'],
    ['studentIds that are not a list', { studentIds: STUDENT }, 'studentIds'],
    ['a party that is not an object', { party: 'County' }, 'party'],
    ['an unknown party type', { party: { name: 'County', type: 'company' } }, 'party.type'],
    ['an unknown basis', { basis: 'curiosity' }, 'basis'],
    ['a basis of the wrong type', { basis: 7 }, 'basis'],
    ['a legitimateInterest of the wrong type', { legitimateInterest: { why: 'x' } }, 'legitimateInterest'],
    ['category codes with spaces', { dataCategories: ['test scores'] }, 'dataCategories'],
    ['a date in another format', { disclosedOn: '11/19/2026' }, 'disclosedOn'],
    ['a date that does not exist', { disclosedOn: '2026-02-30' }, 'disclosedOn'],
    ['a date in the future', { disclosedOn: '2026-11-25' }, 'disclosedOn'],
    ['a date before FERPA', { disclosedOn: '1900-01-01' }, 'disclosedOn'],
    ['redisclosure parties that are not a list', { redisclosureParties: 'State' }, 'redisclosureParties'],
    [
      'a redisclosure party without an interest',
      { redisclosureParties: [{ name: 'State' }] },
      'redisclosureParties[0].legitimateInterest',
    ],
    ['a parentNotifiedAt without a time zone', { parentNotifiedAt: '2026-11-19T16:30:00' }, 'parentNotifiedAt'],
    ['a parentNotifiedAt in the future', { parentNotifiedAt: '2026-12-01T00:00:00Z' }, 'parentNotifiedAt'],
  ] as const)('rejects %s', (_name, overrides, field) => {
    expect(fields(complete(overrides as DisclosureDraft))).toEqual([field]);
  });

  it('accepts a disclosure on the day it is recorded, and the next day (a local date ahead of UTC)', () => {
    expect(recordDisclosure(complete({ disclosedOn: '2026-11-20' }), CONTEXT).disclosedOn).toBe('2026-11-20');
    expect(recordDisclosure(complete({ disclosedOn: '2026-11-21' }), CONTEXT).disclosedOn).toBe('2026-11-21');
  });

  describe('health or safety emergency (99.32(a)(5), 99.36)', () => {
    const emergency = complete({
      basis: 'health_safety_emergency',
      party: { name: 'Fire department', type: 'agency' },
    });

    it('records the threat and the recipients', () => {
      const disclosure = recordDisclosure(
        { ...emergency, emergency: { threat: 'Gas leak at North High', recipients: [' Fire department ', 'EMS'] } },
        CONTEXT,
      );
      expect(disclosure.emergency).toEqual({
        threat: 'Gas leak at North High',
        recipients: ['Fire department', 'EMS'],
      });
      expect(disclosure.recordRequired).toBe(true);
    });

    it('requires both when the emergency block is missing', () => {
      const problems = problemsOf(emergency);
      expect(problems.map((problem) => [problem.field, problem.problem])).toEqual([
        ['emergency.threat', 'missing'],
        ['emergency.recipients', 'missing'],
      ]);
    });

    it('requires the threat', () => {
      expect(fields({ ...emergency, emergency: { recipients: ['EMS'] } })).toEqual(['emergency.threat']);
      expect(fields({ ...emergency, emergency: { threat: '  ', recipients: ['EMS'] } })).toEqual(['emergency.threat']);
    });

    it('requires at least one named recipient', () => {
      expect(fields({ ...emergency, emergency: { threat: 'Gas leak' } })).toEqual(['emergency.recipients']);
      expect(fields({ ...emergency, emergency: { threat: 'Gas leak', recipients: [] } })).toEqual([
        'emergency.recipients',
      ]);
      expect(fields({ ...emergency, emergency: { threat: 'Gas leak', recipients: [''] } })).toEqual([
        'emergency.recipients',
      ]);
    });

    it('rejects an emergency block that is not an object', () => {
      expect(fields({ ...emergency, emergency: 'gas leak' })).toEqual(['emergency']);
    });

    it('refuses emergency details on another basis', () => {
      expect(fields(complete({ emergency: { threat: 'Gas leak', recipients: ['EMS'] } }))).toEqual(['emergency']);
    });
  });
});
