import pg from 'pg';
import request from 'supertest';
import { expect } from 'vitest';
import { bearer } from '../support/auth.js';

export interface RunView {
  id: string;
  state: string;
  mode: string;
  dryRun: boolean;
  counts: Record<string, Record<string, number>>;
  preview: Record<string, Record<string, unknown>> | null;
  holdReasons: { kind: string; entity: string; action?: string; count: number }[];
  issueCount: number;
  errorCode: string | null;
  errorMessage: string | null;
  deltaSince: string | null;
  source: string | null;
}

const SETTLED = new Set(['held', 'succeeded', 'succeeded_with_issues', 'failed', 'cancelled']);

/** Creates a connection from `body` (expects 201) and returns its id. */
async function createConnection(url: string, token: string, body: Record<string, unknown>): Promise<string> {
  const response = await request(url).post('/api/v1/sis/connections').set(bearer(token)).send(body);
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return (response.body as { id: string }).id;
}

export function createOneRosterConnection(
  url: string,
  token: string,
  fields: Record<string, unknown>,
): Promise<string> {
  return createConnection(url, token, {
    provider: 'oneroster',
    version: '1.2',
    vendor: 'generic',
    requestTimeoutMs: 2000,
    ...fields,
  });
}

/** A `oneroster-csv` connection: a feed of uploaded packages (no base URL, credentials or schedule). */
export function createCsvConnection(url: string, token: string, fields: Record<string, unknown>): Promise<string> {
  return createConnection(url, token, { provider: 'oneroster-csv', ...fields });
}

export async function startRun(
  url: string,
  token: string,
  connectionId: string,
  body: { mode?: 'full' | 'delta'; dryRun?: boolean } = {},
): Promise<string> {
  const response = await request(url)
    .post(`/api/v1/sis/connections/${connectionId}/sync`)
    .set(bearer(token))
    .send({ mode: 'full', ...body });
  expect(response.status, JSON.stringify(response.body)).toBe(202);
  return (response.body as { runId: string }).runId;
}

export async function waitForRun(url: string, token: string, runId: string, timeoutMs = 60_000): Promise<RunView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await request(url).get(`/api/v1/sis/runs/${runId}`).set(bearer(token));
    expect(response.status).toBe(200);
    const run = response.body as RunView;
    if (SETTLED.has(run.state)) return run;
    if (Date.now() > deadline) throw new Error(`Run ${runId} still ${run.state} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function syncAndWait(
  url: string,
  token: string,
  connectionId: string,
  body: { mode?: 'full' | 'delta'; dryRun?: boolean } = {},
): Promise<RunView> {
  return waitForRun(url, token, await startRun(url, token, connectionId, body));
}

/** Rows of a mirror table for one connection, straight from PostgreSQL. */
export async function mirrorRows(
  databaseUrl: string,
  table: string,
  connectionId: string,
): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const result = await client.query(`SELECT * FROM ${table} WHERE connection_id = $1 ORDER BY sourced_id`, [
      connectionId,
    ]);
    return result.rows as Record<string, unknown>[];
  } finally {
    await client.end();
  }
}

export async function activeCount(databaseUrl: string, table: string, connectionId: string): Promise<number> {
  const rows = await mirrorRows(databaseUrl, table, connectionId);
  return rows.filter((row) => row['status'] === 'active').length;
}

export function totals(run: RunView, action: string): number {
  return Object.values(run.counts).reduce((sum, counts) => sum + (counts[action] ?? 0), 0);
}

// ---------------------------------------------------------------------------------------------------------
// Helpers for the CSV import, crash-resume, live-update, CLI and schedule suites.

/** The rest of a run's view (`GET /api/v1/sis/runs/{id}`). */
export interface RunDetails extends RunView {
  connectionId: string;
  trigger: string;
  attempt: number;
  startedAt: string | null;
  finishedAt: string | null;
}

/** `GET /api/v1/sis/runs/{id}`. */
export async function getRun(url: string, token: string, runId: string): Promise<RunDetails> {
  const response = await request(url).get(`/api/v1/sis/runs/${runId}`).set(bearer(token));
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body as RunDetails;
}

/** The mirror tables, in apply order, by entity. */
export const MIRROR_TABLE_OF = {
  orgs: 'roster_orgs',
  academicSessions: 'roster_academic_sessions',
  courses: 'roster_courses',
  classes: 'roster_classes',
  people: 'roster_people',
  demographics: 'roster_demographics',
  enrollments: 'roster_enrollments',
} as const;

/** Bookkeeping columns that legitimately differ between two connections mirroring the same data. */
const BOOKKEEPING_COLUMNS = new Set([
  'id',
  'connection_id',
  'created_by_run',
  'updated_by_run',
  'deactivated_at',
  'deactivated_by_run',
  'created_at',
  'updated_at',
]);

/**
 * Every active mirror row of a connection, per table: sourced_id and the content columns (no local ids,
 * run ids or timestamps of our own), ordered by sourced_id. Two connections that mirrored the same data
 * have equal snapshots.
 */
export async function mirrorSnapshot(
  databaseUrl: string,
  connectionId: string,
): Promise<Record<string, Record<string, unknown>[]>> {
  const snapshot: Record<string, Record<string, unknown>[]> = {};
  for (const table of Object.values(MIRROR_TABLE_OF)) {
    const rows = await mirrorRows(databaseUrl, table, connectionId);
    snapshot[table] = rows
      .filter((row) => row['status'] === 'active')
      .map((row) => Object.fromEntries(Object.entries(row).filter(([column]) => !BOOKKEEPING_COLUMNS.has(column))));
  }
  return snapshot;
}

/** Creates a user with one role through the API and logs in as them. */
export async function userWithRole(
  url: string,
  adminToken: string,
  role: string,
  password = 'a-long-enough-password',
): Promise<string> {
  const email = `${role.replace(/_/g, '-')}-${Math.random().toString(36).slice(2, 8)}@district.test`;
  const created = await request(url)
    .post('/api/v1/users')
    .set(bearer(adminToken))
    .send({ email, displayName: role, password, roles: [role] });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const response = await request(url).post('/api/v1/auth/login').send({ email, password });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return (response.body as { accessToken: string }).accessToken;
}

/** `POST /api/v1/sis/imports` with a file (or none) and the optional form fields. */
export function uploadImport(
  url: string,
  token: string,
  path: string | null,
  fields: { connectionId?: string; dryRun?: boolean } = {},
): request.Test {
  let pending = request(url).post('/api/v1/sis/imports').set(bearer(token));
  if (fields.connectionId) pending = pending.field('connectionId', fields.connectionId);
  if (fields.dryRun !== undefined && path) pending = pending.field('dryRun', String(fields.dryRun));
  if (path) pending = pending.attach('file', path);
  else pending = pending.field('dryRun', String(fields.dryRun ?? false));
  return pending;
}

/** Uploads a package and waits for its run to settle. */
export async function importAndWait(
  url: string,
  token: string,
  path: string,
  fields: { connectionId?: string; dryRun?: boolean } = {},
): Promise<RunDetails> {
  const response = await uploadImport(url, token, path, fields);
  expect(response.status, JSON.stringify(response.body)).toBe(202);
  return (await waitForRun(url, token, (response.body as { runId: string }).runId)) as RunDetails;
}

/** Polls until a value comes (moved to `@app/testing`; kept here for the specs that import it from here). */
export { eventually } from '@app/testing';

/** One query against the test database. */
export async function sql<R extends Record<string, unknown> = Record<string, unknown>>(
  databaseUrl: string,
  text: string,
  values: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as R[];
  } finally {
    await client.end();
  }
}

/** The student ids the audit entry of one request names (exactly one entry per request), sorted. */
export async function auditedStudents(databaseUrl: string, requestId: string): Promise<string[]> {
  const rows = await sql<{ entry: string }>(
    databaseUrl,
    `SELECT entry FROM audit_event_payloads WHERE entry::jsonb #>> '{origin,requestId}' = $1`,
    [requestId],
  );
  if (rows.length !== 1) throw new Error(`Expected one audit entry for request ${requestId}, found ${rows.length}`);
  return [...(JSON.parse(rows[0].entry) as { studentIds: string[] }).studentIds].sort();
}
