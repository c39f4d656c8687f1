/**
 * Child process that owns the embedded PGlite database and serves it over the PostgreSQL wire protocol
 * on loopback. Running it out of process keeps long queries from blocking the API's event loop, and lets
 * the app use the same `pg` driver, migrations and SQL as on a real PostgreSQL server.
 */
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface EmbeddedPostgresStartMessage {
  type: 'start';
  dataDir: string;
  maxConnections: number;
}

export type EmbeddedPostgresReply = { type: 'ready'; host: string; port: number } | { type: 'failed'; message: string };

function reply(message: EmbeddedPostgresReply): void {
  process.send?.(message);
}

let shutdown: (() => Promise<void>) | undefined;

async function start(message: EmbeddedPostgresStartMessage): Promise<void> {
  // Extensions the migrations create (`CREATE EXTENSION pg_trgm` for roster search) must be loaded here.
  const db = await PGlite.create({ dataDir: message.dataDir, extensions: { pg_trgm } });
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: message.maxConnections });
  await server.start();
  const [host, port] = server.getServerConn().split(':');
  shutdown = async () => {
    await server.stop();
    await db.close();
  };
  reply({ type: 'ready', host: host ?? '127.0.0.1', port: Number(port) });
}

async function stopAndExit(code: number): Promise<void> {
  try {
    await shutdown?.();
  } finally {
    process.exit(code);
  }
}

process.on('message', (message: EmbeddedPostgresStartMessage) => {
  if (message.type !== 'start') return;
  start(message).catch((error: unknown) => {
    reply({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
    process.exit(1);
  });
});
// The parent going away (even by SIGKILL) closes the IPC channel: flush and close the data dir cleanly.
process.on('disconnect', () => void stopAndExit(0));
process.on('SIGTERM', () => void stopAndExit(0));
process.on('SIGINT', () => void stopAndExit(0));
