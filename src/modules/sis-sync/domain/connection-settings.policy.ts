import {
  EXTENSION_VOCABULARY_VALUES,
  isExtensionValue,
  ROSTER_ENTITIES,
  type ExtensionMappings,
  type ExtensionVocabulary,
} from '@app/contracts';
import { CronTime } from 'cron';
import {
  csvImportConnectionSettings,
  DEFAULT_THRESHOLDS,
  SETTING_LIMITS,
  vendorDefaults,
  type VendorDefaults,
} from './connection-defaults.js';
import {
  CREATABLE_PROVIDERS,
  CSV_IMPORT_CONNECTION_NAME,
  isSisProvider,
  normaliseConnectionName,
  ONEROSTER_VENDORS,
  ONEROSTER_VERSIONS,
  FIELD_POLICIES,
  LOCALLY_EDITABLE_FIELDS,
  PERSON_MERGE_RULES,
  POWERSCHOOL_TOKEN_PATH,
  type FieldPolicies,
  sameConnectionName,
  THRESHOLD_ACTIONS,
  type BlackoutWindow,
  type OneRosterVendor,
  type OneRosterVersion,
  type PeakHours,
  type PersonMergeRule,
  type SisAuthSettings,
  type SisConnectionSettings,
  type SisProvider,
  type SyncSchedule,
  type ThresholdSettings,
} from './sis-connection.js';
import { InvalidConnectionSettingsError, ProviderNotSupportedError, type SettingIssue } from './sis-sync.errors.js';

/** Authentication as an administrator sends it: the secret travels with it and is split off here. */
export interface SisAuthInput {
  type: string;
  tokenUrl?: string;
  clientId?: string;
  clientSecret?: string;
  /** `null` on an update removes a scope set before. */
  scope?: string | null;
  consumerKey?: string;
  consumerSecret?: string;
}

export interface PeakHoursInput {
  start: string;
  end: string;
  concurrency: number;
  timeZone?: string;
}

/** What a create or an update may say; anything left out comes from the vendor preset or the current value. */
export interface ConnectionSettingsInput {
  version?: OneRosterVersion | null;
  vendor?: OneRosterVendor;
  baseUrl?: string | null;
  auth?: SisAuthInput;
  pageSize?: number;
  concurrency?: number;
  peakHours?: PeakHoursInput | null;
  requestTimeoutMs?: number;
  schedule?: SyncSchedule | null;
  blackoutWindows?: BlackoutWindow[];
  schoolScope?: string[];
  thresholds?: ThresholdSettings;
  deltaOverlapSeconds?: number;
  fullReconciliationDays?: number;
  personMergeRule?: PersonMergeRule;
  fieldPolicies?: FieldPolicies;
  /** OneRoster 1.2 extension values → core values, per vocabulary; replaces the stored mappings whole. */
  extensionMappings?: ExtensionMappings;
  /** PowerSchool only; `null` on an update goes back to one request per section. */
  enrollmentPowerQuery?: string | null;
}

export interface ConnectionPolicyOptions {
  /** Plain `http://` SIS and token URLs: allowed outside production only. */
  allowHttp: boolean;
  /**
   * Why a URL's host may not be reached (loopback, link-local, private ranges under the address policy), judged
   * without DNS; undefined when it may. Names are checked again on their resolved addresses at connect time.
   */
  hostRefusal?: (hostname: string) => string | undefined;
}

/**
 * The settings to store and what to do with the stored secret: a string replaces it, `null` removes it,
 * `undefined` keeps it as it is.
 */
export interface ResolvedConnectionSettings {
  settings: SisConnectionSettings;
  secret: string | null | undefined;
}

export interface CurrentConnectionState {
  settings: SisConnectionSettings;
  hasSecret: boolean;
}

/** Every known provider can be created over the API (`oneroster-csv`: a feed of uploaded CSV packages). */
export function assertCreatableProvider(provider: string): asserts provider is SisProvider {
  if (!isSisProvider(provider) || !CREATABLE_PROVIDERS.includes(provider)) {
    throw new ProviderNotSupportedError(provider, `Unknown SIS provider "${provider.slice(0, 50)}"`);
  }
}

/** Trimmed, single-spaced, 1..100 characters. */
export function resolveConnectionName(name: string): string {
  const normalised = normaliseConnectionName(name);
  if (normalised.length === 0) {
    throw new InvalidConnectionSettingsError([{ field: 'name', message: 'name must not be empty' }]);
  }
  if (normalised.length > SETTING_LIMITS.name.maxLength) {
    throw new InvalidConnectionSettingsError([
      { field: 'name', message: `name must be at most ${SETTING_LIMITS.name.maxLength} characters` },
    ]);
  }
  return normalised;
}

/**
 * The name of the connection uploads without a `connectionId` land on belongs to it alone: no other connection
 * (of any provider, CSV feeds included) may be created with it or renamed to it.
 */
export function isReservedConnectionName(name: string): boolean {
  return sameConnectionName(name, CSV_IMPORT_CONNECTION_NAME);
}

/** A new connection: vendor preset defaults for everything not given; every rule checked. */
export function resolveNewConnectionSettings(
  provider: SisProvider,
  input: ConnectionSettingsInput,
  options: ConnectionPolicyOptions,
): ResolvedConnectionSettings {
  return resolve(provider, null, input, options);
}

/**
 * An update: given fields replace the current ones (objects such as `auth`, `schedule`, `thresholds` as a
 * whole). When the vendor or version changes, settings still at the old preset's default follow the new one.
 * `auth` may leave its secret out to keep the stored one, unless the authentication type changes.
 */
export function resolveRevisedConnectionSettings(
  provider: SisProvider,
  current: CurrentConnectionState,
  input: ConnectionSettingsInput,
  options: ConnectionPolicyOptions,
): ResolvedConnectionSettings {
  return resolve(provider, current, input, options);
}

/** Checks stored or hand-built settings (e.g. before the engine trusts them). Throws on the first problems. */
export function assertValidConnectionSettings(
  provider: SisProvider,
  settings: SisConnectionSettings,
  hasSecret: boolean,
  options: ConnectionPolicyOptions,
): void {
  const issues: SettingIssue[] = [];
  validate(provider, settings, hasSecret, options, issues);
  if (issues.length > 0) throw new InvalidConnectionSettingsError(issues);
}

/** Explicit thresholds plus the default `*` holds for any action they leave unsaid. */
export function withDefaultHolds(thresholds: ThresholdSettings): ThresholdSettings {
  const merged = structuredClone(thresholds);
  const defaults = DEFAULT_THRESHOLDS['*'] ?? {};
  const star = { ...(merged['*'] ?? {}) };
  for (const action of THRESHOLD_ACTIONS) {
    const rule = defaults[action];
    if (rule && star[action] === undefined) star[action] = { ...rule };
  }
  merged['*'] = star;
  return merged;
}

function resolve(
  provider: SisProvider,
  current: CurrentConnectionState | null,
  input: ConnectionSettingsInput,
  options: ConnectionPolicyOptions,
): ResolvedConnectionSettings {
  const issues: SettingIssue[] = [];
  const previous = current?.settings ?? (provider === 'oneroster-csv' ? csvImportConnectionSettings() : null);

  const vendor = input.vendor ?? previous?.vendor ?? 'generic';
  const version = input.version !== undefined ? input.version : (previous?.version ?? null);
  const newDefaults = vendorDefaults(vendor, version);
  const oldDefaults = previous ? vendorDefaults(previous.vendor, previous.version) : newDefaults;
  const presetChanged = previous !== null && (previous.vendor !== vendor || previous.version !== version);

  const pick = <F extends Exclude<keyof VendorDefaults, 'peakHours'>>(field: F): VendorDefaults[F] => {
    const given = input[field] as VendorDefaults[F] | undefined;
    if (given !== undefined) return given;
    if (!previous) return newDefaults[field];
    if (presetChanged && previous[field] === oldDefaults[field]) return newDefaults[field];
    return previous[field];
  };

  const schedule = input.schedule !== undefined ? normaliseSchedule(input.schedule) : (previous?.schedule ?? null);
  // A CSV feed makes no requests: no vendor preset gives it peak hours (validate refuses any given).
  const peakHours =
    provider === 'oneroster-csv'
      ? input.peakHours !== undefined
        ? input.peakHours && { ...input.peakHours, timeZone: input.peakHours.timeZone ?? 'UTC' }
        : null
      : resolvePeakHours(input, previous, oldDefaults, newDefaults, presetChanged, schedule, issues);
  const { auth, secret, hasSecret } = resolveAuth(provider, input.auth, current, issues);

  const settings: SisConnectionSettings = {
    version,
    vendor,
    baseUrl: input.baseUrl !== undefined ? normaliseBaseUrl(input.baseUrl) : (previous?.baseUrl ?? null),
    auth,
    pageSize: pick('pageSize'),
    concurrency: pick('concurrency'),
    peakHours,
    requestTimeoutMs: pick('requestTimeoutMs'),
    schedule,
    blackoutWindows:
      input.blackoutWindows !== undefined
        ? input.blackoutWindows.map(normaliseBlackoutWindow)
        : (previous?.blackoutWindows ?? []),
    schoolScope:
      input.schoolScope !== undefined ? input.schoolScope.map((id) => id.trim()) : (previous?.schoolScope ?? []),
    thresholds:
      input.thresholds !== undefined
        ? withDefaultHolds(input.thresholds)
        : (previous?.thresholds ?? structuredClone(DEFAULT_THRESHOLDS)),
    deltaOverlapSeconds: pick('deltaOverlapSeconds'),
    fullReconciliationDays: pick('fullReconciliationDays'),
    personMergeRule: pick('personMergeRule'),
    fieldPolicies: input.fieldPolicies !== undefined ? { ...input.fieldPolicies } : (previous?.fieldPolicies ?? {}),
    extensionMappings:
      input.extensionMappings !== undefined
        ? copyExtensionMappings(input.extensionMappings)
        : (previous?.extensionMappings ?? {}),
  };
  if (provider === 'powerschool') {
    resolvePowerSchool(settings, previous, input);
  } else if (input.enrollmentPowerQuery !== undefined && input.enrollmentPowerQuery !== null) {
    issues.push({
      field: 'enrollmentPowerQuery',
      message: 'enrollmentPowerQuery applies to PowerSchool connections only',
    });
  }

  validate(provider, settings, hasSecret, options, issues);
  if (issues.length > 0) throw new InvalidConnectionSettingsError(dedupe(issues));
  return { settings, secret };
}

/**
 * PowerSchool's token endpoint is always `{baseUrl}/oauth/access_token`: filled in when left out, and moved along
 * with the base URL while it is still the derived one. The enrolment PowerQuery is kept unless given.
 */
function resolvePowerSchool(
  settings: SisConnectionSettings,
  previous: SisConnectionSettings | null,
  input: ConnectionSettingsInput,
): void {
  const derived = (baseUrl: string | null): string => (baseUrl === null ? '' : `${baseUrl}${POWERSCHOOL_TOKEN_PATH}`);
  if (settings.auth.type === 'oauth2') {
    const stale =
      previous !== null && previous.auth.type === 'oauth2' && settings.auth.tokenUrl === previous.auth.tokenUrl
        ? previous.auth.tokenUrl === derived(previous.baseUrl)
        : false;
    if (settings.auth.tokenUrl === '' || stale) {
      settings.auth = { ...settings.auth, tokenUrl: derived(settings.baseUrl) };
    }
  }
  const query = input.enrollmentPowerQuery !== undefined ? input.enrollmentPowerQuery : previous?.enrollmentPowerQuery;
  settings.enrollmentPowerQuery = query === undefined || query === null || query.trim() === '' ? null : query.trim();
}

function resolvePeakHours(
  input: ConnectionSettingsInput,
  previous: SisConnectionSettings | null,
  oldDefaults: VendorDefaults,
  newDefaults: VendorDefaults,
  presetChanged: boolean,
  schedule: SyncSchedule | null,
  issues: SettingIssue[],
): PeakHours | null {
  let chosen: PeakHoursInput | PeakHours | null;
  let explicitZone: string | undefined;
  if (input.peakHours !== undefined) {
    chosen = input.peakHours;
    explicitZone = input.peakHours?.timeZone;
  } else if (!previous) {
    chosen = newDefaults.peakHours;
  } else if (presetChanged && samePeakHours(previous.peakHours, oldDefaults.peakHours)) {
    chosen = newDefaults.peakHours;
    explicitZone = previous.peakHours?.timeZone;
  } else {
    chosen = previous.peakHours;
    explicitZone = previous.peakHours?.timeZone;
  }
  if (!chosen) return null;
  const zone = explicitZone ?? schedule?.timeZone;
  if (!zone) {
    issues.push({
      field: 'peakHours.timeZone',
      message: `requests are limited during peak hours (${chosen.start}–${chosen.end} local time): give peakHours.timeZone or a schedule with a time zone`,
    });
  }
  return { start: chosen.start, end: chosen.end, concurrency: chosen.concurrency, timeZone: zone ?? 'UTC' };
}

function samePeakHours(a: PeakHours | null, b: Omit<PeakHours, 'timeZone'> | null): boolean {
  if (!a || !b) return a === b;
  return a.start === b.start && a.end === b.end && a.concurrency === b.concurrency;
}

const AUTH_FIELDS = {
  oauth2: ['tokenUrl', 'clientId', 'clientSecret', 'scope'],
  oauth1: ['consumerKey', 'consumerSecret'],
  none: [],
} as const satisfies Record<SisAuthSettings['type'], readonly (keyof SisAuthInput)[]>;
const ALL_AUTH_FIELDS: readonly (keyof SisAuthInput)[] = [...AUTH_FIELDS.oauth2, ...AUTH_FIELDS.oauth1];

function resolveAuth(
  provider: SisProvider,
  input: SisAuthInput | undefined,
  current: CurrentConnectionState | null,
  issues: SettingIssue[],
): { auth: SisAuthSettings; secret: string | null | undefined; hasSecret: boolean } {
  if (input === undefined) {
    if (current) return { auth: current.settings.auth, secret: undefined, hasSecret: current.hasSecret };
    if (provider === 'oneroster-csv') return { auth: { type: 'none' }, secret: null, hasSecret: false };
    issues.push({ field: 'auth', message: 'auth is required' });
    return { auth: { type: 'none' }, secret: null, hasSecret: false };
  }

  const type = input.type;
  if (type !== 'oauth2' && type !== 'oauth1' && type !== 'none') {
    issues.push({ field: 'auth.type', message: 'auth.type must be one of: oauth2, oauth1, none' });
    return { auth: { type: 'none' }, secret: null, hasSecret: false };
  }
  const allowed: readonly string[] = AUTH_FIELDS[type];
  for (const field of ALL_AUTH_FIELDS) {
    if (input[field] !== undefined && input[field] !== null && !allowed.includes(field)) {
      issues.push({ field: `auth.${field}`, message: `auth.${field} is not used with ${type} authentication` });
    }
  }

  const secretField = type === 'oauth2' ? 'clientSecret' : type === 'oauth1' ? 'consumerSecret' : null;
  if (secretField === null) return { auth: { type: 'none' }, secret: null, hasSecret: false };

  const given = input[secretField];
  let secret: string | undefined;
  let hasSecret: boolean;
  if (given !== undefined) {
    if (given.length === 0 || given.trim() !== given) {
      issues.push({
        field: `auth.${secretField}`,
        message: `auth.${secretField} must not be empty or start or end with spaces`,
      });
    } else if (given.length > SETTING_LIMITS.credential.maxLength) {
      issues.push({
        field: `auth.${secretField}`,
        message: `auth.${secretField} must be at most ${SETTING_LIMITS.credential.maxLength} characters`,
      });
    }
    secret = given;
    hasSecret = true;
  } else if (current && current.settings.auth.type === type && current.hasSecret) {
    secret = undefined;
    hasSecret = true;
  } else {
    issues.push({
      field: `auth.${secretField}`,
      message: current
        ? `auth.${secretField} is required when the authentication type changes`
        : `auth.${secretField} is required`,
    });
    secret = undefined;
    hasSecret = false;
  }

  if (type === 'oauth2') {
    const scope = input.scope?.trim();
    return {
      auth: {
        type,
        tokenUrl: input.tokenUrl?.trim() ?? '',
        clientId: input.clientId?.trim() ?? '',
        ...(scope ? { scope } : {}),
      },
      secret,
      hasSecret,
    };
  }
  return { auth: { type, consumerKey: input.consumerKey?.trim() ?? '' }, secret, hasSecret };
}

function validate(
  provider: SisProvider,
  settings: SisConnectionSettings,
  hasSecret: boolean,
  options: ConnectionPolicyOptions,
  issues: SettingIssue[],
): void {
  const issue = (field: string, message: string): void => {
    issues.push({ field, message });
  };
  const missingSecret = (field: string): void => {
    if (!issues.some((existing) => existing.field === field)) issue(field, `${field} is required`);
  };

  if (settings.version !== null && !ONEROSTER_VERSIONS.includes(settings.version)) {
    issue('version', `version must be one of: ${ONEROSTER_VERSIONS.join(', ')}`);
  }
  if (!ONEROSTER_VENDORS.includes(settings.vendor)) {
    issue('vendor', `vendor must be one of: ${ONEROSTER_VENDORS.join(', ')}`);
  }

  switch (provider) {
    case 'oneroster':
      if (settings.version === null) issue('version', 'version is required for a OneRoster connection (1.1 or 1.2)');
      if (settings.baseUrl === null) issue('baseUrl', 'baseUrl is required for a OneRoster connection');
      if (settings.auth.type === 'none' && !issues.some((existing) => existing.field.startsWith('auth'))) {
        issue('auth', 'a OneRoster connection needs oauth2 or oauth1 credentials');
      }
      break;
    case 'powerschool':
      if (settings.version !== null) issue('version', 'version applies to OneRoster connections only');
      if (settings.vendor !== 'generic') issue('vendor', 'vendor applies to OneRoster connections only');
      if (settings.baseUrl === null) issue('baseUrl', 'baseUrl is required for a PowerSchool connection');
      if (settings.auth.type !== 'oauth2') issue('auth.type', 'PowerSchool connections use oauth2 (a client ID)');
      if (
        settings.enrollmentPowerQuery !== undefined &&
        settings.enrollmentPowerQuery !== null &&
        !POWERQUERY_NAME.test(settings.enrollmentPowerQuery)
      ) {
        issue(
          'enrollmentPowerQuery',
          'enrollmentPowerQuery must be a PowerQuery name such as com.district.sync.enrollments',
        );
      }
      break;
    case 'oneroster-csv':
      if (settings.baseUrl !== null) {
        issue('baseUrl', `baseUrl is not used by a oneroster-csv connection: ${CSV_FEED}`);
      }
      if (settings.auth.type !== 'none') {
        issue('auth.type', `auth is not used by a oneroster-csv connection (no SIS is called): ${CSV_FEED}`);
      }
      if (settings.schedule !== null) {
        issue('schedule', `a oneroster-csv connection cannot be scheduled, each run is an upload: ${CSV_FEED}`);
      }
      if (settings.peakHours !== null) {
        issue('peakHours', 'peakHours is not used by a oneroster-csv connection (no SIS is called)');
      }
      break;
  }

  if (settings.baseUrl !== null) checkUrl('baseUrl', settings.baseUrl, options, issues);
  const auth = settings.auth;
  switch (auth.type) {
    case 'oauth2':
      checkUrl('auth.tokenUrl', auth.tokenUrl, options, issues);
      checkCredential('auth.clientId', auth.clientId, issues);
      if (auth.scope !== undefined && auth.scope.length > SETTING_LIMITS.scope.maxLength) {
        issue('auth.scope', `auth.scope must be at most ${SETTING_LIMITS.scope.maxLength} characters`);
      }
      if (!hasSecret) missingSecret('auth.clientSecret');
      break;
    case 'oauth1':
      checkCredential('auth.consumerKey', auth.consumerKey, issues);
      if (!hasSecret) missingSecret('auth.consumerSecret');
      if (settings.version !== '1.1') {
        issue('auth.type', 'OAuth 1.0a is only defined for OneRoster 1.1; OneRoster 1.2 uses oauth2');
      }
      if (settings.vendor === 'infinite-campus') {
        issue('auth.type', 'Infinite Campus ended OAuth 1.0a support in 2023; use oauth2');
      }
      break;
    case 'none':
      break;
  }

  checkInteger('pageSize', settings.pageSize, SETTING_LIMITS.pageSize, issues);
  checkInteger('concurrency', settings.concurrency, SETTING_LIMITS.concurrency, issues);
  checkInteger('requestTimeoutMs', settings.requestTimeoutMs, SETTING_LIMITS.requestTimeoutMs, issues);
  checkInteger('deltaOverlapSeconds', settings.deltaOverlapSeconds, SETTING_LIMITS.deltaOverlapSeconds, issues);
  checkInteger(
    'fullReconciliationDays',
    settings.fullReconciliationDays,
    SETTING_LIMITS.fullReconciliationDays,
    issues,
  );

  if (settings.peakHours) {
    const peak = settings.peakHours;
    if (!isClockTime(peak.start)) issue('peakHours.start', 'peakHours.start must be a time HH:MM (24-hour clock)');
    if (!isClockTime(peak.end)) issue('peakHours.end', 'peakHours.end must be a time HH:MM (24-hour clock)');
    if (peak.start === peak.end) issue('peakHours.end', 'peakHours.end must differ from peakHours.start');
    checkInteger('peakHours.concurrency', peak.concurrency, SETTING_LIMITS.concurrency, issues);
    if (Number.isInteger(peak.concurrency) && peak.concurrency > settings.concurrency) {
      issue('peakHours.concurrency', 'peakHours.concurrency must not exceed concurrency');
    }
    if (peak.timeZone !== undefined && canonicalTimeZone(peak.timeZone) === null) {
      issue('peakHours.timeZone', 'peakHours.timeZone must be an IANA time zone such as America/Chicago');
    }
  }

  if (settings.schedule) checkSchedule(settings.schedule, issues);

  if (settings.blackoutWindows.length > SETTING_LIMITS.blackoutWindows.maxItems) {
    issue('blackoutWindows', `at most ${SETTING_LIMITS.blackoutWindows.maxItems} blackout windows`);
  }
  settings.blackoutWindows.forEach((window, index) => {
    const at = `blackoutWindows.${index}`;
    const fromOk = isCalendarDate(window.from);
    const toOk = isCalendarDate(window.to);
    if (!fromOk) issue(`${at}.from`, `${at}.from must be a calendar date YYYY-MM-DD`);
    if (!toOk) issue(`${at}.to`, `${at}.to must be a calendar date YYYY-MM-DD`);
    if (fromOk && toOk && window.from > window.to) issue(`${at}.to`, `${at}.to must not be before ${at}.from`);
    if (window.reason !== undefined && window.reason.length > SETTING_LIMITS.blackoutWindows.reasonMaxLength) {
      issue(
        `${at}.reason`,
        `${at}.reason must be at most ${SETTING_LIMITS.blackoutWindows.reasonMaxLength} characters`,
      );
    }
  });

  if (settings.schoolScope.length > SETTING_LIMITS.schoolScope.maxItems) {
    issue('schoolScope', `schoolScope may list at most ${SETTING_LIMITS.schoolScope.maxItems} schools`);
  }
  const seen = new Set<string>();
  settings.schoolScope.forEach((id, index) => {
    if (id.length === 0 || id.length > SETTING_LIMITS.schoolScope.maxLength) {
      issue(
        `schoolScope.${index}`,
        `schoolScope entries must be 1 to ${SETTING_LIMITS.schoolScope.maxLength} characters`,
      );
    } else if (seen.has(id)) {
      issue(`schoolScope.${index}`, `schoolScope lists "${id.slice(0, 50)}" twice`);
    }
    seen.add(id);
  });

  checkThresholds(settings.thresholds, issues);

  for (const [field, policy] of Object.entries(settings.fieldPolicies ?? {})) {
    if (!(LOCALLY_EDITABLE_FIELDS as readonly string[]).includes(field)) {
      issue(`fieldPolicies.${field}`, `Only these fields can be edited locally: ${LOCALLY_EDITABLE_FIELDS.join(', ')}`);
    } else if (!(FIELD_POLICIES as readonly string[]).includes(policy)) {
      issue(`fieldPolicies.${field}`, `A field policy is one of: ${FIELD_POLICIES.join(', ')}`);
    }
  }
  checkExtensionMappings(provider, settings, issues);
  if (!PERSON_MERGE_RULES.includes(settings.personMergeRule)) {
    issue('personMergeRule', `personMergeRule must be one of: ${PERSON_MERGE_RULES.join(', ')}`);
  } else if (settings.personMergeRule === 'ic-role-prefix' && settings.version !== '1.1') {
    issue('personMergeRule', 'ic-role-prefix applies to OneRoster 1.1 only (1.2 emits one user per person)');
  }
}

/** How data reaches a CSV connection, for its refusals. */
const CSV_FEED = 'its data arrives as uploaded OneRoster CSV packages (POST /api/v1/sis/imports with its connectionId)';

/** At most this many mapped extension values per vocabulary. */
const MAX_EXTENSION_MAPPINGS = 200;

/** Plain objects of plain objects, whatever shape (class instance, nulls) the request gave; checked by `validate`. */
function copyExtensionMappings(input: ExtensionMappings): ExtensionMappings {
  const copy: Record<string, Record<string, string>> = {};
  if (typeof input !== 'object' || input === null) return input;
  for (const [vocabulary, mapping] of Object.entries(input as Record<string, unknown>)) {
    if (mapping === undefined) continue;
    copy[vocabulary] =
      typeof mapping === 'object' && mapping !== null && !Array.isArray(mapping)
        ? { ...(mapping as Record<string, string>) }
        : (mapping as Record<string, string>);
  }
  return copy;
}

/**
 * Extension mappings: known vocabularies only, keys that are OneRoster 1.2 extension values, values that are core
 * values of the vocabulary. OneRoster connections only, and not 1.1 (which has no extension values).
 */
function checkExtensionMappings(provider: SisProvider, settings: SisConnectionSettings, issues: SettingIssue[]): void {
  const mappings = settings.extensionMappings ?? {};
  if (typeof mappings !== 'object' || mappings === null || Array.isArray(mappings)) {
    issues.push({ field: 'extensionMappings', message: 'extensionMappings must be an object of vocabularies' });
    return;
  }
  const vocabularies = Object.keys(EXTENSION_VOCABULARY_VALUES) as ExtensionVocabulary[];
  let mapped = 0;
  for (const [vocabulary, mapping] of Object.entries(mappings as Record<string, unknown>)) {
    const at = `extensionMappings.${vocabulary}`;
    if (!(vocabularies as string[]).includes(vocabulary)) {
      issues.push({ field: at, message: `extensionMappings vocabularies are: ${vocabularies.join(', ')}` });
      continue;
    }
    if (typeof mapping !== 'object' || mapping === null || Array.isArray(mapping)) {
      issues.push({ field: at, message: `${at} must be an object of extension value → core value` });
      continue;
    }
    const entries = Object.entries(mapping as Record<string, unknown>);
    if (entries.length > MAX_EXTENSION_MAPPINGS) {
      issues.push({ field: at, message: `${at} may map at most ${MAX_EXTENSION_MAPPINGS} extension values` });
      continue;
    }
    const core = EXTENSION_VOCABULARY_VALUES[vocabulary as ExtensionVocabulary];
    for (const [key, value] of entries) {
      mapped += 1;
      if (!isExtensionValue(key)) {
        issues.push({
          field: at,
          message: `${at} keys must be OneRoster extension values: ext: followed by letters, digits, ".", "-" or "_" (got "${key.slice(0, 50)}")`,
        });
      } else if (typeof value !== 'string' || !core.includes(value)) {
        issues.push({ field: `${at}.${key}`, message: `${at}.${key} must be one of ${core.join(', ')}` });
      }
    }
  }
  if (mapped === 0) return;
  if (provider === 'powerschool') {
    issues.push({ field: 'extensionMappings', message: 'extensionMappings apply to OneRoster connections only' });
  } else if (settings.version === '1.1') {
    issues.push({
      field: 'extensionMappings',
      message: 'extensionMappings apply to OneRoster 1.2 only (OneRoster 1.1 has no extension values)',
    });
  }
}

/** A named PowerQuery as plugins declare them (`com.pearson.core.teachers.sectionEnrollments`). */
const POWERQUERY_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}$/;

function checkUrl(field: string, value: string, options: ConnectionPolicyOptions, issues: SettingIssue[]): void {
  if (value.length === 0) {
    issues.push({ field, message: `${field} is required` });
    return;
  }
  if (value.length > SETTING_LIMITS.url.maxLength) {
    issues.push({ field, message: `${field} must be at most ${SETTING_LIMITS.url.maxLength} characters` });
    return;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    issues.push({ field, message: `${field} must be an absolute URL` });
    return;
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && options.allowHttp)) {
    issues.push({
      field,
      message: options.allowHttp ? `${field} must use https or http` : `${field} must use https in production`,
    });
  }
  if (url.username || url.password) {
    issues.push({ field, message: `${field} must not carry credentials; use auth instead` });
  }
  const refusal = options.hostRefusal?.(url.hostname);
  if (refusal !== undefined) {
    issues.push({
      field,
      message: `${field} must not point at an internal address (${refusal}); see SIS_ALLOWED_HOSTS`,
    });
  }
  if (url.hash) issues.push({ field, message: `${field} must not have a #fragment` });
}

function checkCredential(field: string, value: string, issues: SettingIssue[]): void {
  if (value.length === 0) issues.push({ field, message: `${field} is required` });
  else if (value.length > SETTING_LIMITS.credential.maxLength) {
    issues.push({ field, message: `${field} must be at most ${SETTING_LIMITS.credential.maxLength} characters` });
  }
}

function checkInteger(field: string, value: number, range: { min: number; max: number }, issues: SettingIssue[]): void {
  if (!Number.isInteger(value) || value < range.min || value > range.max) {
    issues.push({ field, message: `${field} must be a whole number from ${range.min} to ${range.max}` });
  }
}

const CRON_MACROS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

function checkSchedule(schedule: SyncSchedule, issues: SettingIssue[]): void {
  const zone = canonicalTimeZone(schedule.timeZone);
  if (zone === null) {
    issues.push({
      field: 'schedule.timeZone',
      message: 'schedule.timeZone must be an IANA time zone such as America/Chicago',
    });
  }
  const cron = schedule.cron;
  const isMacro = cron.startsWith('@');
  if (cron.length === 0 || cron.length > SETTING_LIMITS.cron.maxLength) {
    issues.push({
      field: 'schedule.cron',
      message: `schedule.cron must be 1 to ${SETTING_LIMITS.cron.maxLength} characters`,
    });
    return;
  }
  if (isMacro ? !CRON_MACROS.has(cron) : cron.split(' ').length !== 5) {
    issues.push({
      field: 'schedule.cron',
      message:
        'schedule.cron must have five fields (minute hour day-of-month month day-of-week) or be one of ' +
        [...CRON_MACROS].join(', '),
    });
    return;
  }
  try {
    new CronTime(isMacro ? macroExpression(cron) : cron, zone ?? 'UTC');
  } catch (error) {
    const reason = error instanceof Error ? error.message : 'not a valid cron expression';
    issues.push({ field: 'schedule.cron', message: `schedule.cron is not valid: ${reason.slice(0, 200)}` });
  }
}

/** The `cron` package knows most macros; `@annually` and `@midnight` are spelled out for it. */
function macroExpression(macro: string): string {
  if (macro === '@annually') return '@yearly';
  if (macro === '@midnight') return '@daily';
  return macro;
}

function checkThresholds(thresholds: ThresholdSettings, issues: SettingIssue[]): void {
  const keys: readonly string[] = [...ROSTER_ENTITIES, '*'];
  for (const [entity, actions] of Object.entries(thresholds as Record<string, unknown>)) {
    const at = `thresholds.${entity}`;
    if (!keys.includes(entity)) {
      issues.push({ field: at, message: `${at} is not a roster entity (use one of: ${keys.join(', ')})` });
      continue;
    }
    if (!isPlainObject(actions)) {
      issues.push({ field: at, message: `${at} must be an object keyed by create, update, deactivate, reject` });
      continue;
    }
    for (const [action, rule] of Object.entries(actions)) {
      const ruleAt = `${at}.${action}`;
      if (!(THRESHOLD_ACTIONS as readonly string[]).includes(action)) {
        issues.push({
          field: ruleAt,
          message: `${ruleAt} is not an action (use create, update, deactivate or reject)`,
        });
        continue;
      }
      if (!isPlainObject(rule)) {
        issues.push({ field: ruleAt, message: `${ruleAt} must be an object with maxCount and/or maxPercent` });
        continue;
      }
      for (const [bound, value] of Object.entries(rule)) {
        const boundAt = `${ruleAt}.${bound}`;
        if (bound === 'maxCount') {
          if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
            issues.push({ field: boundAt, message: `${boundAt} must be a whole number of 0 or more` });
          }
        } else if (bound === 'maxPercent') {
          const { min, max } = SETTING_LIMITS.maxPercent;
          if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
            issues.push({ field: boundAt, message: `${boundAt} must be a number from ${min} to ${max}` });
          }
        } else {
          issues.push({ field: boundAt, message: `${boundAt} is not a threshold bound (use maxCount, maxPercent)` });
        }
      }
    }
  }
}

/** The canonical IANA name (`US/Central` → `America/Chicago`), or null when the zone is unknown. */
export function canonicalTimeZone(zone: string): string | null {
  if (zone.length === 0 || zone.length > SETTING_LIMITS.timeZone.maxLength) return null;
  // Intl also accepts UTC offsets such as "+05:00" on newer engines; a schedule needs a real zone (DST).
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(zone)) return null;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

function normaliseSchedule(schedule: SyncSchedule | null): SyncSchedule | null {
  if (schedule === null) return null;
  const cron = schedule.cron.trim().replace(/\s+/g, ' ');
  const timeZone = canonicalTimeZone(schedule.timeZone.trim()) ?? schedule.timeZone;
  return { cron: cron.startsWith('@') ? cron.toLowerCase() : cron, timeZone };
}

function normaliseBaseUrl(url: string | null): string | null {
  if (url === null) return null;
  const trimmed = url.trim();
  // `https://sis.example/ims/oneroster/v1p1/` and without the slash are the same service.
  return trimmed.replace(/(?<=[^/])\/+$/, '');
}

function normaliseBlackoutWindow(window: BlackoutWindow): BlackoutWindow {
  const reason = window.reason?.trim();
  return { from: window.from, to: window.to, ...(reason ? { reason } : {}) };
}

function isClockTime(value: string): boolean {
  return /^([01]\d|2[0-3]):[0-5]\d$/.test(value);
}

function isCalendarDate(value: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function dedupe(issues: SettingIssue[]): SettingIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = `${issue.field}\u0000${issue.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
