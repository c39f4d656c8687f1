import { AUDIT_EXEMPT, AUDIT_POLICY } from '@app/audit-capture';
import {
  applyOpenApiContract,
  listControllerRoutes,
  routeInputs,
  type ContractReport,
  type OpenApiDocumentShape,
  type RouteContract,
} from '@app/http';
import type { INestApplication } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { IS_PUBLIC, REQUIRED_ROLES } from './modules/identity/index.js';

/** The per-address limit every route is under (see the identity module's throttler guards). */
const ADDRESS_THROTTLER = 'address';
/** The metadata key `@SkipThrottle({ <name>: true })` sets (not exported by @nestjs/throttler's index). */
const THROTTLER_SKIP = 'THROTTLER:SKIP';

// Liveness never touches the database; readiness reports it as HEALTH.NOT_READY.
const PROBES_WITHOUT_DATABASE_ERRORS = new Set(['HealthController_live', 'HealthController_ready']);

export interface BuiltOpenApiDocument {
  document: OpenAPIObject;
  report: ContractReport;
}

/**
 * The OpenAPI document of the HTTP API, served at /openapi.json and linted in CI. The app's routes must be
 * registered (global prefix set) but it needs no database: `preview` apps work too.
 */
export function buildOpenApiDocument(app: INestApplication): BuiltOpenApiDocument {
  const config = new DocumentBuilder()
    .setTitle('Homeroom API')
    .setDescription(
      'Roster sync, FERPA audit trail and attendance for K-12 districts. Errors are RFC 9457 problem documents ' +
        '(`application/problem+json`) with a stable `code`; each response lists the codes it can carry.',
    )
    .setVersion('1')
    .setLicense('UNLICENSED', 'https://homeroom.invalid/license')
    .addServer('/', 'This Homeroom server')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, 'bearer')
    .build();
  const document = SwaggerModule.createDocument(app, config);
  const reflector = new Reflector();
  const routes = new Map<string, RouteContract>();
  for (const route of listControllerRoutes(app)) {
    const targets = [route.handler, route.controller];
    routes.set(route.operationId, {
      public: reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC, targets) === true,
      requiredRoles: reflector.getAllAndOverride<string[] | undefined>(REQUIRED_ROLES, targets),
      rateLimited:
        reflector.getAllAndOverride<boolean | undefined>(THROTTLER_SKIP + ADDRESS_THROTTLER, targets) !== true,
      audited:
        reflector.get(AUDIT_POLICY, route.handler) !== undefined &&
        reflector.getAllAndOverride(AUDIT_EXEMPT, targets) === undefined,
      usesDatabase: !PROBES_WITHOUT_DATABASE_ERRORS.has(route.operationId),
      ...routeInputs(route),
    });
  }
  const report = applyOpenApiContract(document as unknown as OpenApiDocumentShape, routes, 'bearer');
  return { document, report };
}
