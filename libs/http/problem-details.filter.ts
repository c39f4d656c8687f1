import { isDomainError, type DomainError } from '@app/ddd';
import { ArgumentsHost, Catch, HttpException, HttpStatus, Logger, type ExceptionFilter } from '@nestjs/common';
import { ThrottlerException } from '@nestjs/throttler';
import type { Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import { PROBLEM_CONTENT_TYPE, problemType, statusByKind, type ProblemDetails } from './problem-details.js';
import { RefusedInputError } from './hostile-input.guard.js';
import { RequestValidationError } from './request-validation.error.js';

const codeByStatus: Record<number, string> = {
  400: 'HTTP.BAD_REQUEST',
  401: 'HTTP.UNAUTHENTICATED',
  403: 'HTTP.FORBIDDEN',
  404: 'HTTP.NOT_FOUND',
  405: 'HTTP.METHOD_NOT_ALLOWED',
  406: 'HTTP.NOT_ACCEPTABLE',
  409: 'HTTP.CONFLICT',
  413: 'HTTP.PAYLOAD_TOO_LARGE',
  415: 'HTTP.UNSUPPORTED_MEDIA_TYPE',
  422: 'HTTP.UNPROCESSABLE',
  429: 'HTTP.RATE_LIMITED',
};

/** Body-parser errors carry a status and a `type` such as `entity.parse.failed`. */
interface BodyParserError {
  status: number;
  type: string;
}

function isBodyParserError(error: unknown): error is BodyParserError {
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { status?: unknown }).status === 'number' &&
    typeof (error as { type?: unknown }).type === 'string'
  );
}

/**
 * Learns about every problem response before it is sent (the audit trail records denied and failed access
 * to student data this way, since guards refuse a request before any interceptor runs). The response waits
 * for it; if it fails, the failure is logged and the problem is sent anyway.
 */
export abstract class ProblemObserver {
  abstract observe(request: Request, problem: ProblemDetails): Promise<void>;
}

/**
 * Recognises an infrastructure failure that has a stable meaning for the caller (the database is out of reach)
 * and names it as a domain error; undefined for anything else.
 */
export type ErrorTranslator = (error: unknown) => DomainError | undefined;

/** Statuses whose problem may tell the client when to try again (`retryAfterSeconds` → `Retry-After`). */
const RETRYABLE_STATUSES = new Set([429, 503]);

/**
 * The one place errors become HTTP responses: domain errors by their kind and stable code, framework
 * errors by status, anything else as a 500 that carries only an error id (the details go to the log).
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  constructor(
    private readonly observer?: ProblemObserver,
    private readonly translators: readonly ErrorTranslator[] = [],
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') return;
    const http = host.switchToHttp();
    const request = http.getRequest<Request & { id?: unknown }>();
    const response = http.getResponse<Response>();
    const problem = this.toProblem(exception);
    problem.instance = request.originalUrl?.split('?')[0];
    if (typeof request.id === 'string') problem.correlationId = request.id;
    if (RETRYABLE_STATUSES.has(problem.status) && !response.getHeader('Retry-After')) {
      const retryAfter = problem['retryAfterSeconds'];
      if (typeof retryAfter === 'number') response.setHeader('Retry-After', String(Math.max(1, Math.ceil(retryAfter))));
      else if (exception instanceof ThrottlerException) response.setHeader('Retry-After', '60');
    }
    if (response.headersSent) return;
    const send = (): void => {
      if (!response.headersSent)
        response.status(problem.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem));
    };
    if (!this.observer) return send();
    this.observer.observe(request, problem).then(send, (error: unknown) => {
      this.logger.error({ err: error }, 'A problem observer failed');
      send();
    });
  }

  private toProblem(exception: unknown): ProblemDetails {
    if (exception instanceof RequestValidationError) {
      return {
        type: problemType(exception.code),
        title: 'The request is not valid',
        status: 400,
        code: exception.code,
        detail: exception.message,
        errors: exception.errors,
      };
    }
    if (isDomainError(exception)) {
      const status = statusByKind[exception.kind];
      const retryAfter = exception.details?.['retryAfterSeconds'];
      return {
        type: problemType(exception.code),
        title: exception.message,
        status,
        code: exception.code,
        ...(exception.details ?? {}),
        ...(typeof retryAfter === 'number' ? { retryAfterSeconds: retryAfter } : {}),
      };
    }
    if (exception instanceof RefusedInputError) {
      return {
        type: problemType(exception.code),
        title: exception.title,
        status: exception.status,
        code: exception.code,
      };
    }
    if (exception instanceof HttpException && isBodyParserError(exception.cause)) {
      return this.toProblem(exception.cause);
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if (status < 500) {
        const code = codeByStatus[status] ?? 'HTTP.CLIENT_ERROR';
        return { type: problemType(code), title: this.titleOf(exception), status, code };
      }
    }
    if (exception instanceof HttpException && exception.getStatus() === 503) {
      const code = 'HTTP.SERVICE_UNAVAILABLE';
      return { type: problemType(code), title: 'The service is unavailable; try again shortly', status: 503, code };
    }
    if (isBodyParserError(exception) && exception.status >= 400 && exception.status < 500) {
      const code =
        exception.type === 'entity.parse.failed'
          ? 'HTTP.MALFORMED_BODY'
          : (codeByStatus[exception.status] ?? 'HTTP.BAD_REQUEST');
      const title =
        exception.type === 'entity.parse.failed'
          ? 'The request body is not valid JSON'
          : 'The request body was refused';
      return { type: problemType(code), title, status: exception.status, code };
    }
    for (const translate of this.translators) {
      const translated = translate(exception);
      if (translated) {
        this.logger.warn({ err: exception, code: translated.code }, translated.message);
        return this.toProblem(translated);
      }
    }
    const errorId = randomUUID();
    this.logger.error({ err: exception, errorId }, 'Unhandled error');
    return {
      type: problemType('INTERNAL.UNEXPECTED'),
      title: 'An unexpected error occurred',
      status: HttpStatus.INTERNAL_SERVER_ERROR,
      code: 'INTERNAL.UNEXPECTED',
      detail: `Quote error id ${errorId} when reporting this problem.`,
      errorId,
    };
  }

  private titleOf(exception: HttpException): string {
    const body = exception.getResponse();
    if (typeof body === 'string') return body;
    const message = (body as { message?: unknown }).message;
    if (typeof message === 'string') return message;
    return exception.message;
  }
}
