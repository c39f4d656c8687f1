import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** The compiled API entrypoint, started as an operator would (`npm run build` first). */
const entrypoint = join(import.meta.dirname, '../../dist/src/main.js');

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface ServiceProcess {
  child: ChildProcess;
  output: () => string;
  url: string;
}

/**
 * Starts the built service in its own process with no DATABASE_URL or REDIS_URL (the embedded default) unless
 * `extraEnv` sets them, and waits until /health/ready answers.
 */
export async function startServiceProcess(
  dataDir: string,
  extraEnv: Record<string, string> = {},
): Promise<ServiceProcess> {
  const port = await freePort();
  const metricsPort = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of ['DATABASE_URL', 'REDIS_URL', 'JWT_SECRET', 'HOMEROOM_ADMIN_EMAIL', 'HOMEROOM_ADMIN_PASSWORD']) {
    delete env[key];
  }
  Object.assign(env, {
    NODE_ENV: 'development',
    HOST: '127.0.0.1',
    PORT: String(port),
    METRICS_PORT: String(metricsPort),
    HOMEROOM_DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    ...extraEnv,
  });
  const child = spawn(process.execPath, [entrypoint], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`service exited early:\n${output}`);
    try {
      const response = await fetch(`${url}/health/ready`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`service not ready in time:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { child, output: () => output, url };
}

/** Sends `signal` and resolves with how long the process took to exit. */
export function stopServiceProcess(service: ServiceProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<number> {
  const started = Date.now();
  return new Promise((resolve) => {
    if (service.child.exitCode !== null || service.child.signalCode !== null) return resolve(0);
    service.child.once('exit', () => resolve(Date.now() - started));
    service.child.kill(signal);
  });
}

/** The pid of the embedded server's postmaster while it runs, from its pid file. */
export function embeddedPostmasterPid(dataDir: string): number | undefined {
  const pidFile = join(dataDir, 'postgres', 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  return Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
}

export function processRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // Exited but not yet reaped: a zombie answers signal 0 too.
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** `count` GETs, `parallel` at a time, cycling through `paths`; resolves with the count of each status. */
export async function concurrentReads(
  url: string,
  token: string,
  paths: readonly string[],
  count: number,
  parallel: number,
): Promise<Record<number, number>> {
  const statuses: Record<number, number> = {};
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const path = paths[next % paths.length];
      next += 1;
      let status: number;
      try {
        const response = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } });
        await response.arrayBuffer();
        status = response.status;
      } catch {
        status = 0;
      }
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return statuses;
}

/** The reads the fresh-clone check makes: who am I, students, classes, audit events. */
export const READ_PATHS = [
  '/api/v1/auth/me',
  '/api/v1/students?limit=20',
  '/api/v1/classes?limit=20',
  '/api/v1/audit/events?limit=5',
] as const;
