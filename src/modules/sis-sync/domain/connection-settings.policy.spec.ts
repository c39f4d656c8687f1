import { describe, expect, it } from 'vitest';
import { csvImportConnectionSettings, vendorDefaults } from './connection-defaults.js';
import {
  assertCreatableProvider,
  assertValidConnectionSettings,
  canonicalTimeZone,
  isReservedConnectionName,
  resolveConnectionName,
  resolveNewConnectionSettings,
  resolveRevisedConnectionSettings,
  type ConnectionSettingsInput,
} from './connection-settings.policy.js';
import { InvalidConnectionSettingsError, ProviderNotSupportedError } from './sis-sync.errors.js';

const production = { allowHttp: false };
const development = { allowHttp: true };
const oauth2 = {
  type: 'oauth2',
  tokenUrl: 'https://sis.district.test/oauth2/token',
  clientId: 'homeroom',
  clientSecret: 's3cret-value',
};

function input(overrides: ConnectionSettingsInput = {}): ConnectionSettingsInput {
  return {
    version: '1.2',
    baseUrl: 'https://sis.district.test/ims/oneroster/rostering/v1p2',
    auth: oauth2,
    ...overrides,
  };
}

function issuesOf(run: () => unknown): { field: string; message: string }[] {
  try {
    run();
  } catch (error) {
    if (error instanceof InvalidConnectionSettingsError) return [...error.issues];
    throw error;
  }
  throw new Error('expected InvalidConnectionSettingsError');
}

const fieldsOf = (run: () => unknown): string[] => issuesOf(run).map((issue) => issue.field);

describe('connection settings policy', () => {
  describe('providers and names', () => {
    it('creates OneRoster, OneRoster CSV and PowerSchool connections, and refuses unknown providers', () => {
      expect(() => assertCreatableProvider('oneroster')).not.toThrow();
      expect(() => assertCreatableProvider('powerschool')).not.toThrow();
      expect(() => assertCreatableProvider('oneroster-csv')).not.toThrow();
      expect(() => assertCreatableProvider('clever')).toThrow(ProviderNotSupportedError);
      expect(() => assertCreatableProvider('clever')).toThrow(/Unknown SIS provider/);
    });

    it('trims names and bounds their length', () => {
      expect(resolveConnectionName('  North   District  ')).toBe('North District');
      expect(fieldsOf(() => resolveConnectionName('   '))).toEqual(['name']);
      expect(fieldsOf(() => resolveConnectionName('x'.repeat(101)))).toEqual(['name']);
    });

    it('reserves the CSV upload connection name for the connection uploads land on by default', () => {
      expect(isReservedConnectionName(' oneroster csv UPLOADS ')).toBe(true);
      expect(isReservedConnectionName('OneRoster CSV uploads')).toBe(true);
      expect(isReservedConnectionName('Campus')).toBe(false);
    });
  });

  describe('defaults', () => {
    it('fills a generic connection from the preset, with mass-change holds on', () => {
      const { settings, secret } = resolveNewConnectionSettings('oneroster', input(), production);
      expect(secret).toBe('s3cret-value');
      expect(settings).toEqual({
        version: '1.2',
        vendor: 'generic',
        baseUrl: 'https://sis.district.test/ims/oneroster/rostering/v1p2',
        auth: { type: 'oauth2', tokenUrl: oauth2.tokenUrl, clientId: 'homeroom' },
        pageSize: 1000,
        concurrency: 2,
        peakHours: null,
        requestTimeoutMs: 30_000,
        schedule: null,
        blackoutWindows: [],
        schoolScope: [],
        thresholds: {
          '*': { deactivate: { maxPercent: 10 }, update: { maxPercent: 50 }, reject: { maxPercent: 10 } },
        },
        deltaOverlapSeconds: 300,
        fullReconciliationDays: 7,
        personMergeRule: 'none',
        fieldPolicies: {},
        extensionMappings: {},
      });
      expect(JSON.stringify(settings)).not.toContain('s3cret-value');
    });

    it('accepts OneRoster 1.2 extension mappings from ext: values to core values, and keeps them on an update', () => {
      const extensionMappings = {
        orgType: { 'ext:campus': 'school' as const },
        role: { 'ext:coTeacher': 'teacher' as const, 'ext:grandparent': 'relative' as const },
        classType: { 'ext:advisory': 'homeroom' as const },
        sessionType: { 'ext:trimester': 'term' as const },
        enrollmentRole: { 'ext:coTeacher': 'teacher' as const },
      };
      const { settings } = resolveNewConnectionSettings('oneroster', input({ extensionMappings }), production);
      expect(settings.extensionMappings).toEqual(extensionMappings);
      const revised = resolveRevisedConnectionSettings(
        'oneroster',
        { settings, hasSecret: true },
        { pageSize: 500 },
        production,
      );
      expect(revised.settings.extensionMappings).toEqual(extensionMappings);
    });

    it('refuses extension mappings whose keys are not ext: values, whose values are not core values, or on 1.1', () => {
      const issues = issuesOf(() =>
        resolveNewConnectionSettings(
          'oneroster',
          input({
            extensionMappings: {
              orgType: { campus: 'school', 'ext:annex': 'building' },
              colour: { 'ext:x': 'y' },
            } as never,
          }),
          production,
        ),
      );
      expect(issues.map((issue) => issue.field)).toEqual([
        'extensionMappings.orgType',
        'extensionMappings.orgType.ext:annex',
        'extensionMappings.colour',
      ]);
      expect(issues[0].message).toContain('ext: followed by letters');
      expect(issues[1].message).toContain('must be one of district, school');
      expect(
        fieldsOf(() =>
          resolveNewConnectionSettings(
            'oneroster',
            input({ version: '1.1', extensionMappings: { orgType: { 'ext:campus': 'school' } } }),
            production,
          ),
        ),
      ).toEqual(['extensionMappings']);
    });

    it('accepts field policies for locally editable fields only', () => {
      const { settings } = resolveNewConnectionSettings(
        'oneroster',
        input({ fieldPolicies: { pronouns: 'local', preferredFirstName: 'sis' } }),
        production,
      );
      expect(settings.fieldPolicies).toEqual({ pronouns: 'local', preferredFirstName: 'sis' });
      expect(
        fieldsOf(() =>
          resolveNewConnectionSettings(
            'oneroster',
            input({ fieldPolicies: { givenName: 'local', pronouns: 'mine' } as never }),
            production,
          ),
        ),
      ).toEqual(['fieldPolicies.givenName', 'fieldPolicies.pronouns']);
    });

    it('limits Infinite Campus to serial requests in school hours, in the schedule time zone', () => {
      const { settings } = resolveNewConnectionSettings(
        'oneroster',
        input({ vendor: 'infinite-campus', version: '1.1', schedule: { cron: '0 2 * * *', timeZone: 'US/Central' } }),
        production,
      );
      expect(settings.concurrency).toBe(5);
      expect(settings.peakHours).toEqual({ start: '07:00', end: '16:00', concurrency: 1, timeZone: 'America/Chicago' });
      expect(settings.schedule).toEqual({ cron: '0 2 * * *', timeZone: 'America/Chicago' });
      expect(settings.personMergeRule).toBe('ic-role-prefix');
    });

    it('needs a time zone for Infinite Campus peak hours when there is no schedule', () => {
      expect(
        fieldsOf(() => resolveNewConnectionSettings('oneroster', input({ vendor: 'infinite-campus' }), production)),
      ).toEqual(['peakHours.timeZone']);
      const { settings } = resolveNewConnectionSettings(
        'oneroster',
        input({
          vendor: 'infinite-campus',
          peakHours: { start: '06:30', end: '15:30', concurrency: 1, timeZone: 'America/Denver' },
        }),
        production,
      );
      expect(settings.peakHours).toEqual({ start: '06:30', end: '15:30', concurrency: 1, timeZone: 'America/Denver' });
      const off = resolveNewConnectionSettings(
        'oneroster',
        input({ vendor: 'infinite-campus', peakHours: null }),
        production,
      );
      expect(off.settings.peakHours).toBeNull();
    });

    it('merges person records by identifier for other 1.1 vendors and not at all for 1.2', () => {
      expect(vendorDefaults('skyward', '1.1').personMergeRule).toBe('identifier');
      expect(vendorDefaults('generic', '1.1').personMergeRule).toBe('identifier');
      expect(vendorDefaults('infinite-campus', '1.2').personMergeRule).toBe('none');
    });

    it('keeps explicit thresholds and adds the default holds they leave unsaid', () => {
      const { settings } = resolveNewConnectionSettings(
        'oneroster',
        input({ thresholds: { people: { create: { maxCount: 500 } }, '*': { deactivate: {} } } }),
        production,
      );
      expect(settings.thresholds).toEqual({
        people: { create: { maxCount: 500 } },
        '*': { deactivate: {}, update: { maxPercent: 50 }, reject: { maxPercent: 10 } },
      });
    });

    it('takes a rejected-records limit per entity and for `*`, and `{}` switches the default off', () => {
      const { settings } = resolveNewConnectionSettings(
        'oneroster',
        input({ thresholds: { people: { reject: { maxPercent: 2, maxCount: 50 } }, '*': { reject: {} } } }),
        production,
      );
      expect(settings.thresholds).toEqual({
        people: { reject: { maxPercent: 2, maxCount: 50 } },
        '*': { reject: {}, deactivate: { maxPercent: 10 }, update: { maxPercent: 50 } },
      });
    });

    it('normalises URLs, cron spacing and blackout reasons', () => {
      const { settings } = resolveNewConnectionSettings(
        'oneroster',
        input({
          baseUrl: ' https://sis.district.test/ims/oneroster/v1p1/ ',
          version: '1.1',
          schedule: { cron: '0  2 * *   1-5', timeZone: 'UTC' },
          blackoutWindows: [
            { from: '2027-06-10', to: '2027-08-15', reason: '  rollover ' },
            { from: '2027-12-24', to: '2027-12-24' },
          ],
          schoolScope: [' school-1 ', 'school-2'],
        }),
        production,
      );
      expect(settings.baseUrl).toBe('https://sis.district.test/ims/oneroster/v1p1');
      expect(settings.schedule).toEqual({ cron: '0 2 * * 1-5', timeZone: 'UTC' });
      expect(settings.blackoutWindows).toEqual([
        { from: '2027-06-10', to: '2027-08-15', reason: 'rollover' },
        { from: '2027-12-24', to: '2027-12-24' },
      ]);
      expect(settings.schoolScope).toEqual(['school-1', 'school-2']);
    });
  });

  describe('rules', () => {
    it('requires version, base URL and credentials for OneRoster', () => {
      expect(fieldsOf(() => resolveNewConnectionSettings('oneroster', {}, production)).sort()).toEqual(
        ['auth', 'baseUrl', 'version'].sort(),
      );
      expect(
        fieldsOf(() =>
          resolveNewConnectionSettings(
            'oneroster',
            input({ auth: { type: 'oauth2', tokenUrl: '', clientId: '' } }),
            production,
          ),
        ).sort(),
      ).toEqual(['auth.clientId', 'auth.clientSecret', 'auth.tokenUrl']);
    });

    it('allows OAuth 1.0a with OneRoster 1.1 only, and not for Infinite Campus', () => {
      const oauth1 = { type: 'oauth1', consumerKey: 'key', consumerSecret: 'secret' };
      expect(
        resolveNewConnectionSettings('oneroster', input({ version: '1.1', auth: oauth1 }), production).settings.auth,
      ).toEqual({
        type: 'oauth1',
        consumerKey: 'key',
      });
      const issues = issuesOf(() =>
        resolveNewConnectionSettings('oneroster', input({ version: '1.2', auth: oauth1 }), production),
      );
      expect(issues).toEqual([
        { field: 'auth.type', message: expect.stringMatching(/only defined for OneRoster 1.1/) },
      ]);
      expect(
        fieldsOf(() =>
          resolveNewConnectionSettings(
            'oneroster',
            input({ version: '1.1', vendor: 'infinite-campus', auth: oauth1, peakHours: null }),
            production,
          ),
        ),
      ).toEqual(['auth.type']);
    });

    it('refuses credentials of the other authentication type', () => {
      expect(
        fieldsOf(() =>
          resolveNewConnectionSettings('oneroster', input({ auth: { ...oauth2, consumerKey: 'k' } }), production),
        ),
      ).toEqual(['auth.consumerKey']);
    });

    it('requires https in production and allows http elsewhere', () => {
      const plain = input({
        baseUrl: 'http://sis.district.test/ims',
        auth: { ...oauth2, tokenUrl: 'http://sis.district.test/token' },
      });
      expect(issuesOf(() => resolveNewConnectionSettings('oneroster', plain, production))).toEqual([
        { field: 'baseUrl', message: 'baseUrl must use https in production' },
        { field: 'auth.tokenUrl', message: 'auth.tokenUrl must use https in production' },
      ]);
      expect(() => resolveNewConnectionSettings('oneroster', plain, development)).not.toThrow();
    });

    it('refuses URLs that are not absolute, carry credentials, fragments or other schemes', () => {
      for (const baseUrl of [
        'sis.district.test',
        'https://user:pw@sis.district.test',
        'https://sis.district.test/#x',
        'ftp://sis.district.test',
      ]) {
        expect(fieldsOf(() => resolveNewConnectionSettings('oneroster', input({ baseUrl }), development))).toEqual([
          'baseUrl',
        ]);
      }
    });

    it('validates cron expressions and IANA zones', () => {
      const schedule =
        (cron: string, timeZone = 'America/New_York') =>
        () =>
          resolveNewConnectionSettings('oneroster', input({ schedule: { cron, timeZone } }), production);
      expect(() => schedule('30 1 * * 0')()).not.toThrow();
      expect(() => schedule('@daily')()).not.toThrow();
      expect(fieldsOf(schedule('61 * * * *'))).toEqual(['schedule.cron']);
      expect(fieldsOf(schedule('* * *'))).toEqual(['schedule.cron']);
      expect(fieldsOf(schedule('*/5 * * * * *'))).toEqual(['schedule.cron']);
      expect(fieldsOf(schedule('@secondly'))).toEqual(['schedule.cron']);
      expect(fieldsOf(schedule('0 2 * * *', 'Mars/Olympus_Mons'))).toEqual(['schedule.timeZone']);
      expect(fieldsOf(schedule('0 2 * * *', '+05:00'))).toEqual(['schedule.timeZone']);
      expect(canonicalTimeZone('utc')).toBe('UTC');
    });

    it('checks blackout dates, bounds and peak hours', () => {
      expect(
        fieldsOf(() =>
          resolveNewConnectionSettings(
            'oneroster',
            input({
              blackoutWindows: [
                { from: '2027-08-15', to: '2027-06-10' },
                { from: '2027-02-30', to: '2027-03-01' },
              ],
            }),
            production,
          ),
        ),
      ).toEqual(['blackoutWindows.0.to', 'blackoutWindows.1.from']);
      expect(
        fieldsOf(() =>
          resolveNewConnectionSettings(
            'oneroster',
            input({
              pageSize: 0,
              concurrency: 11,
              requestTimeoutMs: 999,
              deltaOverlapSeconds: -1,
              fullReconciliationDays: 1.5,
            }),
            production,
          ),
        ),
      ).toEqual(['pageSize', 'concurrency', 'requestTimeoutMs', 'deltaOverlapSeconds', 'fullReconciliationDays']);
      expect(
        fieldsOf(() =>
          resolveNewConnectionSettings(
            'oneroster',
            input({ concurrency: 2, peakHours: { start: '7:00', end: '16:00', concurrency: 3, timeZone: 'UTC' } }),
            production,
          ),
        ),
      ).toEqual(['peakHours.start', 'peakHours.concurrency']);
    });

    it('checks threshold entities, actions and bounds', () => {
      const thresholds = {
        students: { create: { maxCount: 1 } },
        people: { remove: { maxCount: 1 }, deactivate: { maxPercent: 120 }, update: { maxCount: -1, limit: 3 } },
        orgs: { reject: { maxPercent: -1 } },
      } as unknown as ConnectionSettingsInput['thresholds'];
      expect(fieldsOf(() => resolveNewConnectionSettings('oneroster', input({ thresholds }), production))).toEqual([
        'thresholds.students',
        'thresholds.people.remove',
        'thresholds.people.deactivate.maxPercent',
        'thresholds.people.update.maxCount',
        'thresholds.people.update.limit',
        'thresholds.orgs.reject.maxPercent',
      ]);
    });

    it('refuses ic-role-prefix with OneRoster 1.2 and duplicate school ids', () => {
      expect(
        fieldsOf(() =>
          resolveNewConnectionSettings(
            'oneroster',
            input({ personMergeRule: 'ic-role-prefix', schoolScope: ['a', 'a'] }),
            production,
          ),
        ),
      ).toEqual(['schoolScope.1', 'personMergeRule']);
    });

    it('never repeats the secret in an error', () => {
      const issues = issuesOf(() =>
        resolveNewConnectionSettings(
          'oneroster',
          input({ auth: { ...oauth2, clientSecret: ' padded-secret ' } }),
          production,
        ),
      );
      expect(issues.map((issue) => issue.field)).toEqual(['auth.clientSecret']);
      expect(JSON.stringify(issues)).not.toContain('padded-secret');
    });
  });

  describe('updates', () => {
    const created = resolveNewConnectionSettings(
      'oneroster',
      input({ version: '1.1', schedule: { cron: '0 2 * * *', timeZone: 'America/Chicago' } }),
      production,
    );
    const current = { settings: created.settings, hasSecret: true };

    it('keeps the stored secret when auth is resent without it', () => {
      const { secret, settings } = resolveRevisedConnectionSettings(
        'oneroster',
        current,
        { auth: { type: 'oauth2', tokenUrl: oauth2.tokenUrl, clientId: 'renamed' } },
        production,
      );
      expect(secret).toBeUndefined();
      expect(settings.auth).toEqual({ type: 'oauth2', tokenUrl: oauth2.tokenUrl, clientId: 'renamed' });
      expect(
        resolveRevisedConnectionSettings('oneroster', current, { pageSize: 50 }, production).secret,
      ).toBeUndefined();
    });

    it('replaces the secret when a new one is given, and needs one when the auth type changes', () => {
      expect(
        resolveRevisedConnectionSettings('oneroster', current, { auth: { ...oauth2, clientSecret: 'new' } }, production)
          .secret,
      ).toBe('new');
      expect(
        issuesOf(() =>
          resolveRevisedConnectionSettings(
            'oneroster',
            current,
            { auth: { type: 'oauth1', consumerKey: 'k' } },
            production,
          ),
        ),
      ).toEqual([
        {
          field: 'auth.consumerSecret',
          message: 'auth.consumerSecret is required when the authentication type changes',
        },
      ]);
    });

    it('moves settings still at the old preset default to the new preset, and keeps customised ones', () => {
      const customised = resolveRevisedConnectionSettings('oneroster', current, { pageSize: 250 }, production).settings;
      const { settings } = resolveRevisedConnectionSettings(
        'oneroster',
        { settings: customised, hasSecret: true },
        { vendor: 'infinite-campus' },
        production,
      );
      expect(settings).toMatchObject({
        vendor: 'infinite-campus',
        pageSize: 250,
        concurrency: 5,
        peakHours: { start: '07:00', end: '16:00', concurrency: 1, timeZone: 'America/Chicago' },
        personMergeRule: 'ic-role-prefix',
      });
      const upgraded = resolveRevisedConnectionSettings(
        'oneroster',
        { settings, hasSecret: true },
        { version: '1.2' },
        production,
      );
      expect(upgraded.settings.personMergeRule).toBe('none');
    });

    it('clears a schedule with null and rechecks every rule', () => {
      expect(
        resolveRevisedConnectionSettings('oneroster', current, { schedule: null }, production).settings.schedule,
      ).toBeNull();
      expect(
        fieldsOf(() => resolveRevisedConnectionSettings('oneroster', current, { baseUrl: null }, production)),
      ).toEqual(['baseUrl']);
    });
  });

  describe('PowerSchool', () => {
    const powerSchool = (overrides: ConnectionSettingsInput = {}): ConnectionSettingsInput => ({
      baseUrl: 'https://ps.district.test/',
      auth: { type: 'oauth2', clientId: 'plugin-client', clientSecret: 'plugin-secret' },
      ...overrides,
    });

    it('derives the token URL from the server, keeps the page size as a cap and has no OneRoster version', () => {
      const { settings, secret } = resolveNewConnectionSettings('powerschool', powerSchool(), production);
      expect(secret).toBe('plugin-secret');
      expect(settings).toMatchObject({
        version: null,
        vendor: 'generic',
        baseUrl: 'https://ps.district.test',
        auth: { type: 'oauth2', clientId: 'plugin-client', tokenUrl: 'https://ps.district.test/oauth/access_token' },
        pageSize: 1_000,
        personMergeRule: 'none',
        enrollmentPowerQuery: null,
      });
      const custom = resolveNewConnectionSettings(
        'powerschool',
        powerSchool({ pageSize: 500, enrollmentPowerQuery: ' com.district.sync.enrollments ' }),
        production,
      );
      expect(custom.settings).toMatchObject({ pageSize: 500, enrollmentPowerQuery: 'com.district.sync.enrollments' });
    });

    it('moves a derived token URL along with the base URL, and keeps the PowerQuery unless given', () => {
      const { settings } = resolveNewConnectionSettings(
        'powerschool',
        powerSchool({ enrollmentPowerQuery: 'com.district.q' }),
        production,
      );
      const moved = resolveRevisedConnectionSettings(
        'powerschool',
        { settings, hasSecret: true },
        { baseUrl: 'https://sis.district.test' },
        production,
      );
      expect(moved.settings.auth).toMatchObject({ tokenUrl: 'https://sis.district.test/oauth/access_token' });
      expect(moved.settings.enrollmentPowerQuery).toBe('com.district.q');
      expect(moved.secret).toBeUndefined();
      const cleared = resolveRevisedConnectionSettings(
        'powerschool',
        { settings, hasSecret: true },
        { enrollmentPowerQuery: null },
        production,
      );
      expect(cleared.settings.enrollmentPowerQuery).toBeNull();
    });

    it('refuses OneRoster-only settings, other auth types, a bad PowerQuery name and a missing server', () => {
      expect(
        fieldsOf(() => resolveNewConnectionSettings('powerschool', powerSchool({ version: '1.2' }), production)),
      ).toEqual(['version']);
      expect(
        fieldsOf(() => resolveNewConnectionSettings('powerschool', powerSchool({ vendor: 'skyward' }), production)),
      ).toContain('vendor');
      expect(
        fieldsOf(() =>
          resolveNewConnectionSettings(
            'powerschool',
            powerSchool({ auth: { type: 'oauth1', consumerKey: 'k', consumerSecret: 's' } }),
            production,
          ),
        ),
      ).toContain('auth.type');
      expect(
        fieldsOf(() =>
          resolveNewConnectionSettings('powerschool', powerSchool({ enrollmentPowerQuery: 'drop table;' }), production),
        ),
      ).toEqual(['enrollmentPowerQuery']);
      expect(
        fieldsOf(() => resolveNewConnectionSettings('powerschool', powerSchool({ baseUrl: null }), production)),
      ).toContain('baseUrl');
      expect(
        fieldsOf(() => resolveNewConnectionSettings('oneroster', input({ enrollmentPowerQuery: 'com.x' }), production)),
      ).toEqual(['enrollmentPowerQuery']);
    });
  });

  describe('the CSV upload connection', () => {
    it('has no endpoint, credentials or schedule, and may change its thresholds', () => {
      const settings = csvImportConnectionSettings();
      expect(() => assertValidConnectionSettings('oneroster-csv', settings, false, production)).not.toThrow();
      const revised = resolveRevisedConnectionSettings(
        'oneroster-csv',
        { settings, hasSecret: false },
        { thresholds: { enrollments: { deactivate: { maxPercent: 20 } } } },
        production,
      );
      expect(revised.settings.thresholds.enrollments).toEqual({ deactivate: { maxPercent: 20 } });
      expect(
        fieldsOf(() =>
          resolveRevisedConnectionSettings(
            'oneroster-csv',
            { settings, hasSecret: false },
            { baseUrl: 'https://x.test', schedule: { cron: '@daily', timeZone: 'UTC' } },
            production,
          ),
        ),
      ).toEqual(['baseUrl', 'schedule']);
    });
  });
});
