import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { TEST_JWT_SECRET } from './test-app.js';

/** The compiled worker entrypoint as a child process, with its output kept for assertions and failure messages. */
export interface WorkerProcess {
  readonly child: ChildProcess;
  output(): string;
  /** Where its metrics listener (and its /health probes) answer, e.g. http://127.0.0.1:41234. */
  readonly metricsUrl: string;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts `dist/src/worker.js` with the test secrets, metrics on a free loopback port, and `env` on top (at least
 * DATABASE_URL and REDIS_URL), and waits until it processes jobs and serves metrics.
 */
export async function startWorkerProcess(env: Record<string, string>, timeoutMs = 60_000): Promise<WorkerProcess> {
  let output = '';
  const child = spawn(process.execPath, [join(import.meta.dirname, '../../dist/src/worker.js')], {
    env: {
      ...process.env,
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      JWT_SECRET: TEST_JWT_SECRET,
      METRICS_HOST: '127.0.0.1',
      METRICS_PORT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const metricsUrl = /Metrics on (http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(output)?.[1];
    if (metricsUrl && output.includes('Processing')) {
      return { child, metricsUrl, output: () => output, stop: (graceMs) => stopChild(child, graceMs) };
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`worker did not start:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function stopChild(child: ChildProcess, graceMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const stopped = await Promise.race([
    exited.then(() => true),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), graceMs)),
  ]);
  if (!stopped) {
    child.kill('SIGKILL');
    await exited;
  }
}
