import { describe, expect, it } from 'vitest';
import { describeHoldReason } from './sync-run-report.js';

describe('describeHoldReason', () => {
  it('names each kind of hold in one line', () => {
    expect(
      [
        { kind: 'threshold', entity: 'people', action: 'deactivate', count: 20, limit: '10% of 100 active records' },
        { kind: 'id_remap', entity: 'people', count: 7 },
        { kind: 'rejected', entity: 'people', count: 35, pulled: 35, percent: 100, limit: '10% of 35 pulled records' },
      ].map((reason) => describeHoldReason(reason as Parameters<typeof describeHoldReason>[0])),
    ).toEqual([
      'people deactivate: 20 exceeds 10% of 100 active records',
      '7 people changed SIS ids (id remap)',
      'people rejected: 35 of 35 pulled (100%) exceeds 10% of 35 pulled records',
    ]);
  });
});
