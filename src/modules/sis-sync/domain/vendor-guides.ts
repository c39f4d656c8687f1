import { vendorDefaults } from './connection-defaults.js';
import type { OneRosterVendor, OneRosterVersion, SisAuthSettings } from './sis-connection.js';

/**
 * What district IT needs to fill in a connection for each vendor (sis-apis.md §2–3): where the OneRoster
 * service lives under the server URL, the token endpoint, which auth the vendor accepts, and its rules.
 * The numeric defaults a new connection gets come from `vendorDefaults`, the single source for them.
 */
export interface VendorGuide {
  vendor: OneRosterVendor;
  label: string;
  versions: readonly OneRosterVersion[];
  /** The rostering base path under the server URL, per version. */
  basePaths: Readonly<Partial<Record<OneRosterVersion, string>>>;
  /** Token endpoint under the server URL when the vendor fixes one; `{appName}` is the district's app name. */
  tokenPath: string | null;
  authTypes: readonly Exclude<SisAuthSettings['type'], 'none'>[];
  notes: readonly string[];
}

export const VENDOR_GUIDES: readonly VendorGuide[] = [
  {
    vendor: 'infinite-campus',
    label: 'Infinite Campus',
    versions: ['1.2', '1.1'],
    basePaths: {
      '1.2': '/campus/api/ims/oneroster/rostering/v1p2',
      '1.1': '/campus/api/ims/oneroster/rostering/v1p1',
    },
    tokenPath: '/campus/oauth2/token?appName={appName}',
    authTypes: ['oauth2'],
    notes: [
      'Consumer guidelines: full sync weekly, differential nightly on dateLastModified, off-peak; no concurrent requests in peak hours, at most 5 off-peak.',
      'OAuth 1.0a ended June 30 2023: connections use OAuth 2.0 client credentials.',
      'Client ID, secret, base URL and token URL come from Digital Learning Applications Configuration; a 404 on the base path may mean the OneRoster module is not licensed.',
      'Demographics need the roster-demographics scope: 403 when the district did not grant it.',
      'Everything is scoped to the active school year; undated links drop out of the feed without a tobedeleted row.',
      '1.1 emits one user per role with role-prefixed sourcedIds; 1.2 emits one user with roles[] and new ids (metadata.ic.legacysourceId holds the old id): moving from 1.1 to 1.2 is held for review as an id remap.',
    ],
  },
  {
    vendor: 'skyward',
    label: 'Skyward (SMS 2.0 API Server)',
    versions: ['1.1'],
    basePaths: { '1.1': '/ims/oneroster/v1p1' },
    tokenPath: null,
    authTypes: ['oauth2'],
    notes: [
      'Needs the district’s Skyward API Server; its URL is in District Setup → Configuration → API Configuration (e.g. https://{dns}/api).',
      'Key and secret are generated for an Organization Secured User; the token URL is supplied separately.',
      'Tokens can expire mid-listing (Qmlativ): they are refreshed and the page retried.',
      'Reported quirks (unverified): district-prefixed sourcedIds, limited filter support: check delta runs per instance.',
    ],
  },
  {
    vendor: 'generic',
    label: 'OneRoster (other provider)',
    versions: ['1.2', '1.1'],
    basePaths: { '1.2': '/ims/oneroster/rostering/v1p2', '1.1': '/ims/oneroster/v1p1' },
    tokenPath: null,
    authTypes: ['oauth2', 'oauth1'],
    notes: [
      '1.2 accepts only OAuth 2.0 client credentials; 1.1 providers may still require OAuth 1.0a (HMAC-SHA1).',
      'The token URL is provider-specific and cannot be derived from the base URL.',
    ],
  },
];

/** A guide with the defaults a new connection of that vendor and version gets. */
export function vendorGuideWithDefaults(guide: VendorGuide): VendorGuide & {
  defaults: Partial<Record<OneRosterVersion, ReturnType<typeof vendorDefaults>>>;
} {
  return {
    ...guide,
    defaults: Object.fromEntries(guide.versions.map((version) => [version, vendorDefaults(guide.vendor, version)])),
  };
}
