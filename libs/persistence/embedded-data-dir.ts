import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** What the first embedded default (PGlite) left in HOMEROOM_DATA_DIR: its cluster under `pg/`. */
const PGLITE_CLUSTER = 'pg';
const LOCK_FILE = 'homeroom.lock';

export class EmbeddedDataDirError extends Error {
  override readonly name = 'EmbeddedDataDirError';
}

/** Creates the data directory (0700) or tightens an existing one: it holds the database, its passwords and keys. */
export function prepareDataDir(dataDir: string): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
}

/**
 * Refuses a data directory written by the PGlite-based embedded default. Its files look like a PostgreSQL 18
 * cluster but were written by a WebAssembly build under other settings; nothing here is moved, opened or
 * overwritten, the operator decides.
 */
export function refusePgliteDataDir(dataDir: string): void {
  const pgliteCluster = join(dataDir, PGLITE_CLUSTER);
  if (!existsSync(join(pgliteCluster, 'PG_VERSION'))) return;
  throw new EmbeddedDataDirError(
    `${dataDir} holds a database made by an earlier Homeroom release (PGlite, in ${pgliteCluster}). ` +
      'This release runs a real PostgreSQL server and does not open PGlite files; nothing has been changed. ' +
      `To start fresh, move the directory aside (mv ${dataDir} ${dataDir}.pglite) and start again: the roster ` +
      'returns with the next SIS sync. To keep the audit trail, first export it with the earlier release ' +
      '(`npx homeroom audit export`), or point HOMEROOM_DATA_DIR at another directory.',
  );
}

/**
 * Takes the data directory for this process: a second Homeroom on the same directory (which would start a second
 * server on the same cluster, or share secrets it must not) is refused with the holder's pid. A lock left by a
 * process that no longer runs is taken over.
 */
export function lockDataDir(dataDir: string): () => void {
  const lockFile = join(dataDir, LOCK_FILE);
  for (let attempt = 0; ; attempt += 1) {
    try {
      const fd = openSync(lockFile, 'wx', 0o600);
      writeFileSync(fd, `${process.pid}\n`);
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
      const holder = Number.parseInt(readFileSync(lockFile, 'utf8'), 10);
      if (Number.isInteger(holder) && holder > 0 && isAlive(holder)) {
        throw new EmbeddedDataDirError(
          `The data directory ${dataDir} is in use by process ${holder} (another Homeroom). Stop it first, or ` +
            'set DATABASE_URL so that several processes share one PostgreSQL server.',
        );
      }
      rmSync(lockFile, { force: true });
    }
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    rmSync(lockFile, { force: true });
  };
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface EmbeddedCredentials {
  adminPassword: string;
  appPassword: string;
}

/**
 * The embedded server's passwords, generated once and kept in the data directory as a 0600 libpq password file,
 * so `PGPASSFILE=<data dir>/postgres.pgpass pg_dump ...` works for backups without typing a password.
 */
export function loadOrCreateCredentials(
  dataDir: string,
  roles: { admin: string; app: string },
): { credentials: EmbeddedCredentials; file: string } {
  const file = join(dataDir, 'postgres.pgpass');
  if (existsSync(file)) {
    chmodSync(file, 0o600);
    const passwords = new Map(
      readFileSync(file, 'utf8')
        .split('\n')
        .map((line) => line.split(':'))
        .filter((fields) => fields.length === 5)
        .map((fields) => [fields[3], fields[4]] as const),
    );
    const adminPassword = passwords.get(roles.admin);
    const appPassword = passwords.get(roles.app);
    if (adminPassword && appPassword) return { credentials: { adminPassword, appPassword }, file };
    throw new EmbeddedDataDirError(
      `${file} does not hold passwords for "${roles.admin}" and "${roles.app}". Restore it from a backup of the ` +
        'data directory; the embedded server cannot be opened without it.',
    );
  }
  // Hex only: no character needs escaping in a password file or a connection URL.
  const credentials = { adminPassword: randomBytes(24).toString('hex'), appPassword: randomBytes(24).toString('hex') };
  writeFileSync(
    file,
    `*:*:*:${roles.admin}:${credentials.adminPassword}\n*:*:*:${roles.app}:${credentials.appPassword}\n`,
    { mode: 0o600 },
  );
  chmodSync(file, 0o600);
  return { credentials, file };
}
