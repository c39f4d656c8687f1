import {
  parseServerUrl,
  pathOf,
  positiveInteger,
  SisHttpTransport,
  type SisHttpRequestEvent,
  type SisHttpResponse,
  type SisHttpSettings,
} from '@app/sis-http';
import { PowerSchoolError } from './powerschool.error.js';
import {
  LIST_ENVELOPES,
  MAX_PAGE_SIZE_FIELDS,
  POWERSCHOOL_PATHS,
  type PowerSchoolListResource,
  type PowerSchoolResource,
} from './powerschool-resources.js';
import { integerOf, isJsonObject, itemsOf, textOf, type JsonObject } from './powerschool-values.js';

/** One HTTP exchange, token requests included. `path` has no query string; nothing here is secret. */
export type PowerSchoolRequestEvent = SisHttpRequestEvent;

/** Timeouts, retries, backoff, clock, fetch and `onRequest` come from `SisHttpSettings` (the shared transport). */
export interface PowerSchoolClientOptions extends SisHttpSettings {
  /** The server, e.g. `https://ps.district.org` (any path prefix is kept). */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  /** Default `{baseUrl}/oauth/access_token`. */
  tokenUrl?: string;
  /** The largest `pagesize` asked for; the server's per-resource maximum (from `/ws/v1/metadata`) caps it further. */
  pageSizeCap?: number;
  /** Page size used when `/ws/v1/metadata` does not state a resource's maximum. Default 100. */
  fallbackPageSize?: number;
  /** A new access token was obtained (not on a cache hit); `expiresAt` null when the server gave no lifetime. */
  onToken?: (event: { expiresAt: Date | null }) => void;
}

/** A paged listing: a `/ws/v1` collection, or a named PowerQuery (POSTed with `body`). */
export interface PowerSchoolListing {
  resource: PowerSchoolListResource;
  /** Server-relative path without query, e.g. `/ws/v1/school/12/student`. */
  path: string;
  /** Extra query parameters (`expansions`, `q`); `page` and `pagesize` are the client's. */
  query?: Readonly<Record<string, string>>;
  /** JSON body: PowerQueries only (they are POSTed). */
  body?: unknown;
  signal?: AbortSignal;
}

/** `/ws/v1/metadata`, with the fields the client uses read tolerantly; everything else kept as sent. */
export interface PowerSchoolMetadata {
  powerSchoolVersion: string | null;
  pluginId: string | null;
  maxPageSizes: Partial<Record<PowerSchoolListResource, number>>;
  raw: JsonObject;
}

interface HttpRequestPlan {
  method: 'GET' | 'POST';
  url: string;
  body?: string;
  contentType?: string;
  resource?: string;
  /** Sends the bearer token (every /ws request but `/ws/v1/time`). */
  authenticated: boolean;
  /** `base64(id:secret)` for the token request. */
  basicAuth?: string;
  /** The error for a status that is neither success, retryable nor a renewable 401. */
  rejection: (status: number, serverMessage: string | undefined) => PowerSchoolError;
  signal?: AbortSignal;
  maxAttempts?: number;
}

interface CachedToken {
  value: string;
  refreshAtMs: number;
}

/**
 * A read-only PowerSchool SIS client (`/ws/v1` resources and named PowerQueries) over global fetch: OAuth 2.0
 * client credentials with a cached token (refreshed shortly before expiry and once on a 401), page sizes within
 * the plugin's per-resource maximum, every listing cross-checked against its `/count`, timeouts, and retries of
 * 429/5xx/timeouts/resets with capped, jittered backoff that honours `Retry-After`. Failures are classified as
 * `PowerSchoolError`s. Usable without Nest.
 */
export class PowerSchoolClient {
  readonly baseUrl: string;
  readonly tokenUrl: string;
  readonly pageSizeCap: number;
  private readonly clientId: string;
  private readonly clientSecret: string;
  private readonly fallbackPageSize: number;
  private readonly transport: SisHttpTransport;
  private readonly now: () => number;
  private readonly onToken?: (event: { expiresAt: Date | null }) => void;
  private token?: CachedToken;
  private pendingToken?: Promise<string>;
  private cachedMetadata?: Promise<PowerSchoolMetadata>;

  constructor(options: PowerSchoolClientOptions) {
    this.baseUrl = parseBaseOrTokenUrl(options.baseUrl, 'base URL');
    this.tokenUrl = options.tokenUrl
      ? parseBaseOrTokenUrl(options.tokenUrl, 'token URL')
      : `${this.baseUrl}${POWERSCHOOL_PATHS.token}`;
    if (!options.clientId) throw new PowerSchoolError('SIS_SYNC.SOURCE_AUTH_FAILED', 'No PowerSchool client ID');
    if (!options.clientSecret) {
      throw new PowerSchoolError('SIS_SYNC.SOURCE_AUTH_FAILED', 'No PowerSchool client secret');
    }
    this.clientId = options.clientId;
    this.clientSecret = options.clientSecret;
    this.pageSizeCap = positiveInteger(options.pageSizeCap ?? 1_000, 'pageSizeCap');
    this.fallbackPageSize = positiveInteger(options.fallbackPageSize ?? 100, 'fallbackPageSize');
    this.now = options.now ?? Date.now;
    this.transport = new SisHttpTransport(options, {
      // PowerSchool's `{"message": …}` (or OAuth `error_description`/`error`).
      serverMessageFields: (parsed) => [parsed.message, parsed.error_description, parsed.error],
    });
    this.onToken = options.onToken;
  }

  /** `GET /ws/v1/time`, which needs no token: proves the server answers. */
  async serverTime(signal?: AbortSignal, maxAttempts?: number): Promise<JsonObject> {
    const response = await this.send({
      method: 'GET',
      url: `${this.baseUrl}${POWERSCHOOL_PATHS.time}`,
      authenticated: false,
      signal,
      maxAttempts,
      rejection: (status, said) =>
        new PowerSchoolError(
          'SIS_SYNC.SOURCE_PROTOCOL_ERROR',
          `${POWERSCHOOL_PATHS.time} answered HTTP ${status}${said ? ` (${said})` : ''}: check that the base URL is the PowerSchool server`,
          { status },
        ),
    });
    return this.parseObject(response, POWERSCHOOL_PATHS.time, undefined);
  }

  /** Obtains (or reuses) the access token. */
  async authenticate(signal?: AbortSignal): Promise<void> {
    await this.bearerToken(signal);
  }

  /** `/ws/v1/metadata` (read once per client): the plugin's per-resource maximum page sizes. */
  metadata(signal?: AbortSignal): Promise<PowerSchoolMetadata> {
    if (!this.cachedMetadata) {
      const pending = this.getObject(POWERSCHOOL_PATHS.metadata, 'metadata', { signal }).then(readMetadata);
      this.cachedMetadata = pending;
      pending.catch(() => {
        if (this.cachedMetadata === pending) this.cachedMetadata = undefined;
      });
    }
    return this.cachedMetadata;
  }

  /** The page size to ask for: the cap, within the server's maximum for the resource. */
  async pageSizeFor(resource: PowerSchoolListResource, signal?: AbortSignal): Promise<number> {
    const metadata = await this.metadata(signal);
    const max = metadata.maxPageSizes[resource];
    return Math.min(this.pageSizeCap, max ?? this.fallbackPageSize);
  }

  /** One authenticated JSON object, e.g. `/ws/v1/district`. */
  async getObject(
    path: string,
    resource: PowerSchoolResource | 'metadata',
    options: { query?: Readonly<Record<string, string>>; signal?: AbortSignal; maxAttempts?: number } = {},
  ): Promise<JsonObject> {
    const response = await this.send({
      method: 'GET',
      url: this.url(path, options.query),
      authenticated: true,
      resource,
      signal: options.signal,
      maxAttempts: options.maxAttempts,
      rejection: (status, said) => this.rejectionFor(status, said, resource, path),
    });
    return this.parseObject(response, path, resource);
  }

  /** The `/count` of a listing: `{"resource":{"count":N}}` for `/ws/v1`, `{"count":N}` for PowerQueries. */
  async count(listing: PowerSchoolListing, maxAttempts?: number): Promise<number> {
    const path = `${listing.path.replace(/\/+$/, '')}/count`;
    const response = await this.send({
      method: listing.resource === 'powerquery' ? 'POST' : 'GET',
      url: this.url(path, listing.query),
      body: listing.resource === 'powerquery' ? JSON.stringify(listing.body ?? {}) : undefined,
      contentType: listing.resource === 'powerquery' ? 'application/json' : undefined,
      authenticated: true,
      resource: listing.resource,
      signal: listing.signal,
      maxAttempts,
      rejection: (status, said) => this.rejectionFor(status, said, listing.resource, path),
    });
    const body = this.parseObject(response, path, listing.resource);
    const holder = isJsonObject(body.resource) ? body.resource : body;
    const count = integerOf(holder.count);
    if (count === null || count === undefined || count < 0) {
      throw new PowerSchoolError('SIS_SYNC.SOURCE_MALFORMED_PAGE', `${path} answered without a count`, {
        resource: listing.resource,
        status: response.status,
      });
    }
    return count;
  }

  /**
   * Every record of a listing, page by page (`page` 1-based, `pagesize` within the server's maximum) until a short
   * or empty page. The `/count` is read first (one request at a time, so a caller's concurrency limit holds); at
   * the end the records received (unique by `id`) must equal it. If they do not, the count is asked once more (the
   * collection may have changed); still different, the listing fails as incomplete.
   */
  async *listPages(listing: PowerSchoolListing): AsyncGenerator<JsonObject[]> {
    const { resource, path } = listing;
    const pageSize = await this.pageSizeFor(resource, listing.signal);
    const total = await this.count(listing);
    const seen = resource === 'powerquery' ? null : new Set<string>();
    let received = 0;
    let previousIds: string | undefined;
    for (let page = 1; ; page++) {
      const records = await this.fetchPage(listing, page, pageSize);
      const ids = records.map((record) => textOf(record.id) ?? '').join(',');
      if (records.length > 0 && previousIds === ids && seen !== null) {
        throw new PowerSchoolError(
          'SIS_SYNC.SOURCE_PROTOCOL_ERROR',
          `Paging ${path} does not progress: page ${page} repeats page ${page - 1}`,
          { resource },
        );
      }
      previousIds = ids;
      const fresh = seen === null ? records : records.filter((record) => unseen(seen, record));
      received += fresh.length;
      if (fresh.length > 0) yield fresh;
      if (records.length < pageSize) break;
      const maxPages = Math.ceil(total / pageSize) + 2;
      if (page >= maxPages) {
        throw new PowerSchoolError(
          'SIS_SYNC.SOURCE_PROTOCOL_ERROR',
          `Paging ${path} does not end: more than ${maxPages} pages of ${pageSize} for ${total} records`,
          { resource },
        );
      }
    }
    if (received !== total) {
      const recount = await this.count(listing);
      if (recount !== received) {
        throw new PowerSchoolError(
          'SIS_SYNC.SOURCE_INCOMPLETE_LISTING',
          `The ${resource} listing ${path} returned ${received} records but /count says ${recount}` +
            (recount !== total ? ` (and ${total} before)` : ''),
          { resource },
        );
      }
    }
  }

  /** Every record of a listing in one array (for small per-school collections). */
  async listAll(listing: PowerSchoolListing): Promise<JsonObject[]> {
    const all: JsonObject[] = [];
    for await (const page of this.listPages(listing)) all.push(...page);
    return all;
  }

  /** One page, no count check: for permission probes. */
  async firstPage(listing: PowerSchoolListing, pageSize: number, maxAttempts?: number): Promise<JsonObject[]> {
    return this.fetchPage(listing, 1, pageSize, maxAttempts);
  }

  private async fetchPage(
    listing: PowerSchoolListing,
    page: number,
    pageSize: number,
    maxAttempts?: number,
  ): Promise<JsonObject[]> {
    const { resource, path } = listing;
    const isQuery = resource === 'powerquery';
    const response = await this.send({
      method: isQuery ? 'POST' : 'GET',
      url: this.url(path, { ...listing.query, page: String(page), pagesize: String(pageSize) }),
      body: isQuery ? JSON.stringify(listing.body ?? {}) : undefined,
      contentType: isQuery ? 'application/json' : undefined,
      authenticated: true,
      resource,
      signal: listing.signal,
      maxAttempts,
      rejection: (status, said) => this.rejectionFor(status, said, resource, path),
    });
    const body = this.parseObject(response, path, resource);
    return recordsOf(body, resource, path, response.status);
  }

  private parseObject(response: SisHttpResponse, path: string, resource: string | undefined): JsonObject {
    let body: unknown;
    try {
      body = JSON.parse(response.body);
    } catch {
      throw new PowerSchoolError('SIS_SYNC.SOURCE_MALFORMED_PAGE', `${path} did not answer JSON`, {
        resource,
        status: response.status,
      });
    }
    if (!isJsonObject(body)) {
      throw new PowerSchoolError('SIS_SYNC.SOURCE_MALFORMED_PAGE', `${path} did not answer a JSON object`, {
        resource,
        status: response.status,
      });
    }
    return body;
  }

  private url(path: string, query: Readonly<Record<string, string>> | undefined): string {
    const params = new URLSearchParams(query ?? {}).toString();
    return `${this.baseUrl}${path}${params ? `?${params}` : ''}`;
  }

  private rejectionFor(
    status: number,
    serverMessage: string | undefined,
    resource: string,
    path: string,
  ): PowerSchoolError {
    const said = serverMessage ? ` (${serverMessage})` : '';
    if (status === 403) {
      return new PowerSchoolError(
        'SIS_SYNC.SOURCE_FORBIDDEN',
        `PowerSchool refused access to ${resource} (${path}, HTTP 403)${said}: the plugin's data access does not ` +
          `grant it; add it to the plugin's access request and re-enable the plugin`,
        { status, resource },
      );
    }
    const hint =
      status === 404
        ? ': check the base URL and that the plugin is enabled'
        : status === 400
          ? ': the request was refused as invalid'
          : '';
    return new PowerSchoolError(
      'SIS_SYNC.SOURCE_PROTOCOL_ERROR',
      `PowerSchool rejected ${path} with HTTP ${status}${said}${hint}`,
      { status, resource },
    );
  }

  private async bearerToken(signal: AbortSignal | undefined): Promise<string> {
    if (this.token && this.now() < this.token.refreshAtMs) return this.token.value;
    this.pendingToken ??= this.requestToken(signal).finally(() => {
      this.pendingToken = undefined;
    });
    return this.pendingToken;
  }

  private async requestToken(signal: AbortSignal | undefined): Promise<string> {
    const basic = Buffer.from(`${this.clientId}:${this.clientSecret}`, 'utf8').toString('base64');
    const requestedAt = this.now();
    const response = await this.send({
      method: 'POST',
      url: this.tokenUrl,
      body: new URLSearchParams({ grant_type: 'client_credentials' }).toString(),
      contentType: 'application/x-www-form-urlencoded;charset=UTF-8',
      basicAuth: basic,
      authenticated: false,
      signal,
      rejection: (status, said) =>
        new PowerSchoolError(
          status === 404 ? 'SIS_SYNC.SOURCE_PROTOCOL_ERROR' : 'SIS_SYNC.SOURCE_AUTH_FAILED',
          status === 404
            ? `${pathOf(this.tokenUrl)} answered 404: check the base URL (the plugin must have OAuth enabled)`
            : `PowerSchool refused the client credentials with HTTP ${status}${said ? ` (${said})` : ''}: check the ` +
                `client ID and secret shown under the plugin's Data Configuration, and that the plugin is enabled`,
          { status },
        ),
    });
    let body: unknown;
    try {
      body = JSON.parse(response.body);
    } catch {
      body = undefined;
    }
    const accessToken = isJsonObject(body) ? textOf(body.access_token) : undefined;
    if (!isJsonObject(body) || !accessToken) {
      throw new PowerSchoolError('SIS_SYNC.SOURCE_AUTH_FAILED', 'The token endpoint answered without an access_token', {
        status: response.status,
      });
    }
    // `expires_in` arrives as a string ("1814654"); PowerSchool tokens live for days (30 by default).
    const expiresInSeconds = Number(textOf(body.expires_in) ?? Number.NaN);
    let refreshAtMs = Number.POSITIVE_INFINITY;
    let expiresAt: Date | null = null;
    if (Number.isFinite(expiresInSeconds) && expiresInSeconds > 0) {
      const lifetimeMs = expiresInSeconds * 1000;
      refreshAtMs = requestedAt + lifetimeMs - Math.min(60_000, lifetimeMs / 10);
      expiresAt = new Date(requestedAt + lifetimeMs);
    }
    this.token = { value: accessToken, refreshAtMs };
    this.onToken?.({ expiresAt });
    return accessToken;
  }

  /** One request through the shared transport, its failures classified as `PowerSchoolError`s. */
  private send(plan: HttpRequestPlan): Promise<SisHttpResponse> {
    const { method, resource } = plan;
    let usedToken: string | undefined;
    return this.transport.send({
      method,
      url: plan.url,
      body: plan.body,
      signal: plan.signal,
      maxAttempts: plan.maxAttempts,
      headers: async () => {
        const headers: Record<string, string> = { accept: 'application/json' };
        if (plan.contentType) headers['content-type'] = plan.contentType;
        if (plan.basicAuth) headers.authorization = `Basic ${plan.basicAuth}`;
        else if (plan.authenticated) {
          usedToken = await this.bearerToken(plan.signal);
          headers.authorization = `Bearer ${usedToken}`;
        }
        return headers;
      },
      failure: (code, message, status, options) => new PowerSchoolError(code, message, { status, resource }, options),
      // A revoked or regenerated token: drop it (unless another request already replaced it) and try once more.
      unauthorized: plan.authenticated
        ? {
            renew: () => {
              if (this.token?.value === usedToken) this.token = undefined;
              return true;
            },
            error: (_renewed, path) =>
              new PowerSchoolError(
                'SIS_SYNC.SOURCE_AUTH_FAILED',
                `PowerSchool rejected the access token (401) for ${method} ${path} even after a fresh one was obtained`,
                { status: 401, resource },
              ),
          }
        : undefined,
      rejection: plan.rejection,
    });
  }
}

/** The records of a listing page, whatever shape PowerSchool chose for them. */
function recordsOf(body: JsonObject, resource: PowerSchoolListResource, path: string, status: number): JsonObject[] {
  const envelope = LIST_ENVELOPES[resource];
  let holder: unknown = body;
  if (envelope.outer !== null) {
    if (!(envelope.outer in body)) {
      throw new PowerSchoolError(
        'SIS_SYNC.SOURCE_MALFORMED_PAGE',
        `A page of ${path} has no "${envelope.outer}" envelope`,
        { resource, status },
      );
    }
    holder = body[envelope.outer];
    // `{"section_enrollments": [...]}` (no inner key) is seen too.
    if (Array.isArray(holder)) return checkedItems(holder, resource, path, status);
  }
  // An empty listing arrives as `""`, null, or an envelope without the inner key.
  if (!isJsonObject(holder)) {
    if (holder === '' || holder === null || holder === undefined) return [];
    throw new PowerSchoolError('SIS_SYNC.SOURCE_MALFORMED_PAGE', `A page of ${path} has an unreadable envelope`, {
      resource,
      status,
    });
  }
  const inner = holder[envelope.inner];
  if (Array.isArray(inner)) return checkedItems(inner, resource, path, status);
  // One record arrives as a bare object instead of an array of one.
  return itemsOf(inner);
}

function checkedItems(items: unknown[], resource: string, path: string, status: number): JsonObject[] {
  if (!items.every(isJsonObject)) {
    throw new PowerSchoolError('SIS_SYNC.SOURCE_MALFORMED_PAGE', `A page of ${path} holds something not a record`, {
      resource,
      status,
    });
  }
  return items;
}

function readMetadata(body: JsonObject): PowerSchoolMetadata {
  const raw = isJsonObject(body.metadata) ? body.metadata : body;
  const maxPageSizes: Partial<Record<PowerSchoolListResource, number>> = {};
  for (const [resource, field] of Object.entries(MAX_PAGE_SIZE_FIELDS) as [PowerSchoolListResource, string][]) {
    const value = integerOf(raw[field]);
    if (typeof value === 'number' && value > 0) maxPageSizes[resource] = value;
  }
  return {
    powerSchoolVersion: textOf(raw.powerschool_version) ?? null,
    pluginId: textOf(raw.plugin_id) ?? null,
    maxPageSizes,
    raw,
  };
}

function unseen(seen: Set<string>, record: JsonObject): boolean {
  const id = textOf(record.id);
  if (!id) return true;
  if (seen.has(id)) return false;
  seen.add(id);
  return true;
}

function parseBaseOrTokenUrl(value: string, what: string): string {
  return parseServerUrl(
    value,
    `PowerSchool ${what}`,
    (message) => new PowerSchoolError('SIS_SYNC.SOURCE_UNREACHABLE', message),
  );
}
