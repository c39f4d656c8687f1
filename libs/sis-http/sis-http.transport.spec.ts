import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { PERMISSIVE_ADDRESS_POLICY } from './address-policy.js';
import { createGuardedFetch } from './guarded-fetch.js';
import { failure, request, TestError } from './sis-http-request.fake.js';
import { SELF_SIGNED_TLS } from './self-signed-tls.fake.js';
import { fullJitterBackoffMs, parseRetryAfterMs } from './retry-backoff.js';
import { parseServerUrl, positiveInteger } from './server-url.js';
import {
  networkErrorCode,
  pathOf,
  serverMessageOf,
  SisHttpTransport,
  type SisHttpRequestEvent,
  type SisHttpSettings,
} from './sis-http.transport.js';

type Handler = (request: IncomingMessage, response: ServerResponse) => void | Promise<void>;
type Seen = { method: string; path: string; headers: IncomingMessage['headers']; body: string };

const open: Server[] = [];
afterEach(async () => {
  for (const server of open.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A local server on 127.0.0.1 that records what it receives; a handler that throws answers 599. */
async function serve(handler: Handler): Promise<{ url: string; requests: Seen[]; server: Server }> {
  const requests: Seen[] = [];
  const answer = async (request: IncomingMessage, response: ServerResponse) => {
    let body = '';
    for await (const chunk of request) body += String(chunk);
    requests.push({ method: request.method ?? 'GET', path: request.url ?? '/', headers: request.headers, body });
    try {
      await handler(request, response);
    } catch (error) {
      response.writeHead(599).end(String(error));
    }
  };
  const server = createServer((request, response) => void answer(request, response));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  open.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, server };
}

function json(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

/** Answers each request with the next handler in turn; the last one answers every request after. */
function sequence(...handlers: Handler[]): Handler {
  let call = 0;
  return (request, response) => handlers[Math.min(call++, handlers.length - 1)](request, response);
}

const ok: Handler = (_request, response) => json(response, 200, { ok: true }, { 'x-marker': 'yes' });

function transport(settings: SisHttpSettings = {}, attemptsText?: (count: number) => string) {
  const sleeps: number[] = [];
  const events: SisHttpRequestEvent[] = [];
  const instance = new SisHttpTransport(
    {
      maxAttempts: 3,
      backoffBaseMs: 100,
      backoffCapMs: 1_000,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      random: () => 0.5,
      onRequest: (event) => events.push(event),
      ...settings,
    },
    { serverMessageFields: (body) => [body.message, body.error], attemptsText },
  );
  return { instance, sleeps, events };
}

/** A fetch that fails like undici does: a TypeError whose cause carries the system error code. */
function failingFetch(code: string, calls: unknown[] = []): typeof fetch {
  return async (input) => {
    calls.push(input);
    throw new TypeError('fetch failed', { cause: Object.assign(new Error(code), { code }) });
  };
}

describe('SisHttpTransport', () => {
  it('resolves a 2xx with its status, headers and body, sending the method, headers and body given', async () => {
    const server = await serve(ok);
    const { instance, events, sleeps } = transport();
    const response = await instance.send(
      request(`${server.url}/api/things?page=2`, {
        method: 'POST',
        body: 'a=1',
        headers: async () => ({ 'content-type': 'application/x-www-form-urlencoded', authorization: 'Basic abc' }),
      }),
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('x-marker')).toBe('yes');
    expect(JSON.parse(response.body)).toEqual({ ok: true });
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]).toMatchObject({ method: 'POST', path: '/api/things?page=2', body: 'a=1' });
    expect(server.requests[0].headers).toMatchObject({
      authorization: 'Basic abc',
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(sleeps).toEqual([]);
    expect(events).toEqual([
      { path: '/api/things', status: 200, durationMs: expect.any(Number), attempt: 1, willRetry: false },
    ]);
  });

  it('retries 503 with jittered backoff and 429 honouring Retry-After, building the headers for every try', async () => {
    const server = await serve(
      sequence(
        (_request, response) => json(response, 503, {}),
        (_request, response) => json(response, 429, {}, { 'retry-after': '2' }),
        ok,
      ),
    );
    let built = 0;
    const { instance, sleeps, events } = transport();
    const response = await instance.send(
      request(`${server.url}/x`, { headers: async () => ({ authorization: `Bearer t${++built}` }) }),
    );
    expect(response.status).toBe(200);
    expect(sleeps).toEqual([50, 2_000]);
    expect(server.requests.map((entry) => entry.headers.authorization)).toEqual([
      'Bearer t1',
      'Bearer t2',
      'Bearer t3',
    ]);
    expect(events.map(({ status, attempt, willRetry }) => ({ status, attempt, willRetry }))).toEqual([
      { status: 503, attempt: 1, willRetry: true },
      { status: 429, attempt: 2, willRetry: true },
      { status: 200, attempt: 3, willRetry: false },
    ]);
  });

  it('reads Retry-After as an HTTP date against its clock, and caps it at maxRetryAfterMs', async () => {
    const now = Date.parse('2026-03-02T10:00:00Z');
    const server = await serve(
      sequence(
        (_request, response) => json(response, 502, {}, { 'retry-after': 'Mon, 02 Mar 2026 10:00:07 GMT' }),
        (_request, response) => json(response, 503, {}, { 'retry-after': '3600' }),
        ok,
      ),
    );
    const { instance, sleeps } = transport({ now: () => now, maxRetryAfterMs: 10_000 });
    await instance.send(request(`${server.url}/x`));
    expect(sleeps).toEqual([7_000, 10_000]);
  });

  it.each([408, 429, 500, 502, 503, 504])('retries HTTP %i', async (status) => {
    const server = await serve(sequence((_request, response) => json(response, status, {}), ok));
    expect((await transport().instance.send(request(`${server.url}/x`))).status).toBe(200);
    expect(server.requests).toHaveLength(2);
  });

  it('gives up after maxAttempts with RETRIES_EXHAUSTED, backing off exponentially up to the cap', async () => {
    const server = await serve((_request, response) => json(response, 500, {}));
    const { instance, sleeps, events } = transport({ maxAttempts: 5, backoffBaseMs: 100, backoffCapMs: 300 });
    const error = await failure(instance.send(request(`${server.url}/things`)));
    expect(error.code).toBe('SIS_SYNC.SOURCE_RETRIES_EXHAUSTED');
    expect(error.status).toBe(500);
    expect(error.message).toBe('GET /things still failed with HTTP 500 after 5 attempts');
    expect(error.cause).toBeUndefined();
    expect(server.requests).toHaveLength(5);
    expect(sleeps).toEqual([50, 100, 150, 150]);
    expect(events.map((event) => event.willRetry)).toEqual([true, true, true, true, false]);
  });

  it('lets the request override maxAttempts, and words the count through attemptsText', async () => {
    const server = await serve((_request, response) => json(response, 503, {}));
    const single = await failure(transport().instance.send(request(`${server.url}/x`, { maxAttempts: 1 })));
    expect(single.message).toBe('GET /x still failed with HTTP 503 after 1 attempt');
    const custom = transport({}, (count) => `${count} attempts`);
    const worded = await failure(custom.instance.send(request(`${server.url}/x`, { maxAttempts: 1 })));
    expect(worded.message).toBe('GET /x still failed with HTTP 503 after 1 attempts');
    expect(server.requests).toHaveLength(2);
  });

  it('hands any other status to the rejection with the server message read by the dialect, without retrying', async () => {
    const server = await serve(
      sequence(
        (_request, response) => json(response, 404, { message: 'No such thing', error: 'not_found' }),
        (_request, response) => json(response, 400, { error: 'x'.repeat(300) }),
        (_request, response) => {
          response.writeHead(422, { 'content-type': 'text/html' });
          response.end('<html>oops</html>');
        },
      ),
    );
    const { instance, events } = transport();
    const missing = await failure(instance.send(request(`${server.url}/a`)));
    expect(missing).toMatchObject({ code: 'REJECTED', status: 404, message: 'No such thing' });
    const long = await failure(instance.send(request(`${server.url}/b`)));
    expect(long).toMatchObject({ status: 400, message: 'x'.repeat(200) });
    const rejection = (status: number, serverMessage: string | undefined) =>
      new TestError('REJECTED', String(serverMessage), status);
    const html = await failure(instance.send(request(`${server.url}/c`, { rejection })));
    expect(html).toMatchObject({ status: 422, message: 'undefined' });
    expect(server.requests).toHaveLength(3);
    expect(events.map((event) => [event.status, event.willRetry])).toEqual([
      [404, false],
      [400, false],
      [422, false],
    ]);
  });

  it('treats a 401 as a rejection when the request has no unauthorized handling', async () => {
    const server = await serve((_request, response) => json(response, 401, { error: 'invalid_client' }));
    const error = await failure(transport().instance.send(request(`${server.url}/token`)));
    expect(error).toMatchObject({ code: 'REJECTED', status: 401, message: 'invalid_client' });
    expect(server.requests).toHaveLength(1);
  });

  it('renews credentials once on a 401 and sends again; a second 401 is the unauthorized error', async () => {
    const server = await serve((request, response) =>
      request.headers.authorization === 'Bearer fresh' ? ok(request, response) : json(response, 401, {}),
    );
    let token = 'stale';
    let renewals = 0;
    const unauthorized = {
      renew: () => {
        renewals += 1;
        token = 'fresh';
        return true;
      },
      error: (renewed: boolean, path: string) => new TestError('AUTH', `${path} renewed=${renewed}`, 401),
    };
    const { instance, events } = transport();
    const headers = async () => ({ authorization: `Bearer ${token}` });
    expect((await instance.send(request(`${server.url}/data`, { headers, unauthorized }))).status).toBe(200);
    expect(renewals).toBe(1);
    expect(events.map((event) => [event.status, event.willRetry])).toEqual([
      [401, true],
      [200, false],
    ]);

    token = 'revoked';
    unauthorized.renew = () => {
      renewals += 1;
      return true;
    };
    const error = await failure(instance.send(request(`${server.url}/data`, { headers, unauthorized })));
    expect(error).toMatchObject({ code: 'AUTH', status: 401, message: '/data renewed=true' });
    expect(renewals).toBe(2);
  });

  it('throws the unauthorized error at once when the credentials cannot be renewed', async () => {
    const server = await serve((_request, response) => json(response, 401, {}));
    const error = await failure(
      transport().instance.send(
        request(`${server.url}/data`, {
          unauthorized: { renew: () => false, error: (renewed) => new TestError('AUTH', `renewed=${renewed}`, 401) },
        }),
      ),
    );
    expect(error.message).toBe('renewed=false');
    expect(server.requests).toHaveLength(1);
  });

  it('refuses a streamed body past maxResponseBytes after one request, without retrying, and stops reading it', async () => {
    let written = 0;
    let closed = false;
    const server = await serve(async (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.on('close', () => (closed = true));
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      // Up to 64 MiB, far more than the 1 MiB allowed; the client must hang up long before.
      while (!closed && written < 64 * 1024 ** 2) {
        written += chunk.length;
        if (!response.write(chunk)) await new Promise((resolve) => response.once('drain', resolve));
      }
      response.end();
    });
    const { instance, events } = transport({ maxResponseBytes: 1024 ** 2 });
    const error = await failure(instance.send(request(`${server.url}/users`)));
    expect(error.code).toBe('SIS_SYNC.SOURCE_RESPONSE_TOO_LARGE');
    expect(error.message).toBe('GET /users answered with a body larger than 1048576 bytes, the limit');
    expect(server.requests).toHaveLength(1);
    expect(events).toEqual([expect.objectContaining({ status: 200, attempt: 1, willRetry: false })]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(written).toBeLessThan(32 * 1024 ** 2);
  });

  it('refuses a body whose Content-Length is past maxResponseBytes before reading it', async () => {
    const server = await serve((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': String(10 * 1024 ** 2) });
      response.write('{"users":[');
    });
    const { instance } = transport({ maxResponseBytes: 1024 ** 2 });
    const error = await failure(instance.send(request(`${server.url}/users`)));
    expect(error.code).toBe('SIS_SYNC.SOURCE_RESPONSE_TOO_LARGE');
    expect(server.requests).toHaveLength(1);
  });

  it('reads a body of exactly maxResponseBytes, and defaults the limit to 64 MiB', async () => {
    const body = JSON.stringify({ data: 'x'.repeat(1000) });
    const server = await serve((_request, response) => json(response, 200, JSON.parse(body)));
    const { instance } = transport({ maxResponseBytes: Buffer.byteLength(body) });
    expect((await instance.send(request(`${server.url}/x`))).body).toBe(body);
    expect(transport().instance.maxResponseBytes).toBe(64 * 1024 ** 2);
    expect(() => transport({ maxResponseBytes: 0 })).toThrow(/maxResponseBytes/);
  });

  it('times out a try that never answers and retries it', async () => {
    const server = await serve(sequence(() => undefined, ok));
    const { instance, events } = transport({ requestTimeoutMs: 100 });
    expect((await instance.send(request(`${server.url}/slow`))).status).toBe(200);
    expect(events[0]).toMatchObject({ status: 'error', attempt: 1, willRetry: true });
    expect(events[0].durationMs).toBeGreaterThanOrEqual(90);
  });

  it('fails with RETRIES_EXHAUSTED when every try times out, keeping the cause', async () => {
    const server = await serve(() => undefined);
    const { instance } = transport({ requestTimeoutMs: 50, maxAttempts: 2 });
    const error = await failure(instance.send(request(`${server.url}/slow`)));
    expect(error.code).toBe('SIS_SYNC.SOURCE_RETRIES_EXHAUSTED');
    expect(error.message).toBe(`GET ${server.url}/slow failed after 2 attempts: no answer within 50 ms (timed out)`);
    expect(error.status).toBeUndefined();
    expect(error.cause).toBeDefined();
    expect(server.requests).toHaveLength(2);
  });

  it('retries after a connection reset', async () => {
    const server = await serve(sequence((request) => void request.socket.destroy(), ok));
    const { instance, sleeps } = transport();
    expect((await instance.send(request(`${server.url}/x`))).status).toBe(200);
    expect(server.requests).toHaveLength(2);
    expect(sleeps).toEqual([50]);
  });

  it('fails with UNREACHABLE when nothing listens', async () => {
    const { url, server } = await serve(() => undefined);
    open.splice(open.indexOf(server), 1);
    await new Promise((resolve) => server.close(resolve));
    const error = await failure(transport({ maxAttempts: 2 }).instance.send(request(`${url}/x`)));
    expect(error.code).toBe('SIS_SYNC.SOURCE_UNREACHABLE');
    expect(error.message).toBe(`GET ${url}/x failed after 2 attempts: connection refused (ECONNREFUSED)`);
    expect(networkErrorCode(error.cause)).toBe('ECONNREFUSED');
  });

  it('calls a refused connection RETRIES_EXHAUSTED once the server has answered a try', async () => {
    let calls = 0;
    const inner = failingFetch('ECONNREFUSED');
    const fetchOnce: typeof fetch = async (input, init) => {
      calls += 1;
      if (calls === 1) return new Response('{}', { status: 503 });
      return inner(input, init);
    };
    const error = await failure(transport({ fetch: fetchOnce }).instance.send(request('http://sis.invalid/x')));
    expect(error.code).toBe('SIS_SYNC.SOURCE_RETRIES_EXHAUSTED');
    expect(calls).toBe(3);
  });

  it.each([
    ['ENOTFOUND', 'host name not found (DNS)'],
    ['ERR_INVALID_URL', 'invalid URL'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'TLS certificate is not for this host name'],
    ['CERT_HAS_EXPIRED', 'TLS certificate expired'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'TLS certificate not trusted: self-signed'],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'TLS certificate not trusted: unknown issuer'],
  ])('fails with UNREACHABLE at once, without retrying, on %s', async (code, cause) => {
    const calls: unknown[] = [];
    const { instance, sleeps, events } = transport({ fetch: failingFetch(code, calls) });
    const error = await failure(instance.send(request('http://sis.invalid/x')));
    expect(error.code).toBe('SIS_SYNC.SOURCE_UNREACHABLE');
    expect(error.message).toBe(`GET http://sis.invalid/x failed: ${cause} (${code})`);
    expect(calls).toHaveLength(1);
    expect(sleeps).toEqual([]);
    expect(events).toMatchObject([{ status: 'error', willRetry: false }]);
  });

  it('calls an unknown network failure RETRIES_EXHAUSTED', async () => {
    const fetchFails: typeof fetch = async () => {
      throw new Error('socket hang up');
    };
    const error = await failure(transport({ fetch: fetchFails }).instance.send(request('http://sis.invalid/x')));
    expect(error.code).toBe('SIS_SYNC.SOURCE_RETRIES_EXHAUSTED');
    expect(error.message).toBe('GET http://sis.invalid/x failed after 3 attempts: network error (socket hang up)');
  });

  it("stops at once with the signal's reason when the caller aborts, without retrying", async () => {
    const server = await serve(() => undefined);
    const controller = new AbortController();
    const { instance, events } = transport({ requestTimeoutMs: 5_000 });
    const sending = instance.send(request(`${server.url}/x`, { signal: controller.signal }));
    setTimeout(() => controller.abort(new Error('run cancelled')), 30);
    await expect(sending).rejects.toThrow('run cancelled');
    expect(server.requests).toHaveLength(1);
    expect(events).toMatchObject([{ status: 'error', willRetry: false }]);
  });

  it('sends nothing when the signal is already aborted', async () => {
    const calls: unknown[] = [];
    const { instance } = transport({ fetch: failingFetch('ECONNRESET', calls) });
    const signal = AbortSignal.abort(new Error('gone'));
    await expect(instance.send(request('http://sis.invalid/x', { signal }))).rejects.toThrow('gone');
    expect(calls).toEqual([]);
  });

  it('passes the signal to the backoff sleep', async () => {
    const server = await serve(sequence((_request, response) => json(response, 503, {}), ok));
    const signals: (AbortSignal | undefined)[] = [];
    const controller = new AbortController();
    const { instance } = transport({
      sleep: async (_ms, signal) => {
        signals.push(signal);
      },
    });
    await instance.send(request(`${server.url}/x`, { signal: controller.signal }));
    expect(signals).toEqual([controller.signal]);
  });

  it('validates its settings', () => {
    const dialect = { serverMessageFields: () => [] };
    expect(() => new SisHttpTransport({ requestTimeoutMs: 0 }, dialect)).toThrow('requestTimeoutMs must be');
    expect(() => new SisHttpTransport({ maxAttempts: 1.5 }, dialect)).toThrow('maxAttempts must be');
    const defaults = new SisHttpTransport({}, dialect);
    expect([defaults.requestTimeoutMs, defaults.maxAttempts]).toEqual([30_000, 6]);
  });
});

/** A port nothing listens on: one a server just gave back. */
async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('SisHttpTransport failure messages name the server and the cause, never a secret', () => {
  const fetches = [
    ['the platform fetch', undefined],
    ['the guarded fetch', createGuardedFetch(PERMISSIVE_ADDRESS_POLICY)],
  ] as const;

  it.each(fetches)('a closed port is "connection refused" with %s', async (_label, fetch) => {
    const port = await closedPort();
    const { instance } = transport({ fetch, maxAttempts: 2 });
    const error = await failure(
      instance.send(request(`http://127.0.0.1:${port}/oauth/token?client_secret=s3cret`, { method: 'POST' })),
    );
    expect(error.code).toBe('SIS_SYNC.SOURCE_UNREACHABLE');
    expect(error.message).toBe(
      `POST http://127.0.0.1:${port}/oauth/token failed after 2 attempts: connection refused (ECONNREFUSED)`,
    );
  });

  it.each(fetches)(
    'an unresolvable host is "host name not found", without retrying, with %s',
    async (_label, fetch) => {
      const calls: unknown[] = [];
      const counting: typeof globalThis.fetch = (input, init) => {
        calls.push(input);
        return (fetch ?? globalThis.fetch)(input, init);
      };
      const { instance } = transport({ fetch: counting });
      const error = await failure(instance.send(request('https://sis.homeroom-test.invalid/ims/oneroster/users')));
      expect(error.code).toBe('SIS_SYNC.SOURCE_UNREACHABLE');
      // A resolver without network access answers EAI_AGAIN (retried) rather than ENOTFOUND.
      expect(error.message).toMatch(
        /^GET https:\/\/sis\.homeroom-test\.invalid\/ims\/oneroster\/users failed(: host name not found \(DNS\) \(ENOTFOUND\)| after 3 attempts: DNS lookup failed, try again later \(EAI_AGAIN\))$/,
      );
    },
  );

  it.each(fetches)('a self-signed certificate is named, without retrying, with %s', async (_label, fetch) => {
    const server = createHttpsServer(SELF_SIGNED_TLS, (_request, response) => response.end('{}'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    open.push(server);
    const { port } = server.address() as AddressInfo;
    const { instance, events } = transport({ fetch });
    const error = await failure(instance.send(request(`https://127.0.0.1:${port}/ims`)));
    expect(error.code).toBe('SIS_SYNC.SOURCE_UNREACHABLE');
    expect(error.message).toBe(
      `GET https://127.0.0.1:${port}/ims failed: TLS certificate not trusted: self-signed (DEPTH_ZERO_SELF_SIGNED_CERT)`,
    );
    expect(events).toHaveLength(1);
  });

  it('https to a plain-http server is a TLS handshake failure', async () => {
    const server = await serve(ok);
    const { instance } = transport({ maxAttempts: 1 });
    const error = await failure(instance.send(request(server.url.replace('http:', 'https:') + '/x')));
    expect(error.message).toMatch(
      /^GET https:\/\/127\.0\.0\.1:\d+\/x failed: TLS handshake failed \(ERR_SSL_[A-Z_]+\)$/,
    );
  });

  it.each(fetches)('a connection the server drops is said so with %s', async (_label, fetch) => {
    const server = await serve((incoming) => void incoming.socket.destroy());
    const { instance } = transport({ fetch, maxAttempts: 2 });
    const error = await failure(instance.send(request(`${server.url}/x`)));
    expect(error.code).toBe('SIS_SYNC.SOURCE_RETRIES_EXHAUSTED');
    expect(error.message).toMatch(
      /^GET http:\/\/127\.0\.0\.1:\d+\/x failed after 2 attempts: connection (reset|closed) by the server \((ECONNRESET|UND_ERR_SOCKET)\)$/,
    );
  });

  it('never shows credentials or the query string of the URL', async () => {
    const port = await closedPort();
    const { instance } = transport({ fetch: createGuardedFetch(PERMISSIVE_ADDRESS_POLICY), maxAttempts: 1 });
    const error = await failure(
      instance.send(request(`http://user:pa55word@127.0.0.1:${port}/token?client_secret=s3cret#frag`)),
    );
    expect(error.message).toBe(
      `GET http://127.0.0.1:${port}/token failed after 1 attempt: connection refused (ECONNREFUSED)`,
    );
    expect(error.message).not.toMatch(/pa55word|s3cret|frag/);
  });
});

describe('sis-http helpers', () => {
  it('draws the backoff below base·2^(n−1), never above the cap', () => {
    const half = () => 0.5;
    expect([0, 1, 2, 3, 4, 5].map((attempt) => fullJitterBackoffMs(attempt, 100, 1_000, half))).toEqual([
      50, 50, 100, 200, 400, 500,
    ]);
    expect(fullJitterBackoffMs(40, 100, 1_000, () => 0.999_999)).toBe(999);
  });

  it('reads Retry-After with surrounding spaces, zero seconds, and a date already past', () => {
    const now = Date.parse('2026-03-02T10:00:00Z');
    expect(parseRetryAfterMs(' 7 ', now)).toBe(7_000);
    expect(parseRetryAfterMs('0', now)).toBe(0);
    expect(parseRetryAfterMs('Mon, 02 Mar 2026 09:59:59 GMT', now)).toBe(0);
    expect(parseRetryAfterMs('', now)).toBeUndefined();
  });

  it('finds a network error code on the error or a few causes down', () => {
    const deep = (levels: number) => {
      let error: unknown = Object.assign(new Error('root'), { code: 'ECONNRESET' });
      for (let level = 0; level < levels; level++) error = new Error('wrap', { cause: error });
      return error;
    };
    expect(networkErrorCode(deep(0))).toBe('ECONNRESET');
    expect(networkErrorCode(deep(3))).toBe('ECONNRESET');
    expect(networkErrorCode(deep(4))).toBeUndefined();
    expect(networkErrorCode('ECONNRESET')).toBeUndefined();
  });

  it('reads the server message from the fields a dialect names, never from a non-object body', () => {
    const fields = (body: Record<string, unknown>) => [body.message, body.error];
    expect(serverMessageOf('{"message":"","error":"bad"}', fields)).toBe('bad');
    expect(serverMessageOf('{"message":42}', fields)).toBeUndefined();
    expect(serverMessageOf('["bad"]', fields)).toBeUndefined();
    expect(serverMessageOf('not json', fields)).toBeUndefined();
  });

  it('keeps the path of a URL only', () => {
    expect(pathOf('https://sis.example/ims/users?limit=2#x')).toBe('/ims/users');
    expect(pathOf('not a url')).toBe('');
  });

  it('normalises a server URL and refuses what is not one', () => {
    const fail = (message: string) => new Error(message);
    expect(parseServerUrl('https://sis.example/base//?q=1#f', 'SIS base URL', fail)).toBe('https://sis.example/base');
    expect(() => parseServerUrl('sis.example', 'SIS base URL', fail)).toThrow('The SIS base URL is not a valid URL');
    expect(() => parseServerUrl('ftp://sis.example', 'SIS base URL', fail)).toThrow('The SIS base URL must be http(s)');
    expect(() => parseServerUrl('https://u:p@sis.example', 'SIS base URL', fail)).toThrow(
      'The SIS base URL must not contain credentials',
    );
  });

  it('accepts whole numbers of at least 1 only', () => {
    expect(positiveInteger(3, 'pageSize')).toBe(3);
    expect(() => positiveInteger(0, 'pageSize')).toThrow(new RangeError('pageSize must be a positive integer'));
    expect(() => positiveInteger(Number.NaN, 'pageSize')).toThrow(RangeError);
  });
});
