import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const DEFAULT_ADMIN_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export function adminDatabaseUrl(): string {
  return process.env['DATABASE_URL_ADMIN'] || DEFAULT_ADMIN_DATABASE_URL;
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/**
 * A fresh, empty database per test file (or per booted app), so suites run in parallel without sharing
 * state. The name always contains `test`; anything else is refused.
 */
export async function createTestDatabase(label = 'app'): Promise<TestDatabase> {
  const name = `homeroom_test_${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${randomBytes(5).toString('hex')}`;
  assertTestDatabaseName(name);
  const admin = new pg.Client({ connectionString: adminDatabaseUrl() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminDatabaseUrl());
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: adminDatabaseUrl() });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

export function assertTestDatabaseName(name: string): void {
  if (!name.includes('test')) {
    throw new Error(`Refusing to use database "${name}" in tests: its name must contain "test"`);
  }
}
