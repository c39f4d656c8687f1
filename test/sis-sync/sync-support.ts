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

export async function createOneRosterConnection(
  url: string,
  token: string,
  fields: Record<string, unknown>,
): Promise<string> {
  const response = await request(url)
    .post('/api/v1/sis/connections')
    .set(bearer(token))
    .send({ provider: 'oneroster', version: '1.2', vendor: 'generic', requestTimeoutMs: 2000, ...fields });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return (response.body as { id: string }).id;
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
