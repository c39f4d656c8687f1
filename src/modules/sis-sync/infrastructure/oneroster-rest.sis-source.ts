import { ROSTER_ENTITIES, type RosterEntity, type RosterRecord } from '@app/contracts';
import {
  IgnoredValueTally,
  ONEROSTER_REST_COLLECTIONS,
  OneRosterError,
  OneRosterRestClient,
  OneRosterSchoolScope,
  OneRosterVocabulary,
  dateLastModifiedSinceFilter,
  normaliseRestRecord,
  type OneRosterAuth,
  type OneRosterRestClientOptions,
  type OneRosterVersion,
} from '@app/oneroster';
import {
  SisSource,
  SisSourceError,
  type SisCheckResult,
  type SisEntityPull,
  type SisPullOptions,
  type SisTrafficObserver,
} from '../application/ports/sis-source.port.js';
import type { SisConnectionSettings } from '../domain/sis-connection.js';
import { noticeIssue } from './oneroster-notices.js';

export interface OneRosterRestSisSourceOptions {
  settings: SisConnectionSettings;
  /** The decrypted client secret (OAuth 2.0) or consumer secret (OAuth 1.0a); null when `auth.type` is `none`. */
  secret: string | null;
  observer?: SisTrafficObserver;
  /** Decides whether peak hours apply when a pull starts. */
  now?: () => Date;
  /** Transport tuning and test seams (fetch, sleep, random, retry limits). */
  client?: Partial<Omit<OneRosterRestClientOptions, 'baseUrl' | 'version' | 'auth' | 'pageSize' | 'onRequest'>>;
}

/**
 * A district's OneRoster 1.1/1.2 REST service as a `SisSource`: lists each entity's collection (people come from
 * `users`), normalises the records, applies the connection's school scope client-side and translates protocol
 * failures into `SisSourceError`s. Politeness follows the connection settings (page size, concurrency, peak hours,
 * request timeout).
 */
export class OneRosterRestSisSource extends SisSource {
  private readonly client: OneRosterRestClient;
  private readonly version: OneRosterVersion;
  private readonly settings: SisConnectionSettings;
  private readonly scope: OneRosterSchoolScope;
  /** The connection's extension mappings and this run's tally of unmapped values and `inactive` statuses. */
  private readonly vocabulary: OneRosterVocabulary;
  private readonly now: () => Date;
  private readonly options: OneRosterRestSisSourceOptions;
  /** Whether every org has been seen, so courses owned by the district can be told apart from other schools'. */
  private orgsSeenInFull = false;

  constructor(options: OneRosterRestSisSourceOptions) {
    super();
    const { settings } = options;
    if (!settings.baseUrl) {
      throw new SisSourceError('SIS_SYNC.SOURCE_PROTOCOL_ERROR', 'The connection has no OneRoster base URL');
    }
    this.settings = settings;
    this.options = options;
    this.version = settings.version ?? versionFromBaseUrl(settings.baseUrl);
    this.scope = new OneRosterSchoolScope(settings.schoolScope);
    this.vocabulary = new OneRosterVocabulary(settings.extensionMappings);
    this.now = options.now ?? (() => new Date());
    try {
      this.client = new OneRosterRestClient({
        ...options.client,
        baseUrl: settings.baseUrl,
        version: this.version,
        auth: clientAuth(settings, options.secret),
        pageSize: settings.pageSize,
        requestTimeoutMs: settings.requestTimeoutMs,
        onRequest: options.observer
          ? (event) =>
              options.observer?.onRequest({
                status: event.status,
                durationMs: event.durationMs,
                retry: event.willRetry,
              })
          : undefined,
        onToken: (event) => options.observer?.onToken?.(event),
      });
    } catch (error) {
      throw toSisSourceError(error);
    }
  }

  entities(): readonly RosterEntity[] {
    return ROSTER_ENTITIES;
  }

  async pull<E extends RosterEntity>(entity: E, options: SisPullOptions): Promise<SisEntityPull<E>> {
    let filter: string | undefined;
    if (options.mode === 'delta') {
      if (!options.since) throw new Error('A delta pull needs options.since');
      filter = dateLastModifiedSinceFilter(options.since);
    }
    const concurrency = concurrencyAt(this.settings, this.now());
    return { snapshot: options.mode === 'full', pages: this.pages(entity, filter, concurrency, options) };
  }

  describe(): string {
    return `OneRoster ${this.version} REST ${this.client.baseUrl}`;
  }

  async close(): Promise<void> {}

  /**
   * One record of each collection, no retries: the first answer decides. Orgs first (reachability and
   * credentials), then every other collection (whether this connection may read it).
   */
  async checkAccess(signal?: AbortSignal): Promise<SisCheckResult[]> {
    const probe = new OneRosterRestClient({
      ...this.options.client,
      baseUrl: this.client.baseUrl,
      version: this.version,
      auth: clientAuth(this.settings, this.options.secret),
      pageSize: 1,
      requestTimeoutMs: this.settings.requestTimeoutMs,
      maxAttempts: 1,
      onToken: (event) => this.options.observer?.onToken?.(event),
    });
    const results: SisCheckResult[] = [];
    const started = Date.now();
    const first = await probeCollection(probe, ONEROSTER_REST_COLLECTIONS.orgs, signal);
    const elapsed = (): number => Date.now() - started;
    const reachable =
      first.code !== 'SIS_SYNC.SOURCE_UNREACHABLE' && first.code !== 'SIS_SYNC.SOURCE_RETRIES_EXHAUSTED';
    results.push({
      check: 'reachability',
      ok: reachable,
      detail: reachable ? `${this.client.baseUrl} answered` : (first.message ?? 'No answer'),
      durationMs: elapsed(),
    });
    if (!reachable) return results;
    const authorised = first.code !== 'SIS_SYNC.SOURCE_AUTH_FAILED';
    results.push({
      check: 'credentials',
      ok: authorised,
      detail: authorised ? 'The credentials were accepted' : (first.message ?? 'The credentials were refused'),
      durationMs: elapsed(),
    });
    if (!authorised) return results;
    for (const entity of ROSTER_ENTITIES) {
      const collection = ONEROSTER_REST_COLLECTIONS[entity];
      const checkStarted = Date.now();
      const outcome = entity === 'orgs' ? first : await probeCollection(probe, collection, signal);
      results.push({
        check: `permission:${collection}`,
        ok: outcome.code === null,
        detail:
          outcome.code === null ? `/${collection} can be read` : `/${collection}: ${outcome.message ?? outcome.code}`,
        durationMs: entity === 'orgs' ? first.durationMs : Date.now() - checkStarted,
      });
    }
    return results;
  }

  private async *pages<E extends RosterEntity>(
    entity: E,
    filter: string | undefined,
    concurrency: number,
    options: SisPullOptions,
  ): AsyncGenerator<RosterRecord<E>[]> {
    try {
      if (entity === 'courses' && this.scope.active && !this.orgsSeenInFull) {
        await this.learnOrgs(concurrency, options.signal);
      }
      const collection = ONEROSTER_REST_COLLECTIONS[entity];
      const pages = this.client.listPages(collection, {
        filter,
        concurrency,
        signal: options.signal,
      });
      const ignored = new IgnoredValueTally();
      for await (const page of pages) {
        const records: RosterRecord<E>[] = [];
        for (const raw of page) {
          const result = normaliseRestRecord(entity, raw, this.version, this.vocabulary);
          if (!result.ok) {
            options.onIssue?.(result.issue);
            continue;
          }
          ignored.add(result.ignored);
          if (this.scope.includes(entity, result.record)) records.push(result.record);
        }
        if (records.length > 0) yield records;
      }
      // Once per entity and run: the records were kept, only the bad values were dropped.
      for (const { field, message } of ignored.summaries([`${collection} record`, `${collection} records`])) {
        options.onIssue?.({ entity, sourcedId: null, field, message, severity: 'warning' });
      }
      for (const notice of this.vocabulary.drain(entity)) options.onIssue?.(noticeIssue(notice));
      if (entity === 'orgs' && filter === undefined) this.orgsSeenInFull = true;
    } catch (error) {
      throw toSisSourceError(error, entity);
    }
  }

  /** Reads every org once so the scope knows which orgs are district-level (a delta run may not list them). */
  private async learnOrgs(concurrency: number, signal: AbortSignal | undefined): Promise<void> {
    const vocabulary = this.vocabulary.silent();
    for await (const page of this.client.listPages(ONEROSTER_REST_COLLECTIONS.orgs, { concurrency, signal })) {
      for (const raw of page) {
        const result = normaliseRestRecord('orgs', raw, this.version, vocabulary);
        if (result.ok) this.scope.rememberOrg(result.record);
      }
    }
    this.orgsSeenInFull = true;
  }
}

/**
 * Requests allowed in flight now: the peak-hours limit inside the window (local time of the connection's schedule
 * time zone, UTC by default; windows may wrap past midnight), the connection's limit otherwise.
 */
async function probeCollection(
  client: OneRosterRestClient,
  collection: string,
  signal: AbortSignal | undefined,
): Promise<{ code: string | null; message: string | null; durationMs: number }> {
  const started = Date.now();
  try {
    for await (const page of client.listPages(collection, { signal })) {
      void page;
      break;
    }
    return { code: null, message: null, durationMs: Date.now() - started };
  } catch (error) {
    const translated = toSisSourceError(error);
    if (translated instanceof SisSourceError) {
      return { code: translated.code, message: translated.message, durationMs: Date.now() - started };
    }
    return {
      code: 'SIS_SYNC.SOURCE_UNREACHABLE',
      message: (translated as Error).message,
      durationMs: Date.now() - started,
    };
  }
}

export function concurrencyAt(
  settings: Pick<SisConnectionSettings, 'concurrency' | 'peakHours' | 'schedule'>,
  now: Date,
): number {
  const normal = Math.max(1, settings.concurrency);
  const peak = settings.peakHours;
  if (!peak) return normal;
  const peakConcurrency = Math.max(1, Math.min(normal, peak.concurrency));
  const start = minutesOf(peak.start);
  const end = minutesOf(peak.end);
  if (start === undefined || end === undefined) return peakConcurrency;
  let current: number;
  try {
    current = localMinutes(now, peak.timeZone ?? settings.schedule?.timeZone ?? 'UTC');
  } catch {
    // An unknown time zone: stay at the polite limit rather than risk overloading the SIS in school hours.
    return peakConcurrency;
  }
  const inPeak = start <= end ? current >= start && current < end : current >= start || current < end;
  return inPeak ? peakConcurrency : normal;
}

function localMinutes(now: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
    .formatToParts(now)
    .reduce<Record<string, string>>((all, part) => ({ ...all, [part.type]: part.value }), {});
  return Number(parts.hour) * 60 + Number(parts.minute);
}

function minutesOf(time: string): number | undefined {
  const match = /^(\d{1,2}):(\d{2})$/.exec(time.trim());
  if (!match) return undefined;
  const [hours, minutes] = [Number(match[1]), Number(match[2])];
  return hours <= 24 && minutes < 60 ? hours * 60 + minutes : undefined;
}

function clientAuth(settings: SisConnectionSettings, secret: string | null): OneRosterAuth {
  const { auth } = settings;
  switch (auth.type) {
    case 'none':
      return { type: 'none' };
    case 'oauth2':
      if (!secret) throw new SisSourceError('SIS_SYNC.SOURCE_AUTH_FAILED', 'The connection has no client secret');
      return {
        type: 'oauth2',
        tokenUrl: auth.tokenUrl,
        clientId: auth.clientId,
        clientSecret: secret,
        scope: auth.scope,
      };
    case 'oauth1':
      if (!secret) throw new SisSourceError('SIS_SYNC.SOURCE_AUTH_FAILED', 'The connection has no consumer secret');
      return { type: 'oauth1', consumerKey: auth.consumerKey, consumerSecret: secret };
  }
}

/** The version a base URL names (`…/v1p1`, `…/rostering/v1p2`) when the connection does not say. */
function versionFromBaseUrl(baseUrl: string): OneRosterVersion {
  const path = URL.canParse(baseUrl) ? new URL(baseUrl).pathname : baseUrl;
  if (/\/v1p2\/?$/.test(path)) return '1.2';
  if (/\/v1p1\/?$/.test(path)) return '1.1';
  throw new SisSourceError(
    'SIS_SYNC.SOURCE_PROTOCOL_ERROR',
    'The connection has no OneRoster version and its base URL does not end in /v1p1 or /v1p2',
  );
}

function toSisSourceError(error: unknown, entity?: RosterEntity): unknown {
  if (!(error instanceof OneRosterError)) return error;
  const translated = new SisSourceError(error.code, error.message, entity, error.field);
  translated.cause = error;
  return translated;
}
