import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import pg from 'pg';
import {
  EmbeddedDataDirError,
  isAlive,
  loadOrCreateCredentials,
  lockDataDir,
  prepareDataDir,
  refusePgliteDataDir,
  type EmbeddedCredentials,
} from './embedded-data-dir.js';
import {
  choosePostgresRunner,
  loadPostgresBinaries,
  type PostgresCommandRunner,
} from './embedded-postgres-binaries.js';

/** The superuser: creates the database and the service's role, and runs the migrations (it owns the schema). */
export const EMBEDDED_ADMIN_ROLE = 'homeroom_admin';
/** The service's role: owns nothing, granted what it needs after every migration run, as in server mode. */
export const EMBEDDED_APP_ROLE = 'homeroom_app';
export const EMBEDDED_DATABASE = 'homeroom';
/** The PostgreSQL major version the bundled binaries run; a cluster made by another one is refused. */
const BUNDLED_MAJOR = '18';

export interface EmbeddedPostgres {
  /** The service's connection, as the least-privileged `homeroom_app` role. */
  readonly url: string;
  /** The superuser's connection to the same database, for migrations. */
  readonly adminUrl: string;
  readonly appRole: string;
  readonly port: number;
  readonly dataDir: string;
  /** The PostgreSQL cluster (PGDATA): `<dataDir>/postgres`. */
  readonly clusterDir: string;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  /** The server's max_connections: every pool the processes on this data directory open, plus headroom. */
  maxConnections: number;
  /** Loopback port to listen on; unset or 0 picks a free one at every start. */
  port?: number;
  startTimeoutMs?: number;
  /** Notable events (first initialisation, a server left behind by a dead process). */
  log?: (message: string) => void;
}

/**
 * Runs a real PostgreSQL server (the `embedded-postgres` binaries) on a cluster under `<dataDir>/postgres`,
 * listening on 127.0.0.1 only, with SCRAM passwords kept in `<dataDir>/postgres.pgpass`. The data directory is
 * locked to this process; the server is stopped by `stop()` (fast shutdown) or, if the process exits without
 * calling it, from the exit hook. A server left running by a process that was killed is stopped at the next start.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const dataDir = resolve(options.dataDir);
  refusePgliteDataDir(dataDir);
  prepareDataDir(dataDir);
  const releaseLock = lockDataDir(dataDir);
  try {
    return await startLocked(dataDir, options, releaseLock);
  } catch (error) {
    releaseLock();
    throw error;
  }
}

async function startLocked(
  dataDir: string,
  options: EmbeddedPostgresOptions,
  releaseLock: () => void,
): Promise<EmbeddedPostgres> {
  const log = options.log ?? (() => {});
  const runner = choosePostgresRunner(await loadPostgresBinaries());
  const clusterDir = join(dataDir, 'postgres');
  const clusterExists = existsSync(join(clusterDir, 'PG_VERSION'));
  if (clusterExists && !existsSync(join(dataDir, 'postgres.pgpass'))) {
    throw new EmbeddedDataDirError(
      `${dataDir}/postgres.pgpass is missing: the embedded database's passwords are kept there. Restore it from ` +
        'a backup of the data directory.',
    );
  }
  const { credentials } = loadOrCreateCredentials(dataDir, { admin: EMBEDDED_ADMIN_ROLE, app: EMBEDDED_APP_ROLE });
  runner.adopt(dataDir, false);
  if (clusterExists) assertBundledMajor(clusterDir);
  else {
    log(`Creating the embedded PostgreSQL ${BUNDLED_MAJOR} cluster in ${clusterDir} (${runner.description})`);
    await initCluster(runner, dataDir, clusterDir, credentials.adminPassword);
  }
  await stopLeftoverServer(runner, clusterDir, log);

  const startTimeoutSeconds = Math.ceil((options.startTimeoutMs ?? 60_000) / 1000);
  const port = await startServer(runner, dataDir, clusterDir, { ...options, startTimeoutSeconds });
  let stopped = false;
  const stopNow = (): void => {
    if (stopped) return;
    stopped = true;
    runner.runSync('pg_ctl', ['stop', '-D', clusterDir, '-m', 'fast', '-w', '-t', '10']);
    releaseLock();
  };
  // An exit without stop() (an uncaught error, process.exit) still shuts the server down; SIGKILL cannot be caught,
  // which is why a start also looks for a server left behind.
  process.once('exit', stopNow);
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', stopNow);
    try {
      const result = await runner.run('pg_ctl', ['stop', '-D', clusterDir, '-m', 'fast', '-w', '-t', '30']);
      if (result.code !== 0 && existsSync(join(clusterDir, 'postmaster.pid'))) {
        await runner.run('pg_ctl', ['stop', '-D', clusterDir, '-m', 'immediate', '-w', '-t', '10']);
      }
    } finally {
      releaseLock();
    }
  };

  try {
    await provision(port, credentials);
  } catch (error) {
    await stop();
    throw error;
  }
  const urlFor = (role: string, password: string): string =>
    `postgres://${role}:${password}@127.0.0.1:${port}/${EMBEDDED_DATABASE}`;
  return {
    url: urlFor(EMBEDDED_APP_ROLE, credentials.appPassword),
    adminUrl: urlFor(EMBEDDED_ADMIN_ROLE, credentials.adminPassword),
    appRole: EMBEDDED_APP_ROLE,
    port,
    dataDir,
    clusterDir,
    stop,
  };
}

/** initdb into a scratch directory renamed into place, so an interrupted first start leaves no half-made cluster. */
async function initCluster(
  runner: PostgresCommandRunner,
  dataDir: string,
  clusterDir: string,
  adminPassword: string,
): Promise<void> {
  const suffix = randomBytes(4).toString('hex');
  const scratch = join(dataDir, `postgres.initdb-${suffix}`);
  const passwordFile = join(dataDir, `.initdb-password-${suffix}`);
  writeFileSync(passwordFile, `${adminPassword}\n`, { mode: 0o600 });
  runner.adopt(passwordFile, false);
  try {
    const result = await runner.run('initdb', [
      `--pgdata=${scratch}`,
      `--username=${EMBEDDED_ADMIN_ROLE}`,
      `--pwfile=${passwordFile}`,
      '--auth=scram-sha-256',
      '--encoding=UTF8',
      // The same ordering and character classes as a server initialised with C.UTF-8, on any host's locales.
      '--locale-provider=builtin',
      '--builtin-locale=C.UTF-8',
      '--locale=C',
      '--no-instructions',
    ]);
    if (result.code !== 0) throw new Error(`Could not create the embedded PostgreSQL cluster:\n${result.output}`);
    renameSync(scratch, clusterDir);
  } finally {
    rmSync(passwordFile, { force: true });
    rmSync(scratch, { recursive: true, force: true });
  }
}

function assertBundledMajor(clusterDir: string): void {
  const major = readFileSync(join(clusterDir, 'PG_VERSION'), 'utf8').trim();
  if (major === BUNDLED_MAJOR) return;
  throw new EmbeddedDataDirError(
    `The embedded database in ${clusterDir} was made by PostgreSQL ${major}; this release runs PostgreSQL ` +
      `${BUNDLED_MAJOR}. Dump it with pg_dump from the release that made it and restore it into a fresh data ` +
      'directory; nothing has been changed.',
  );
}

/**
 * A process killed with SIGKILL leaves its server running (PostgreSQL daemonises). It holds this data directory,
 * and its settings (port, connection limit) may not be ours: stop it before starting ours.
 */
async function stopLeftoverServer(
  runner: PostgresCommandRunner,
  clusterDir: string,
  log: (message: string) => void,
): Promise<void> {
  const pidFile = join(clusterDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number.parseInt(readFileSync(pidFile, 'utf8').split('\n')[0] ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid) || !isPostgres(pid)) return;
  log(`Stopping a PostgreSQL server (pid ${pid}) left running on ${clusterDir} by an earlier Homeroom process`);
  const result = await runner.run('pg_ctl', ['stop', '-D', clusterDir, '-m', 'fast', '-w', '-t', '30']);
  if (result.code !== 0 && isAlive(pid)) {
    throw new EmbeddedDataDirError(
      `A PostgreSQL server (pid ${pid}) left running on ${clusterDir} did not stop:\n${result.output}\n` +
        `Stop it (kill -INT ${pid}) and start again.`,
    );
  }
}

/** Where /proc exists, a recycled pid that now belongs to another program is not taken for the server. */
function isPostgres(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('postgres');
  } catch {
    return !existsSync('/proc/self');
  }
}

async function startServer(
  runner: PostgresCommandRunner,
  dataDir: string,
  clusterDir: string,
  options: EmbeddedPostgresOptions & { startTimeoutSeconds: number },
): Promise<number> {
  const logFile = join(dataDir, 'postgres.log');
  for (let attempt = 0; ; attempt += 1) {
    const port = options.port || (await freeLoopbackPort());
    const settings = [
      `-p ${port}`,
      '-c listen_addresses=127.0.0.1',
      // TCP on loopback only: no socket file in a shared directory such as /tmp.
      "-c unix_socket_directories=''",
      `-c max_connections=${options.maxConnections}`,
      // The server's own log, rotated daily and kept a week (postgres.log holds start-up and shutdown only).
      '-c logging_collector=on',
      '-c log_directory=log',
      '-c log_filename=postgresql-%a.log',
      '-c log_truncate_on_rotation=on',
      '-c log_rotation_age=1d',
      '-c log_rotation_size=0',
    ].join(' ');
    const result = await runner.run(
      'pg_ctl',
      ['start', '-D', clusterDir, '-w', '-t', String(options.startTimeoutSeconds), '-l', logFile, '-o', settings],
      (options.startTimeoutSeconds + 10) * 1000,
    );
    if (result.code === 0) return port;
    const serverLog = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n') : '';
    // A free port found a moment ago can be taken before the server binds it: pick another once.
    if (!options.port && attempt === 0 && /could not bind|address already in use/i.test(serverLog)) continue;
    throw new Error(`The embedded PostgreSQL server did not start:\n${result.output}\n${serverLog}`);
  }
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

/** The database and the service's role, created on first start; the role's password follows the password file. */
async function provision(port: number, credentials: EmbeddedCredentials): Promise<void> {
  const admin = new pg.Client({
    host: '127.0.0.1',
    port,
    user: EMBEDDED_ADMIN_ROLE,
    password: credentials.adminPassword,
    database: 'postgres',
  });
  await admin.connect();
  try {
    const role = admin.escapeIdentifier(EMBEDDED_APP_ROLE);
    const password = admin.escapeLiteral(credentials.appPassword);
    const { rowCount: roleExists } = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [
      EMBEDDED_APP_ROLE,
    ]);
    await admin.query(
      roleExists
        ? `ALTER ROLE ${role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION PASSWORD ${password}`
        : `CREATE ROLE ${role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION PASSWORD ${password}`,
    );
    const { rowCount: databaseExists } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [
      EMBEDDED_DATABASE,
    ]);
    if (!databaseExists) {
      await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(EMBEDDED_DATABASE)} OWNER ${EMBEDDED_ADMIN_ROLE}`);
    }
  } finally {
    await admin.end();
  }
}
