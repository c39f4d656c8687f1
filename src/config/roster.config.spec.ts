import { describe, expect, it } from 'vitest';
import { loadConfiguration } from './configuration.module.js';

const jwt = 'j'.repeat(40);

describe('roster configuration', () => {
  it('keeps ended enrollments granting access for 30 days by default', () => {
    expect(loadConfiguration({ JWT_SECRET: jwt }).roster).toEqual({ enrollmentGraceDays: 30 });
  });

  it('reads ACCESS_ENROLLMENT_GRACE_DAYS', () => {
    expect(loadConfiguration({ JWT_SECRET: jwt, ACCESS_ENROLLMENT_GRACE_DAYS: '0' }).roster.enrollmentGraceDays).toBe(
      0,
    );
  });

  it.each(['-1', '366', '1.5', 'soon'])('refuses ACCESS_ENROLLMENT_GRACE_DAYS=%s', (value) => {
    expect(() => loadConfiguration({ JWT_SECRET: jwt, ACCESS_ENROLLMENT_GRACE_DAYS: value })).toThrow(
      /ACCESS_ENROLLMENT_GRACE_DAYS/,
    );
  });
});
