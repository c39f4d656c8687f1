#!/usr/bin/env node
// `npm test`: checks that PostgreSQL and Redis answer, builds the app (e2e tests also start the compiled
// entrypoint), runs every tier with vitest and ends with one line: `N passed, N failed`.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';

const adminUrl = new URL(process.env.DATABASE_URL_ADMIN || 'postgres://postgres@127.0.0.1:5432/postgres');
const redisUrl = new URL(process.env.REDIS_URL_TEST || 'redis://127.0.0.1:6379');
const resultsFile = '.vitest-results.json';

function answers(host, port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port: Number(port), timeout: 2000 });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
}

function finish(passed, failed, code) {
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(code);
}

const missing = [];
if (!(await answers(adminUrl.hostname, adminUrl.port || 5432))) {
  missing.push(
    `PostgreSQL is not answering at ${adminUrl.host}. The tests need a PostgreSQL server where user ` +
      `"${adminUrl.username || 'postgres'}" may create databases (trust auth or a password in DATABASE_URL_ADMIN).\n` +
      `  Start it:   pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n` +
      `  or point DATABASE_URL_ADMIN at another server, e.g. postgres://postgres:secret@db:5432/postgres`,
  );
}
if (!(await answers(redisUrl.hostname, redisUrl.port || 6379))) {
  missing.push(
    `Redis is not answering at ${redisUrl.host}.\n` +
      `  Start it:   redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no\n` +
      `  or point REDIS_URL_TEST at another server, e.g. redis://redis:6379`,
  );
}
if (missing.length > 0) {
  console.error(`Cannot run the integration and e2e tests:\n\n${missing.join('\n\n')}\n`);
  finish(0, 1, 1);
}

const build = spawnSync('npm', ['run', '-s', 'build'], { stdio: 'inherit' });
if (build.status !== 0) {
  console.error('The build failed; no tests were run.');
  finish(0, 1, 1);
}

rmSync(resultsFile, { force: true });
const vitest = spawnSync(
  'npx',
  [
    'vitest',
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${resultsFile}`,
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit' },
);
if (!existsSync(resultsFile)) finish(0, 1, vitest.status || 1);
const results = JSON.parse(readFileSync(resultsFile, 'utf8'));
rmSync(resultsFile, { force: true });
const failedSuites = results.numFailedTestSuites ?? 0;
const failed = (results.numFailedTests ?? 0) + (results.numFailedTests === 0 && failedSuites > 0 ? failedSuites : 0);
finish(results.numPassedTests ?? 0, failed, vitest.status ?? 1);
