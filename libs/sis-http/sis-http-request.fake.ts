import { expect } from 'vitest';
import type { SisHttpFailureCode, SisHttpRequest } from './sis-http.transport.js';

/** The error the request callbacks build in tests: a plain record of what the transport handed over. */
export class TestError extends Error {
  constructor(
    readonly code: SisHttpFailureCode | 'AUTH' | 'REJECTED',
    message: string,
    readonly status?: number,
    options?: { cause: unknown },
  ) {
    super(message, options);
  }
}

/** A GET of `url` whose failures and rejections become TestErrors. */
export function request(url: string, overrides: Partial<SisHttpRequest> = {}): SisHttpRequest {
  return {
    method: 'GET',
    url,
    headers: async () => ({ accept: 'application/json' }),
    failure: (code, message, status, options) => new TestError(code, message, status, options),
    rejection: (status, serverMessage) => new TestError('REJECTED', serverMessage ?? '', status),
    ...overrides,
  };
}

/** The TestError a promise rejects with. */
export async function failure(promise: Promise<unknown>): Promise<TestError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(TestError);
  return error as TestError;
}
