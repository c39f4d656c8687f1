import type * as Persistence from '@app/persistence';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';

// The child-process server is loaded from the build (npm test builds first), as the service runs it.
const builtPersistence = join(import.meta.dirname, '../../dist/libs/persistence/index.js');
const { startEmbeddedPostgres } = (await import(builtPersistence)) as typeof Persistence;

async function query<T>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

describe('embedded PostgreSQL (PGlite in a child process)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'homeroom-pglite-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('serves the wire protocol, keeps data across restarts and refuses a second owner', async () => {
    const first = await startEmbeddedPostgres({ dataDir, maxConnections: 4 });
    try {
      await query(first.url, 'CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL)');
      await query(first.url, 'INSERT INTO notes (body) VALUES ($1), ($2)', ['first', 'second']);
      await expect(startEmbeddedPostgres({ dataDir, maxConnections: 4 })).rejects.toThrow(/in use by process/);
    } finally {
      await first.stop();
    }

    const second = await startEmbeddedPostgres({ dataDir, maxConnections: 4 });
    try {
      const rows = await query<{ body: string }>(second.url, 'SELECT body FROM notes ORDER BY id');
      expect(rows.map((row) => row.body)).toEqual(['first', 'second']);
    } finally {
      await second.stop();
    }
  }, 60_000);

  it('answers other connections while a long query runs in the child process', async () => {
    const server = await startEmbeddedPostgres({ dataDir: join(dataDir, 'concurrency'), maxConnections: 4 });
    try {
      let timerTicks = 0;
      const ticker = setInterval(() => (timerTicks += 1), 10);
      await query(server.url, 'SELECT count(*) FROM generate_series(1, 3000000)');
      clearInterval(ticker);
      // The event loop of this process kept running during the long query.
      expect(timerTicks).toBeGreaterThan(5);
    } finally {
      await server.stop();
    }
  }, 60_000);
});
