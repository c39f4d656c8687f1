import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedRoster, type SeededRoster } from '../roster/seed-roster.js';
import { login } from '../support/auth.js';
import { bootTestApp, type TestApp } from '../support/test-app.js';

/**
 * Hostile input never earns a 5xx: every input below is the client's fault and gets a 4xx problem document.
 * The named cases are the ones found in review; the fuzz run walks every operation of `/openapi.json` with a
 * deterministic, bounded set of hostile values per parameter and body field, so a new route is covered the
 * day it is added.
 */
describe('Hostile input', () => {
  let testApp: TestApp;
  let token: string;
  let roster: SeededRoster;

  beforeAll(async () => {
    // The production SIS address policy, set explicitly (outside production loopback is allowed by default).
    testApp = await bootTestApp({
      env: { AUTH_RATE_LIMIT_PER_MINUTE: '10000', SIS_BLOCK_PRIVATE_ADDRESSES: 'true', SIS_ALLOWED_HOSTS: '10.9.8.7' },
    });
    roster = await seedRoster(testApp.databaseUrl, {
      orgs: [{ sourcedId: 'sch-fuzz', name: 'Fuzz High' }],
      people: [
        { sourcedId: 'stu-fuzz', givenName: 'Fay', familyName: 'Zed', role: 'student', orgs: ['sch-fuzz'] },
        { sourcedId: 'tch-fuzz', givenName: 'Ted', familyName: 'Zed', role: 'teacher', orgs: ['sch-fuzz'] },
      ],
    });
    token = (await login(testApp.url)).accessToken;
  }, 60_000);
  afterAll(async () => {
    await testApp?.close();
  });

  const send = async (method: string, path: string, body?: string) => {
    const response = await fetch(`${testApp.url}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      },
      body,
    });
    const text = await response.text();
    return { status: response.status, contentType: response.headers.get('content-type'), text };
  };

  const expectProblem = (
    response: { status: number; contentType: string | null; text: string },
    status: number,
    code?: string,
  ) => {
    expect(response.status, response.text).toBe(status);
    expect(response.contentType).toMatch(/^application\/problem\+json/);
    if (code) expect((JSON.parse(response.text) as { code: string }).code).toBe(code);
  };

  describe('named cases', () => {
    it('refuses a malformed user cursor with a 400 problem', async () => {
      expectProblem(await send('GET', '/api/v1/users?cursor=AA'), 400, 'IDENTITY.INVALID_CURSOR');
      expectProblem(await send('GET', '/api/v1/users?cursor=%25%25%25'), 400, 'IDENTITY.INVALID_CURSOR');
    });

    it('still pages users with the cursors it hands out', async () => {
      const created = await send(
        'POST',
        '/api/v1/users',
        JSON.stringify({ email: 'zz-pager@district.test', displayName: 'Pager', password: 'a-long-enough-password-1' }),
      );
      expect(created.status, created.text).toBe(201);
      const again = JSON.parse((await send('GET', '/api/v1/users?limit=1')).text) as { nextCursor: string };
      const next = await send('GET', `/api/v1/users?limit=1&cursor=${encodeURIComponent(again.nextCursor)}`);
      expect(next.status, next.text).toBe(200);
    });

    it('refuses JSON nested 5,000 deep with a 400 problem', async () => {
      const deep = `{"displayName":${'['.repeat(5000)}${']'.repeat(5000)}}`;
      expectProblem(await send('POST', '/api/v1/users', deep), 400, 'HTTP.BODY_TOO_DEEP');
    });

    it('refuses 200,000 nested arrays with a 400 problem', async () => {
      const deeper = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
      expectProblem(await send('POST', '/api/v1/users', deeper), 400, 'HTTP.BODY_TOO_DEEP');
    });

    it('refuses NUL in a JSON string with a 400 problem (students, users)', async () => {
      const student = roster.id('people', 'stu-fuzz');
      expectProblem(
        await send('PATCH', `/api/v1/students/${student}`, '{"pronouns":"a\\u0000b"}'),
        400,
        'HTTP.INVALID_CHARACTERS',
      );
      expectProblem(
        await send(
          'POST',
          '/api/v1/users',
          '{"email":"nul@district.test","displayName":"a\\u0000b","password":"a-long-enough-password-1"}',
        ),
        400,
        'HTTP.INVALID_CHARACTERS',
      );
    });

    it('refuses NUL in an object key and lone surrogates in a JSON string', async () => {
      const student = roster.id('people', 'stu-fuzz');
      expectProblem(
        await send('PATCH', `/api/v1/students/${student}`, '{"pro\\u0000nouns":"x"}'),
        400,
        'HTTP.INVALID_CHARACTERS',
      );
      expectProblem(
        await send('PATCH', `/api/v1/students/${student}`, '{"pronouns":"a\\ud800b"}'),
        400,
        'HTTP.INVALID_CHARACTERS',
      );
      expectProblem(
        await send('PATCH', `/api/v1/students/${student}`, '{"pronouns":"\\udc00"}'),
        400,
        'HTTP.INVALID_CHARACTERS',
      );
      // A surrogate pair is a character like any other.
      const ok = await send('PATCH', `/api/v1/students/${student}`, '{"pronouns":"\\ud83d\\ude00"}');
      expect(ok.status, ok.text).toBe(200);
    });

    it('refuses NUL in a query parameter with a 400 problem', async () => {
      expectProblem(await send('GET', '/api/v1/students?q=a%00b'), 400, 'HTTP.INVALID_CHARACTERS');
      expectProblem(await send('GET', '/api/v1/users?cursor=%00'), 400, 'HTTP.INVALID_CHARACTERS');
    });
  });

  describe('SIS connection URLs under the strict address policy (SIS_BLOCK_PRIVATE_ADDRESSES=true)', () => {
    const connection = (baseUrl: string, tokenUrl = 'https://sis.district.example/token') =>
      JSON.stringify({
        name: `SSRF ${Math.random()}`,
        provider: 'oneroster',
        version: '1.2',
        baseUrl,
        auth: { type: 'oauth2', tokenUrl, clientId: 'homeroom', clientSecret: 'secret-secret' },
      });

    it.each([
      ['its own metrics port', () => `${testApp.metricsUrl}/metrics`],
      ['cloud metadata', () => 'http://169.254.169.254/latest/meta-data'],
      ['IPv6 loopback', () => 'http://[::1]:3000/ims'],
      ['a private range', () => 'https://10.0.0.12/ims/oneroster/rostering/v1p2'],
    ])('refuses a connection pointing at %s with a 4xx problem, on create and on update', async (_label, url) => {
      const created = await send('POST', '/api/v1/sis/connections', connection(url()));
      expectProblem(created, 422, 'SIS_SYNC.INVALID_CONNECTION_SETTINGS');
      expect(created.text).toMatch(/internal address/);
      const fine = await send('POST', '/api/v1/sis/connections', connection('https://sis.district.example/ims'));
      expect(fine.status, fine.text).toBe(201);
      const id = (JSON.parse(fine.text) as { id: string }).id;
      const updated = await send('PATCH', `/api/v1/sis/connections/${id}`, JSON.stringify({ baseUrl: url() }));
      expectProblem(updated, 422, 'SIS_SYNC.INVALID_CONNECTION_SETTINGS');
    });

    it('allows an address listed in SIS_ALLOWED_HOSTS', async () => {
      const created = await send(
        'POST',
        '/api/v1/sis/connections',
        connection('https://10.9.8.7/ims', 'https://10.9.8.7/t'),
      );
      expect(created.status, created.text).toBe(201);
    });

    it('refuses at connect time a stored URL that points inside (the live metrics port), with no retry', async () => {
      const metrics = new URL(testApp.metricsUrl);
      const created = await send('POST', '/api/v1/sis/connections', connection('https://sis.district.example/ims'));
      const id = (JSON.parse(created.text) as { id: string }).id;
      // A row saved before the policy was tightened: written straight to the table, past the API's validation.
      const client = new pg.Client({ connectionString: testApp.databaseUrl });
      await client.connect();
      try {
        const inside = `http://127.0.0.1:${metrics.port}`;
        await client.query(
          `UPDATE sis_connections SET settings = settings || jsonb_build_object('baseUrl', $2::text, 'auth',
             (settings->'auth') || jsonb_build_object('tokenUrl', $3::text)) WHERE id = $1`,
          [id, `${inside}/metrics`, `${inside}/token`],
        );
      } finally {
        await client.end();
      }
      // The target is up: the refusal is the policy's, not a closed port.
      expect((await fetch(`${testApp.metricsUrl}/metrics`)).status).toBe(200);
      const tested = await send('POST', `/api/v1/sis/connections/${id}/test`);
      expect(tested.status, tested.text).toBe(200);
      const result = JSON.parse(tested.text) as {
        ok: boolean;
        checks: { check: string; ok: boolean; detail: string }[];
      };
      expect(result.ok).toBe(false);
      expect(result.checks[0]).toMatchObject({ check: 'reachability', ok: false });
      expect(result.checks[0].detail).toMatch(/Refused by the SIS address policy: 127\.0\.0\.1 is a loopback/);
    });
  });

  describe('schema-driven fuzz over /openapi.json', () => {
    it('answers every hostile request with less than a 500', async () => {
      const document = (await (await fetch(`${testApp.url}/openapi.json`)).json()) as OpenApiDocument;
      const requests = hostileRequests(document, {
        seed: 20261207,
        knownIds: [roster.id('people', 'stu-fuzz'), roster.id('people', 'tch-fuzz'), roster.id('orgs', 'sch-fuzz')],
      });
      expect(requests.length).toBeGreaterThan(300);
      expect(requests.length).toBeLessThanOrEqual(MAX_REQUESTS);

      const failures: string[] = [];
      let next = 0;
      const worker = async () => {
        while (next < requests.length) {
          const request = requests[next++];
          const response = await send(request.method, request.path, request.body);
          if (response.status >= 500) {
            failures.push(
              `${request.method} ${request.path}${request.body !== undefined ? ` body ${request.body.slice(0, 300)}` : ''}` +
                ` -> ${response.status} ${response.text.slice(0, 300)}`,
            );
          }
        }
      };
      await Promise.all([worker(), worker(), worker(), worker()]);
      expect(failures, failures.join('\n')).toEqual([]);
      // The session survived the run (nothing in it logged the caller out).
      expect((await send('GET', '/api/v1/auth/me')).status).toBe(200);
    }, 180_000);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The generator: a deterministic function of the OpenAPI document and the seed.

const MAX_REQUESTS = 3000;
/** Body fields fuzzed per operation (drawn by the seed when an operation has more). */
const MAX_FIELDS = 6;

/**
 * Operations left out of the fuzz run, each with its reason. Everything else in the document is fuzzed.
 * - logout ends the session the run uses (its inputs are a refresh token, fuzzed through /auth/refresh).
 * - the CSV upload is a multipart file route: its body is not JSON (its own suite covers broken uploads).
 */
const SKIPPED_OPERATIONS = new Set(['POST /api/v1/auth/logout', 'POST /api/v1/sis/imports']);

interface OpenApiSchema {
  type?: string;
  format?: string;
  enum?: unknown[];
  items?: OpenApiSchema;
  properties?: Record<string, OpenApiSchema>;
  $ref?: string;
  allOf?: OpenApiSchema[];
  oneOf?: OpenApiSchema[];
  anyOf?: OpenApiSchema[];
  nullable?: boolean;
}

interface OpenApiParameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  schema?: OpenApiSchema;
}

interface OpenApiOperation {
  parameters?: OpenApiParameter[];
  requestBody?: { content?: Record<string, { schema?: OpenApiSchema }> };
}

interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, OpenApiSchema> };
}

interface HostileRequest {
  method: string;
  path: string;
  body?: string;
}

/** mulberry32: small, fast, good enough to pick values reproducibly. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Each list starts with the values every parameter or field gets; the rest are drawn per parameter by the seed.

/** Hostile values for a path segment (already URL-encoded where they must be). */
const HOSTILE_PATH_VALUES = [
  '%00',
  '..%2F..%2Fetc%2Fpasswd',
  '99999999999999999999999',
  'a%00b',
  '..',
  '%2e%2e',
  '-1',
  '0',
  'x'.repeat(5000),
  '%F0%9F%98%80',
  '%ED%A0%80',
  '00000000-0000-0000-0000-000000000000',
  `${'0'.repeat(8)}-0000-0000-0000-00000000000g`,
  "'%20OR%201=1--",
  '%25',
];

/** Hostile values for a query parameter (URL-encoded). */
const HOSTILE_QUERY_VALUES = [
  '%00',
  'AA',
  '-1',
  'a%00b',
  '%ED%A0%80',
  'x'.repeat(10_000),
  '0',
  '1e309',
  '99999999999999999999999',
  'NaN',
  'eyJ4Ijp0cnVlfQ',
  '%5B%5D',
  'true',
  '2026-13-45',
  '..%2F..',
];

/** Hostile JSON values for one body field, as JSON text. */
const HOSTILE_BODY_VALUES = [
  '"a\\u0000b"',
  '"\\ud800"',
  JSON.stringify('x'.repeat(100_000)),
  'null',
  'true',
  '-1',
  '1e308',
  '-99999999999999999999999',
  '1.5',
  '[]',
  '{}',
  '[{"a":[{"b":null}]}]',
  '""',
  '"2026-02-30T25:61:00Z"',
  `${'['.repeat(64)}${']'.repeat(64)}`,
  '{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}',
];

/** Whole-body hostile payloads for any operation that takes a JSON body. */
const HOSTILE_BODIES = [
  '',
  'null',
  '[]',
  '"just a string"',
  '{"a":1,',
  `{"a":${'['.repeat(5000)}${']'.repeat(5000)}}`,
  `{"k":"\\u0000"}`,
];

function hostileRequests(document: OpenApiDocument, options: { seed: number; knownIds: string[] }): HostileRequest[] {
  const random = seededRandom(options.seed);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)];
  /** The first `always` values, then `count` more drawn without repetition from the rest. */
  const sample = <T>(values: readonly T[], always: number, count: number): T[] => {
    const rest = values.slice(always);
    const drawn: T[] = [];
    while (drawn.length < count && rest.length > 0) drawn.push(rest.splice(Math.floor(random() * rest.length), 1)[0]);
    return [...values.slice(0, always), ...drawn];
  };
  const resolve = (schema: OpenApiSchema | undefined, depth = 0): OpenApiSchema => {
    if (!schema || depth > 10) return {};
    if (schema.$ref) {
      const name = schema.$ref.split('/').at(-1)!;
      return resolve(document.components?.schemas?.[name], depth + 1);
    }
    const composed = schema.allOf ?? schema.oneOf ?? schema.anyOf;
    if (composed?.length) {
      const parts = composed.map((part) => resolve(part, depth + 1));
      return { ...parts[0], properties: Object.assign({}, ...parts.map((part) => part.properties ?? {})) };
    }
    return schema;
  };
  /** A plausible value of the schema, so that one hostile field travels with otherwise ordinary ones. */
  const plausible = (schema: OpenApiSchema | undefined, depth = 0): unknown => {
    const resolved = resolve(schema);
    if (resolved.enum?.length) return resolved.enum[0];
    switch (resolved.type ?? 'object') {
      case 'string':
        if (resolved.format === 'uuid') return randomUUIDFrom(random);
        if (resolved.format === 'date-time') return '2026-09-01T00:00:00.000Z';
        if (resolved.format === 'date') return '2026-09-01';
        if (resolved.format === 'email') return 'fuzz@district.test';
        return 'fuzz';
      case 'integer':
      case 'number':
        return 1;
      case 'boolean':
        return false;
      case 'array':
        return depth > 3 ? [] : [plausible(resolved.items, depth + 1)];
      default: {
        if (depth > 3 || !resolved.properties) return {};
        return Object.fromEntries(
          Object.entries(resolved.properties).map(([key, value]) => [key, plausible(value, depth + 1)]),
        );
      }
    }
  };

  const requests: HostileRequest[] = [];
  const paths = Object.keys(document.paths).sort();
  for (const path of paths) {
    const operations = document.paths[path];
    for (const method of Object.keys(operations).sort()) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const verb = method.toUpperCase();
      if (SKIPPED_OPERATIONS.has(`${verb} ${path}`)) continue;
      const operation = operations[method];
      const parameters = operation.parameters ?? [];
      const pathParameters = parameters.filter((parameter) => parameter.in === 'path');
      const queryParameters = parameters.filter((parameter) => parameter.in === 'query');
      const jsonBody = operation.requestBody?.content?.['application/json']?.schema;
      const bodySchema = jsonBody ? resolve(jsonBody) : undefined;
      const baseBody = bodySchema ? (plausible(bodySchema) as Record<string, unknown>) : undefined;

      /** Path with every parameter filled by a known id (or a fresh uuid), `override` for one of them. */
      const fill = (override?: { name: string; value: string }) =>
        path.replace(/\{([^}]+)\}/g, (_whole, name: string) =>
          override?.name === name
            ? override.value
            : encodeURIComponent(pick([...options.knownIds, randomUUIDFrom(random)])),
        );
      const withBody = (request: HostileRequest): HostileRequest =>
        baseBody !== undefined && request.body === undefined ? { ...request, body: JSON.stringify(baseBody) } : request;

      for (const parameter of pathParameters) {
        for (const value of sample(HOSTILE_PATH_VALUES, 3, 2)) {
          requests.push(withBody({ method: verb, path: fill({ name: parameter.name, value }) }));
        }
      }
      for (const parameter of queryParameters) {
        for (const value of sample(HOSTILE_QUERY_VALUES, 3, 1)) {
          requests.push(withBody({ method: verb, path: `${fill()}?${encodeURIComponent(parameter.name)}=${value}` }));
        }
        requests.push(
          withBody({
            method: verb,
            path: `${fill()}?${encodeURIComponent(parameter.name)}=a&${encodeURIComponent(parameter.name)}=b`,
          }),
        );
      }
      if (queryParameters.length === 0 && verb === 'GET') {
        requests.push({ method: verb, path: `${fill()}?unexpected=%00` });
      }
      if (baseBody !== undefined) {
        const fields = sample(bodySchema?.properties ? Object.keys(bodySchema.properties) : [], 0, MAX_FIELDS);
        for (const field of fields) {
          for (const value of sample(HOSTILE_BODY_VALUES, 2, 1)) {
            const others = JSON.stringify({ ...baseBody, [field]: '__HOSTILE__' });
            requests.push({ method: verb, path: fill(), body: others.replace('"__HOSTILE__"', value) });
          }
        }
        for (const body of HOSTILE_BODIES) requests.push({ method: verb, path: fill(), body });
      }
      if (pathParameters.length === 0 && queryParameters.length === 0 && baseBody === undefined) {
        requests.push({ method: verb, path: fill() });
      }
    }
  }
  return requests;
}

function randomUUIDFrom(random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
