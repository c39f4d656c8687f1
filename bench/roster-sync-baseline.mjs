// Baseline for the roster-sync benchmark: how fast PostgreSQL takes the same rows when nothing but a batched
// INSERT stands between them and the table. The district is read from the fake SIS with the app's own compiled
// OneRoster client and normaliser (dist/libs/oneroster), so the payloads are the records the engine stages; each
// page (5000 records) becomes one `INSERT … SELECT … FROM jsonb_array_elements($1)` into a scratch copy
// (`LIKE … INCLUDING ALL`: same columns, defaults, unique and secondary indexes, the trigram index too) of the
// roster table, with the typed columns computed by the engine's own column expressions (MIRROR_TABLES). Only the
// INSERT statements are timed: no staging, no reference checks, no upsert, no bookkeeping.
// `measureInsertBaselineOf` is the same measurement for records from any source (the PowerSchool benchmark passes
// the pages of the app's own PowerSchool source adapter).
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import pg from 'pg';

const dist = join(import.meta.dirname, '../dist');
const load = (path) => import(pathToFileURL(join(dist, path)).href);

/**
 * Inserts every record of the district into scratch tables of `databaseUrl`, page by page as pulled, and drops
 * them afterwards. Resolves to per-table and total records and INSERT time.
 */
export async function measureInsertBaseline({ databaseUrl, baseUrl, tokenUrl, clientId, clientSecret, pageSize }) {
  const { OneRosterRestClient, ONEROSTER_REST_COLLECTIONS, normaliseRestRecord } =
    await load('libs/oneroster/index.js');
  const source = new OneRosterRestClient({
    baseUrl,
    version: '1.2',
    auth: { type: 'oauth2', tokenUrl, clientId, clientSecret },
    pageSize,
    requestTimeoutMs: 60_000,
  });
  return measureInsertBaselineOf({
    databaseUrl,
    async *pagesOf(entity) {
      for await (const page of source.listPages(ONEROSTER_REST_COLLECTIONS[entity], { concurrency: 2 })) {
        const rows = [];
        for (const raw of page) {
          const result = normaliseRestRecord(entity, raw, '1.2');
          if (result.ok) rows.push(result.record);
        }
        yield rows;
      }
    },
  });
}

/**
 * The measurement itself: every entity of MIRROR_TABLES in its order, each page `pagesOf(entity)` yields (an
 * async iterable of arrays of normalised roster records) becoming one INSERT into the scratch table; only the
 * INSERTs are timed. Resolves to per-table and total records and INSERT time.
 */
export async function measureInsertBaselineOf({ databaseUrl, pagesOf }) {
  const { MIRROR_TABLES } = await load('src/modules/roster/infrastructure/roster-mirror.tables.js');
  const { personSearchText } = await load('src/modules/roster/domain/person-search-text.js');
  const connectionId = randomUUID();
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const created = [];
  const results = [];
  try {
    for (const [entity, spec] of Object.entries(MIRROR_TABLES)) {
      const scratch = `bench_baseline_${spec.table}`;
      await client.query(`DROP TABLE IF EXISTS ${scratch}`);
      await client.query(`CREATE TABLE ${scratch} (LIKE ${spec.table} INCLUDING ALL)`);
      created.push(scratch);
      const insert = `
        INSERT INTO ${scratch} (id, connection_id, sourced_id, status, source_modified_at, source_hash, metadata,
                                created_at, updated_at, ${spec.columns.map((mapping) => mapping.column).join(', ')})
        SELECT gen_random_uuid(), $2::uuid, p->>'sourcedId', 'active', (p->>'dateLastModified')::timestamptz,
               md5(p::text), coalesce(p->'metadata', '{}'::jsonb), now(), now(),
               ${spec.columns.map((mapping) => mapping.from).join(', ')}
          FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(p, i)
          LEFT JOIN unnest($3::text[]) WITH ORDINALITY AS c(search_text, i) ON c.i = e.i`;
      let records = 0;
      let ms = 0;
      for await (const rows of pagesOf(entity)) {
        const searchTexts = entity === 'people' ? rows.map((row) => personSearchText(row)) : null;
        const payload = JSON.stringify(rows);
        const started = performance.now();
        const inserted = await client.query(insert, [payload, connectionId, searchTexts]);
        ms += performance.now() - started;
        records += inserted.rowCount;
      }
      results.push({ entity, table: spec.table, records, ms });
    }
  } finally {
    for (const scratch of created) await client.query(`DROP TABLE IF EXISTS ${scratch}`).catch(() => undefined);
    await client.end();
  }
  const records = results.reduce((sum, result) => sum + result.records, 0);
  const ms = results.reduce((sum, result) => sum + result.ms, 0);
  return { results, records, ms, rate: records / (ms / 1000) };
}
