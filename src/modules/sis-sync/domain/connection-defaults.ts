import type {
  OneRosterVendor,
  OneRosterVersion,
  PeakHours,
  PersonMergeRule,
  SisConnectionSettings,
  ThresholdSettings,
} from './sis-connection.js';

/** Bounds every connection setting must respect (the HTTP DTOs and the policy share them). */
export const SETTING_LIMITS = {
  name: { maxLength: 100 },
  pageSize: { min: 1, max: 10_000 },
  concurrency: { min: 1, max: 10 },
  requestTimeoutMs: { min: 1_000, max: 300_000 },
  deltaOverlapSeconds: { min: 0, max: 86_400 },
  fullReconciliationDays: { min: 1, max: 365 },
  maxPercent: { min: 0, max: 100 },
  schoolScope: { maxItems: 1_000, maxLength: 255 },
  blackoutWindows: { maxItems: 100, reasonMaxLength: 500 },
  url: { maxLength: 2_000 },
  credential: { maxLength: 2_000 },
  scope: { maxLength: 2_000 },
  cron: { maxLength: 100 },
  timeZone: { maxLength: 64 },
} as const;

/** The settings a vendor preset decides when the administrator does not. */
export interface VendorDefaults {
  pageSize: number;
  concurrency: number;
  /** Without a time zone: the policy fills it from the request or the schedule. */
  peakHours: Omit<PeakHours, 'timeZone'> | null;
  requestTimeoutMs: number;
  deltaOverlapSeconds: number;
  fullReconciliationDays: number;
  personMergeRule: PersonMergeRule;
}

export type VendorDefaultField = keyof VendorDefaults;
export const VENDOR_DEFAULT_FIELDS: readonly VendorDefaultField[] = [
  'pageSize',
  'concurrency',
  'peakHours',
  'requestTimeoutMs',
  'deltaOverlapSeconds',
  'fullReconciliationDays',
  'personMergeRule',
];

const COMMON: Omit<VendorDefaults, 'personMergeRule'> = {
  pageSize: 1_000,
  concurrency: 2,
  peakHours: null,
  requestTimeoutMs: 30_000,
  deltaOverlapSeconds: 300,
  fullReconciliationDays: 7,
};

/**
 * Vendor presets (kept in the domain so the policy can apply them without reaching into adapters).
 * - Infinite Campus asks consumers for at most 5 concurrent requests off-peak and none concurrent during
 *   school hours, a weekly full sync and nightly deltas (sis-apis.md §3.1).
 * - OneRoster 1.1 emits one user per role; IC prefixes each sourcedId with a role letter, other vendors are
 *   merged on `identifier`. 1.2 emits one user with `roles[]`, so there is nothing to merge.
 */
export function vendorDefaults(vendor: OneRosterVendor, version: OneRosterVersion | null): VendorDefaults {
  const personMergeRule: PersonMergeRule =
    version === '1.1' ? (vendor === 'infinite-campus' ? 'ic-role-prefix' : 'identifier') : 'none';
  switch (vendor) {
    case 'infinite-campus':
      return {
        ...COMMON,
        concurrency: 5,
        peakHours: { start: '07:00', end: '16:00', concurrency: 1 },
        personMergeRule,
      };
    case 'skyward':
    case 'generic':
      return { ...COMMON, personMergeRule };
  }
}

/**
 * Holds are on unless switched off: >10 % deactivated, >50 % updated, or >10 % of an entity's pulled records
 * rejected holds the run.
 */
export const DEFAULT_THRESHOLDS: ThresholdSettings = {
  '*': { deactivate: { maxPercent: 10 }, update: { maxPercent: 50 }, reject: { maxPercent: 10 } },
};

/** The internal connection CSV uploads are recorded against: no endpoint, no credentials, no schedule. */
export function csvImportConnectionSettings(): SisConnectionSettings {
  const defaults = vendorDefaults('generic', null);
  return {
    version: null,
    vendor: 'generic',
    baseUrl: null,
    auth: { type: 'none' },
    pageSize: defaults.pageSize,
    concurrency: 1,
    peakHours: null,
    requestTimeoutMs: defaults.requestTimeoutMs,
    schedule: null,
    blackoutWindows: [],
    schoolScope: [],
    thresholds: structuredClone(DEFAULT_THRESHOLDS),
    deltaOverlapSeconds: defaults.deltaOverlapSeconds,
    fullReconciliationDays: defaults.fullReconciliationDays,
    personMergeRule: 'none',
  };
}
