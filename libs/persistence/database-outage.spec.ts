import { ConnectionException } from '@mikro-orm/core';
import { describe, expect, it } from 'vitest';
import { DatabaseUnavailableError, isDatabaseUnreachable, translateDatabaseOutage } from './database-outage.js';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('isDatabaseUnreachable', () => {
  it.each([
    ['a refused connection', withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
    ['a reset connection', withCode('read ECONNRESET', 'ECONNRESET')],
    ['an unknown host', withCode('getaddrinfo ENOTFOUND db', 'ENOTFOUND')],
    ['a connection that died mid-query', new Error('Connection terminated unexpectedly')],
    ['a connect timeout', new Error('timeout exceeded when trying to connect')],
    ['a server shutting down (57P01)', withCode('terminating connection due to administrator command', '57P01')],
    ['a server starting up (57P03)', withCode('the database system is starting up', '57P03')],
    ['too many connections (53300)', withCode('sorry, too many clients already', '53300')],
    ['a connection exception (08006)', withCode('connection failure', '08006')],
    ['MikroORM connection exception', new ConnectionException(new Error('boom'))],
    ['a wrapped refusal', new Error('query failed', { cause: withCode('connect ECONNREFUSED', 'ECONNREFUSED') })],
    ['a refusal among several addresses', new AggregateError([withCode('connect ECONNREFUSED ::1', 'ECONNREFUSED')])],
  ])('recognises %s', (_name, error) => {
    expect(isDatabaseUnreachable(error)).toBe(true);
    expect(translateDatabaseOutage(error)).toBeInstanceOf(DatabaseUnavailableError);
  });

  it.each([
    ['a unique violation (23505)', withCode('duplicate key value', '23505')],
    ['a syntax error (42601)', withCode('syntax error at or near', '42601')],
    ['an undefined table (42P01)', withCode('relation "x" does not exist', '42P01')],
    ['a plain bug', new TypeError('Cannot read properties of undefined')],
    ['a non-error', 'ECONNREFUSED'],
  ])('leaves %s alone', (_name, error) => {
    expect(isDatabaseUnreachable(error)).toBe(false);
    expect(translateDatabaseOutage(error)).toBeUndefined();
  });

  it('carries a stable code and a retry hint, and no connection details', () => {
    const error = new DatabaseUnavailableError();
    expect(error).toMatchObject({ code: 'DATABASE.UNAVAILABLE', kind: 'unavailable' });
    expect(error.details).toEqual({ retryAfterSeconds: 5 });
  });
});
