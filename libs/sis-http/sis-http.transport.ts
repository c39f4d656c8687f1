import { setTimeout as delay } from 'node:timers/promises';
import type { SisAddressPolicy } from './address-policy.js';
import { ADDRESS_REFUSED_CODE, createGuardedFetch, type SisResolver } from './guarded-fetch.js';
import { fullJitterBackoffMs, parseRetryAfterMs } from './retry-backoff.js';
import { positiveInteger } from './server-url.js';

/** One HTTP exchange, token requests included. `path` has no query string; nothing here is secret. */
export interface SisHttpRequestEvent {
  path: string;
  status: number | 'error';
  durationMs: number;
  attempt: number;
  willRetry: boolean;
}

/** The failures the transport classifies itself; the codes equal the sync module's `SisSourceError` codes. */
export type SisHttpFailureCode =
  'SIS_SYNC.SOURCE_UNREACHABLE' | 'SIS_SYNC.SOURCE_RETRIES_EXHAUSTED' | 'SIS_SYNC.SOURCE_RESPONSE_TOO_LARGE';

/** Transport tuning and test seams; the SIS clients' options extend these and hand them on as they are. */
export interface SisHttpSettings {
  /** Per try. Default 30 s. */
  requestTimeoutMs?: number;
  /** Tries per request, the first included. Default 6. */
  maxAttempts?: number;
  /** Default 500 ms. */
  backoffBaseMs?: number;
  /** Default 30 s. */
  backoffCapMs?: number;
  /** Longest wait a `Retry-After` header can impose before the next try. Default 120 s. */
  maxRetryAfterMs?: number;
  /**
   * Largest response body read, in bytes: a larger one fails the request at once, not retried (the SIS would send
   * the same again), with `SIS_SYNC.SOURCE_RESPONSE_TOO_LARGE`. Default 64 MiB.
   */
  maxResponseBytes?: number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  /** Epoch milliseconds. */
  now?: () => number;
  /**
   * Which addresses may be reached. When given, requests go through `createGuardedFetch` (the address is checked
   * on the resolved IP the socket connects to); `fetch` overrides it for tests of the protocol alone.
   */
  addressPolicy?: SisAddressPolicy;
  /** Name resolution for the address policy; default `dns.lookup`. */
  resolver?: SisResolver;
  fetch?: typeof fetch;
  onRequest?: (event: SisHttpRequestEvent) => void;
}

/** How one SIS explains its errors and how its messages read. */
export interface SisHttpDialect {
  /** The values of a JSON error body that may explain a rejection, first non-empty string wins. */
  serverMessageFields: (body: Record<string, unknown>) => unknown[];
  /** How failure messages count tries. Default `1 attempt`, `2 attempts`. */
  attemptsText?: (count: number) => string;
}

/** One request as the transport sends it; the callbacks build the client's own errors. */
export interface SisHttpRequest {
  method: 'GET' | 'POST';
  url: string;
  body?: string;
  /** Called before every try, so a renewed token or a fresh signature goes out with each one. */
  headers: () => Promise<Record<string, string>>;
  signal?: AbortSignal;
  /** Overrides the transport's `maxAttempts` for this request. */
  maxAttempts?: number;
  /** The error for retries exhausted or a server unreachable; `options.cause` is the network error, if any. */
  failure: (
    code: SisHttpFailureCode,
    message: string,
    status: number | undefined,
    options?: { cause: unknown },
  ) => Error;
  /**
   * How a 401 is handled: `renew` is asked once (true when fresh credentials were obtained and the request may be
   * sent again), otherwise `error` is thrown (`renewed` true when the fresh credentials were refused too). Without
   * it a 401 is a rejection like any other.
   */
  unauthorized?: {
    renew: () => boolean;
    error: (renewed: boolean, path: string) => Error;
  };
  /** The error for a status that is neither success, retryable nor a handled 401. */
  rejection: (status: number, serverMessage: string | undefined) => Error;
}

export interface SisHttpResponse {
  status: number;
  headers: Headers;
  body: string;
}

export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 ** 2;

const RETRYABLE_STATUSES = new Set([408, 429, 500, 502, 503, 504]);

/** A body past `maxResponseBytes`: local, not a network failure, never retried. */
class ResponseTooLarge extends Error {}
/** Errors raised before a connection exists: if every try ends this way the server is unreachable. */
const CONNECT_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
]);
/** What a network error code means, as the failure message says it ("connection refused (ECONNREFUSED)"). */
const NETWORK_ERROR_MEANINGS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by the server',
  EPIPE: 'connection closed by the server',
  UND_ERR_SOCKET: 'connection closed by the server',
  ENOTFOUND: 'host name not found (DNS)',
  EAI_AGAIN: 'DNS lookup failed, try again later',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_HEADERS_TIMEOUT: 'no answer in time',
  UND_ERR_BODY_TIMEOUT: 'the answer stalled',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ERR_INVALID_URL: 'invalid URL',
  ERR_TLS_CERT_ALTNAME_INVALID: 'TLS certificate is not for this host name',
  CERT_HAS_EXPIRED: 'TLS certificate expired',
  CERT_NOT_YET_VALID: 'TLS certificate not yet valid',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'TLS certificate not trusted: self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'TLS certificate not trusted: self-signed certificate in the chain',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TLS certificate not trusted: unknown issuer',
  UNABLE_TO_GET_ISSUER_CERT: 'TLS certificate not trusted: unknown issuer',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'TLS certificate not trusted: unknown issuer',
  CERT_REVOKED: 'TLS certificate revoked',
  EPROTO: 'TLS handshake failed',
};
/** Failures another try cannot mend: no such host, a malformed URL, a certificate the server will send again. */
const PERMANENT_NETWORK_ERROR_CODES = new Set([
  'ENOTFOUND',
  'ERR_INVALID_URL',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_REVOKED',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  ADDRESS_REFUSED_CODE,
]);
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Same-origin redirects followed per request, at most. */
const MAX_REDIRECTS = 5;

/**
 * The HTTP plumbing the SIS clients share: sends one request with a timeout per try, retries 408/429/5xx, timeouts
 * and connection resets with capped exponential backoff and full jitter (or the server's `Retry-After`, capped),
 * renews credentials once on a 401 when asked to, and classifies what remains through the request's callbacks.
 * Protocol (paging, envelopes, tokens) stays with the clients.
 */
export class SisHttpTransport {
  readonly requestTimeoutMs: number;
  readonly maxAttempts: number;
  readonly maxResponseBytes: number;
  private readonly backoffBaseMs: number;
  private readonly backoffCapMs: number;
  private readonly maxRetryAfterMs: number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly fetch: typeof fetch;
  private readonly onRequest?: (event: SisHttpRequestEvent) => void;
  private readonly serverMessageFields: (body: Record<string, unknown>) => unknown[];
  private readonly attemptsText: (count: number) => string;

  constructor(settings: SisHttpSettings, dialect: SisHttpDialect) {
    this.requestTimeoutMs = positiveInteger(settings.requestTimeoutMs ?? 30_000, 'requestTimeoutMs');
    this.maxAttempts = positiveInteger(settings.maxAttempts ?? 6, 'maxAttempts');
    this.maxResponseBytes = positiveInteger(
      settings.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
      'maxResponseBytes',
    );
    this.backoffBaseMs = settings.backoffBaseMs ?? 500;
    this.backoffCapMs = settings.backoffCapMs ?? 30_000;
    this.maxRetryAfterMs = settings.maxRetryAfterMs ?? 120_000;
    this.sleep = settings.sleep ?? ((ms, signal) => delay(ms, undefined, { signal }));
    this.random = settings.random ?? Math.random;
    this.now = settings.now ?? Date.now;
    this.fetch =
      settings.fetch ??
      (settings.addressPolicy && refusesAnything(settings.addressPolicy)
        ? createGuardedFetch(settings.addressPolicy, settings.resolver)
        : globalThis.fetch);
    this.onRequest = settings.onRequest;
    this.serverMessageFields = dialect.serverMessageFields;
    this.attemptsText = dialect.attemptsText ?? ((count) => `${count} attempt${count === 1 ? '' : 's'}`);
  }

  /**
   * One request with timeouts, retries and classification. Resolves only with a 2xx response. A redirect is
   * followed only to the same origin (scheme, host and port): never to another host, never from https to http.
   */
  async send(request: SisHttpRequest): Promise<SisHttpResponse> {
    let url = request.url;
    let method = request.method;
    let requestBody = request.body;
    let redirects = 0;
    const path = pathOf(request.url);
    const maxAttempts = request.maxAttempts ?? this.maxAttempts;
    let failures = 0;
    let attempt = 0;
    let renewedCredentials = false;
    let everAnswered = false;
    for (;;) {
      request.signal?.throwIfAborted();
      attempt += 1;
      const headers = await request.headers();
      const timeout = AbortSignal.timeout(this.requestTimeoutMs);
      const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
      const startedAt = this.now();
      const report = (status: number | 'error', willRetry: boolean) =>
        this.onRequest?.({ path, status, durationMs: this.now() - startedAt, attempt, willRetry });

      let response: Response;
      let body: string;
      try {
        response = await this.fetch(url, { method, headers, body: requestBody, signal, redirect: 'manual' });
        body = await this.readBody(response);
      } catch (error) {
        if (request.signal?.aborted) {
          report('error', false);
          throw request.signal.reason;
        }
        if (error instanceof ResponseTooLarge) {
          report(response!.status, false);
          throw request.failure(
            'SIS_SYNC.SOURCE_RESPONSE_TOO_LARGE',
            `${request.method} ${path} answered with a body larger than ${this.maxResponseBytes} bytes, the limit`,
            response!.status,
          );
        }
        const code = networkErrorCode(error);
        const timedOut = timeout.aborted;
        failures += 1;
        const permanent = !timedOut && code !== undefined && PERMANENT_NETWORK_ERROR_CODES.has(code);
        const willRetry = !permanent && failures < maxAttempts;
        report('error', willRetry);
        if (!willRetry) {
          const cause = timedOut
            ? `no answer within ${this.requestTimeoutMs} ms (timed out)`
            : describeNetworkError(error);
          const what =
            !timedOut && code === ADDRESS_REFUSED_CODE && error instanceof Error
              ? `not sent: ${error.message}`
              : `failed${permanent ? '' : ` after ${this.attemptsText(failures)}`}: ${cause}`;
          const unreachable =
            permanent || (!everAnswered && !timedOut && code !== undefined && CONNECT_ERROR_CODES.has(code));
          throw request.failure(
            unreachable ? 'SIS_SYNC.SOURCE_UNREACHABLE' : 'SIS_SYNC.SOURCE_RETRIES_EXHAUSTED',
            `${method} ${serverLocationOf(url)} ${what}`,
            undefined,
            { cause: error },
          );
        }
        await this.sleep(this.backoffMs(failures), request.signal);
        continue;
      }

      everAnswered = true;
      const status = response.status;
      if (status >= 200 && status < 300) {
        report(status, false);
        return { status, headers: response.headers, body };
      }
      if (REDIRECT_STATUSES.has(status)) {
        const target = sameOriginRedirect(url, response.headers.get('location'));
        report(status, target !== undefined && redirects < MAX_REDIRECTS);
        if (target === undefined || redirects >= MAX_REDIRECTS) {
          throw request.rejection(
            status,
            target === undefined
              ? 'Redirect not followed: it leads to another host or from https to http'
              : `More than ${MAX_REDIRECTS} redirects`,
          );
        }
        redirects += 1;
        url = target;
        if (status === 303 || ((status === 301 || status === 302) && method === 'POST')) {
          method = 'GET';
          requestBody = undefined;
        }
        attempt -= 1;
        continue;
      }
      if (status === 401 && request.unauthorized) {
        const retry = !renewedCredentials && request.unauthorized.renew();
        report(status, retry);
        if (retry) {
          renewedCredentials = true;
          continue;
        }
        throw request.unauthorized.error(renewedCredentials, path);
      }
      if (RETRYABLE_STATUSES.has(status)) {
        failures += 1;
        const willRetry = failures < maxAttempts;
        report(status, willRetry);
        if (!willRetry) {
          throw request.failure(
            'SIS_SYNC.SOURCE_RETRIES_EXHAUSTED',
            `${request.method} ${path} still failed with HTTP ${status} after ${this.attemptsText(failures)}`,
            status,
          );
        }
        const retryAfterMs = parseRetryAfterMs(response.headers.get('retry-after'), this.now());
        const waitMs =
          retryAfterMs !== undefined ? Math.min(retryAfterMs, this.maxRetryAfterMs) : this.backoffMs(failures);
        await this.sleep(waitMs, request.signal);
        continue;
      }
      report(status, false);
      throw request.rejection(status, serverMessageOf(body, this.serverMessageFields));
    }
  }

  /**
   * The body as text, read chunk by chunk and refused (the download cancelled) as soon as it passes
   * `maxResponseBytes`, or at once when its `Content-Length` says it will: memory stays bounded by the limit.
   */
  private async readBody(response: Response): Promise<string> {
    const announced = Number(response.headers.get('content-length') ?? Number.NaN);
    if (announced > this.maxResponseBytes) {
      await response.body?.cancel().catch(() => undefined);
      throw new ResponseTooLarge();
    }
    if (!response.body) return '';
    const chunks: Uint8Array[] = [];
    let bytes = 0;
    const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        bytes += value.byteLength;
        if (bytes > this.maxResponseBytes) {
          await reader.cancel().catch(() => undefined);
          throw new ResponseTooLarge();
        }
        chunks.push(value);
      }
    } finally {
      reader.releaseLock();
    }
    return new TextDecoder().decode(Buffer.concat(chunks, bytes));
  }

  private backoffMs(failures: number): number {
    return fullJitterBackoffMs(failures, this.backoffBaseMs, this.backoffCapMs, this.random);
  }
}

/** The absolute target of a redirect when it stays on `from`'s origin; undefined otherwise (or without Location). */
export function sameOriginRedirect(from: string, location: string | null): string | undefined {
  if (!location) return undefined;
  try {
    const source = new URL(from);
    const target = new URL(location, source);
    return target.origin === source.origin ? target.href : undefined;
  } catch {
    return undefined;
  }
}

/** The path of a URL, without query or fragment; empty when the URL cannot be read. */
export function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return '';
  }
}

/**
 * Where a request went, for messages: scheme, host, port and path; never the user info, query string or fragment
 * (a token URL may carry an app name or a secret there).
 */
export function serverLocationOf(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

/**
 * A network failure in words with its code: `connection refused (ECONNREFUSED)`, `TLS certificate expired
 * (CERT_HAS_EXPIRED)`; an unknown code as `network error (CODE)`; without a code, the innermost error's own message
 * (`network error (other side closed)`), stripped of any query string and shortened.
 */
export function describeNetworkError(error: unknown): string {
  const code = networkErrorCode(error);
  if (code !== undefined) {
    const meaning = NETWORK_ERROR_MEANINGS[code] ?? (code.startsWith('ERR_SSL_') ? 'TLS handshake failed' : undefined);
    return `${meaning ?? 'network error'} (${code})`;
  }
  let innermost: unknown = error;
  for (let depth = 0; isObject(innermost) && isObject(innermost.cause) && depth < 4; depth++) {
    innermost = innermost.cause;
  }
  const message = innermost instanceof Error ? innermost.message.replace(/\?\S*/g, '').trim().slice(0, 200) : '';
  return message ? `network error (${message})` : 'network error';
}

/** The first `code` (`ECONNRESET`, `UND_ERR_CONNECT_TIMEOUT`, …) on an error or its causes, a few levels deep. */
export function networkErrorCode(error: unknown): string | undefined {
  for (let current: unknown = error, depth = 0; isObject(current) && depth < 4; current = current.cause, depth++) {
    if (typeof current.code === 'string') return current.code;
  }
  return undefined;
}

/** The first non-empty string among `fields` of a JSON error body, shortened; never a record. */
export function serverMessageOf(
  body: string,
  fields: (parsed: Record<string, unknown>) => unknown[],
): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (!isObject(parsed)) return undefined;
  const message = fields(parsed).find((value): value is string => typeof value === 'string' && value.length > 0);
  return message === undefined ? undefined : message.slice(0, 200);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A policy that refuses nothing needs no guarded connection: the platform's pooled fetch is faster. */
function refusesAnything(policy: SisAddressPolicy): boolean {
  return policy.refuseInternal || policy.refusePrivate;
}
