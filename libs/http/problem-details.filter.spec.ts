import { DomainError } from '@app/ddd';
import {
  BadRequestException,
  NotFoundException,
  ServiceUnavailableException,
  type ArgumentsHost,
} from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { ProblemDetailsFilter, type ErrorTranslator } from './problem-details.filter.js';
import { RequestValidationError } from './request-validation.error.js';

class RunAlreadyActive extends DomainError {
  readonly code = 'SIS_SYNC.RUN_ALREADY_ACTIVE';
  readonly kind = 'conflict' as const;
}

class StoreUnavailable extends DomainError {
  readonly code = 'STORE.UNAVAILABLE';
  readonly kind = 'unavailable' as const;
}

function render(exception: unknown, translators: readonly ErrorTranslator[] = []) {
  const sent: { status?: number; type?: string; body?: Record<string, unknown>; headers: Record<string, string> } = {
    headers: {},
  };
  const response = {
    headersSent: false,
    getHeader: (name: string) => sent.headers[name],
    setHeader: (name: string, value: string) => (sent.headers[name] = value),
    status(code: number) {
      sent.status = code;
      return this;
    },
    type(type: string) {
      sent.type = type;
      return this;
    },
    send(body: string) {
      sent.body = JSON.parse(body) as Record<string, unknown>;
      return this;
    },
  };
  const host = {
    getType: () => 'http',
    switchToHttp: () => ({
      getRequest: () => ({ id: 'req-12345678', originalUrl: '/api/v1/things/1?q=secret' }),
      getResponse: () => response,
    }),
  } as unknown as ArgumentsHost;
  new ProblemDetailsFilter(undefined, translators).catch(exception, host);
  return sent;
}

describe('ProblemDetailsFilter', () => {
  it('maps a domain error to its kind and keeps the stable code', () => {
    const sent = render(new RunAlreadyActive('A run is already active', { runId: 'r-1' }));
    expect(sent.status).toBe(409);
    expect(sent.type).toBe('application/problem+json');
    expect(sent.body).toMatchObject({
      code: 'SIS_SYNC.RUN_ALREADY_ACTIVE',
      title: 'A run is already active',
      status: 409,
      runId: 'r-1',
      correlationId: 'req-12345678',
      instance: '/api/v1/things/1',
    });
  });

  it('lists field errors for a validation failure', () => {
    const sent = render(new RequestValidationError([{ field: 'email', messages: ['email must be an email'] }]));
    expect(sent.status).toBe(400);
    expect(sent.body).toMatchObject({ code: 'REQUEST.VALIDATION_FAILED', errors: [{ field: 'email' }] });
  });

  it('maps framework 4xx errors by status', () => {
    expect(render(new NotFoundException()).body).toMatchObject({ status: 404, code: 'HTTP.NOT_FOUND' });
    expect(render(new BadRequestException('nope')).body).toMatchObject({ status: 400, code: 'HTTP.BAD_REQUEST' });
  });

  it('turns malformed JSON into a 400, not a 500', () => {
    const parseError = Object.assign(new SyntaxError('Unexpected token'), { status: 400, type: 'entity.parse.failed' });
    expect(render(parseError).body).toMatchObject({ status: 400, code: 'HTTP.MALFORMED_BODY' });
  });

  it('hides everything internal in a 500 and gives an error id instead', () => {
    const sent = render(new Error('relation "users" does not exist at SELECT password_hash FROM users'));
    expect(sent.status).toBe(500);
    expect(sent.body?.['code']).toBe('INTERNAL.UNEXPECTED');
    expect(sent.body?.['errorId']).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.stringify(sent.body)).not.toMatch(/does not exist|password_hash|SELECT/);
  });

  it('names an outage a translator recognises (503, its code, Retry-After) and hides the error text', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:5432'), { code: 'ECONNREFUSED' });
    const translate: ErrorTranslator = (error) =>
      (error as { code?: unknown }).code === 'ECONNREFUSED'
        ? new StoreUnavailable('The store is unavailable', { retryAfterSeconds: 5 })
        : undefined;
    const sent = render(refused, [translate]);
    expect(sent.status).toBe(503);
    expect(sent.body).toMatchObject({ code: 'STORE.UNAVAILABLE', status: 503, retryAfterSeconds: 5 });
    expect(sent.headers['Retry-After']).toBe('5');
    expect(JSON.stringify(sent.body)).not.toMatch(/ECONNREFUSED|10\.0\.0\.5/);
    expect(render(new Error('a bug'), [translate]).status).toBe(500);
  });

  it('keeps a framework 503 a 503 instead of turning it into a 500', () => {
    const sent = render(new ServiceUnavailableException({ status: 'error', details: { db: 'connect to 10.0.0.5' } }));
    expect(sent.status).toBe(503);
    expect(sent.body).toMatchObject({ status: 503, code: 'HTTP.SERVICE_UNAVAILABLE' });
    expect(JSON.stringify(sent.body)).not.toContain('10.0.0.5');
  });
});
