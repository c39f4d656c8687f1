import { describe, expect, it } from 'vitest';
import { ONEROSTER_VENDOR_PRESETS, oneRosterConnectionDefaults } from './oneroster-vendor-presets.js';

describe('oneRosterConnectionDefaults', () => {
  it('fills Infinite Campus 1.2: campus paths, appName token URL, serial at peak and 5 off-peak, nightly deltas', () => {
    expect(
      oneRosterConnectionDefaults({
        vendor: 'infinite-campus',
        version: '1.2',
        serverUrl: 'https://springfield.infinitecampus.org/campus/',
        appName: 'springfield',
        clientId: 'homeroom',
        timeZone: 'America/Chicago',
      }),
    ).toEqual({
      version: '1.2',
      vendor: 'infinite-campus',
      baseUrl: 'https://springfield.infinitecampus.org/campus/api/ims/oneroster/rostering/v1p2',
      auth: {
        type: 'oauth2',
        tokenUrl: 'https://springfield.infinitecampus.org/campus/oauth2/token?appName=springfield',
        clientId: 'homeroom',
      },
      pageSize: 1_000,
      concurrency: 5,
      peakHours: { start: '06:00', end: '18:00', concurrency: 1 },
      requestTimeoutMs: 60_000,
      schedule: { cron: '0 2 * * *', timeZone: 'America/Chicago' },
      fullReconciliationDays: 7,
      personMergeRule: 'none',
    });
  });

  it('merges Infinite Campus 1.1 per-role users by their role prefix', () => {
    const defaults = oneRosterConnectionDefaults({
      vendor: 'infinite-campus',
      version: '1.1',
      serverUrl: 'https://ic.example.org',
    });
    expect(defaults.baseUrl).toBe('https://ic.example.org/campus/api/ims/oneroster/rostering/v1p1');
    expect(defaults.personMergeRule).toBe('ic-role-prefix');
    // Without the app name the token URL is left for the district to enter.
    expect(defaults.auth).toEqual({ type: 'oauth2', tokenUrl: '', clientId: '' });
  });

  it('fills Skyward 1.1 under the API server URL and refuses 1.2', () => {
    const defaults = oneRosterConnectionDefaults({
      vendor: 'skyward',
      version: '1.1',
      serverUrl: 'https://sky.example.org/api',
    });
    expect(defaults.baseUrl).toBe('https://sky.example.org/api/ims/oneroster/v1p1');
    expect(defaults.auth.type).toBe('oauth2');
    expect(defaults.schedule).toBeNull();
    expect(() => oneRosterConnectionDefaults({ vendor: 'skyward', version: '1.2' })).toThrow('1.1 only');
  });

  it('fills a generic provider from the standard base paths, accepting a pasted base URL', () => {
    expect(
      oneRosterConnectionDefaults({
        vendor: 'generic',
        version: '1.2',
        serverUrl: 'https://or.example.org/ims/oneroster/rostering/v1p2',
      }).baseUrl,
    ).toBe('https://or.example.org/ims/oneroster/rostering/v1p2');
    expect(oneRosterConnectionDefaults({ vendor: 'generic', version: '1.1' })).toMatchObject({
      baseUrl: null,
      peakHours: null,
      personMergeRule: 'none',
    });
    expect(ONEROSTER_VENDOR_PRESETS.generic.authTypes).toContain('oauth1');
  });
});
