import type { INestApplication, Type } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum.js';
import { ModulesContainer } from '@nestjs/core';
import { getMetadataStorage, ValidationTypes } from 'class-validator';
import { PROBLEM_SCHEMA_NAME, problemResponseSchema, problemSchema } from './api-problems.decorator.js';
import { PROBLEM_CONTENT_TYPE, problemType } from './problem-details.js';

type ValidationMetadata = ReturnType<ReturnType<typeof getMetadataStorage>['getTargetValidationMetadatas']>[number];

/** The parts of an OpenAPI 3.0 document this module reads and writes. */
export interface OpenApiSchema {
  type?: string;
  format?: string;
  enum?: unknown[];
  items?: OpenApiSchema;
  properties?: Record<string, OpenApiSchema>;
  required?: string[];
  additionalProperties?: boolean | OpenApiSchema;
  $ref?: string;
  allOf?: OpenApiSchema[];
  oneOf?: OpenApiSchema[];
  nullable?: boolean;
  [keyword: string]: unknown;
}

interface OpenApiParameter {
  name: string;
  in: string;
  required?: boolean;
  schema?: OpenApiSchema;
}

interface OpenApiResponse {
  description: string;
  content?: Record<string, { schema?: OpenApiSchema; example?: unknown }>;
  [extension: string]: unknown;
}

interface OpenApiOperation {
  operationId?: string;
  parameters?: OpenApiParameter[];
  requestBody?: { required?: boolean; content: Record<string, { schema?: OpenApiSchema; example?: unknown }> };
  responses: Record<string, OpenApiResponse>;
  security?: Record<string, string[]>[];
  description?: string;
}

export interface OpenApiDocumentShape {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, OpenApiSchema>; securitySchemes?: Record<string, unknown> };
}

/** What the document builder needs to know about a route beyond its Swagger decorators. */
export interface RouteContract {
  /** Reachable without a token (otherwise it answers 401 without one). */
  public: boolean;
  /** Roles of which the caller needs one (403 otherwise). */
  requiredRoles?: readonly string[];
  /** Under a rate limit (429). */
  rateLimited: boolean;
  /** Audited fail-closed: 503 AUDIT.UNAVAILABLE when the audit store cannot take the entry. */
  audited: boolean;
  /** Reads or writes the database: 503 DATABASE.UNAVAILABLE while it cannot be reached. */
  usesDatabase: boolean;
  /** The class whose validators check the JSON body. */
  bodyType?: Type;
  /** The class whose validators check the query string. */
  queryType?: Type;
  /** A Nest built-in `Parse*Pipe` checks a parameter (its refusal is a 400 HTTP.BAD_REQUEST). */
  parsesWithBuiltInPipe: boolean;
  /** Path parameters whose pipe accepts one string format only (`uuid`), by name. */
  parameterFormats: Record<string, string>;
}

/**
 * A parameter pipe may say which string format it accepts (`static readonly openApiFormat = 'uuid'`), so the
 * document can too.
 */
export interface DocumentedFormatPipe {
  readonly openApiFormat: string;
}

export interface ControllerRoute {
  /** Swagger's default operation id: `<Controller>_<method>`. */
  operationId: string;
  controller: Type;
  handler: (...args: unknown[]) => unknown;
}

interface RouteArgument {
  index: number;
  data?: unknown;
  pipes?: unknown[];
}

/** Every route handler of the app's controllers, with the operation id Swagger gives it. */
export function listControllerRoutes(app: INestApplication): ControllerRoute[] {
  const routes: ControllerRoute[] = [];
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as Type | null;
      if (!controller) continue;
      const prototype = controller.prototype as Record<string, unknown>;
      for (const name of Object.getOwnPropertyNames(prototype)) {
        const handler = prototype[name];
        if (name === 'constructor' || typeof handler !== 'function') continue;
        if (!Reflect.hasMetadata('method', handler)) continue;
        routes.push({
          operationId: `${controller.name}_${name}`,
          controller,
          handler: handler as ControllerRoute['handler'],
        });
      }
    }
  }
  return routes;
}

/** The body and query classes of a route and whether a built-in parse pipe checks one of its parameters. */
type RouteInputs = Pick<RouteContract, 'bodyType' | 'queryType' | 'parsesWithBuiltInPipe' | 'parameterFormats'>;

export function routeInputs(route: ControllerRoute): RouteInputs {
  const name = route.handler.name;
  const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, route.controller, name) ?? {}) as Record<
    string,
    RouteArgument
  >;
  const types = (Reflect.getMetadata('design:paramtypes', route.controller.prototype as object, name) ??
    []) as unknown[];
  const result: RouteInputs = { parsesWithBuiltInPipe: false, parameterFormats: {} };
  for (const [key, argument] of Object.entries(args)) {
    const kind = Number(key.split(':')[0]);
    const type = types[argument.index];
    const wholeObject = argument.data === undefined && typeof type === 'function' && type !== Object;
    if (kind === Number(RouteParamtypes.BODY) && wholeObject) result.bodyType = type as Type;
    if (kind === Number(RouteParamtypes.QUERY) && wholeObject) result.queryType = type as Type;
    if (argument.pipes?.some(isBuiltInParsePipe)) result.parsesWithBuiltInPipe = true;
    const format = argument.pipes?.map(pipeFormat).find(Boolean);
    if (kind === Number(RouteParamtypes.PARAM) && typeof argument.data === 'string' && format) {
      result.parameterFormats[argument.data] = format;
    }
  }
  return result;
}

function pipeFormat(pipe: unknown): string | undefined {
  const type = (typeof pipe === 'function' ? pipe : (pipe as object | null)?.constructor) as
    (Partial<DocumentedFormatPipe> & { name?: string }) | undefined;
  if (type?.name === 'ParseUUIDPipe') return 'uuid';
  return typeof type?.openApiFormat === 'string' ? type.openApiFormat : undefined;
}

function isBuiltInParsePipe(pipe: unknown): boolean {
  const name = typeof pipe === 'function' ? pipe.name : (pipe as object | null)?.constructor?.name;
  return typeof name === 'string' && /^Parse[A-Z][A-Za-z]*Pipe$/.test(name);
}

export interface ContractReport {
  /** Request schemas that disagree with their validators in a way the builder cannot fix (should be empty). */
  mismatches: string[];
}

/**
 * Makes the generated document a contract:
 * - request bodies and query parameters get the constraints of their class-validator decorators (types, formats,
 *   lengths, ranges, enums, patterns, required fields, no unknown properties: the global pipe forbids them);
 * - every operation lists the problem responses all routes share, merged with the ones its `@ApiProblems` names,
 *   each as `application/problem+json` with the shared `Problem` schema and the enum of its stable codes;
 * - public routes say so (`security: []`), the others require the bearer scheme.
 */
export function applyOpenApiContract(
  document: OpenApiDocumentShape,
  routes: ReadonlyMap<string, RouteContract>,
  bearerScheme = 'bearer',
): ContractReport {
  const mismatches: string[] = [];
  const schemas = (document.components ??= {}).schemas ?? (document.components.schemas = {});
  schemas[PROBLEM_SCHEMA_NAME] = structuredClone(problemSchema) as unknown as OpenApiSchema;

  const validated = validatedClassesByName([...routes.values()].flatMap((route) => route.bodyType ?? []));
  for (const [name, schema] of Object.entries(schemas)) {
    const type = validated.get(name);
    if (type) constrainObject(name, schema, type, mismatches);
  }

  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      const where = `${method.toUpperCase()} ${path}`;
      const route = operation.operationId ? routes.get(operation.operationId) : undefined;
      if (!route) {
        mismatches.push(`${where}: no controller route for operation ${operation.operationId}`);
        continue;
      }
      operation.security = route.public ? [] : [{ [bearerScheme]: [] }];
      if (route.queryType) constrainQuery(where, operation, route.queryType, mismatches);
      for (const parameter of operation.parameters ?? []) {
        const format = parameter.in === 'path' ? route.parameterFormats[parameter.name] : undefined;
        if (format) parameter.schema = { ...parameter.schema, type: 'string', format };
      }
      if (operation.requestBody && route.bodyType) {
        operation.requestBody.required = true;
        const json = operation.requestBody.content['application/json'];
        if (json?.schema) json.example ??= exampleOf(json.schema, schemas);
      }
      addSharedProblems(operation, route);
      finishProblems(where, operation, mismatches);
    }
  }
  return { mismatches };
}

function addSharedProblems(operation: OpenApiOperation, route: RouteContract): void {
  const hasBody = operation.requestBody !== undefined;
  const hasParameters = (operation.parameters?.length ?? 0) > 0;
  const badRequest = ['HTTP.INVALID_CHARACTERS', 'HTTP.INVALID_QUERY'];
  if (hasBody) badRequest.push('HTTP.MALFORMED_BODY', 'HTTP.BODY_TOO_DEEP');
  if (hasBody || hasParameters) badRequest.push('REQUEST.VALIDATION_FAILED');
  if (route.parsesWithBuiltInPipe) badRequest.push('HTTP.BAD_REQUEST');
  mergeProblem(operation, 400, badRequest);
  if (!route.public) mergeProblem(operation, 401, ['IDENTITY.TOKEN_INVALID']);
  if (route.requiredRoles?.length) {
    mergeProblem(operation, 403, ['IDENTITY.FORBIDDEN']);
    operation.description = [operation.description, `Roles: ${route.requiredRoles.join(', ')}.`]
      .filter(Boolean)
      .join('\n\n');
  }
  if (hasBody) mergeProblem(operation, 413, ['HTTP.PAYLOAD_TOO_LARGE']);
  if (route.rateLimited) mergeProblem(operation, 429, ['HTTP.RATE_LIMITED']);
  if (route.audited) mergeProblem(operation, 503, ['AUDIT.UNAVAILABLE']);
  if (route.usesDatabase) mergeProblem(operation, 503, ['DATABASE.UNAVAILABLE']);
  mergeProblem(operation, 500, ['INTERNAL.UNEXPECTED']);
}

function problemCodes(response: OpenApiResponse | undefined): string[] {
  const schema = response?.content?.[PROBLEM_CONTENT_TYPE]?.schema;
  const codes = schema?.allOf?.[1]?.properties?.['code']?.enum;
  return Array.isArray(codes) ? codes.map(String) : [];
}

function mergeProblem(operation: OpenApiOperation, status: number, codes: readonly string[]): void {
  const existing = operation.responses[String(status)];
  const merged = [...new Set([...problemCodes(existing), ...codes])];
  operation.responses[String(status)] = {
    description: '',
    content: { [PROBLEM_CONTENT_TYPE]: { schema: problemResponseSchema(merged) } },
  };
}

/** Every problem response: its codes in the description and `x-codes`, and an example of the first one. */
function finishProblems(where: string, operation: OpenApiOperation, mismatches: string[]): void {
  for (const [status, response] of Object.entries(operation.responses)) {
    const codes = problemCodes(response);
    if (codes.length === 0) {
      if (Number(status) >= 400 && Number(status) < 500)
        mismatches.push(`${where}: ${status} is not a problem response (use @ApiProblems)`);
      continue;
    }
    const first = codes[0];
    response.description = `Problem document; \`code\` is one of ${codes.map((code) => `\`${code}\``).join(', ')}`;
    response['x-codes'] = codes;
    const content = response.content![PROBLEM_CONTENT_TYPE];
    content.example = {
      type: problemType(first),
      title: 'A short, human-readable summary',
      status: Number(status),
      code: first,
      correlationId: 'd6b2f1c0-1c4e-4d35-8d1f-2f3a1b0c9e77',
    };
  }
}

/** Classes with validators (nested DTOs) by name, plus the body classes whose validators are all inherited. */
function validatedClassesByName(bodyTypes: readonly Type[]): Map<string, Type> {
  const storage = getMetadataStorage() as unknown as { validationMetadatas?: unknown };
  if (!(storage.validationMetadatas instanceof Map)) {
    throw new Error('class-validator no longer keeps its metadata in a Map: update openapi-contract.ts');
  }
  const byName = new Map<string, Type>();
  for (const target of (storage.validationMetadatas as Map<unknown, unknown>).keys()) {
    if (typeof target === 'function' && target.name) byName.set(target.name, target as Type);
  }
  for (const type of bodyTypes) byName.set(type.name, type);
  return byName;
}

function validatorsByProperty(type: Type): Map<string, ValidationMetadata[]> {
  const byProperty = new Map<string, ValidationMetadata[]>();
  for (const metadata of getMetadataStorage().getTargetValidationMetadatas(type, '', true, false)) {
    if (!metadata.propertyName) continue;
    const list = byProperty.get(metadata.propertyName) ?? [];
    list.push(metadata);
    byProperty.set(metadata.propertyName, list);
  }
  return byProperty;
}

/**
 * A property is required unless a conditional validator (`@IsOptional`, `@ValidateIf`) may skip it. One that is
 * only whitelisted (`@Allow()`) is checked by the domain, whose refusal the document describes: it keeps the
 * requiredness its `@ApiProperty` declares.
 */
function isRequired(validators: readonly ValidationMetadata[], declared: boolean): boolean {
  if (validators.every((metadata) => metadata.type === ValidationTypes.WHITELIST)) return declared;
  return !validators.some((metadata) => metadata.type === ValidationTypes.CONDITIONAL_VALIDATION);
}

function constrainObject(name: string, schema: OpenApiSchema, type: Type, mismatches: string[]): void {
  const validators = validatorsByProperty(type);
  const properties = (schema.properties ??= {});
  for (const property of Object.keys(properties)) {
    if (!validators.has(property)) {
      mismatches.push(`${name}.${property} is documented but has no validator: the whitelist refuses it`);
    }
  }
  const required: string[] = [];
  for (const [property, list] of validators) {
    const propertySchema = properties[property];
    if (!propertySchema) {
      mismatches.push(`${name}.${property} is validated but not documented`);
      continue;
    }
    for (const metadata of list) constrain(propertySchema, metadata, `${name}.${property}`, mismatches);
    if (isRequired(list, schema.required?.includes(property) ?? false)) required.push(property);
  }
  if (required.length > 0) schema.required = required;
  else delete schema.required;
  schema.type = 'object';
  schema.additionalProperties = false;
}

function constrainQuery(where: string, operation: OpenApiOperation, type: Type, mismatches: string[]): void {
  const validators = validatorsByProperty(type);
  for (const parameter of operation.parameters ?? []) {
    if (parameter.in !== 'query') continue;
    const list = validators.get(parameter.name);
    if (!list) {
      mismatches.push(`${where}: query parameter ${parameter.name} has no validator: the whitelist refuses it`);
      continue;
    }
    const schema = (parameter.schema ??= {});
    // Query values arrive as strings: numbers and booleans are converted by @Type/@Transform before validation.
    for (const metadata of list) constrain(schema, metadata, `${where} ?${parameter.name}`, mismatches);
    parameter.required = isRequired(list, parameter.required ?? false);
  }
}

/** A case-insensitive UUID pattern: the `uuid` format says the same. */
const UUID_SOURCE = /^\^\[0-9a-f\]\{8\}-\[0-9a-f\]\{4\}-.*\{12\}\$$/;

/** The JSON-schema counterpart of one class-validator decorator, applied to the property (or its items). */
function constrain(property: OpenApiSchema, metadata: ValidationMetadata, where: string, mismatches: string[]): void {
  if (metadata.type === ValidationTypes.CONDITIONAL_VALIDATION) return;
  if (metadata.type === ValidationTypes.NESTED_VALIDATION) return;
  if (metadata.type === ValidationTypes.WHITELIST) return;
  // Requiredness comes from the conditional validators (isRequired); `@IsDefined` only words the message.
  if (metadata.type === ValidationTypes.IS_DEFINED) return;
  const target = metadata.each ? (property.items ?? property) : property;
  const [first] = (metadata.constraints ?? []) as unknown[];
  const isComposite = target.$ref !== undefined || target.allOf !== undefined || target.oneOf !== undefined;
  switch (metadata.name ?? metadata.type) {
    case 'isString':
      if (!isComposite) target.type = 'string';
      return;
    case 'isInt':
      target.type = 'integer';
      return;
    case 'isNumber':
      if (target.type !== 'integer') target.type = 'number';
      return;
    case 'isBoolean':
      target.type = 'boolean';
      return;
    case 'isArray':
      property.type = 'array';
      return;
    case 'isObject':
      if (!isComposite) target.type = 'object';
      return;
    case 'maxLength':
      target.maxLength = first;
      return;
    case 'minLength':
      target.minLength = first;
      return;
    case 'isNotEmpty':
      if (target.type === 'string') target.minLength = Math.max(1, Number(target.minLength ?? 0));
      return;
    case 'isUuid':
      target.format = 'uuid';
      return;
    case 'isEmail':
      target.format = 'email';
      return;
    case 'isIso8601':
    case 'isDateString':
      target.format ??= 'date-time';
      return;
    case 'isIn':
      target.enum = [...(first as unknown[])];
      return;
    case 'isEnum':
      target.enum = Object.values(first as object);
      return;
    case 'min':
      target.minimum = first;
      return;
    case 'max':
      target.maximum = first;
      return;
    case 'matches': {
      const pattern = first instanceof RegExp ? first : new RegExp(String(first));
      if (pattern.flags === '') target.pattern = pattern.source;
      else if (pattern.flags === 'i' && UUID_SOURCE.test(pattern.source)) target.format = 'uuid';
      else mismatches.push(`${where}: pattern /${pattern.source}/${pattern.flags} has flags JSON Schema cannot say`);
      return;
    }
    case 'arrayMaxSize':
      property.maxItems = first;
      return;
    case 'arrayMinSize':
      property.minItems = first;
      return;
    case 'arrayNotEmpty':
      property.minItems = Math.max(1, Number(property.minItems ?? 0));
      return;
    case 'arrayUnique':
      property.uniqueItems = true;
      return;
    default:
      mismatches.push(`${where}: no JSON-schema counterpart for the validator ${metadata.name ?? metadata.type}`);
  }
}

const EXAMPLE_UUID = '3f2b8c1e-6d4a-4e8f-9b0c-7a1d2e3f4a5b';

/**
 * A request example built from the schema: the property examples and defaults the DTOs declare, and for required
 * properties without one a value of the right type, format and length. Optional properties without an example
 * are left out, so the example shows the smallest body the API takes.
 */
export function exampleOf(schema: OpenApiSchema, schemas: Record<string, OpenApiSchema>, depth = 0): unknown {
  if (depth > 8) return undefined;
  if (schema.$ref) return exampleOf(schemas[schema.$ref.split('/').at(-1)!] ?? {}, schemas, depth + 1);
  if (schema.example !== undefined) return schema.example;
  if (schema.default !== undefined) return schema.default;
  const composed = schema.allOf ?? schema.oneOf;
  if (composed?.length) return exampleOf(composed[0], schemas, depth + 1);
  if (schema.enum?.length) return schema.enum[0];
  switch (schema.type) {
    case 'object':
    case undefined: {
      if (!schema.properties) return {};
      const example: Record<string, unknown> = {};
      for (const [name, property] of Object.entries(schema.properties)) {
        const required = schema.required?.includes(name) ?? false;
        if (!required && property.example === undefined) continue;
        const value = exampleOf(property, schemas, depth + 1);
        if (value !== undefined) example[name] = value;
      }
      return example;
    }
    case 'array': {
      const item = schema.items ? exampleOf(schema.items, schemas, depth + 1) : undefined;
      return item === undefined ? [] : Array.from({ length: Math.max(1, Number(schema.minItems ?? 1)) }, () => item);
    }
    case 'integer':
    case 'number':
      return typeof schema.minimum === 'number' ? schema.minimum : 1;
    case 'boolean':
      return false;
    default:
      return stringExample(schema);
  }
}

function stringExample(schema: OpenApiSchema): string {
  switch (schema.format ?? 'text') {
    case 'uuid':
      return EXAMPLE_UUID;
    case 'email':
      return 'someone@district.example';
    case 'date-time':
      return '2026-09-01T08:00:00.000Z';
    case 'date':
      return '2026-09-01';
    default: {
      const minimum = Number(schema.minLength ?? 1);
      const maximum = Number(schema.maxLength ?? 64);
      return 'example-value-'.padEnd(Math.min(Math.max(minimum, 13), maximum), 'x').slice(0, Math.max(maximum, 1));
    }
  }
}
