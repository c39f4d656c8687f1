import type { ExtensionMappings, RosterEntity } from '@app/contracts';

export const SIS_PROVIDERS = ['oneroster', 'oneroster-csv', 'powerschool'] as const;
export type SisProvider = (typeof SIS_PROVIDERS)[number];

/**
 * Providers an administrator may create over the API: all of them. A `oneroster-csv` connection has no endpoint,
 * credentials or schedule; its runs are uploads aimed at it (`POST /sis/imports` with `connectionId`). Uploads
 * that name no connection land on the one named `CSV_IMPORT_CONNECTION_NAME`, created on first use.
 */
export const CREATABLE_PROVIDERS: readonly SisProvider[] = SIS_PROVIDERS;

/** PowerSchool's OAuth endpoint, relative to the server (a PowerSchool connection's `baseUrl`). */
export const POWERSCHOOL_TOKEN_PATH = '/oauth/access_token';

export const ONEROSTER_VERSIONS = ['1.1', '1.2'] as const;
export type OneRosterVersion = (typeof ONEROSTER_VERSIONS)[number];

export const ONEROSTER_VENDORS = ['generic', 'infinite-campus', 'skyward'] as const;
export type OneRosterVendor = (typeof ONEROSTER_VENDORS)[number];

export const SYNC_ACTIONS = ['create', 'update', 'deactivate'] as const;
export type SyncAction = (typeof SYNC_ACTIONS)[number];

/**
 * What a threshold rule limits: a mass change (`create`, `update`, `deactivate`) or `reject`, the records of the
 * listing the source refused (could not read or normalise, so skipped).
 */
export const THRESHOLD_ACTIONS = [...SYNC_ACTIONS, 'reject'] as const;
export type ThresholdAction = (typeof THRESHOLD_ACTIONS)[number];

export const PERSON_MERGE_RULES = ['none', 'identifier', 'ic-role-prefix'] as const;
export type PersonMergeRule = (typeof PERSON_MERGE_RULES)[number];

/**
 * The connection CSV uploads that name no connection are recorded against (provider `oneroster-csv`, created on
 * first use; the name is reserved for it).
 */
export const CSV_IMPORT_CONNECTION_NAME = 'OneRoster CSV uploads';

/**
 * A mass-change limit: exceeding either bound holds the run for review. A rule with neither bound set
 * (`{}`) means "no limit" and is how an administrator switches a default hold off.
 */
export interface ThresholdRule {
  maxCount?: number;
  /**
   * Percent of the entity's active records in the mirror (applies once the mirror holds any); for `reject`,
   * percent of the records pulled (read from the source, rejected ones included).
   */
  maxPercent?: number;
}

/**
 * Per entity (or `*` for every entity) and per action. The engine uses the entity's own rule for an action
 * when there is one, else the `*` rule for that action. The connection policy always keeps a `*` rule for
 * `deactivate`, `update` and `reject` (defaults: 10 %, 50 % and 10 %) unless the administrator sets one
 * explicitly.
 */
export type ThresholdSettings = Partial<Record<RosterEntity | '*', Partial<Record<ThresholdAction, ThresholdRule>>>>;

/** Dates (in the schedule's time zone) on which scheduled runs do not start, e.g. the summer rollover. */
export interface BlackoutWindow {
  /** ISO calendar dates `YYYY-MM-DD`, inclusive: no scheduled runs between them. */
  from: string;
  to: string;
  reason?: string;
}

export type SisAuthSettings =
  | { type: 'oauth2'; tokenUrl: string; clientId: string; scope?: string }
  | { type: 'oauth1'; consumerKey: string }
  | { type: 'none' };
export type SisAuthType = SisAuthSettings['type'];

/** Hours (local time) during which the SIS wants fewer concurrent requests (Infinite Campus: serial). */
export interface PeakHours {
  /** `HH:MM`, 24-hour clock; `end` may be before `start` for a window that spans midnight. */
  start: string;
  end: string;
  concurrency: number;
  /** IANA zone the hours are read in. Always set by the connection policy; read as UTC if absent. */
  timeZone?: string;
}

export interface SyncSchedule {
  /** Five-field cron expression (minute hour day-of-month month day-of-week) or a macro such as `@daily`. */
  cron: string;
  /** IANA time zone, canonical spelling (`America/Chicago`). */
  timeZone: string;
}

/** Everything but the secret. Stored as `settings` jsonb; the secret is encrypted apart from it. */
export interface SisConnectionSettings {
  version: OneRosterVersion | null;
  vendor: OneRosterVendor;
  baseUrl: string | null;
  auth: SisAuthSettings;
  pageSize: number;
  /** Concurrent requests at most (Infinite Campus: 1 at peak, 5 off-peak). */
  concurrency: number;
  /** Infinite Campus asks for serial requests during school hours; these are the hours, local time. */
  peakHours: PeakHours | null;
  requestTimeoutMs: number;
  schedule: SyncSchedule | null;
  blackoutWindows: BlackoutWindow[];
  /** Org sourcedIds of the schools to sync; empty = the whole district. */
  schoolScope: string[];
  thresholds: ThresholdSettings;
  /** Delta runs re-read this much before the last successful run's start. */
  deltaOverlapSeconds: number;
  /** Scheduled runs do a full pull when the last successful full one is older than this. */
  fullReconciliationDays: number;
  /** How OneRoster 1.1 per-role duplicate users are recognised as one person. */
  personMergeRule: PersonMergeRule;
  /**
   * PowerSchool only: a named PowerQuery (`POST /ws/schema/query/{name}`) listing every section enrolment with
   * DCIDs, read instead of one request per section. Absent or null: one request per section.
   */
  enrollmentPowerQuery?: string | null;
  /** Per-field ownership of locally editable person fields; absent fields are `sticky`. */
  fieldPolicies?: FieldPolicies;
  /**
   * OneRoster 1.2 only: the core meaning of extension values (`ext:…`) per vocabulary, e.g.
   * `{ orgType: { "ext:campus": "school" } }`. An extension value not listed keeps no core meaning (an org type is
   * no school, a role grants nothing) and is reported once per run as a warning. Absent: `{}`.
   */
  extensionMappings?: ExtensionMappings;
}

/**
 * Who owns a field that district staff may also edit in Homeroom: `sis` (every sync overwrites it), `local`
 * (sync never overwrites it), `sticky` (the SIS value until someone edits it locally; the local value then stays
 * until an operator clears it, or a `remaster` run overrides it).
 */
export const FIELD_POLICIES = ['sis', 'local', 'sticky'] as const;
export type FieldPolicy = (typeof FIELD_POLICIES)[number];

/** SIS-provided person fields that may be edited locally. */
export const LOCALLY_EDITABLE_FIELDS = ['preferredFirstName', 'preferredLastName', 'pronouns', 'phone', 'sms'] as const;
export type LocallyEditableField = (typeof LOCALLY_EDITABLE_FIELDS)[number];

export type FieldPolicies = Partial<Record<LocallyEditableField, FieldPolicy>>;

/** Without a policy a field is sticky: local edits survive syncs until an operator clears them. */
export const DEFAULT_FIELD_POLICY: FieldPolicy = 'sticky';

export interface SisConnection {
  id: string;
  name: string;
  provider: SisProvider;
  settings: SisConnectionSettings;
  /** A client/consumer secret is stored (encrypted). The secret itself never leaves the repository. */
  hasSecret: boolean;
  enabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export function isSisProvider(value: string): value is SisProvider {
  return (SIS_PROVIDERS as readonly string[]).includes(value);
}

/** Names are compared case-insensitively (as the unique index does), after trimming. */
export function normaliseConnectionName(name: string): string {
  return name.trim().replace(/\s+/g, ' ');
}

export function sameConnectionName(a: string, b: string): boolean {
  return normaliseConnectionName(a).toLowerCase() === normaliseConnectionName(b).toLowerCase();
}
