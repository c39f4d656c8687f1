import type { Params } from 'nestjs-pino';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { stripVTControlCharacters } from 'node:util';
import { pino, type LogFn, type Logger } from 'pino';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppConfig } from './config/index.js';

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{8,128}$/;

/** Accepts a well-formed X-Request-Id from a trusted caller (load balancer), otherwise makes one. */
export function requestIdFor(request: IncomingMessage, response: ServerResponse): string {
  const offered = request.headers['x-request-id'];
  const id = typeof offered === 'string' && REQUEST_ID_PATTERN.test(offered) ? offered : randomUUID();
  response.setHeader('X-Request-Id', id);
  return id;
}

type LoggedRequest = IncomingMessage & {
  id?: unknown;
  originalUrl?: string;
  baseUrl?: string;
  route?: { path?: unknown };
  user?: { id?: unknown };
};

/**
 * The matched route's template (`/api/v1/students/:id`), or null when no route matched. Nest answers unknown paths
 * under the global prefix from a catch-all wildcard route (`/api/v1*path`), which is no template; no API route
 * uses a wildcard.
 */
function routeTemplate(request: LoggedRequest): string | null {
  const path = request.route?.path;
  if (typeof path !== 'string' || path.includes('*')) return null;
  return `${request.baseUrl ?? ''}${path}`;
}

/**
 * One access line per request, written when the response finishes (when the route and the user are known): method,
 * route template, path without the query (query strings can carry search terms such as student names), status,
 * duration, user id and request id (`reqId`). Never headers, request or response: they were most of every line
 * (static security headers) and can carry credentials.
 */
function accessLine(request: LoggedRequest, response: ServerResponse, responseTime: number): Record<string, unknown> {
  const userId = request.user?.id;
  return {
    method: request.method,
    route: routeTemplate(request),
    path: (request.originalUrl ?? request.url ?? '').split('?')[0],
    status: response.statusCode,
    responseTime,
    userId: typeof userId === 'string' ? userId : null,
  };
}

/** Strips ANSI escape sequences from the string arguments of a log call (message and format arguments). */
function withoutTerminalColours(this: Logger, args: Parameters<LogFn>, method: LogFn): void {
  const cleaned = args.map((argument: unknown) =>
    typeof argument === 'string' ? stripVTControlCharacters(argument) : argument,
  ) as Parameters<LogFn>;
  method.apply(this, cleaned);
}

/** The same for a message given inside the logged object (`logger.info({ msg })`). */
function messageWithoutTerminalColours(object: Record<string, unknown>): Record<string, unknown> {
  return typeof object['msg'] === 'string' ? { ...object, msg: stripVTControlCharacters(object['msg']) } : object;
}

/**
 * JSON logs with the request id on every line. Bodies and headers are never logged; credentials and tokens are
 * redacted wherever they could appear.
 */
export function createLoggerOptions(app: AppConfig): Params {
  return {
    pinoHttp: {
      level: app.logLevel,
      genReqId: requestIdFor,
      customProps: () => ({ service: 'homeroom' }),
      // Log lines written during a request carry its id only, not the request.
      quietReqLogger: true,
      quietResLogger: true,
      customSuccessObject: (request, response, value: { responseTime: number }) =>
        accessLine(request, response, value.responseTime),
      customErrorObject: (request, response, _error, value: { responseTime: number }) =>
        accessLine(request, response, value.responseTime),
      customLogLevel: (_request, response, error) => (error || response.statusCode >= 500 ? 'error' : 'info'),
      // Lines are JSON: a library's terminal colours (MikroORM's grey `[migrator]`) would arrive as \u001b[90m….
      hooks: { logMethod: withoutTerminalColours },
      formatters: { log: messageWithoutTerminalColours },
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'req.headers["x-api-key"]',
          'res.headers["set-cookie"]',
          '*.password',
          '*.refreshToken',
          '*.accessToken',
          '*.token',
          '*.secret',
        ],
        censor: '[redacted]',
      },
      serializers: {
        req: (req: { id: unknown; method: string; url: string }) => ({
          id: req.id,
          method: req.method,
          path: req.url.split('?')[0],
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
      autoLogging: { ignore: (req) => (req.url ?? '').startsWith('/health') },
    },
  };
}

/**
 * A start-up failure (invalid configuration, unreachable database) as one JSON line on stderr, in the shape of every
 * other line, so a log collector keeps it instead of splitting a multi-line message.
 */
export function logStartupFailure(error: unknown): void {
  const logger = pino({ base: { pid: process.pid, hostname: hostname(), service: 'homeroom' } }, pino.destination(2));
  logger.fatal(error instanceof Error ? error.message : String(error));
}
