import 'reflect-metadata';
import { listeningMessage } from '@app/http';
import { Logger } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import { createHttpApp } from './http-app.js';
import { prepareRuntimeEnvironment, runEntrypoint, stopOnSignal } from './runtime-environment.js';
import { printFirstRunCredentials } from './modules/identity/index.js';

/**
 * API process. Without DATABASE_URL it is the embedded default: one process that also runs the worker
 * role, on a PostgreSQL server it starts under HOMEROOM_DATA_DIR and an in-process queue.
 */
async function main(): Promise<void> {
  const runtime = await prepareRuntimeEnvironment();
  const role = runtime.embeddedDatabase || !runtime.configuration.redis.url ? 'all' : 'api';
  const app = await createHttpApp(runtime, role);
  const { host, port } = runtime.configuration.app;
  await app.listen(port, host);
  // The bound port: PORT=0 asks the system for a free one.
  const bound = (app.getHttpServer() as { address(): AddressInfo | string | null }).address();
  new Logger('HTTP').log(listeningMessage(host, typeof bound === 'object' && bound ? bound.port : port));
  printFirstRunCredentials(app);
  stopOnSignal(app, runtime);
}

runEntrypoint(main);
