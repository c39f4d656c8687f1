import type { Params } from 'nestjs-pino';
import { randomUUID } from 'node:crypto';
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

/**
 * JSON logs with the request id on every line. Bodies are never logged; credentials and tokens are
 * redacted wherever they could appear.
 */
export function createLoggerOptions(app: AppConfig): Params {
  return {
    pinoHttp: {
      level: app.logLevel,
      genReqId: requestIdFor,
      customProps: () => ({ service: 'homeroom' }),
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
          // Query strings can carry search terms (student names): log the path only.
          path: req.url.split('?')[0],
        }),
      },
      autoLogging: { ignore: (req) => (req.url ?? '').startsWith('/health') },
    },
  };
}
