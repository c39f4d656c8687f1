import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { oauth1AuthorizationHeader } from './oauth1.js';
import { dateLastModifiedSinceFilter } from './oneroster-filter.js';
import {
  OneRosterRestClient,
  type OneRosterRestClientOptions,
  type OneRosterRequestEvent,
} from './oneroster-rest.client.js';
import { OneRosterError } from './oneroster.error.js';
import { fullJitterBackoffMs, parseRetryAfterMs } from './retry-backoff.js';

type Handler = (request: IncomingMessage, response: ServerResponse, url: URL) => void | Promise<void>;

interface TestServer {
  baseUrl: string;
  origin: string;
  requests: URL[];
  close(): Promise<void>;
}

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function serve(handler: Handler): Promise<TestServer> {
  const requests: URL[] = [];
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    requests.push(url);
    void Promise.resolve(handler(request, response, url)).catch((error: unknown) => {
      response.statusCode = 599;
      response.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const testServer: TestServer = {
    origin,
    baseUrl: `${origin}/ims/oneroster/v1p1`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  servers.push(testServer);
  return testServer;
}

function json(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

function users(count: number, from = 0) {
  return Array.from({ length: count }, (_, index) => ({ sourcedId: `u${from + index}`, givenName: 'Sam' }));
}

/** A conforming `users` listing over `count` records; `cap` limits the page size like a server maximum. */
function usersListing(count: number, options: { total?: boolean; cap?: number } = {}): Handler {
  return (_request, response, url) => {
    const limit = Math.min(Number(url.searchParams.get('limit')), options.cap ?? Number.POSITIVE_INFINITY);
    const offset = Number(url.searchParams.get('offset'));
    const page = users(Math.max(0, Math.min(limit, count - offset)), offset);
    json(response, 200, { users: page }, options.total === false ? {} : { 'x-total-count': String(count) });
  };
}

function client(server: TestServer, options: Partial<OneRosterRestClientOptions> = {}) {
  const sleeps: number[] = [];
  const events: OneRosterRequestEvent[] = [];
  const instance = new OneRosterRestClient({
    baseUrl: server.baseUrl,
    version: '1.1',
    auth: { type: 'none' },
    pageSize: 2,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    onRequest: (event) => events.push(event),
    ...options,
  });
  return { client: instance, sleeps, events };
}

async function collect(pages: AsyncIterable<unknown[]>): Promise<unknown[][]> {
  const result: unknown[][] = [];
  for await (const page of pages) result.push(page);
  return result;
}

async function failure(promise: Promise<unknown>): Promise<OneRosterError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(OneRosterError);
  return error as OneRosterError;
}

const ids = (pages: unknown[][]) =>
  pages.map((page) => page.map((record) => (record as { sourcedId: string }).sourcedId));

describe('OneRosterRestClient paging', () => {
  it('pages by limit and offset until a short page, in order', async () => {
    const server = await serve(usersListing(5));
    const { client: rest } = client(server);
    const pages = await collect(rest.listPages('users'));
    expect(ids(pages)).toEqual([['u0', 'u1'], ['u2', 'u3'], ['u4']]);
    expect(
      server.requests.map((url) => [url.pathname, url.searchParams.get('limit'), url.searchParams.get('offset')]),
    ).toEqual([
      ['/ims/oneroster/v1p1/users', '2', '0'],
      ['/ims/oneroster/v1p1/users', '2', '2'],
      ['/ims/oneroster/v1p1/users', '2', '4'],
    ]);
  });

  it('stops on an empty page when the last page was full', async () => {
    const server = await serve(usersListing(4));
    const pages = await collect(client(server).client.listPages('users'));
    expect(ids(pages)).toEqual([
      ['u0', 'u1'],
      ['u2', 'u3'],
    ]);
    expect(server.requests.map((url) => url.searchParams.get('offset'))).toEqual(['0', '2', '4']);
  });

  it('stops on a short page when the server sends no total', async () => {
    const server = await serve(usersListing(3, { total: false }));
    const pages = await collect(client(server).client.listPages('users'));
    expect(ids(pages)).toEqual([['u0', 'u1'], ['u2']]);
  });

  it('keeps going by offset when a page is short but the total says more remain (server page cap)', async () => {
    const server = await serve(usersListing(7, { cap: 3 }));
    const pages = await collect(client(server, { pageSize: 5 }).client.listPages('users'));
    expect(ids(pages).flat()).toEqual(['u0', 'u1', 'u2', 'u3', 'u4', 'u5', 'u6']);
    expect(server.requests.map((url) => url.searchParams.get('offset'))).toEqual(['0', '3', '6']);
  });

  it('fails with SOURCE_INCOMPLETE_LISTING when fewer records arrive than X-Total-Count', async () => {
    const server = await serve((_request, response, url) => {
      const offset = Number(url.searchParams.get('offset'));
      json(
        response,
        200,
        { users: offset === 0 ? users(2) : offset === 2 ? users(1, 2) : [] },
        { 'x-total-count': '5' },
      );
    });
    const error = await failure(collect(client(server, { pageSize: 2 }).client.listPages('users')));
    expect(error.code).toBe('SIS_SYNC.SOURCE_INCOMPLETE_LISTING');
    expect(error.message).toContain('3 records');
    expect(error.message).toContain('5');
    expect(error.collection).toBe('users');
  });

  it('fails with SOURCE_INCOMPLETE_LISTING when the total changes during the listing', async () => {
    const server = await serve((_request, response, url) => {
      const offset = Number(url.searchParams.get('offset'));
      json(response, 200, { users: users(2, offset) }, { 'x-total-count': offset === 0 ? '6' : '7' });
    });
    const error = await failure(collect(client(server).client.listPages('users')));
    expect(error.code).toBe('SIS_SYNC.SOURCE_INCOMPLETE_LISTING');
  });

  it('fails when the dataset revision (x-perm-rev) moves between pages', async () => {
    const server = await serve((_request, response, url) => {
      const offset = Number(url.searchParams.get('offset'));
      json(
        response,
        200,
        { users: users(2, offset) },
        { 'x-total-count': '6', 'x-perm-rev': offset === 0 ? '1' : '2' },
      );
    });
    const error = await failure(collect(client(server).client.listPages('users')));
    expect(error.code).toBe('SIS_SYNC.SOURCE_INCOMPLETE_LISTING');
  });

  it('refuses a server that repeats the previous page', async () => {
    const server = await serve((_request, response) => json(response, 200, { users: users(2) }));
    const error = await failure(collect(client(server).client.listPages('users')));
    expect(error.code).toBe('SIS_SYNC.SOURCE_PROTOCOL_ERROR');
    expect(error.message).toContain('same page');
    expect(server.requests).toHaveLength(2);
  });

  it('refuses a Link rel=next that points back at the page just read', async () => {
    const server = await serve((request, response, url) => {
      json(
        response,
        200,
        { users: users(2, Number(url.searchParams.get('offset'))) },
        {
          link: `<${request.url}>; rel="next", <${request.url}>; rel="last"`,
        },
      );
    });
    const error = await failure(collect(client(server).client.listPages('users')));
    expect(error.code).toBe('SIS_SYNC.SOURCE_PROTOCOL_ERROR');
    expect(error.message).toContain('next link');
  });

  it('refuses more pages than total/limit + 2', async () => {
    const server = await serve((_request, response, url) => {
      json(response, 200, { users: users(2, Number(url.searchParams.get('offset'))) }, { 'x-total-count': '4' });
    });
    const error = await failure(collect(client(server).client.listPages('users')));
    expect(error.code).toBe('SIS_SYNC.SOURCE_PROTOCOL_ERROR');
    expect(error.message).toContain('more than 4 pages');
    expect(server.requests).toHaveLength(5);
  });

  it('fetches later pages concurrently once the total is known, at most `concurrency` at a time, yielding in order', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const listing = usersListing(19);
    const server = await serve(async (request, response, url) => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const offset = Number(url.searchParams.get('offset'));
      // Later pages answer sooner, so in-order delivery is really tested.
      await new Promise((resolve) => setTimeout(resolve, 40 - (offset % 8) * 5));
      inFlight -= 1;
      await listing(request, response, url);
    });
    const pages = await collect(client(server).client.listPages('users', { concurrency: 3 }));
    expect(ids(pages).flat()).toEqual(users(19).map((user) => user.sourcedId));
    expect(maxInFlight).toBe(3);
  });

  it('drops pages fetched ahead and continues by offset after a short page in the middle', async () => {
    const server = await serve((_request, response, url) => {
      const offset = Number(url.searchParams.get('offset'));
      const size = offset === 2 ? 1 : Math.max(0, Math.min(2, 6 - offset));
      json(response, 200, { users: users(size, offset) }, { 'x-total-count': '6' });
    });
    const pages = await collect(client(server).client.listPages('users', { concurrency: 3 }));
    expect(ids(pages).flat()).toEqual(['u0', 'u1', 'u2', 'u3', 'u4', 'u5']);
    expect(server.requests.map((url) => url.searchParams.get('offset'))).toEqual(expect.arrayContaining(['3', '5']));
  });

  it('stays serial without a total, whatever the concurrency', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const listing = usersListing(7, { total: false });
    const server = await serve(async (request, response, url) => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight -= 1;
      await listing(request, response, url);
    });
    const pages = await collect(client(server).client.listPages('users', { concurrency: 4 }));
    expect(pages.flat()).toHaveLength(7);
    expect(maxInFlight).toBe(1);
  });

  it('sends the delta filter URL-encoded and full-precision', async () => {
    const server = await serve(usersListing(1));
    const filter = dateLastModifiedSinceFilter(new Date('2026-01-01T00:00:00Z'));
    await collect(client(server).client.listPages('users', { filter }));
    expect(filter).toBe("dateLastModified>='2026-01-01T00:00:00.000Z'");
    expect(server.requests[0].searchParams.get('filter')).toBe(filter);
    expect(server.requests[0].search).toContain('filter=dateLastModified%3E%3D%272026-01-01T00%3A00%3A00.000Z%27');
  });
});

describe('OneRosterRestClient failures and retries', () => {
  it('retries 503 and 429, honouring Retry-After in seconds, and reports every exchange', async () => {
    let calls = 0;
    const listing = usersListing(1);
    const server = await serve(async (request, response, url) => {
      calls += 1;
      if (calls === 1) return json(response, 503, {});
      if (calls === 2) return json(response, 429, {}, { 'retry-after': '2' });
      return listing(request, response, url);
    });
    const { client: rest, sleeps, events } = client(server);
    const pages = await collect(rest.listPages('users'));
    expect(pages.flat()).toHaveLength(1);
    expect(sleeps).toEqual([250, 2000]);
    expect(events.map(({ status, attempt, willRetry, path }) => ({ status, attempt, willRetry, path }))).toEqual([
      { status: 503, attempt: 1, willRetry: true, path: '/ims/oneroster/v1p1/users' },
      { status: 429, attempt: 2, willRetry: true, path: '/ims/oneroster/v1p1/users' },
      { status: 200, attempt: 3, willRetry: false, path: '/ims/oneroster/v1p1/users' },
    ]);
  });

  it('honours Retry-After as an HTTP date', async () => {
    let calls = 0;
    const listing = usersListing(1);
    const now = Date.parse('2026-03-02T10:00:00Z');
    const server = await serve(async (request, response, url) => {
      calls += 1;
      if (calls === 1) return json(response, 502, {}, { 'retry-after': 'Mon, 02 Mar 2026 10:00:07 GMT' });
      return listing(request, response, url);
    });
    const { client: rest, sleeps } = client(server, { now: () => now });
    await collect(rest.listPages('users'));
    expect(sleeps).toEqual([7000]);
  });

  it('gives up with SOURCE_RETRIES_EXHAUSTED after maxAttempts, backing off exponentially', async () => {
    const server = await serve((_request, response) => json(response, 500, {}));
    const { client: rest, sleeps } = client(server, { maxAttempts: 4, backoffBaseMs: 100, backoffCapMs: 300 });
    const error = await failure(collect(rest.listPages('users')));
    expect(error.code).toBe('SIS_SYNC.SOURCE_RETRIES_EXHAUSTED');
    expect(error.status).toBe(500);
    expect(server.requests).toHaveLength(4);
    expect(sleeps).toEqual([50, 100, 150]);
  });

  it.each([
    [400, 'SIS_SYNC.SOURCE_PROTOCOL_ERROR'],
    [404, 'SIS_SYNC.SOURCE_PROTOCOL_ERROR'],
    [403, 'SIS_SYNC.SOURCE_FORBIDDEN'],
    [401, 'SIS_SYNC.SOURCE_AUTH_FAILED'],
  ])('does not retry HTTP %i and classifies it as %s', async (status, code) => {
    const server = await serve((_request, response) =>
      json(response, status, { imsx_codeMajor: 'failure', imsx_description: 'no such thing' }),
    );
    const error = await failure(collect(client(server).client.listPages('demographics')));
    expect(error.code).toBe(code);
    expect(error.status).toBe(status);
    expect(error.collection).toBe('demographics');
    expect(server.requests).toHaveLength(1);
  });

  it('times out a request that never answers and retries it', async () => {
    let calls = 0;
    const listing = usersListing(1);
    const server = await serve(async (request, response, url) => {
      calls += 1;
      if (calls === 1) return; // never answers
      return listing(request, response, url);
    });
    const { client: rest, events } = client(server, { requestTimeoutMs: 100 });
    const pages = await collect(rest.listPages('users'));
    expect(pages.flat()).toHaveLength(1);
    expect(events[0]).toMatchObject({ status: 'error', willRetry: true, attempt: 1 });
    expect(events[0].durationMs).toBeGreaterThanOrEqual(90);
  });

  it('fails with SOURCE_RETRIES_EXHAUSTED when every try times out', async () => {
    const server = await serve(() => undefined);
    const error = await failure(
      collect(client(server, { requestTimeoutMs: 50, maxAttempts: 2 }).client.listPages('users')),
    );
    expect(error.code).toBe('SIS_SYNC.SOURCE_RETRIES_EXHAUSTED');
    expect(error.message).toContain('timed out');
    expect(server.requests).toHaveLength(2);
  });

  it('retries after a connection reset', async () => {
    let calls = 0;
    const listing = usersListing(1);
    const server = await serve(async (request, response, url) => {
      calls += 1;
      if (calls === 1) return void request.socket.destroy();
      return listing(request, response, url);
    });
    const pages = await collect(client(server).client.listPages('users'));
    expect(pages.flat()).toHaveLength(1);
    expect(server.requests).toHaveLength(2);
  });

  it('fails with SOURCE_UNREACHABLE when nothing listens', async () => {
    const server = await serve(() => undefined);
    await server.close();
    servers.splice(servers.indexOf(server), 1);
    const error = await failure(collect(client(server, { maxAttempts: 2 }).client.listPages('users')));
    expect(error.code).toBe('SIS_SYNC.SOURCE_UNREACHABLE');
    expect(error.message).toBe(
      `GET ${server.baseUrl}/users failed after 2 attempts: connection refused (ECONNREFUSED)`,
    );
    const single = await failure(collect(client(server, { maxAttempts: 1 }).client.listPages('users')));
    expect(single.message).toMatch(/ failed after 1 attempt: connection refused/);
  });

  it("stops at once when the caller's signal aborts", async () => {
    const server = await serve(() => undefined);
    const controller = new AbortController();
    const pages = collect(
      client(server, { requestTimeoutMs: 5_000 }).client.listPages('users', { signal: controller.signal }),
    );
    setTimeout(() => controller.abort(new Error('run cancelled')), 30);
    await expect(pages).rejects.toThrow('run cancelled');
    expect(server.requests).toHaveLength(1);
  });

  it.each([
    ['not JSON', (response: ServerResponse) => response.end('<html>Sign in</html>')],
    ['without the envelope key', (response: ServerResponse) => json(response, 200, { students: [] })],
    [
      'with the envelope key not an array',
      (response: ServerResponse) => json(response, 200, { users: { sourcedId: 'u1' } }),
    ],
  ])('fails with SOURCE_MALFORMED_PAGE on a 200 %s', async (_case, answer) => {
    const server = await serve((_request, response) => answer(response));
    const error = await failure(collect(client(server).client.listPages('users')));
    expect(error.code).toBe('SIS_SYNC.SOURCE_MALFORMED_PAGE');
    expect(server.requests).toHaveLength(1);
  });
});

describe('OneRosterRestClient OAuth 2.0 client credentials', () => {
  interface TokenServer {
    server: TestServer;
    tokenRequests: { authorization?: string; body: string }[];
    issued: string[];
  }

  async function tokenServer(
    pages: Handler,
    options: { expiresIn?: unknown; tokenStatus?: number } = {},
  ): Promise<TokenServer> {
    const tokenRequests: TokenServer['tokenRequests'] = [];
    const issued: string[] = [];
    const server = await serve(async (request, response, url) => {
      if (url.pathname === '/oauth2/token') {
        let body = '';
        for await (const chunk of request) body += String(chunk);
        tokenRequests.push({ authorization: request.headers.authorization, body });
        if (options.tokenStatus) return json(response, options.tokenStatus, { error: 'invalid_client' });
        const token = `token-${issued.length + 1}`;
        issued.push(token);
        return json(response, 200, {
          access_token: token,
          token_type: 'bearer',
          expires_in: options.expiresIn ?? 3600,
        });
      }
      return pages(request, response, url);
    });
    return { server, tokenRequests, issued };
  }

  const oauth2 = (server: TestServer) => ({
    type: 'oauth2' as const,
    tokenUrl: `${server.origin}/oauth2/token?appName=homeroom`,
    clientId: 'client-1',
    clientSecret: 's3cret',
    scope: 'https://purl.imsglobal.org/spec/or/v1p1/scope/roster.readonly',
  });

  it('requests a token with Basic auth and a client_credentials form, then reuses it across pages', async () => {
    const seen: (string | undefined)[] = [];
    const listing = usersListing(5);
    const { server, tokenRequests } = await tokenServer((request, response, url) => {
      seen.push(request.headers.authorization);
      return listing(request, response, url);
    });
    await collect(client(server, { auth: oauth2(server) }).client.listPages('users'));
    expect(tokenRequests).toHaveLength(1);
    expect(tokenRequests[0].authorization).toBe(`Basic ${Buffer.from('client-1:s3cret').toString('base64')}`);
    expect(Object.fromEntries(new URLSearchParams(tokenRequests[0].body))).toEqual({
      grant_type: 'client_credentials',
      scope: 'https://purl.imsglobal.org/spec/or/v1p1/scope/roster.readonly',
    });
    expect(seen).toEqual(['Bearer token-1', 'Bearer token-1', 'Bearer token-1']);
  });

  it('refreshes the token shortly before expires_in (given as a string)', async () => {
    let now = 1_000_000;
    const listing = usersListing(1);
    const { server, tokenRequests } = await tokenServer(listing, { expiresIn: '600' });
    const { client: rest } = client(server, { auth: oauth2(server), now: () => now });
    await collect(rest.listPages('users'));
    now += 500_000; // still more than the 60 s margin before expiry
    await collect(rest.listPages('users'));
    expect(tokenRequests).toHaveLength(1);
    now += 45_000; // inside the margin
    await collect(rest.listPages('users'));
    expect(tokenRequests).toHaveLength(2);
  });

  it('refreshes the token once on a 401 and retries the page', async () => {
    const listing = usersListing(1);
    const { server, tokenRequests } = await tokenServer((request, response, url) => {
      if (request.headers.authorization === 'Bearer token-1') return json(response, 401, {});
      return listing(request, response, url);
    });
    const pages = await collect(client(server, { auth: oauth2(server) }).client.listPages('users'));
    expect(pages.flat()).toHaveLength(1);
    expect(tokenRequests).toHaveLength(2);
  });

  it('fails with SOURCE_AUTH_FAILED on a second 401', async () => {
    const { server, tokenRequests } = await tokenServer((_request, response) => json(response, 401, {}));
    const error = await failure(collect(client(server, { auth: oauth2(server) }).client.listPages('users')));
    expect(error.code).toBe('SIS_SYNC.SOURCE_AUTH_FAILED');
    expect(tokenRequests).toHaveLength(2);
    expect(error.message).not.toContain('token-');
    expect(error.message).not.toContain('s3cret');
  });

  it('fails with SOURCE_AUTH_FAILED when the token endpoint refuses the client', async () => {
    const { server } = await tokenServer(usersListing(1), { tokenStatus: 401 });
    const error = await failure(collect(client(server, { auth: oauth2(server) }).client.listPages('users')));
    expect(error.code).toBe('SIS_SYNC.SOURCE_AUTH_FAILED');
    expect(error.message).not.toContain('s3cret');
  });
});

describe('OneRosterRestClient OAuth 1.0a', () => {
  it('signs every request over all its query parameters with a fresh nonce', async () => {
    const nonces: string[] = [];
    const listing = usersListing(3);
    const server = await serve((request, response, url) => {
      const header = request.headers.authorization ?? '';
      const params = Object.fromEntries(
        [...header.matchAll(/(\w+)="([^"]*)"/g)].map(([, name, value]) => [name, decodeURIComponent(value)]),
      );
      nonces.push(params.oauth_nonce);
      const expected = oauth1AuthorizationHeader({
        method: 'GET',
        url: `http://${request.headers.host}${request.url}`,
        consumerKey: 'key-1',
        consumerSecret: 'secret-1',
        timestamp: Number(params.oauth_timestamp),
        nonce: params.oauth_nonce,
      });
      if (header !== expected) return json(response, 401, {});
      return listing(request, response, url);
    });
    const filter = "status='active' AND role='student'";
    const { client: rest } = client(server, {
      auth: { type: 'oauth1', consumerKey: 'key-1', consumerSecret: 'secret-1' },
      now: () => 1_700_000_000_000,
    });
    const pages = await collect(rest.listPages('users', { filter }));
    expect(pages.flat()).toHaveLength(3);
    expect(server.requests[0].searchParams.get('filter')).toBe(filter);
    expect(server.requests[0].search).toContain('%20AND%20');
    expect(new Set(nonces).size).toBe(nonces.length);
  });
});

describe('retry backoff', () => {
  it('draws full jitter below a capped exponential ceiling', () => {
    expect([1, 2, 3, 4, 5, 10].map((attempt) => fullJitterBackoffMs(attempt, 500, 30_000, () => 0.999))).toEqual([
      499, 999, 1998, 3996, 7992, 29970,
    ]);
    expect(fullJitterBackoffMs(3, 500, 30_000, () => 0)).toBe(0);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-03-02T10:00:00Z');
    expect(parseRetryAfterMs('120', now)).toBe(120_000);
    expect(parseRetryAfterMs('Mon, 02 Mar 2026 10:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfterMs('Mon, 02 Mar 2026 09:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfterMs('soon', now)).toBeUndefined();
    expect(parseRetryAfterMs(null, now)).toBeUndefined();
  });
});
