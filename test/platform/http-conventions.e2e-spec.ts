import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootTestApp, type TestApp } from '../support/test-app.js';

describe('HTTP conventions', () => {
  let testApp: TestApp;

  beforeAll(async () => {
    testApp = await bootTestApp({ env: { BODY_LIMIT: '10kb', CORS_ORIGINS: 'https://portal.district.test' } });
  });
  afterAll(async () => {
    await testApp.close();
  });

  it('answers an unknown route with a 404 problem document and a correlation id', async () => {
    const response = await request(testApp.url).get('/api/v1/no-such-thing');
    expect(response.status).toBe(404);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.body).toMatchObject({ status: 404, code: 'HTTP.NOT_FOUND' });
    expect(response.body.correlationId).toBe(response.headers['x-request-id']);
  });

  it('keeps a well-formed X-Request-Id from the caller', async () => {
    const response = await request(testApp.url).get('/api/v1/no-such-thing').set('X-Request-Id', 'lb-trace-0001');
    expect(response.headers['x-request-id']).toBe('lb-trace-0001');
    expect(response.body.correlationId).toBe('lb-trace-0001');
  });

  it('refuses malformed JSON with a 400, not a 500', async () => {
    const response = await request(testApp.url)
      .post('/api/v1/auth/login')
      .set('content-type', 'application/json')
      .send('{"email": "a@b.test", ');
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('HTTP.MALFORMED_BODY');
    // Refused by the body parser, yet answered like every other response: request id, security headers.
    expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.body.correlationId).toBe(response.headers['x-request-id']);
    expect(response.headers['x-content-type-options']).toBe('nosniff');
  });

  it('refuses a body over the limit with a 413', async () => {
    const response = await request(testApp.url)
      .post('/api/v1/auth/login')
      .send({ email: 'a@b.test', password: 'x'.repeat(20_000) });
    expect(response.status).toBe(413);
    expect(response.body.code).toBe('HTTP.PAYLOAD_TOO_LARGE');
  });

  it('refuses unknown fields with a 400 naming them', async () => {
    const response = await request(testApp.url)
      .post('/api/v1/auth/login')
      .send({ email: 'a@b.test', password: 'whatever-long-password', isAdmin: true });
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('REQUEST.VALIDATION_FAILED');
    expect(JSON.stringify(response.body.errors)).toContain('isAdmin');
  });

  it('sends security headers and no X-Powered-By', async () => {
    const response = await request(testApp.url).get('/health/live');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['content-security-policy']).toBeDefined();
    expect(response.headers['strict-transport-security']).toBeDefined();
    expect(response.headers['x-powered-by']).toBeUndefined();
  });

  it('allows CORS only for configured origins', async () => {
    const allowed = await request(testApp.url).options('/api/v1/auth/me').set('Origin', 'https://portal.district.test');
    expect(allowed.headers['access-control-allow-origin']).toBe('https://portal.district.test');
    const refused = await request(testApp.url).options('/api/v1/auth/me').set('Origin', 'https://evil.example');
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('serves the OpenAPI document generated from the code, and Swagger UI', async () => {
    const document = await request(testApp.url).get('/openapi.json');
    expect(document.status).toBe(200);
    expect(document.body.openapi).toMatch(/^3\./);
    expect(Object.keys(document.body.paths)).toEqual(
      expect.arrayContaining(['/api/v1/auth/login', '/api/v1/auth/refresh', '/api/v1/users', '/api/v1/users/{id}']),
    );
    expect(document.body.components.securitySchemes).toBeDefined();
    const ui = await request(testApp.url).get('/docs/');
    expect(ui.status).toBe(200);
    expect(ui.text).toContain('swagger');
  });
});
