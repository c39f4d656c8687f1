import type { INestApplication } from '@nestjs/common';
// ajv 6 is at the top of node_modules (brought by eslint); JSON Schema draft-07 with the formats OpenAPI uses.
import Ajv from 'ajv';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Checks HTTP responses against the OpenAPI document: the operation exists, the status is documented, the media
 * type is one the operation declares, and a JSON body matches the schema of that status and media type.
 */

export interface OpenApiSchemaObject {
  [keyword: string]: unknown;
}

interface MediaTypeObject {
  schema?: OpenApiSchemaObject;
  example?: unknown;
}

export interface OpenApiOperationObject {
  operationId?: string;
  parameters?: { name: string; in: string; required?: boolean; schema?: OpenApiSchemaObject }[];
  requestBody?: { required?: boolean; content: Record<string, MediaTypeObject> };
  responses: Record<string, { description: string; content?: Record<string, MediaTypeObject> }>;
  security?: Record<string, string[]>[];
}

export interface OpenApiDocumentObject {
  paths: Record<string, Record<string, OpenApiOperationObject>>;
  components: { schemas: Record<string, OpenApiSchemaObject> };
}

export interface RecordedExchange {
  method: string;
  path: string;
  status: number;
  contentType: string | null;
  body: string | undefined;
}

export interface OperationMatch {
  key: string;
  template: string;
  method: string;
  operation: OpenApiOperationObject;
}

const HTTP_METHODS = ['get', 'put', 'post', 'patch', 'delete', 'head', 'options'];
/** Larger bodies (exports) are checked for status and media type only. */
const MAX_CHECKED_BODY = 2 * 1024 * 1024;

/**
 * OpenAPI 3.0 `nullable` as JSON Schema: `null` or the rest of the schema. Works beside `$ref`/`allOf`, where
 * ajv's own `nullable` option (which widens `type`) does not.
 */
function toJsonSchema(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toJsonSchema);
  if (typeof value !== 'object' || value === null) return value;
  const { nullable, example: _example, ...rest } = value as Record<string, unknown>;
  const converted = Object.fromEntries(Object.entries(rest).map(([key, inner]) => [key, toJsonSchema(inner)]));
  if ('properties' in rest && typeof rest['properties'] === 'object') {
    converted['properties'] = Object.fromEntries(
      Object.entries(rest['properties'] as Record<string, unknown>).map(([key, inner]) => [key, toJsonSchema(inner)]),
    );
  }
  return nullable === true ? { anyOf: [{ type: 'null' }, converted] } : converted;
}

export class OpenApiContract {
  private readonly ajv = new Ajv({ allErrors: true, unknownFormats: 'ignore', schemaId: 'auto' });
  private readonly validators = new Map<string, Ajv.ValidateFunction>();
  private readonly templates: { regex: RegExp; template: string; params: number }[];

  constructor(readonly document: OpenApiDocumentObject) {
    this.ajv.addSchema({ components: toJsonSchema(document.components) }, 'openapi.json');
    this.templates = Object.keys(document.paths)
      .map((template) => ({
        template,
        params: (template.match(/\{[^}]+\}/g) ?? []).length,
        regex: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}]+\\?\}/g, '[^/]+')}$`),
      }))
      .sort((a, b) => a.params - b.params);
  }

  /** Every operation as `METHOD /template`. */
  operations(): string[] {
    return Object.entries(this.document.paths).flatMap(([template, item]) =>
      Object.keys(item)
        .filter((method) => HTTP_METHODS.includes(method))
        .map((method) => `${method.toUpperCase()} ${template}`),
    );
  }

  match(method: string, path: string): OperationMatch | undefined {
    const lower = method.toLowerCase();
    const bare = path.split('?')[0];
    for (const { regex, template } of this.templates) {
      const operation = this.document.paths[template]?.[lower];
      if (regex.test(bare) && operation) {
        return { key: `${method.toUpperCase()} ${template}`, template, method: lower, operation };
      }
    }
    return undefined;
  }

  /** A validator for a schema of the document (refs into `#/components/schemas` resolve). */
  validator(schema: OpenApiSchemaObject): Ajv.ValidateFunction {
    const key = JSON.stringify(schema);
    let validate = this.validators.get(key);
    if (!validate) {
      const rebased = JSON.parse(
        JSON.stringify(toJsonSchema(schema)).replaceAll('"#/components/', '"openapi.json#/components/'),
      ) as object;
      validate = this.ajv.compile(rebased);
      this.validators.set(key, validate);
    }
    return validate;
  }

  /** What is wrong with this response according to the document (empty: it keeps the contract). */
  check(exchange: RecordedExchange): string[] {
    const where = `${exchange.method} ${exchange.path} -> ${exchange.status}`;
    const found = this.match(exchange.method, exchange.path);
    if (!found) return [`${where}: no such operation in the document`];
    const responses = found.operation.responses;
    const response =
      responses[String(exchange.status)] ?? responses[`${String(exchange.status)[0]}XX`] ?? responses['default'];
    if (!response)
      return [`${where}: status not documented for ${found.key} (documented: ${Object.keys(responses).join(', ')})`];
    const hasBody = exchange.body !== undefined && exchange.body.length > 0;
    if (!hasBody) return [];
    if (!response.content) return [`${where}: a body was sent but the document declares none`];
    const mediaType = (exchange.contentType ?? '').split(';')[0].trim().toLowerCase();
    const media = response.content[mediaType];
    if (!media)
      return [`${where}: media type ${mediaType} not documented (${Object.keys(response.content).join(', ')})`];
    if (
      !/^application\/([a-z.-]+\+)?json$/.test(mediaType) ||
      !media.schema ||
      exchange.body!.length > MAX_CHECKED_BODY
    )
      return [];
    let body: unknown;
    try {
      body = JSON.parse(exchange.body!);
    } catch {
      return [`${where}: ${mediaType} body is not JSON`];
    }
    const validate = this.validator(media.schema);
    if (validate(body)) return [];
    const errors = (validate.errors ?? []).map((error) => `${error.dataPath || '(root)'} ${error.message}`);
    return [`${where}: body does not match the schema: ${errors.join('; ')} :: ${exchange.body!.slice(0, 400)}`];
  }
}

/**
 * Records every response the app sends through its routes (status, media type, body), so that a suite can check
 * them all against the document: `const recorder = recordExchanges(app)` before `listen`.
 */
export function recordExchanges(app: INestApplication): RecordedExchange[] {
  const exchanges: RecordedExchange[] = [];
  app.use((request: IncomingMessage & { originalUrl?: string }, response: ServerResponse, next: () => void) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const keep = (chunk: unknown, encoding?: unknown): void => {
      if (chunk === undefined || chunk === null || typeof chunk === 'function' || size > MAX_CHECKED_BODY) return;
      const buffer = Buffer.isBuffer(chunk)
        ? chunk
        : typeof chunk === 'string'
          ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8')
          : Buffer.from(chunk as Uint8Array);
      size += buffer.length;
      chunks.push(buffer);
    };
    const write = response.write.bind(response) as (...args: unknown[]) => boolean;
    const end = response.end.bind(response) as (...args: unknown[]) => ServerResponse;
    response.write = ((...args: unknown[]) => {
      keep(args[0], args[1]);
      return write(...args);
    }) as typeof response.write;
    response.end = ((...args: unknown[]) => {
      keep(args[0], args[1]);
      return end(...args);
    }) as typeof response.end;
    response.once('finish', () => {
      const contentType = response.getHeader('content-type');
      exchanges.push({
        method: request.method ?? 'GET',
        path: (request.originalUrl ?? request.url ?? '/').split('?')[0],
        status: response.statusCode,
        contentType: typeof contentType === 'string' ? contentType : null,
        body: size > MAX_CHECKED_BODY ? undefined : Buffer.concat(chunks).toString('utf8'),
      });
    });
    next();
  });
  return exchanges;
}
