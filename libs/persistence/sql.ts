import type { EntityManager } from '@mikro-orm/postgresql';
import { CompiledQuery, type Kysely } from 'kysely';

/**
 * Runs SQL with server-side parameters (`$1`, `$2`, …) inside the entity manager's current transaction, if
 * any. `em.execute` inlines values into the statement text, which is slow and wasteful for bulk statements
 * that carry thousands of values in array parameters; this goes straight to the driver.
 */
export async function runSql<Row = Record<string, unknown>>(
  em: EntityManager,
  sql: string,
  params: readonly unknown[] = [],
): Promise<Row[]> {
  const executor = em.getTransactionContext<Kysely<unknown>>() ?? em.getConnection().getClient();
  const result = await executor.executeQuery<Row>(CompiledQuery.raw(sql, [...params]));
  return result.rows;
}

/** Like `runSql`, for statements whose row count matters (UPDATE/DELETE/INSERT without RETURNING). */
export async function runSqlCount(em: EntityManager, sql: string, params: readonly unknown[] = []): Promise<number> {
  const executor = em.getTransactionContext<Kysely<unknown>>() ?? em.getConnection().getClient();
  const result = await executor.executeQuery(CompiledQuery.raw(sql, [...params]));
  return Number(result.numAffectedRows ?? 0n);
}
