import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { inOrderBounded } from './bounded-concurrency.js';
import {
  PowerSchoolClient,
  type PowerSchoolClientOptions,
  type PowerSchoolRequestEvent,
} from './powerschool.client.js';
import { PowerSchoolError } from './powerschool.error.js';

type Handler = (request: IncomingMessage, response: ServerResponse, url: URL, body: string) => void | Promise<void>;

interface TestServer {
  url: string;
  requests: { method: string; url: URL; authorization: string | undefined; body: string }[];
  close(): Promise<void>;
}

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function serve(data: Handler): Promise<TestServer> {
  const requests: TestServer['requests'] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: request.method ?? 'GET', url, authorization: request.headers.authorization, body });
      if (url.pathname === '/oauth/access_token') {
        json(response, 200, { access_token: `token-${requests.length}`, token_type: 'Bearer', expires_in: '1814400' });
        return;
      }
      void Promise.resolve(data(request, response, url, body)).catch((error: unknown) => {
        response.statusCode = 599;
        response.end(String(error));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const testServer: TestServer = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
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

/** `/ws/v1/metadata` with a student maximum of `max`, and a student listing of `count` records. */
function district(count: number, options: { max?: number; countBody?: (actual: number) => unknown } = {}): Handler {
  return (_request, response, url) => {
    if (url.pathname === '/ws/v1/metadata') {
      json(response, 200, {
        metadata: { student_max_page_size: String(options.max ?? 2), powerschool_version: '25.2' },
      });
      return;
    }
    if (url.pathname === '/ws/v1/school/7/student/count') {
      json(response, 200, options.countBody ? options.countBody(count) : { resource: { count } });
      return;
    }
    if (url.pathname === '/ws/v1/school/7/student') {
      const size = Number(url.searchParams.get('pagesize'));
      const page = Number(url.searchParams.get('page'));
      const ids = Array.from({ length: count }, (_, index) => 1001 + index).slice((page - 1) * size, page * size);
      const records = ids.map((id) => ({ id, local_id: String(id + 50_000) }));
      json(response, 200, {
        students: records.length === 0 ? '' : { student: records.length === 1 ? records[0] : records },
      });
      return;
    }
    json(response, 404, { message: 'Not found' });
  };
}

function client(server: TestServer, options: Partial<PowerSchoolClientOptions> = {}) {
  const sleeps: number[] = [];
  const events: PowerSchoolRequestEvent[] = [];
  const tokens: (Date | null)[] = [];
  const instance = new PowerSchoolClient({
    baseUrl: server.url,
    clientId: 'plugin',
    clientSecret: 's3cret',
    requestTimeoutMs: 2_000,
    maxAttempts: 3,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    onRequest: (event) => events.push(event),
    onToken: (event) => tokens.push(event.expiresAt),
    ...options,
  });
  return { instance, sleeps, events, tokens };
}

const students = { resource: 'students' as const, path: '/ws/v1/school/7/student' };

async function collect(source: AsyncIterable<Record<string, unknown>[]>): Promise<Record<string, unknown>[]> {
  const all: Record<string, unknown>[] = [];
  for await (const page of source) all.push(...page);
  return all;
}

describe('PowerSchoolClient', () => {
  it('gets one token with Basic client credentials, caches it, and reads expires_in given as a string', async () => {
    const server = await serve(district(5));
    const { instance, tokens } = client(server);
    expect(await collect(instance.listPages(students))).toHaveLength(5);
    const tokenRequests = server.requests.filter((request) => request.url.pathname === '/oauth/access_token');
    expect(tokenRequests).toHaveLength(1);
    expect(tokenRequests[0].method).toBe('POST');
    expect(tokenRequests[0].body).toBe('grant_type=client_credentials');
    expect(tokenRequests[0].authorization).toBe(`Basic ${Buffer.from('plugin:s3cret').toString('base64')}`);
    expect(tokens).toHaveLength(1);
    expect(tokens[0]!.getTime()).toBeGreaterThan(Date.now() + 20 * 24 * 3600 * 1000);
    const data = server.requests.filter((request) => request.url.pathname.startsWith('/ws/'));
    expect(data.length).toBeGreaterThan(0);
    expect(data.every((request) => request.authorization?.startsWith('Bearer token-'))).toBe(true);
  });

  it('refreshes the token shortly before it expires', async () => {
    let clock = 0;
    const server = await serve(district(1));
    const { instance } = client(server, { now: () => clock });
    await instance.metadata();
    clock = 1814400 * 1000 - 30_000;
    await collect(instance.listPages(students));
    expect(server.requests.filter((request) => request.url.pathname === '/oauth/access_token')).toHaveLength(2);
  });

  it('renews the token once on a 401, and fails with AUTH_FAILED when the fresh one is refused too', async () => {
    let refusals = 1;
    const base = district(3);
    const server = await serve((request, response, url, body) => {
      if (url.pathname.startsWith('/ws/v1/school') && refusals > 0) {
        refusals--;
        json(response, 401, { message: 'Invalid token' });
        return;
      }
      return base(request, response, url, body);
    });
    const { instance } = client(server);
    expect(await collect(instance.listPages(students))).toHaveLength(3);
    refusals = 2;
    const failure = await collect(instance.listPages(students)).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 'SIS_SYNC.SOURCE_AUTH_FAILED', status: 401 });
  });

  it('pages within min(cap, metadata maximum) until a short page, and stops after an empty one', async () => {
    const server = await serve(district(5, { max: 2 }));
    const { instance } = client(server);
    expect((await collect(instance.listPages(students))).map((record) => record.id)).toEqual([
      1001, 1002, 1003, 1004, 1005,
    ]);
    const pages = server.requests.filter((request) => request.url.pathname === students.path);
    expect(pages.map((request) => request.url.searchParams.get('page'))).toEqual(['1', '2', '3']);
    expect(pages.every((request) => request.url.searchParams.get('pagesize') === '2')).toBe(true);

    const exact = await serve(district(4, { max: 100 }));
    const capped = client(exact, { pageSizeCap: 2 });
    expect(await collect(capped.instance.listPages(students))).toHaveLength(4);
    expect(exact.requests.filter((request) => request.url.pathname === students.path)).toHaveLength(3);
  });

  it('reads a lone record sent as an object, an empty listing sent as "", and counts sent as strings', async () => {
    const server = await serve(district(1, { countBody: (count) => ({ resource: { count: String(count) } }) }));
    expect(await collect(client(server).instance.listPages(students))).toEqual([{ id: 1001, local_id: '51001' }]);
    const empty = await serve(district(0, { countBody: () => ({ count: 0 }) }));
    expect(await collect(client(empty).instance.listPages(students))).toEqual([]);
  });

  it('fails on a page without its envelope, and on a count without a number', async () => {
    const noEnvelope = await serve((request, response, url, body) => {
      if (url.pathname === students.path) return json(response, 200, { data: [] });
      return district(1)(request, response, url, body);
    });
    expect(
      await collect(client(noEnvelope).instance.listPages(students)).catch((error: unknown) => error),
    ).toMatchObject({
      code: 'SIS_SYNC.SOURCE_MALFORMED_PAGE',
    });
    const noCount = await serve(district(1, { countBody: () => ({ resource: {} }) }));
    expect(await collect(client(noCount).instance.listPages(students)).catch((error: unknown) => error)).toMatchObject({
      code: 'SIS_SYNC.SOURCE_MALFORMED_PAGE',
    });
  });

  it('re-counts once when the records received differ from /count, then fails as incomplete', async () => {
    let wrong = 1;
    const server = await serve(
      district(3, {
        countBody: (count) => ({ resource: { count: wrong-- > 0 ? count + 1 : count } }),
      }),
    );
    expect(await collect(client(server).instance.listPages(students))).toHaveLength(3);
    const always = await serve(district(3, { countBody: (count) => ({ resource: { count: count + 2 } }) }));
    const failure = await collect(client(always).instance.listPages(students)).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(PowerSchoolError);
    expect(failure).toMatchObject({ code: 'SIS_SYNC.SOURCE_INCOMPLETE_LISTING', resource: 'students' });
  });

  it('refuses a server that ignores the page number', async () => {
    const server = await serve((request, response, url, body) => {
      if (url.pathname === students.path) {
        return json(response, 200, { students: { student: [{ id: 1 }, { id: 2 }] } });
      }
      return district(4)(request, response, url, body);
    });
    const failure = await collect(client(server).instance.listPages(students)).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 'SIS_SYNC.SOURCE_PROTOCOL_ERROR' });
  });

  it('retries 429 honouring Retry-After and 5xx with backoff, then gives up', async () => {
    let failures = 2;
    const server = await serve((request, response, url, body) => {
      if (url.pathname === students.path && failures > 0) {
        failures--;
        if (failures === 1) return json(response, 429, { message: 'slow down' }, { 'retry-after': '3' });
        return json(response, 503, { message: 'busy' });
      }
      return district(2)(request, response, url, body);
    });
    const { instance, sleeps, events } = client(server);
    expect(await collect(instance.listPages(students))).toHaveLength(2);
    expect(sleeps[0]).toBe(3_000);
    expect(sleeps).toHaveLength(2);
    expect(events.filter((event) => event.willRetry).map((event) => event.status)).toEqual([429, 503]);

    failures = 10;
    const failure = await collect(instance.listPages(students)).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 'SIS_SYNC.SOURCE_RETRIES_EXHAUSTED' });
  });

  it('classifies 403 as FORBIDDEN naming the resource, 404 as a protocol error, no server as unreachable', async () => {
    const server = await serve((request, response, url, body) => {
      if (url.pathname.startsWith('/ws/v1/school/7/student')) return json(response, 403, { message: 'Forbidden' });
      return district(1)(request, response, url, body);
    });
    const forbidden = await collect(client(server).instance.listPages(students)).catch((error: unknown) => error);
    expect(forbidden).toMatchObject({ code: 'SIS_SYNC.SOURCE_FORBIDDEN', resource: 'students', status: 403 });
    expect((forbidden as Error).message).toMatch(/students/);

    const missing = await client(server)
      .instance.getObject('/ws/v1/nothing', 'district')
      .catch((error: unknown) => error);
    expect(missing).toMatchObject({ code: 'SIS_SYNC.SOURCE_PROTOCOL_ERROR', status: 404 });

    await server.close();
    const gone = await client(server, { maxAttempts: 2 })
      .instance.serverTime()
      .catch((error: unknown) => error);
    expect(gone).toMatchObject({ code: 'SIS_SYNC.SOURCE_UNREACHABLE' });
    expect((gone as Error).message).toMatch(
      /^GET http:\/\/127\.0\.0\.1:\d+\/ws\/v1\/time failed after 2 attempts: connection refused \(ECONNREFUSED\)$/,
    );
  });

  it('posts PowerQueries with a JSON body and reads {"count": N}', async () => {
    const server = await serve((_request, response, url, body) => {
      if (url.pathname === '/ws/v1/metadata') return json(response, 200, { schema_table_query_max_page_size: 10 });
      expect(JSON.parse(body)).toEqual({ year: '35' });
      if (url.pathname.endsWith('/count')) return json(response, 200, { count: 2 });
      return json(response, 200, { name: 'q', record: [{ 'cc.dcid': '1' }, { 'cc.dcid': '2' }], '@extensions': '' });
    });
    const listing = { resource: 'powerquery' as const, path: '/ws/schema/query/com.x.q', body: { year: '35' } };
    expect(await collect(client(server).instance.listPages(listing))).toHaveLength(2);
    expect(
      server.requests.filter((request) => request.url.pathname.startsWith('/ws/schema')).map((r) => r.method),
    ).toEqual(['POST', 'POST']);
  });
});

describe('inOrderBounded', () => {
  it('keeps at most `limit` tasks in flight and yields in item order', async () => {
    let running = 0;
    let peak = 0;
    const results: number[] = [];
    for await (const value of inOrderBounded([30, 5, 20, 1, 10], 2, async (ms) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, ms));
      running--;
      return ms;
    })) {
      results.push(value);
    }
    expect(results).toEqual([30, 5, 20, 1, 10]);
    expect(peak).toBe(2);
  });

  it('aborts the tasks in flight when the consumer stops or a task fails', async () => {
    const aborted: number[] = [];
    const task = (item: number, signal: AbortSignal) =>
      new Promise<number>((resolve, reject) => {
        if (item === 2) return reject(new Error('boom'));
        let settled = false;
        const timer = setTimeout(
          () => {
            settled = true;
            resolve(item);
          },
          item === 1 ? 1 : 1_000,
        );
        signal.addEventListener('abort', () => {
          if (settled) return;
          clearTimeout(timer);
          aborted.push(item);
          reject(new Error('aborted'));
        });
      });
    const failure = await (async () => {
      for await (const value of inOrderBounded([1, 2, 3], 3, task)) void value;
    })().catch((error: unknown) => error);
    expect((failure as Error).message).toBe('boom');
    expect(aborted).toEqual([3]);
  });
});
