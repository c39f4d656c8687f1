import request from 'supertest';
import { bearer, login } from '../support/auth.js';

const PASSWORD = 'a-long-enough-password';

/** Creates a user (as the admin `adminToken`) with these roles and schools, and returns their access token. */
export async function createUserToken(
  url: string,
  adminToken: string,
  email: string,
  roles: string[],
  schoolIds: string[] = [],
): Promise<string> {
  await request(url)
    .post('/api/v1/users')
    .set(bearer(adminToken))
    .send({ email, displayName: email, password: PASSWORD, roles, schoolIds })
    .expect(201);
  return (await login(url, email, PASSWORD)).accessToken;
}

/** Follows `nextCursor` from `path` to the end (each page through `get`, expected 200); every item in order. */
export async function walkPages<T>(get: (path: string) => request.Test, path: string): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  for (let pageCount = 0; pageCount < 100; pageCount += 1) {
    const separator = path.includes('?') ? '&' : '?';
    const response = await get(cursor ? `${path}${separator}cursor=${cursor}` : path).expect(200);
    items.push(...(response.body.items as T[]));
    cursor = response.body.nextCursor as string | null;
    if (!cursor) return items;
  }
  throw new Error('the cursor never ended');
}
