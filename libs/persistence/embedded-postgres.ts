import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EmbeddedPostgresReply, EmbeddedPostgresStartMessage } from './embedded-postgres.process.js';

export interface EmbeddedPostgres {
  /** A postgres:// URL for the `pg` driver, served by the PGlite child process. */
  readonly url: string;
  readonly dataDir: string;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  /** Must be at least the ORM pool size, or extra connections are reset by PGlite's socket server. */
  maxConnections: number;
  startTimeoutMs?: number;
}

/**
 * Starts PGlite in a child process under `<dataDir>/pg`. A lock file refuses a second process on the same
 * data directory: PGlite is single-writer and two servers on one directory would corrupt it.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const dataDir = resolve(options.dataDir);
  const pgDir = join(dataDir, 'pg');
  mkdirSync(pgDir, { recursive: true });
  const releaseLock = acquireDataDirLock(join(dataDir, 'embedded-postgres.lock'));

  const childScript = fileURLToPath(new URL('./embedded-postgres.process.js', import.meta.url));
  const child = fork(childScript, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const { host, port } = await waitForReady(child, options.startTimeoutMs ?? 60_000, {
      type: 'start',
      dataDir: pgDir,
      maxConnections: options.maxConnections,
    });
    let stopped = false;
    const stop = async (): Promise<void> => {
      if (stopped) return;
      stopped = true;
      await terminate(child);
      releaseLock();
    };
    return { url: `postgres://postgres@${host}:${port}/postgres`, dataDir, stop };
  } catch (error) {
    await terminate(child);
    releaseLock();
    throw error;
  }
}

function waitForReady(
  child: ChildProcess,
  timeoutMs: number,
  start: EmbeddedPostgresStartMessage,
): Promise<{ host: string; port: number }> {
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`Embedded PostgreSQL did not start within ${timeoutMs} ms`)),
      timeoutMs,
    );
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Embedded PostgreSQL exited during start-up (code ${code})`));
    });
    child.on('message', (message: EmbeddedPostgresReply) => {
      clearTimeout(timer);
      if (message.type === 'ready') resolvePromise({ host: message.host, port: message.port });
      else reject(new Error(`Embedded PostgreSQL failed to start: ${message.message}`));
    });
    child.send(start);
  });
}

function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolvePromise) => {
    const forceKill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(forceKill);
      resolvePromise();
    });
    child.kill('SIGTERM');
  });
}

function acquireDataDirLock(lockFile: string): () => void {
  try {
    const fd = openSync(lockFile, 'wx');
    writeFileSync(fd, String(process.pid));
    closeSync(fd);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const holder = Number(readFileSync(lockFile, 'utf8'));
    if (Number.isInteger(holder) && holder > 0 && isAlive(holder)) {
      throw new Error(
        `The embedded database in ${lockFile.replace(/\/[^/]+$/, '')} is in use by process ${holder}. ` +
          'Stop it, or set DATABASE_URL to share a PostgreSQL server between processes.',
        { cause: error },
      );
    }
    writeFileSync(lockFile, String(process.pid));
  }
  return () => rmSync(lockFile, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
