import { describe, expect, it } from 'vitest';
import { SYNC_EXIT_CODES, syncExitCode } from './cli-catalogue.js';

describe('syncExitCode', () => {
  it.each([
    ['succeeded', 0],
    ['succeeded_with_issues', 0],
    ['failed', 1],
    ['held', 2],
    ['cancelled', 3],
    ['running', 1],
  ])('a run that ended %s exits %i', (state, code) => {
    expect(syncExitCode(state)).toBe(code);
  });

  it('gives every documented outcome its own status', () => {
    expect(new Set(Object.values(SYNC_EXIT_CODES)).size).toBe(Object.keys(SYNC_EXIT_CODES).length);
  });
});
