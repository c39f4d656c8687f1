import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module.js';
import { prepareRuntimeEnvironment, runEntrypoint, stopOnSignal } from './runtime-environment.js';

/** Worker process: consumes the job queue and fires schedules. Needs REDIS_URL to share work with the API. */
async function main(): Promise<void> {
  const runtime = await prepareRuntimeEnvironment();
  if (!runtime.configuration.redis.url) {
    throw new Error(
      'The worker role needs REDIS_URL (and DATABASE_URL) so it can share jobs with API processes. ' +
        'The embedded default (`npm start`) already runs the worker inside the API process.',
    );
  }
  const app = await NestFactory.createApplicationContext(
    AppModule.forRole({ role: 'worker', configuration: runtime.configuration, databaseUrl: runtime.databaseUrl }),
    { bufferLogs: true, abortOnError: false },
  );
  app.useLogger(app.get(Logger));
  app.flushLogs();
  await app.init();
  stopOnSignal(app, runtime);
}

runEntrypoint(main);
