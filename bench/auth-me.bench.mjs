// Authenticated `GET /api/v1/auth/me` (JWT verify + user and session lookup on every request) against an
// unauthenticated trivial route of the same app (`GET /health/live`), measured back to back in one run.
import autocannon from 'autocannon';
import { adminAccessToken, formatRate, startService } from './support.mjs';

// `/auth/me` sits behind the sign-in limiter (at most 10,000 a minute): warm-up plus this stays under it.
const DURATION_SECONDS = Number(process.env.BENCH_DURATION_SECONDS || 6);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS || 20);

function measure(url, headers = {}) {
  return autocannon({ url, headers, connections: CONNECTIONS, duration: DURATION_SECONDS, pipelining: 1 });
}

export async function run() {
  const service = await startService();
  try {
    const accessToken = await adminAccessToken(service.url);

    // Warm up both paths (JIT, connection pool) before measuring.
    await autocannon({ url: `${service.url}/health/live`, connections: 5, duration: 2 });
    await autocannon({
      url: `${service.url}/api/v1/auth/me`,
      headers: { authorization: `Bearer ${accessToken}` },
      connections: 5,
      duration: 2,
    });

    const baseline = await measure(`${service.url}/health/live`);
    const authed = await measure(`${service.url}/api/v1/auth/me`, { authorization: `Bearer ${accessToken}` });
    if (authed.non2xx > 0 || baseline.non2xx > 0) {
      throw new Error(`non-2xx responses: me=${authed.non2xx} live=${baseline.non2xx}`);
    }
    const rows = [
      ['route', 'req/s (mean)', 'p50 ms', 'p99 ms'],
      [
        'GET /health/live (baseline, no auth)',
        formatRate(baseline.requests.average),
        baseline.latency.p50,
        baseline.latency.p99,
      ],
      [
        'GET /api/v1/auth/me (JWT + DB lookups)',
        formatRate(authed.requests.average),
        authed.latency.p50,
        authed.latency.p99,
      ],
    ];
    console.log(`database: ${service.database}; ${CONNECTIONS} connections; ${DURATION_SECONDS} s per route`);
    for (const row of rows) console.log(row.map((cell, index) => String(cell).padEnd(index === 0 ? 42 : 14)).join(''));
    console.log(
      `ratio auth/me ÷ baseline throughput: ${(authed.requests.average / baseline.requests.average).toFixed(2)}`,
    );
  } finally {
    await service.stop();
  }
}
