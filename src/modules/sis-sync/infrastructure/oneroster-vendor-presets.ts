import type { OneRosterVendor, SisAuthSettings, SisConnectionSettings } from '../domain/sis-connection.js';

type Version = '1.1' | '1.2';
type PersonMergeRule = SisConnectionSettings['personMergeRule'];

/** What is known about a vendor's OneRoster service (research notes, sis-apis.md §2–3), as data. */
export interface OneRosterVendorPreset {
  vendor: OneRosterVendor;
  label: string;
  versions: readonly Version[];
  /** The rostering base path under the server URL, per version. */
  basePaths: Readonly<Partial<Record<Version, string>>>;
  /** The token endpoint under the server URL when the vendor fixes one; `{appName}` is the connection's app name. */
  tokenPath: string | null;
  authTypes: readonly SisAuthSettings['type'][];
  pageSize: number;
  concurrency: number;
  /** School hours during which the vendor asks for fewer concurrent requests, local time. */
  peakHours: SisConnectionSettings['peakHours'];
  requestTimeoutMs: number;
  /** A nightly differential schedule, when the vendor recommends one. */
  nightlyCron: string | null;
  fullReconciliationDays: number;
  personMergeRule: Readonly<Record<Version, PersonMergeRule>>;
  notes: readonly string[];
}

export const ONEROSTER_VENDOR_PRESETS: Readonly<Record<OneRosterVendor, OneRosterVendorPreset>> = {
  'infinite-campus': {
    vendor: 'infinite-campus',
    label: 'Infinite Campus',
    versions: ['1.2', '1.1'],
    basePaths: {
      '1.2': '/campus/api/ims/oneroster/rostering/v1p2',
      '1.1': '/campus/api/ims/oneroster/rostering/v1p1',
    },
    tokenPath: '/campus/oauth2/token?appName={appName}',
    authTypes: ['oauth2'],
    pageSize: 1_000,
    concurrency: 5,
    peakHours: { start: '06:00', end: '18:00', concurrency: 1 },
    requestTimeoutMs: 60_000,
    nightlyCron: '0 2 * * *',
    fullReconciliationDays: 7,
    personMergeRule: { '1.1': 'ic-role-prefix', '1.2': 'none' },
    notes: [
      'Consumer guidelines: full sync weekly, differential nightly on dateLastModified, off-peak; no concurrent requests in peak hours, at most 5 off-peak.',
      'OAuth 1.0a ended June 30 2023: connections use OAuth 2.0 client credentials (Basic client auth, grant_type=client_credentials).',
      'Client ID, secret, base URL and token URL come from Digital Learning Applications Configuration; a 404 on the base path may mean the OneRoster module is not licensed.',
      'Demographics need the roster-demographics scope: 403 when the district did not grant it.',
      'Everything is scoped to the active school year; undated links drop out of the feed without a tobedeleted row.',
      '1.1 emits one user per role with role-prefixed sourcedIds; 1.2 emits one user with roles[] and new ids (metadata.ic.legacysourceId holds the old id): moving 1.1 to 1.2 is an id remap, not delete-and-create.',
    ],
  },
  skyward: {
    vendor: 'skyward',
    label: 'Skyward (SMS 2.0 API Server)',
    versions: ['1.1'],
    basePaths: { '1.1': '/ims/oneroster/v1p1' },
    tokenPath: null,
    authTypes: ['oauth2'],
    pageSize: 500,
    concurrency: 2,
    peakHours: null,
    requestTimeoutMs: 60_000,
    nightlyCron: null,
    fullReconciliationDays: 7,
    personMergeRule: { '1.1': 'none', '1.2': 'none' },
    notes: [
      'Needs the district’s Skyward API Server; the server URL is in District Setup → Configuration → API Configuration (e.g. https://{dns}/api).',
      'Key and secret are generated for an Organization Secured User; the token URL is supplied separately.',
      'OAuth 2.0 client credentials; tokens are refreshed when they expire, mid-listing included.',
      'Reported quirks (unverified): district-prefixed sourcedIds, limited filter support: check delta filters per instance.',
    ],
  },
  generic: {
    vendor: 'generic',
    label: 'OneRoster (other provider)',
    versions: ['1.2', '1.1'],
    basePaths: { '1.2': '/ims/oneroster/rostering/v1p2', '1.1': '/ims/oneroster/v1p1' },
    tokenPath: null,
    authTypes: ['oauth2', 'oauth1', 'none'],
    pageSize: 500,
    concurrency: 2,
    peakHours: null,
    requestTimeoutMs: 30_000,
    nightlyCron: null,
    fullReconciliationDays: 7,
    personMergeRule: { '1.1': 'none', '1.2': 'none' },
    notes: [
      '1.2 accepts only OAuth 2.0 client credentials; 1.1 providers may still require OAuth 1.0a (HMAC-SHA1).',
      'The token URL is provider-specific and cannot be derived from the base URL.',
    ],
  },
};

export interface OneRosterConnectionDefaultsInput {
  vendor: OneRosterVendor;
  version: Version;
  /** The SIS server: Infinite Campus `https://district.infinitecampus.org`, Skyward the API server URL. */
  serverUrl?: string;
  /** Infinite Campus: the app name of the Digital Learning Applications connection (part of the token URL). */
  appName?: string;
  clientId?: string;
  /** IANA zone for the schedule and peak hours; UTC when unknown. */
  timeZone?: string;
}

export type OneRosterConnectionDefaults = Pick<
  SisConnectionSettings,
  | 'version'
  | 'vendor'
  | 'baseUrl'
  | 'auth'
  | 'pageSize'
  | 'concurrency'
  | 'peakHours'
  | 'requestTimeoutMs'
  | 'schedule'
  | 'fullReconciliationDays'
  | 'personMergeRule'
>;

/**
 * The settings a new OneRoster connection starts with for a vendor and version. URLs are filled when the server URL
 * (and, for Infinite Campus, the app name) is given; otherwise they are left for the district to enter.
 */
export function oneRosterConnectionDefaults(input: OneRosterConnectionDefaultsInput): OneRosterConnectionDefaults {
  const preset = ONEROSTER_VENDOR_PRESETS[input.vendor];
  const basePath = preset.basePaths[input.version];
  if (basePath === undefined) {
    throw new RangeError(
      `${preset.label} does not serve OneRoster ${input.version} (${preset.versions.join(', ')} only)`,
    );
  }
  const server = input.serverUrl ? serverRoot(input.serverUrl, basePath) : null;
  let tokenUrl = '';
  if (server && preset.tokenPath && (input.appName || !preset.tokenPath.includes('{appName}'))) {
    tokenUrl = server + preset.tokenPath.replace('{appName}', encodeURIComponent(input.appName ?? ''));
  }
  return {
    version: input.version,
    vendor: input.vendor,
    baseUrl: server ? server + basePath : null,
    auth: { type: 'oauth2', tokenUrl, clientId: input.clientId ?? '' },
    pageSize: preset.pageSize,
    concurrency: preset.concurrency,
    peakHours: preset.peakHours ? { ...preset.peakHours } : null,
    requestTimeoutMs: preset.requestTimeoutMs,
    schedule: preset.nightlyCron ? { cron: preset.nightlyCron, timeZone: input.timeZone ?? 'UTC' } : null,
    fullReconciliationDays: preset.fullReconciliationDays,
    personMergeRule: preset.personMergeRule[input.version],
  };
}

/** The server URL without a trailing slash, tolerating a pasted base URL or Infinite Campus's `/campus` suffix. */
function serverRoot(serverUrl: string, basePath: string): string {
  let root = serverUrl.trim().replace(/\/+$/, '');
  if (root.endsWith(basePath)) root = root.slice(0, -basePath.length);
  if (basePath.startsWith('/campus/') && root.endsWith('/campus')) root = root.slice(0, -'/campus'.length);
  return root;
}
