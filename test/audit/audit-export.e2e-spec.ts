import { canonicalJson, entryHash } from '@app/audit-chain';
import http from 'node:http';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from '../sis-sync/sync-support.js';
import { bearer, login } from '../support/auth.js';
import { bootTestApp, type TestApp } from '../support/test-app.js';

/** Enough that a buffered export (~90 MB of JSON Lines) would blow the memory bound; a million is a benchmark. */
const ENTRIES = 150_000;
const MAX_RSS_GROWTH = 60 * 1024 * 1024;

/**
 * A full collection on demand. V8 lets garbage pile up in old space long before it collects (the heap limit
 * is gigabytes), so without collecting, RSS measures the collector's mood rather than what the export holds.
 */
function exposeGc(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

/**
 * Appends `count` chained entries in one statement, the way the app stores them: canonical JSON (keys in
 * RFC 8785 order) hashed into the chain by the trigger, payload joined back by entry hash. A realistic browser
 * user agent keeps each line around 600 bytes.
 */
const BULK_APPEND = `
  WITH input AS MATERIALIZED (
    SELECT g,
           ts,
           student,
           format(
             '{"action":"student.read","actor":{"id":"%s","roles":["teacher"],"schoolIds":[],"type":"user"},'
             '"dataCategories":["directory","enrollment"],"details":{},"id":"%s","occurredAt":"%s",'
             '"origin":{"channel":"http","clientIp":"10.20.%s.%s","requestId":"bulk-%s",'
             '"route":"GET /api/v1/students/:id","userAgent":"%s"},"outcome":"allowed","purpose":null,'
             '"reason":null,"resource":{"id":"%s","type":"student"},"studentIds":["%s"],"v":1}',
             $2::uuid, gen_random_uuid(), to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
             (g / 256) % 256, g % 256, g,
             'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) '
               || 'Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0 HomeroomClassroom/4.2',
             student, student) AS entry
      FROM generate_series(1, $1::int) AS g,
           LATERAL (SELECT timestamptz '2026-09-01T08:00:00Z' + g * interval '10 milliseconds' AS ts,
                           gen_random_uuid() AS student) AS x
  ),
  chained AS (
    INSERT INTO audit_events (entry_hash)
    SELECT sha256(convert_to(entry, 'UTF8')) FROM input ORDER BY g
    RETURNING seq, entry_hash
  )
  INSERT INTO audit_event_payloads (seq, occurred_at, action, outcome, actor_id, student_ids, entry)
  SELECT c.seq, i.ts, 'student.read', 'allowed', $2::uuid, ARRAY[i.student], i.entry
    FROM chained c JOIN input i ON sha256(convert_to(i.entry, 'UTF8')) = c.entry_hash`;

describe('audit export at volume', () => {
  let app: TestApp;
  let token: string;
  const actorId = crypto.randomUUID();

  beforeAll(async () => {
    app = await bootTestApp();
    token = (await login(app.url)).accessToken;
    await sql(app.databaseUrl, BULK_APPEND, [ENTRIES, actorId]);
    // Bring the read models up to date now (any query does), so the export below measures streaming alone.
    const response = await fetch(new URL('/api/v1/audit/events?limit=1', app.url), { headers: bearer(token) });
    expect(response.status).toBe(200);
  }, 60_000);

  afterAll(async () => {
    await app?.close();
  });

  it('generates entries the app itself would have written', async () => {
    const rows = await sql<{ entry: string; entry_hash: Buffer }>(
      app.databaseUrl,
      'SELECT p.entry, e.entry_hash FROM audit_event_payloads p JOIN audit_events e USING (seq) ORDER BY seq LIMIT 3',
    );
    for (const row of rows) {
      expect(canonicalJson(JSON.parse(row.entry))).toBe(row.entry);
      expect(entryHash(row.entry).equals(row.entry_hash)).toBe(true);
    }
  });

  it('streams every entry as JSON Lines with flat memory, even to a slow reader', async () => {
    const [{ total }] = await sql<{ total: number }>(
      app.databaseUrl,
      'SELECT count(*)::int AS total FROM audit_event_payloads',
    );
    const gc = exposeGc();
    gc();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    let samples = 0;
    const sampler = setInterval(() => {
      gc();
      samples += 1;
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 200);

    const result = await new Promise<{ status: number; lines: number; bytes: number; first: string; last: string }>(
      (resolve, reject) => {
        const target = new URL('/api/v1/audit/export?format=jsonl', app.url);
        const requestHandle = http.get(target, { headers: bearer(token) }, (response) => {
          let lines = 0;
          let bytes = 0;
          let partial = '';
          let first = '';
          let sincePause = 0;
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => {
            bytes += chunk.length;
            const text = partial + chunk;
            const parts = text.split('\n');
            partial = parts.pop() ?? '';
            if (!first && parts.length > 0) first = parts[0];
            lines += parts.length;
            if (parts.length > 0) result.last = parts.at(-1)!;
            // Read slower than the server can write, so only backpressure keeps its buffers small.
            sincePause += chunk.length;
            if (sincePause > 1024 * 1024) {
              sincePause = 0;
              response.pause();
              setTimeout(() => response.resume(), 40);
            }
          });
          response.on('end', () =>
            resolve({ status: response.statusCode ?? 0, lines, bytes, first, last: result.last }),
          );
          response.on('error', reject);
        });
        const result = { last: '' };
        requestHandle.on('error', reject);
      },
    );
    clearInterval(sampler);
    expect(samples).toBeGreaterThan(5);

    expect(result.status).toBe(200);
    // Everything stored when the export started: the generated entries plus the export's own entry.
    expect(result.lines).toBe(total + 1);
    expect(result.bytes).toBeGreaterThan(ENTRIES * 500);
    const first = JSON.parse(result.first) as { seq: number; action: string };
    const last = JSON.parse(result.last) as { seq: number; action: string };
    expect(first).toMatchObject({ seq: 1, action: 'student.read' });
    expect(last).toMatchObject({ seq: total + 1, action: 'audit.export' });
    expect(peak - baseline, `RSS grew by ${Math.round((peak - baseline) / 1024 / 1024)} MB`).toBeLessThan(
      MAX_RSS_GROWTH,
    );
  }, 40_000);
});
