import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDistrict, writeOneRosterCsvZip, type OneRosterDataset } from '../fakes/oneroster/index.js';
import { uploadImport, waitForRun } from '../sis-sync/sync-support.js';
import { login } from '../support/auth.js';
import {
  OpenApiContract,
  type OpenApiDocumentObject,
  type OpenApiOperationObject,
  type OpenApiSchemaObject,
} from '../support/openapi-contract.js';
import { ADMIN_EMAIL, ADMIN_PASSWORD, bootTestApp, type TestApp } from '../support/test-app.js';

interface Answer {
  status: number;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

const UNKNOWN_ID = '0b6a3f0e-5d2c-4f1b-9e8d-7c6b5a4f3e2d';

/**
 * The OpenAPI document is the contract the API keeps: every operation is called (its success and its main
 * problem answers) and every response the routes send (recorded server-side) must be documented for its
 * operation and status, with a body that matches the schema. Then, per JSON request body: the documented
 * example is accepted by the validators, each documented required field is really required, and an
 * undocumented field is refused.
 */
describe('OpenAPI contract', () => {
  let testApp: TestApp;
  let contract: OpenApiContract;
  let token: string;
  let dir: string;
  const ids: Record<string, string> = {};

  const call = async (
    method: string,
    path: string,
    options: { body?: unknown; token?: string | null; accept?: string } = {},
  ): Promise<Answer> => {
    const bearer = options.token === undefined ? token : options.token;
    const response = await fetch(`${testApp.url}${path}`, {
      method,
      headers: {
        ...(bearer ? { Authorization: `Bearer ${bearer}` } : {}),
        ...(options.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        ...(options.accept ? { Accept: options.accept } : {}),
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: response.status, text, json };
  };

  const expectStatus = (answer: Answer, status: number, code?: string): Answer => {
    expect(answer.status, answer.text.slice(0, 500)).toBe(status);
    if (code) expect((answer.json as { code?: string }).code).toBe(code);
    return answer;
  };

  let zips = 0;
  const importPackage = async (dataset: OneRosterDataset): Promise<{ runId: string; state: string }> => {
    const path = join(dir, `package-${++zips}.zip`);
    await writeOneRosterCsvZip(dataset, { version: '1.2', mode: 'bulk', path });
    const response = await uploadImport(testApp.url, token, path, {});
    expect(response.status, JSON.stringify(response.body)).toBe(202);
    const runId = (response.body as { runId: string }).runId;
    return { runId, state: (await waitForRun(testApp.url, token, runId)).state };
  };

  beforeAll(async () => {
    testApp = await bootTestApp({ recordExchanges: true, env: { AUTH_RATE_LIMIT_PER_MINUTE: '10000' } });
    dir = mkdtempSync(join(tmpdir(), 'homeroom-contract-'));
    contract = new OpenApiContract(
      (await (await fetch(`${testApp.url}/openapi.json`)).json()) as OpenApiDocumentObject,
    );
    token = (await login(testApp.url)).accessToken;
  }, 60_000);
  afterAll(async () => {
    await testApp?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('auth: sign-in, refresh, me, logout and their problems', async () => {
    expectStatus(await call('POST', '/api/v1/auth/login', { body: { email: ADMIN_EMAIL, password: 'wrong' } }), 401);
    const pair = expectStatus(
      await call('POST', '/api/v1/auth/login', { body: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD } }),
      200,
    ).json as { accessToken: string; refreshToken: string };
    const refreshed = expectStatus(
      await call('POST', '/api/v1/auth/refresh', { body: { refreshToken: pair.refreshToken } }),
      200,
    ).json as { accessToken: string };
    expectStatus(
      await call('POST', '/api/v1/auth/refresh', { body: { refreshToken: pair.refreshToken } }),
      401,
      'IDENTITY.REFRESH_TOKEN_REUSED',
    );
    expectStatus(await call('GET', '/api/v1/auth/me'), 200);
    expectStatus(await call('GET', '/api/v1/auth/me', { token: null }), 401, 'IDENTITY.TOKEN_INVALID');
    const second = await login(testApp.url);
    expectStatus(await call('POST', '/api/v1/auth/logout', { token: second.accessToken }), 204);
    expect(refreshed.accessToken).toBeTruthy();
  });

  it('users: create, list, read, update and their problems', async () => {
    const created = expectStatus(
      await call('POST', '/api/v1/users', {
        body: { email: 'contract-teacher@district.test', displayName: 'Contract', password: 'a-long-enough-pass-1' },
      }),
      201,
    ).json as { id: string };
    ids['user'] = created.id;
    expectStatus(
      await call('POST', '/api/v1/users', {
        body: { email: 'contract-teacher@district.test', displayName: 'Again', password: 'a-long-enough-pass-1' },
      }),
      409,
      'IDENTITY.EMAIL_TAKEN',
    );
    expectStatus(await call('POST', '/api/v1/users', { body: { email: 'not-an-email' } }), 400);
    expectStatus(await call('GET', '/api/v1/users?limit=1'), 200);
    expectStatus(await call('GET', '/api/v1/users?cursor=AA'), 400, 'IDENTITY.INVALID_CURSOR');
    expectStatus(await call('GET', `/api/v1/users/${created.id}`), 200);
    expectStatus(await call('GET', `/api/v1/users/${UNKNOWN_ID}`), 404, 'IDENTITY.USER_NOT_FOUND');
    expectStatus(await call('GET', '/api/v1/users/not-a-uuid'), 400, 'HTTP.BAD_REQUEST');
    expectStatus(await call('PATCH', `/api/v1/users/${created.id}`, { body: { displayName: 'Renamed' } }), 200);
    const me = (await call('GET', '/api/v1/auth/me')).json as { id: string };
    expectStatus(
      await call('PATCH', `/api/v1/users/${me.id}`, { body: { disabled: true } }),
      409,
      'IDENTITY.SELF_LOCKOUT',
    );
    const teacher = await login(testApp.url, 'contract-teacher@district.test', 'a-long-enough-pass-1');
    expectStatus(await call('GET', '/api/v1/users', { token: teacher.accessToken }), 403, 'IDENTITY.FORBIDDEN');
  });

  it('sis connections, runs and imports: their whole life cycle', async () => {
    expectStatus(await call('GET', '/api/v1/sis/vendor-presets'), 200);
    const connection = {
      name: 'Contract SIS',
      provider: 'oneroster',
      version: '1.2',
      baseUrl: 'http://127.0.0.1:9/ims/oneroster/rostering/v1p2',
      auth: { type: 'oauth2', tokenUrl: 'http://127.0.0.1:9/token', clientId: 'homeroom', clientSecret: 'secret-1' },
      requestTimeoutMs: 1000,
    };
    const created = expectStatus(await call('POST', '/api/v1/sis/connections', { body: connection }), 201).json as {
      id: string;
    };
    ids['connection'] = created.id;
    expectStatus(
      await call('POST', '/api/v1/sis/connections', { body: connection }),
      409,
      'SIS_SYNC.CONNECTION_NAME_TAKEN',
    );
    expectStatus(
      await call('POST', '/api/v1/sis/connections', {
        body: { ...connection, name: 'No version', version: undefined },
      }),
      400,
      'REQUEST.VALIDATION_FAILED',
    );
    expectStatus(await call('GET', '/api/v1/sis/connections'), 200);
    expectStatus(await call('GET', `/api/v1/sis/connections/${created.id}`), 200);
    expectStatus(await call('GET', `/api/v1/sis/connections/${UNKNOWN_ID}`), 404, 'SIS_SYNC.CONNECTION_NOT_FOUND');
    expectStatus(await call('PATCH', `/api/v1/sis/connections/${created.id}`, { body: { pageSize: 500 } }), 200);
    expectStatus(
      await call('PATCH', `/api/v1/sis/connections/${created.id}`, { body: { baseUrl: 'ftp://nowhere' } }),
      422,
      'SIS_SYNC.INVALID_CONNECTION_SETTINGS',
    );
    expectStatus(await call('POST', `/api/v1/sis/connections/${created.id}/test`), 200);
    expectStatus(await call('GET', `/api/v1/sis/connections/${created.id}/health`), 200);
    expectStatus(await call('GET', `/api/v1/sis/connections/${UNKNOWN_ID}/health`), 404);

    // A run against an unreachable SIS: it fails, and its issues and state can be read.
    const started = expectStatus(
      await call('POST', `/api/v1/sis/connections/${created.id}/sync`, { body: { mode: 'full' } }),
      202,
    ).json as { runId: string };
    const cancel = await call('POST', `/api/v1/sis/runs/${started.runId}/cancel`);
    expect([202, 409], cancel.text).toContain(cancel.status);
    const failed = await waitForRun(testApp.url, token, started.runId);
    expect(['failed', 'cancelled']).toContain(failed.state);
    expectStatus(await call('GET', `/api/v1/sis/runs/${started.runId}/issues`), 200);
    expectStatus(await call('GET', `/api/v1/sis/runs/${started.runId}/issues`, { accept: 'text/csv' }), 200);
    expectStatus(await call('POST', `/api/v1/sis/runs/${started.runId}/cancel`), 409, 'SIS_SYNC.RUN_STATE_CONFLICT');
    expectStatus(await call('POST', `/api/v1/sis/connections/${UNKNOWN_ID}/sync`, { body: {} }), 404);

    // CSV imports on the shared connection: applied, then held by the deactivation threshold twice.
    const district = generateDistrict({ seed: 'openapi-contract', schools: 2, students: 40, teachers: 4, classes: 6 });
    const applied = await importPackage(district);
    expect(applied.state).toBe('succeeded');
    ids['run'] = applied.runId;
    const students = district.users.filter((user) => user.roles[0]?.role === 'student');
    const fewer = (keep: number): OneRosterDataset => {
      const gone = new Set(students.slice(keep).map((user) => user.sourcedId));
      return {
        ...district,
        users: district.users.filter((user) => !gone.has(user.sourcedId)),
        enrollments: district.enrollments.filter((enrollment) => !gone.has(enrollment.userSourcedId)),
        demographics: district.demographics.filter((demographic) => !gone.has(demographic.sourcedId)),
      };
    };
    const held = await importPackage(fewer(20));
    expect(held.state).toBe('held');
    expectStatus(await call('GET', `/api/v1/sis/runs/${held.runId}`), 200);
    expectStatus(await call('POST', `/api/v1/sis/runs/${held.runId}/approve`), 202);
    await waitForRun(testApp.url, token, held.runId);
    const heldAgain = await importPackage(fewer(5));
    expect(heldAgain.state).toBe('held');
    expectStatus(await call('POST', `/api/v1/sis/runs/${heldAgain.runId}/discard`), 200);
    expectStatus(await call('POST', `/api/v1/sis/runs/${heldAgain.runId}/approve`), 409, 'SIS_SYNC.RUN_STATE_CONFLICT');
    expectStatus(await call('POST', `/api/v1/sis/runs/${held.runId}/restore`, { body: { undeleteOnly: true } }), 200);
    expectStatus(await call('POST', `/api/v1/sis/runs/${UNKNOWN_ID}/restore`, { body: {} }), 404);
    expectStatus(await call('GET', '/api/v1/sis/runs?limit=2'), 200);
    expectStatus(await call('GET', '/api/v1/sis/runs?cursor=AA'), 400);
    expectStatus(await call('GET', `/api/v1/sis/runs/${UNKNOWN_ID}`), 404, 'SIS_SYNC.RUN_NOT_FOUND');
    const broken = await uploadImport(testApp.url, token, null, {});
    expect(broken.status).toBe(400);

    // A CSV feed: created without an endpoint, fed by uploads only, tested for what can be checked.
    const feed = expectStatus(
      await call('POST', '/api/v1/sis/connections', {
        body: { name: 'Contract CSV feed', provider: 'oneroster-csv', version: '1.2' },
      }),
      201,
    ).json as { id: string };
    expectStatus(
      await call('POST', `/api/v1/sis/connections/${feed.id}/sync`, { body: {} }),
      422,
      'SIS_SYNC.CSV_CONNECTION_NEEDS_UPLOAD',
    );
    expectStatus(await call('POST', `/api/v1/sis/connections/${feed.id}/test`), 200);
    const feedPackage = join(dir, 'feed.zip');
    await writeOneRosterCsvZip(district, { version: '1.2', mode: 'bulk', path: feedPackage });
    const intoRest = await uploadImport(testApp.url, token, feedPackage, { connectionId: created.id });
    expect(intoRest.status, JSON.stringify(intoRest.body)).toBe(422);
    expect(intoRest.body).toMatchObject({ code: 'SIS_SYNC.NOT_A_CSV_CONNECTION' });
    const intoFeed = await uploadImport(testApp.url, token, feedPackage, { connectionId: feed.id, dryRun: true });
    expect(intoFeed.status, JSON.stringify(intoFeed.body)).toBe(202);
    await waitForRun(testApp.url, token, (intoFeed.body as { runId: string }).runId);

    const other = expectStatus(
      await call('POST', '/api/v1/sis/connections', { body: { ...connection, name: 'Contract SIS 2' } }),
      201,
    ).json as { id: string };
    expectStatus(await call('DELETE', `/api/v1/sis/connections/${other.id}`), 204);
    expectStatus(await call('DELETE', `/api/v1/sis/connections/${other.id}`), 404);
  }, 180_000);

  it('roster: schools, classes, students, staff and local edits', async () => {
    expectStatus(await call('GET', '/api/v1/schools'), 200);
    expectStatus(await call('GET', '/api/v1/schools?limit=0'), 400);
    const classes = expectStatus(await call('GET', '/api/v1/classes?limit=5'), 200).json as { items: { id: string }[] };
    const roster = expectStatus(await call('GET', `/api/v1/classes/${classes.items[0].id}/roster`), 200).json as {
      members: { role: string; person: { id: string } }[];
    };
    expectStatus(await call('GET', `/api/v1/classes/${UNKNOWN_ID}/roster`), 404, 'ROSTER.CLASS_NOT_FOUND');
    const students = expectStatus(await call('GET', '/api/v1/students?limit=3'), 200).json as {
      items: { id: string }[];
    };
    expectStatus(await call('GET', '/api/v1/students?search=a'), 200);
    const student = students.items[0].id;
    ids['student'] = student;
    expectStatus(await call('GET', `/api/v1/students/${student}`), 200);
    expectStatus(await call('GET', `/api/v1/students/${UNKNOWN_ID}`), 404, 'ROSTER.STUDENT_NOT_FOUND');
    expectStatus(await call('GET', '/api/v1/students/nope'), 400, 'REQUEST.VALIDATION_FAILED');
    expectStatus(await call('PATCH', `/api/v1/students/${student}`, { body: { pronouns: 'they/them' } }), 200);
    expectStatus(await call('DELETE', `/api/v1/students/${student}/local-edits/pronouns`), 200);
    expectStatus(await call('DELETE', `/api/v1/students/${student}/local-edits/pronouns`), 404, 'ROSTER.NO_LOCAL_EDIT');
    const teacher = roster.members.find((member) => member.role === 'teacher')!.person.id;
    expectStatus(await call('GET', `/api/v1/students?connectionId=${ids['connection']}&limit=2`), 200);
    expectStatus(await call('GET', '/api/v1/staff?limit=2'), 200);
    expectStatus(await call('GET', '/api/v1/staff?search=a&role=teacher'), 200);
    expectStatus(await call('GET', '/api/v1/staff?role=student'), 400, 'REQUEST.VALIDATION_FAILED');
    expectStatus(await call('GET', `/api/v1/staff/${teacher}`), 200);
    expectStatus(await call('GET', `/api/v1/staff/${UNKNOWN_ID}`), 404, 'ROSTER.PERSON_NOT_FOUND');
    expectStatus(await call('PATCH', `/api/v1/staff/${teacher}`, { body: { phone: '555-0100' } }), 200);
    expectStatus(await call('DELETE', `/api/v1/staff/${teacher}/local-edits/phone`), 200);
    expectStatus(await call('PATCH', `/api/v1/staff/${UNKNOWN_ID}`, { body: {} }), 404, 'ROSTER.PERSON_NOT_FOUND');
  });

  it('audit: trail, access, export, disclosures, legal holds and integrity', async () => {
    const student = ids['student'];
    expectStatus(await call('GET', '/api/v1/audit/events?limit=5'), 200);
    expectStatus(await call('GET', '/api/v1/audit/events?cursor=zz'), 400);
    expectStatus(await call('GET', '/api/v1/audit/events?limit=100000'), 400);
    expectStatus(await call('GET', `/api/v1/audit/students/${student}/access`), 200);
    const me = (await call('GET', '/api/v1/auth/me')).json as { id: string };
    expectStatus(await call('GET', `/api/v1/audit/actors/${me.id}/access`), 200);
    expectStatus(await call('GET', `/api/v1/audit/actors/${me.id}/access?view=flat`), 200);
    expectStatus(await call('GET', '/api/v1/audit/export'), 200);
    expectStatus(await call('GET', '/api/v1/audit/export?format=csv'), 200);
    const disclosure = {
      studentIds: [student],
      party: { name: 'Northwest Evaluation Association', type: 'organization' },
      basis: 'school_official',
      legitimateInterest: 'Scoring the fall reading assessment under contract',
      dataCategories: ['grades'],
      disclosedOn: '2026-11-20',
    };
    const recorded = await call('POST', '/api/v1/audit/disclosures', { body: disclosure });
    expect([201, 422], recorded.text).toContain(recorded.status);
    expectStatus(await call('POST', '/api/v1/audit/disclosures', { body: {} }), 422, 'AUDIT.DISCLOSURE_INCOMPLETE');
    expectStatus(await call('GET', `/api/v1/audit/students/${student}/disclosures`), 200);
    expectStatus(await call('GET', `/api/v1/audit/students/${student}/disclosures`, { accept: 'text/csv' }), 200);
    const hold = expectStatus(
      await call('POST', '/api/v1/audit/legal-holds', { body: { studentId: student, reason: 'Records request 4411' } }),
      201,
    ).json as { id: string };
    expectStatus(await call('GET', '/api/v1/audit/legal-holds'), 200);
    expectStatus(await call('POST', `/api/v1/audit/legal-holds/${hold.id}/release`), 200);
    expectStatus(
      await call('POST', `/api/v1/audit/legal-holds/${hold.id}/release`),
      409,
      'AUDIT.LEGAL_HOLD_ALREADY_RELEASED',
    );
    expectStatus(await call('POST', `/api/v1/audit/legal-holds/${UNKNOWN_ID}/release`), 404);
    expectStatus(await call('POST', '/api/v1/audit/checkpoints'), 201);
    expectStatus(await call('GET', '/api/v1/audit/checkpoints'), 200);
    expectStatus(await call('GET', '/api/v1/audit/verify'), 200);
    expectStatus(await call('GET', '/api/v1/audit/verify?fromSeq=5&toSeq=2'), 400, 'AUDIT.INVALID_SEQ_RANGE');
    expectStatus(await call('GET', '/api/v1/audit/public-key', { token: null }), 200);
  });

  it('operations and health', async () => {
    expectStatus(await call('GET', '/api/v1/ops/jobs/counts'), 200);
    expectStatus(await call('GET', '/api/v1/ops/jobs/dead-letters?limit=5'), 200);
    expectStatus(await call('POST', '/api/v1/ops/jobs/dead-letters/no-such-job/retry'), 404, 'OPS.JOB_NOT_FOUND');
    expectStatus(await call('GET', '/health/live', { token: null }), 200);
    expectStatus(await call('GET', '/health/ready', { token: null }), 200);
  });

  it('accepts the documented example of every JSON request body, requires its required fields, refuses others', async () => {
    const failures: string[] = [];
    const known: Record<string, string> = {
      '/api/v1/users/{id}': ids['user'],
      '/api/v1/students/{id}': ids['student'],
      '/api/v1/sis/connections/{id}': ids['connection'],
      '/api/v1/sis/runs/{id}/restore': ids['run'],
    };
    for (const [template, item] of Object.entries(contract.document.paths)) {
      for (const [method, operation] of Object.entries<OpenApiOperationObject>(item)) {
        const media = operation.requestBody?.content['application/json'];
        if (!media) continue;
        const name = `${method.toUpperCase()} ${template}`;
        const path = template.replace(/\{[^}]+\}/g, () => known[template] ?? UNKNOWN_ID);
        const example = media.example as Record<string, unknown> | undefined;
        if (example === undefined) {
          failures.push(`${name}: the request body has no documented example`);
          continue;
        }
        const validate = contract.validator(media.schema!);
        if (!validate(example)) failures.push(`${name}: its example does not match its own schema`);
        // The sign-in example is not the admin's password: a 401, which is not a validation failure.
        const accepted = await call(method.toUpperCase(), path, { body: example });
        if (accepted.status === 400 && (accepted.json as { code?: string })?.code === 'REQUEST.VALIDATION_FAILED') {
          failures.push(`${name}: the documented example was refused: ${accepted.text.slice(0, 300)}`);
        }
        const schema = resolveSchema(contract, media.schema!);
        for (const field of (schema['required'] as string[] | undefined) ?? []) {
          const { [field]: _left, ...without } = example;
          const refused = await call(method.toUpperCase(), path, { body: without });
          if (refused.status !== 400 && refused.status !== 422) {
            failures.push(`${name}: without required ${field}: ${refused.status} ${refused.text.slice(0, 200)}`);
          }
        }
        if (schema['additionalProperties'] === false) {
          const extra = await call(method.toUpperCase(), path, { body: { ...example, notInTheContract: 1 } });
          if (extra.status !== 400) failures.push(`${name}: an undocumented field got ${extra.status}`);
        }
      }
    }
    expect(failures, failures.join('\n')).toEqual([]);
  }, 120_000);

  it('serves /docs a document with a summary on every operation and a file upload form for imports', () => {
    const unsummarised: string[] = [];
    for (const [path, item] of Object.entries(contract.document.paths)) {
      for (const [method, operation] of Object.entries<OpenApiOperationObject & { summary?: string }>(item)) {
        if (!operation.summary?.trim()) unsummarised.push(`${method.toUpperCase()} ${path}`);
      }
    }
    expect(unsummarised).toEqual([]);

    const body = contract.document.paths['/api/v1/sis/imports']?.['post']?.requestBody;
    expect(Object.keys(body?.content ?? {})).toEqual(['multipart/form-data']);
    const form = resolveSchema(contract, body!.content['multipart/form-data'].schema!);
    expect(form).toMatchObject({
      type: 'object',
      required: ['file'],
      properties: {
        file: { type: 'string', format: 'binary' },
        connectionId: { type: 'string', format: 'uuid' },
        dryRun: { type: 'string', enum: ['true', 'false'] },
      },
    });
  });

  it('sent only documented statuses and bodies that match the document, on every operation', () => {
    const exchanges = testApp.exchanges!;
    const violations = exchanges.flatMap((exchange) => contract.check(exchange));
    expect(violations, violations.join('\n')).toEqual([]);
    const called = new Set(exchanges.map((exchange) => contract.match(exchange.method, exchange.path)?.key));
    const missed = contract.operations().filter((operation) => !called.has(operation));
    expect(missed).toEqual([]);
  });
});

function resolveSchema(contract: OpenApiContract, schema: OpenApiSchemaObject): OpenApiSchemaObject {
  const ref = schema['$ref'];
  if (typeof ref !== 'string') return schema;
  return contract.document.components.schemas[ref.split('/').at(-1)!];
}
