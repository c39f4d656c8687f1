import { createValidationPipe, ProblemDetailsFilter, refuseHostileBodies, refuseHostileUrls } from '@app/http';
import { translateDatabaseOutage } from '@app/persistence';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppModule, type ProcessRole } from './app.module.js';
import { AuditProblemRecorder } from './modules/audit/index.js';
import { installHttpMetrics } from './modules/observability/index.js';
import { configureRealtimeAdapter } from './modules/realtime/index.js';
import { requestIdFor } from './logger-options.js';
import { buildOpenApiDocument } from './openapi-document.js';
import type { RuntimeEnvironment } from './runtime-environment.js';

export const API_PREFIX = 'api/v1';
export const UNPREFIXED_ROUTES = ['health/live', 'health/ready'];

/** Builds the HTTP (and socket.io) application for the `api` and `all` roles, without listening. */
export async function createHttpApp(
  runtime: RuntimeEnvironment,
  role: Extract<ProcessRole, 'api' | 'all'>,
): Promise<INestApplication> {
  const { configuration } = runtime;
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.forRole({ role, configuration, databaseUrl: runtime.databaseUrl }),
    { bufferLogs: true, bodyParser: false, abortOnError: false },
  );
  app.useLogger(app.get(Logger));
  app.flushLogs();
  app.disable('x-powered-by');
  // Only the configured proxies may name the client in X-Forwarded-For; per-address rate limits depend on it.
  if (configuration.app.trustedProxies.length > 0) app.set('trust proxy', [...configuration.app.trustedProxies]);
  installHttpMetrics(app);
  // The request id, security headers and CORS come before the body parsers, so that a body refused there (not
  // JSON, too large) still gets a response with all three, and an audit entry with its request id.
  app.use((request: IncomingMessage & { id?: unknown }, response: ServerResponse, next: () => void) => {
    request.id ??= requestIdFor(request, response);
    next();
  });
  app.use(securityHeaders());
  app.enableCors({
    origin: [...configuration.app.corsOrigins],
    credentials: false,
    exposedHeaders: ['X-Request-Id', 'Retry-After'],
  });
  // NUL or a lone surrogate in the path, a query parameter or any string of a body, and bodies nested deeper than
  // any DTO, are refused here with a 400 problem: no route, pipe or SQL statement ever sees them.
  app.use(refuseHostileUrls());
  app.useBodyParser('json', { limit: configuration.app.bodyLimit });
  app.useBodyParser('urlencoded', { limit: configuration.app.bodyLimit, extended: false });
  app.use(refuseHostileBodies());
  app.setGlobalPrefix(API_PREFIX, { exclude: UNPREFIXED_ROUTES });
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new ProblemDetailsFilter(app.get(AuditProblemRecorder), [translateDatabaseOutage]));
  await configureRealtimeAdapter(app, configuration);
  setUpOpenApi(app);
  return app;
}

/**
 * Helmet's headers with a strict CSP. `upgrade-insecure-requests` only on requests that came over HTTPS (directly,
 * or through a trusted proxy's X-Forwarded-Proto): over plain HTTP on any host but localhost it makes the browser
 * fetch the docs' scripts and styles over https, which nothing answers, and /docs stays blank.
 */
function securityHeaders(): (request: Request, response: Response, next: (error?: unknown) => void) => void {
  const directives = {
    'script-src': ["'self'"],
    'style-src': ["'self'", "'unsafe-inline'"],
    'img-src': ["'self'", 'data:'],
  };
  const overHttps = helmet({ contentSecurityPolicy: { directives } });
  const overHttp = helmet({
    contentSecurityPolicy: { directives: { ...directives, 'upgrade-insecure-requests': null } },
  });
  return (request, response, next) => (request.secure ? overHttps : overHttp)(request, response, next);
}

function setUpOpenApi(app: INestApplication): void {
  const { document } = buildOpenApiDocument(app);
  SwaggerModule.setup('docs', app, document, {
    useGlobalPrefix: false,
    jsonDocumentUrl: 'openapi.json',
    yamlDocumentUrl: 'openapi.yaml',
  });
}
