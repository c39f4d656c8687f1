import { spawn } from 'node:child_process';
import { join } from 'node:path';

export const HOMEROOM_BIN = join(import.meta.dirname, '../../bin/homeroom.js');

export interface CliResult {
  /** The exit code; null when the process had to be killed (it did not exit on its own). */
  status: number | null;
  stdout: string;
  stderr: string;
  /** stdout then stderr, for failure messages. */
  output: string;
  elapsedMs: number;
}

/**
 * Runs the compiled CLI asynchronously (a fake SIS in the test process keeps its event loop) and kills it after
 * `timeoutMs`: a command that prints its result and then never exits shows up as `status: null`.
 */
export function runHomeroom(
  args: string[],
  env: Record<string, string>,
  { timeoutMs = 120_000 }: { timeoutMs?: number } = {},
): Promise<CliResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [HOMEROOM_BIN, ...args], {
      env: { ...process.env, LOG_LEVEL: 'warn', NODE_ENV: 'test', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr, output: `${stdout}${stderr}`, elapsedMs: Date.now() - started });
    });
  });
}
