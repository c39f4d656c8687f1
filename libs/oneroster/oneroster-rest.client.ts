import {
  parseServerUrl,
  positiveInteger,
  SisHttpTransport,
  type SisHttpRequestEvent,
  type SisHttpResponse,
  type SisHttpSettings,
} from '@app/sis-http';
import { oauth1AuthorizationHeader, oauth1Nonce } from './oauth1.js';
import { OneRosterError } from './oneroster.error.js';
import type { OneRosterVersion } from './oneroster-version.js';

export type OneRosterAuth =
  | { type: 'oauth2'; tokenUrl: string; clientId: string; clientSecret: string; scope?: string }
  | { type: 'oauth1'; consumerKey: string; consumerSecret: string }
  | { type: 'none' };

/** One HTTP exchange, token requests included. `path` has no query string; nothing here is secret. */
export type OneRosterRequestEvent = SisHttpRequestEvent;

/** Timeouts, retries, backoff, clock, fetch and `onRequest` come from `SisHttpSettings` (the shared transport). */
export interface OneRosterRestClientOptions extends SisHttpSettings {
  /** The rostering base, e.g. `https://sis.example/ims/oneroster/v1p1` or `…/ims/oneroster/rostering/v1p2`. */
  baseUrl: string;
  version: OneRosterVersion;
  auth: OneRosterAuth;
  /** `limit` sent with every page. */
  pageSize?: number;
  /** Pages allowed when the server sends no `X-Total-Count` (with a total the guard is total/limit + 2). */
  maxPagesWithoutTotal?: number;
  /** An OAuth 2.0 access token was obtained; `expiresAt` null when the server gave no `expires_in`. */
  onToken?: (event: { expiresAt: Date | null }) => void;
}

export interface ListPagesOptions {
  /** A OneRoster filter expression, e.g. from `dateLastModifiedSinceFilter`. */
  filter?: string;
  signal?: AbortSignal;
  /** Requests in flight at most. Later pages are fetched ahead only once `X-Total-Count` is known. */
  concurrency?: number;
}

/** The envelope key of each rostering collection's listing (`/schools` answers `{ "orgs": [...] }`). */
const ENVELOPE_KEYS: Readonly<Record<string, string>> = {
  orgs: 'orgs',
  schools: 'orgs',
  academicSessions: 'academicSessions',
  terms: 'academicSessions',
  gradingPeriods: 'academicSessions',
  courses: 'courses',
  classes: 'classes',
  users: 'users',
  students: 'users',
  teachers: 'users',
  enrollments: 'enrollments',
  demographics: 'demographics',
};

interface HttpRequestPlan {
  method: 'GET' | 'POST';
  url: string;
  body?: string;
  collection?: string;
  headers: () => Promise<Record<string, string>>;
  /** Called on a 401; true when fresh credentials were obtained and the request may be sent once more. */
  onUnauthorized?: () => boolean;
  /** The error for a status that is neither success, retryable nor 401. */
  rejection: (status: number, serverMessage: string | undefined) => OneRosterError;
  signal?: AbortSignal;
}

interface FetchedPage {
  url: string;
  records: unknown[];
  sourcedIds: string[];
  total: number | undefined;
  revision: string | null;
  nextLink: string | null;
}

interface PendingPage {
  offset: number;
  controller: AbortController;
  promise: Promise<FetchedPage>;
}

interface CachedToken {
  value: string;
  refreshAtMs: number;
}

/**
 * A read-only OneRoster 1.1/1.2 REST client: authenticates (OAuth 2.0 client credentials, OAuth 1.0a or none),
 * pages collections to exhaustion with verified totals, retries transient failures and classifies the rest as
 * `OneRosterError`s. Usable without Nest.
 */
export class OneRosterRestClient {
  readonly baseUrl: string;
  readonly version: OneRosterVersion;
  readonly pageSize: number;
  private readonly auth: OneRosterAuth;
  private readonly transport: SisHttpTransport;
  private readonly maxPagesWithoutTotal: number;
  private readonly now: () => number;
  private readonly onToken?: (event: { expiresAt: Date | null }) => void;
  private token?: CachedToken;
  private pendingToken?: Promise<string>;

  constructor(options: OneRosterRestClientOptions) {
    this.baseUrl = parseBaseUrl(options.baseUrl);
    this.version = options.version;
    this.auth = options.auth;
    this.pageSize = positiveInteger(options.pageSize ?? 100, 'pageSize');
    this.now = options.now ?? Date.now;
    this.transport = new SisHttpTransport(options, {
      serverMessageFields: imsxMessageFields,
    });
    this.maxPagesWithoutTotal = options.maxPagesWithoutTotal ?? 100_000;
    this.onToken = options.onToken;
  }

  /**
   * Every record of a collection, page by page in server order. Pages by `limit`/`offset` until a short or empty
   * page at or past `X-Total-Count`, then checks that exactly that many records arrived.
   */
  async *listPages(collection: string, options: ListPagesOptions = {}): AsyncGenerator<unknown[]> {
    const envelopeKey = envelopeKeyOf(collection);
    const concurrency = Math.max(1, Math.floor(options.concurrency ?? 1));
    const queue: PendingPage[] = [];
    const start = (offset: number): void => {
      queue.push(this.startPage(collection, envelopeKey, offset, options));
    };
    const dropQueued = (): void => {
      for (const pending of queue.splice(0)) pending.controller.abort();
    };

    let offset = 0;
    let received = 0;
    let pageCount = 0;
    let total: number | undefined;
    let revision: string | null | undefined;
    let step: number | undefined;
    let plannedUntil = 0;
    let previous: FetchedPage | undefined;
    try {
      for (;;) {
        if (queue.length === 0) {
          start(offset);
          plannedUntil = offset + (step ?? this.pageSize);
        }
        if (concurrency > 1 && total !== undefined && step !== undefined) {
          while (queue.length < concurrency && plannedUntil < total) {
            start(plannedUntil);
            plannedUntil += step;
          }
        }
        const pending = queue.shift()!;
        const page = await pending.promise;
        pageCount += 1;

        if (page.total !== undefined) {
          if (total !== undefined && page.total !== total) {
            throw new OneRosterError(
              'SIS_SYNC.SOURCE_INCOMPLETE_LISTING',
              `The ${collection} total changed from ${total} to ${page.total} during the listing: the collection changed while it was read`,
              { collection },
            );
          }
          total = page.total;
        }
        if (revision === undefined) revision = page.revision;
        else if (page.revision !== revision) {
          throw new OneRosterError(
            'SIS_SYNC.SOURCE_INCOMPLETE_LISTING',
            `The ${collection} dataset revision changed during the listing: the collection changed while it was read`,
            { collection },
          );
        }
        const count = page.records.length;
        // A first page shorter than the limit while more remain reveals the server's own page cap.
        step ??= count > 0 && count < this.pageSize && total !== undefined && count < total ? count : this.pageSize;
        this.guardAgainstLoops(collection, page, previous, pageCount, total, step);

        if (count > 0) yield page.records;
        received += count;
        offset = pending.offset + count;
        previous = page;

        if (count === 0) break;
        // A server that ignores `limit` may send everything at once; asking again would only repeat it.
        if (count > this.pageSize && total !== undefined && offset >= total) break;
        if (count < step) {
          if (total === undefined || offset >= total) break;
          // Short while the total says more remain: pages fetched ahead start at the wrong offsets.
          dropQueued();
        }
      }
    } finally {
      dropQueued();
    }

    if (total !== undefined && received !== total) {
      throw new OneRosterError(
        'SIS_SYNC.SOURCE_INCOMPLETE_LISTING',
        `The ${collection} listing ended after ${received} records but X-Total-Count announced ${total}`,
        { collection },
      );
    }
  }

  private guardAgainstLoops(
    collection: string,
    page: FetchedPage,
    previous: FetchedPage | undefined,
    pageCount: number,
    total: number | undefined,
    step: number,
  ): void {
    const loop = (why: string) =>
      new OneRosterError('SIS_SYNC.SOURCE_PROTOCOL_ERROR', `Paging ${collection} does not progress: ${why}`, {
        collection,
      });
    if (page.nextLink !== null) {
      const next = resolveLink(page.nextLink, page.url);
      if (next !== null && (sameRequest(next, page.url) || (previous && sameRequest(next, previous.url)))) {
        throw loop('the next link points back to a page already read');
      }
    }
    if (previous && page.sourcedIds.length > 0 && sameIds(page.sourcedIds, previous.sourcedIds)) {
      throw loop('the server returned the same page twice');
    }
    const maxPages = total === undefined ? this.maxPagesWithoutTotal : Math.ceil(total / step) + 2;
    if (pageCount > maxPages) throw loop(`more than ${maxPages} pages`);
  }

  private startPage(collection: string, envelopeKey: string, offset: number, options: ListPagesOptions): PendingPage {
    const controller = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
    const url = this.pageUrl(collection, offset, options.filter);
    const promise = this.fetchPage(url, collection, envelopeKey, signal, options.signal);
    // Pages fetched ahead may be dropped unread; their failure must not surface as an unhandled rejection.
    promise.catch(() => undefined);
    return { offset, controller, promise };
  }

  private pageUrl(collection: string, offset: number, filter: string | undefined): string {
    const params = new URLSearchParams({ limit: String(this.pageSize), offset: String(offset) });
    if (filter !== undefined) params.set('filter', filter);
    // %20 rather than `+` for spaces: read the same way by every server, so OAuth 1.0a signatures agree.
    const query = params.toString().replace(/\+/g, '%20');
    return `${this.baseUrl}/${collection.replace(/^\/+/, '')}?${query}`;
  }

  private async fetchPage(
    url: string,
    collection: string,
    envelopeKey: string,
    signal: AbortSignal,
    listingSignal: AbortSignal | undefined,
  ): Promise<FetchedPage> {
    let usedToken: string | undefined;
    const response = await this.send({
      method: 'GET',
      url,
      collection,
      signal,
      headers: async () => {
        const headers: Record<string, string> = { accept: 'application/json' };
        if (this.auth.type === 'oauth2') {
          usedToken = await this.bearerToken(listingSignal);
          headers.authorization = `Bearer ${usedToken}`;
        } else if (this.auth.type === 'oauth1') {
          headers.authorization = oauth1AuthorizationHeader({
            method: 'GET',
            url,
            consumerKey: this.auth.consumerKey,
            consumerSecret: this.auth.consumerSecret,
            timestamp: Math.floor(this.now() / 1000),
            nonce: oauth1Nonce(),
          });
        }
        return headers;
      },
      onUnauthorized: () => {
        if (this.auth.type !== 'oauth2') return false;
        if (this.token?.value === usedToken) this.token = undefined;
        return true;
      },
      rejection: (status, serverMessage) => this.rejectionFor(status, serverMessage, collection),
    });

    let body: unknown;
    try {
      body = JSON.parse(response.body);
    } catch {
      throw new OneRosterError('SIS_SYNC.SOURCE_MALFORMED_PAGE', `A ${collection} page is not JSON`, {
        collection,
        status: response.status,
      });
    }
    const records = isObject(body) ? body[envelopeKey] : undefined;
    if (!Array.isArray(records)) {
      throw new OneRosterError('SIS_SYNC.SOURCE_MALFORMED_PAGE', `A ${collection} page has no "${envelopeKey}" array`, {
        collection,
        status: response.status,
      });
    }
    return {
      url,
      records,
      sourcedIds: records.map((record) =>
        isObject(record) && typeof record.sourcedId === 'string' ? record.sourcedId : '',
      ),
      total: parseTotal(response.headers.get('x-total-count')),
      revision: response.headers.get('x-perm-rev'),
      nextLink: nextLinkOf(response.headers.get('link')),
    };
  }

  private rejectionFor(status: number, serverMessage: string | undefined, collection: string): OneRosterError {
    const said = serverMessage ? ` (${serverMessage})` : '';
    if (status === 403) {
      return new OneRosterError(
        'SIS_SYNC.SOURCE_FORBIDDEN',
        `The server refused access to ${collection} (403)${said}: check the scopes granted to this client`,
        { status, collection },
      );
    }
    const hint =
      status === 404 ? ': check the base URL (some SIS answer 404 when the OneRoster API is not licensed)' : '';
    return new OneRosterError(
      'SIS_SYNC.SOURCE_PROTOCOL_ERROR',
      `The server rejected the ${collection} request with HTTP ${status}${said}${hint}`,
      { status, collection },
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
    if (this.auth.type !== 'oauth2') throw new Error('requestToken needs OAuth 2.0 settings');
    const { tokenUrl, clientId, clientSecret, scope } = this.auth;
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (scope) form.set('scope', scope);
    const basic = Buffer.from(`${clientId}:${clientSecret}`, 'utf8').toString('base64');
    const requestedAt = this.now();
    const response = await this.send({
      method: 'POST',
      url: tokenUrl,
      body: form.toString(),
      signal,
      headers: async () => ({
        accept: 'application/json',
        authorization: `Basic ${basic}`,
        'content-type': 'application/x-www-form-urlencoded',
      }),
      rejection: (status, serverMessage) =>
        new OneRosterError(
          'SIS_SYNC.SOURCE_AUTH_FAILED',
          `The token endpoint refused the client credentials with HTTP ${status}${serverMessage ? ` (${serverMessage})` : ''}`,
          { status },
        ),
    });
    let body: unknown;
    try {
      body = JSON.parse(response.body);
    } catch {
      body = undefined;
    }
    if (!isObject(body) || typeof body.access_token !== 'string' || body.access_token === '') {
      throw new OneRosterError('SIS_SYNC.SOURCE_AUTH_FAILED', 'The token endpoint answered without an access_token', {
        status: response.status,
      });
    }
    const expiresInSeconds = Number(body.expires_in);
    let refreshAtMs = Number.POSITIVE_INFINITY;
    let expiresAt: Date | null = null;
    if (body.expires_in !== undefined && Number.isFinite(expiresInSeconds) && expiresInSeconds > 0) {
      const lifetimeMs = expiresInSeconds * 1000;
      refreshAtMs = requestedAt + lifetimeMs - Math.min(60_000, lifetimeMs / 10);
      expiresAt = new Date(requestedAt + lifetimeMs);
    }
    this.token = { value: body.access_token, refreshAtMs };
    this.onToken?.({ expiresAt });
    return body.access_token;
  }

  /** One request through the shared transport, its failures classified as `OneRosterError`s. */
  private send(plan: HttpRequestPlan): Promise<SisHttpResponse> {
    const { method, collection } = plan;
    return this.transport.send({
      method,
      url: plan.url,
      body: plan.body,
      headers: plan.headers,
      signal: plan.signal,
      failure: (code, message, status, options) => new OneRosterError(code, message, { status, collection }, options),
      unauthorized: {
        renew: () => plan.onUnauthorized?.() ?? false,
        error: (renewed, path) =>
          new OneRosterError(
            'SIS_SYNC.SOURCE_AUTH_FAILED',
            `The server rejected the credentials (401) for ${method} ${path}${renewed ? ' even with a fresh token' : ''}`,
            { status: 401, collection },
          ),
      },
      rejection: plan.rejection,
    });
  }
}

function envelopeKeyOf(collection: string): string {
  const lastSegment = collection.split('/').filter(Boolean).pop() ?? '';
  const key = ENVELOPE_KEYS[lastSegment];
  if (key === undefined) throw new RangeError(`Not a OneRoster rostering collection: ${collection}`);
  return key;
}

function parseBaseUrl(baseUrl: string): string {
  return parseServerUrl(
    baseUrl,
    'OneRoster base URL',
    (message) => new OneRosterError('SIS_SYNC.SOURCE_UNREACHABLE', message),
  );
}

function parseTotal(header: string | null): number | undefined {
  if (header === null || !/^\s*\d+\s*$/.test(header)) return undefined;
  return Number(header);
}

/** The `rel="next"` target of an RFC 8288 `Link` header, if any. */
export function nextLinkOf(header: string | null): string | null {
  if (!header) return null;
  for (const part of header.split(/,(?=\s*<)/)) {
    const match = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (!match) continue;
    const rel = /;\s*rel\s*=\s*"?([^";]+)"?/i.exec(match[2]);
    if (rel && rel[1].toLowerCase().split(/\s+/).includes('next')) return match[1];
  }
  return null;
}

function resolveLink(link: string, base: string): URL | null {
  try {
    return new URL(link, base);
  } catch {
    return null;
  }
}

function sameRequest(a: URL, b: string): boolean {
  const other = new URL(b);
  if (a.origin !== other.origin || a.pathname.replace(/\/+$/, '') !== other.pathname.replace(/\/+$/, '')) return false;
  const sorted = (params: URLSearchParams) =>
    [...params]
      .map(([k, v]) => `${k}=${v}`)
      .sort()
      .join('&');
  return sorted(a.searchParams) === sorted(other.searchParams);
}

function sameIds(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((id, index) => id === b[index]);
}

/** Where an error body explains itself: `imsx_description` (or OAuth `error_description`/`error`). */
function imsxMessageFields(parsed: Record<string, unknown>): unknown[] {
  const statusInfo = isObject(parsed.imsx_StatusInfo) ? parsed.imsx_StatusInfo : parsed;
  return [statusInfo.imsx_description, parsed.error_description, parsed.error];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
