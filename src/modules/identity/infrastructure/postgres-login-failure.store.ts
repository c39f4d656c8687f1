import { runSql } from '@app/persistence';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { LoginFailureStore } from '../application/ports/login-failure.store.js';
import type { FailureCount } from '../domain/sign-in-throttle.js';

/** `login_failures` in PostgreSQL: one upsert per failure, so concurrent failures never lose a count. */
@Injectable()
export class PostgresLoginFailureStore extends LoginFailureStore {
  constructor(private readonly em: EntityManager) {
    super();
  }

  async read(keys: readonly string[], now: Date): Promise<FailureCount[]> {
    if (keys.length === 0) return [];
    const rows = await runSql<{ key: string; failures: number; window_ends_at: Date | string }>(
      this.em,
      'SELECT key, failures, window_ends_at FROM login_failures WHERE key = ANY($1::text[]) AND window_ends_at > $2',
      [[...keys], now],
    );
    const byKey = new Map(rows.map((row) => [row.key, row]));
    return keys.map((key) => {
      const row = byKey.get(key);
      return row
        ? { failures: row.failures, windowEndsAt: new Date(row.window_ends_at) }
        : { failures: 0, windowEndsAt: null };
    });
  }

  async record(keys: readonly string[], now: Date, windowMs: number): Promise<void> {
    if (keys.length === 0) return;
    await runSql(
      this.em,
      `INSERT INTO login_failures (key, failures, window_ends_at)
       SELECT key, 1, $2 FROM unnest($1::text[]) AS key
       ON CONFLICT (key) DO UPDATE SET
         failures = CASE WHEN login_failures.window_ends_at > $3 THEN login_failures.failures + 1 ELSE 1 END,
         window_ends_at = CASE WHEN login_failures.window_ends_at > $3 THEN login_failures.window_ends_at
                               ELSE EXCLUDED.window_ends_at END`,
      [[...keys], new Date(now.getTime() + windowMs), now],
    );
  }

  async clear(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    await runSql(this.em, 'DELETE FROM login_failures WHERE key = ANY($1::text[])', [[...keys]]);
  }

  async purgeEndedBefore(before: Date): Promise<number> {
    const rows = await runSql(this.em, 'DELETE FROM login_failures WHERE window_ends_at < $1 RETURNING key', [before]);
    return rows.length;
  }
}
