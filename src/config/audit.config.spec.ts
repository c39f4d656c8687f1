import { describe, expect, it } from 'vitest';
import { loadConfiguration } from './configuration.module.js';

const jwt = 'j'.repeat(40);
const key = 'k'.repeat(40);
const production = { NODE_ENV: 'production', JWT_SECRET: jwt, SIS_SECRETS_KEY: key };

describe('audit configuration', () => {
  it('requires the checkpoint signing key in production', () => {
    expect(() => loadConfiguration(production)).toThrow(/AUDIT_SIGNING_KEY: required in production/);
    expect(loadConfiguration({ ...production, AUDIT_SIGNING_KEY: key }).audit.signingKey).toBe(key);
  });

  it('defaults to the safe choices: capture on, fail closed, hourly checkpoints, seven years of access entries', () => {
    expect(loadConfiguration({ JWT_SECRET: jwt }).audit).toEqual({
      captureEnabled: true,
      signingKey: undefined,
      previousSigningKeys: [],
      origin: 'homeroom',
      failClosed: true,
      checkpointIntervalMinutes: 60,
      retentionDays: 2555,
      verifyCron: '30 3 * * *',
    });
  });

  it('refuses to run production without capture, and checkpoints less often than hourly', () => {
    expect(() => loadConfiguration({ ...production, AUDIT_SIGNING_KEY: key, AUDIT_CAPTURE_ENABLED: 'false' })).toThrow(
      /AUDIT_CAPTURE_ENABLED: cannot be false in production/,
    );
    expect(() => loadConfiguration({ JWT_SECRET: jwt, AUDIT_CHECKPOINT_INTERVAL_MINUTES: '90' })).toThrow(
      /AUDIT_CHECKPOINT_INTERVAL_MINUTES/,
    );
  });

  it('verifies the chain on a configurable schedule, and refuses a schedule that is not a cron expression', () => {
    expect(loadConfiguration({ JWT_SECRET: jwt, AUDIT_VERIFY_CRON: '0 */6 * * *' }).audit.verifyCron).toBe(
      '0 */6 * * *',
    );
    expect(() => loadConfiguration({ JWT_SECRET: jwt, AUDIT_VERIFY_CRON: 'daily please' })).toThrow(
      /AUDIT_VERIFY_CRON: must be a cron expression/,
    );
  });

  it('refuses short signing keys', () => {
    expect(() => loadConfiguration({ JWT_SECRET: jwt, AUDIT_SIGNING_KEY: 'short' })).toThrow(
      /AUDIT_SIGNING_KEY: must be at least 32 characters/,
    );
  });
});
