import { describe, expect, it } from 'vitest';
import { DEFAULT_THRESHOLDS } from './connection-defaults.js';
import type { ThresholdSettings } from './sis-connection.js';
import {
  emptyEntityCounts,
  exceededRejectLimits,
  exceededThresholds,
  isTerminal,
  uploadedFileName,
  type EntityCounts,
  type PreviewEntry,
  type RunPreview,
} from './sync-run.js';

function entry(fields: Partial<PreviewEntry>): PreviewEntry {
  return { create: 0, update: 0, restore: 0, deactivate: 0, unchanged: 0, activeBefore: 100, samples: {}, ...fields };
}

describe('exceededThresholds', () => {
  it('prefers the entity rule for an action over the `*` rule', () => {
    const thresholds: ThresholdSettings = {
      '*': { deactivate: { maxPercent: 10 } },
      people: { deactivate: { maxPercent: 50 } },
    };
    const preview: RunPreview = {
      people: entry({ deactivate: 30, activeBefore: 100 }),
      orgs: entry({ deactivate: 3, activeBefore: 10 }),
    };
    expect(exceededThresholds(preview, thresholds)).toEqual([
      { kind: 'threshold', entity: 'orgs', action: 'deactivate', count: 3, limit: '10% of 10 active records' },
    ]);
  });

  it('falls back to `*` for actions the entity rule does not name', () => {
    const thresholds: ThresholdSettings = {
      '*': { update: { maxPercent: 50 } },
      people: { deactivate: { maxCount: 1000 } },
    };
    expect(exceededThresholds({ people: entry({ update: 60, activeBefore: 100 }) }, thresholds)).toEqual([
      { kind: 'threshold', entity: 'people', action: 'update', count: 60, limit: '50% of 100 active records' },
    ]);
  });

  it('reports the count limit first and a record only once when both bounds are exceeded', () => {
    const thresholds: ThresholdSettings = { '*': { update: { maxCount: 5, maxPercent: 50 } } };
    expect(exceededThresholds({ courses: entry({ update: 80, activeBefore: 100 }) }, thresholds)).toEqual([
      { kind: 'threshold', entity: 'courses', action: 'update', count: 80, limit: '5 records' },
    ]);
  });

  it('holds on the percentage when the count is within its bound', () => {
    const thresholds: ThresholdSettings = { '*': { update: { maxCount: 5, maxPercent: 50 } } };
    expect(exceededThresholds({ courses: entry({ update: 4, activeBefore: 5 }) }, thresholds)).toEqual([
      { kind: 'threshold', entity: 'courses', action: 'update', count: 4, limit: '50% of 5 active records' },
    ]);
  });

  it('does not hold at exactly the limit', () => {
    const thresholds: ThresholdSettings = { '*': { update: { maxCount: 5 }, deactivate: { maxPercent: 10 } } };
    const preview: RunPreview = { classes: entry({ update: 5, deactivate: 10, activeBefore: 100 }) };
    expect(exceededThresholds(preview, thresholds)).toEqual([]);
    expect(exceededThresholds(preview, DEFAULT_THRESHOLDS)).toEqual([]);
    expect(exceededThresholds({ classes: entry({ deactivate: 11, activeBefore: 100 }) }, DEFAULT_THRESHOLDS)).toEqual([
      { kind: 'threshold', entity: 'classes', action: 'deactivate', count: 11, limit: '10% of 100 active records' },
    ]);
  });

  it('counts restores as creates', () => {
    const thresholds: ThresholdSettings = { '*': { create: { maxCount: 4 } } };
    expect(exceededThresholds({ people: entry({ create: 2, restore: 3 }) }, thresholds)).toEqual([
      { kind: 'threshold', entity: 'people', action: 'create', count: 5, limit: '4 records' },
    ]);
    expect(exceededThresholds({ people: entry({ create: 2, restore: 2 }) }, thresholds)).toEqual([]);
  });

  it('skips percentages when the mirror holds no active records, but keeps counts', () => {
    const percent: ThresholdSettings = { '*': { create: { maxPercent: 10 }, update: { maxPercent: 10 } } };
    expect(exceededThresholds({ people: entry({ create: 5000, activeBefore: 0 }) }, percent)).toEqual([]);
    const count: ThresholdSettings = { '*': { create: { maxCount: 1000, maxPercent: 10 } } };
    expect(exceededThresholds({ people: entry({ create: 5000, activeBefore: 0 }) }, count)).toEqual([
      { kind: 'threshold', entity: 'people', action: 'create', count: 5000, limit: '1000 records' },
    ]);
  });

  it('treats an empty rule as "no limit", even when `*` has one', () => {
    const thresholds: ThresholdSettings = { '*': { deactivate: { maxPercent: 10 } }, orgs: { deactivate: {} } };
    expect(exceededThresholds({ orgs: entry({ deactivate: 100, activeBefore: 100 }) }, thresholds)).toEqual([]);
    expect(exceededThresholds({ orgs: entry({ deactivate: 100 }) }, { '*': { deactivate: {} } })).toEqual([]);
    expect(exceededThresholds({ orgs: entry({ deactivate: 100 }) }, {})).toEqual([]);
  });

  it('never holds for an action with nothing to do, and a zero bound holds on the first record', () => {
    const thresholds: ThresholdSettings = { '*': { deactivate: { maxCount: 0 }, update: { maxPercent: 0 } } };
    expect(exceededThresholds({ orgs: entry({}) }, thresholds)).toEqual([]);
    expect(exceededThresholds({ orgs: entry({ deactivate: 1, update: 1 }) }, thresholds)).toEqual([
      { kind: 'threshold', entity: 'orgs', action: 'update', count: 1, limit: '0% of 100 active records' },
      { kind: 'threshold', entity: 'orgs', action: 'deactivate', count: 1, limit: '0 records' },
    ]);
  });

  it('reports every entity and action that exceeds its limit', () => {
    const thresholds: ThresholdSettings = {
      '*': { create: { maxCount: 10 }, update: { maxPercent: 50 }, deactivate: { maxPercent: 10 } },
    };
    const reasons = exceededThresholds(
      {
        people: entry({ create: 11, update: 51, deactivate: 11 }),
        enrollments: entry({ deactivate: 20, activeBefore: 40 }),
      },
      thresholds,
    );
    expect(reasons.map((reason) => `${reason.entity}:${reason.kind === 'threshold' ? reason.action : ''}`)).toEqual([
      'people:create',
      'people:update',
      'people:deactivate',
      'enrollments:deactivate',
    ]);
  });
});

describe('exceededRejectLimits', () => {
  const counts = (pulled: number, rejected: number): EntityCounts => ({ ...emptyEntityCounts(), pulled, rejected });

  it('holds an entity whose rejected share of the pulled records passes the default 10 %', () => {
    expect(
      exceededRejectLimits(
        { orgs: counts(3, 0), people: counts(10, 10), enrollments: counts(100, 10), courses: counts(3, 1) },
        DEFAULT_THRESHOLDS,
      ),
    ).toEqual([
      { kind: 'rejected', entity: 'people', count: 10, pulled: 10, percent: 100, limit: '10% of 10 pulled records' },
      { kind: 'rejected', entity: 'courses', count: 1, pulled: 3, percent: 33.3, limit: '10% of 3 pulled records' },
    ]);
  });

  it('prefers the entity rule over `*`, honours maxCount, and `{}` switches the hold off', () => {
    const thresholds: ThresholdSettings = {
      '*': { reject: { maxPercent: 10 } },
      people: { reject: {} },
      enrollments: { reject: { maxCount: 2 } },
    };
    expect(
      exceededRejectLimits({ people: counts(10, 9), enrollments: counts(1000, 3), classes: counts(0, 0) }, thresholds),
    ).toEqual([{ kind: 'rejected', entity: 'enrollments', count: 3, pulled: 1000, percent: 0.3, limit: '2 records' }]);
  });

  it('holds nothing without a reject rule or for runs recorded before rejections were counted', () => {
    expect(exceededRejectLimits({ people: counts(10, 10) }, { '*': { deactivate: { maxPercent: 10 } } })).toEqual([]);
    const { rejected: _rejected, ...old } = counts(10, 0);
    expect(exceededRejectLimits({ people: old }, DEFAULT_THRESHOLDS)).toEqual([]);
  });
});

describe('uploadedFileName', () => {
  it.each([
    ['roster-2026.zip', 'roster-2026.zip'],
    ['C:\\Users\\it\\Desktop\\Spring roster.zip', 'Spring roster.zip'],
    ['../../etc/passwd', 'passwd'],
    ['bad\u0000name\u001b[31m\u007f.zip', 'badname[31m.zip'],
    ['evil\u202egpj.zip', 'evilgpj.zip'],
    ['  spaced   out\tname .zip ', 'spaced out name .zip'],
    ['Zoë Núñez – district.zip', 'Zoë Núñez – district.zip'],
  ])('keeps only the name of %j', (raw, expected) => {
    expect(uploadedFileName(raw)).toBe(expected);
  });

  it('caps the length at 200 characters, keeping the extension and never splitting a character', () => {
    const name = uploadedFileName(`${'😀'.repeat(300)}.zip`)!;
    expect([...name]).toHaveLength(200);
    expect(name.endsWith('….zip')).toBe(true);
    // A lone surrogate would not survive a round trip through UTF-8.
    expect(Buffer.from(name, 'utf8').toString('utf8')).toBe(name);
  });

  it('gives null for nothing usable', () => {
    expect([undefined, null, '', '   ', '/', 'dir/', '\u0001\u0002'].map((raw) => uploadedFileName(raw))).toEqual(
      Array(7).fill(null),
    );
  });
});

describe('isTerminal', () => {
  it('treats queued, running and held as active', () => {
    expect(['queued', 'running', 'held'].map((state) => isTerminal(state as never))).toEqual([false, false, false]);
    expect(
      ['succeeded', 'succeeded_with_issues', 'failed', 'cancelled'].map((state) => isTerminal(state as never)),
    ).toEqual([true, true, true, true]);
  });
});
