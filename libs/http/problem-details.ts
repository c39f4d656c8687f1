import type { DomainErrorKind } from '@app/ddd';

/** RFC 9457 problem document, with Homeroom's stable `code` and the request's correlation id. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  code: string;
  instance?: string;
  correlationId?: string;
  errorId?: string;
  [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export const statusByKind: Record<DomainErrorKind, number> = {
  validation: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unprocessable: 422,
  rate_limited: 429,
  unavailable: 503,
};

export function problemType(code: string): string {
  return `urn:homeroom:problem:${code.toLowerCase()}`;
}
