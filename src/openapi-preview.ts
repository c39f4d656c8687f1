import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { loadConfiguration } from './config/index.js';
import { API_PREFIX, UNPREFIXED_ROUTES } from './http-app.js';
import { buildOpenApiDocument, type BuiltOpenApiDocument } from './openapi-document.js';

/** Never dialled: a preview app resolves no providers, so nothing connects. */
const UNUSED_DATABASE_URL = 'postgres://openapi@127.0.0.1:1/openapi_preview_test';
const UNUSED_SECRET = 'openapi-preview-only-0123456789abcdef0123456789abcdef';

/**
 * The OpenAPI document of the API role, built without a database, Redis or a listening port: Nest's `preview`
 * mode registers the module graph and routes but instantiates no provider. CI lints the result.
 */
export async function previewOpenApiDocument(): Promise<BuiltOpenApiDocument> {
  const configuration = loadConfiguration({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: UNUSED_DATABASE_URL,
    JWT_SECRET: UNUSED_SECRET,
    SIS_SECRETS_KEY: UNUSED_SECRET,
    AUDIT_SIGNING_KEY: UNUSED_SECRET,
  });
  const app: INestApplication = await NestFactory.create(
    AppModule.forRole({ role: 'api', configuration, databaseUrl: UNUSED_DATABASE_URL }),
    { preview: true, logger: false, abortOnError: false },
  );
  app.setGlobalPrefix(API_PREFIX, { exclude: UNPREFIXED_ROUTES });
  return buildOpenApiDocument(app);
}
