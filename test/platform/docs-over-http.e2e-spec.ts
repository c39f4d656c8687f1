import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootTestApp, type TestApp } from '../support/test-app.js';

interface Fetched {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A GET with a chosen Host header, as a browser on another machine sends it (fetch() forbids setting Host). */
function get(base: string, path: string, host: string, headers: Record<string, string> = {}): Promise<Fetched> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { hostname: url.hostname, port: url.port, path: url.pathname + url.search, headers: { ...headers, host } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/**
 * Swagger UI over plain HTTP on a host name other than localhost (http://server:3000/docs after `docker compose
 * up`): a CSP with `upgrade-insecure-requests` makes the browser fetch its scripts and styles over https, which
 * the server does not speak, and the page stays blank.
 */
describe('API docs over plain HTTP', () => {
  let testApp: TestApp;
  const host = 'server:3000';

  beforeAll(async () => {
    // The test client is a trusted proxy, so X-Forwarded-Proto is believed: as behind a TLS-terminating proxy.
    testApp = await bootTestApp({ env: { TRUSTED_PROXIES: 'loopback' } });
  });
  afterAll(async () => {
    await testApp.close();
  });

  it('sends a strict CSP without upgrade-insecure-requests', async () => {
    const page = await get(testApp.url, '/docs/', host);
    expect(page.status).toBe(200);
    const csp = String(page.headers['content-security-policy']);
    expect(csp).not.toContain('upgrade-insecure-requests');
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("frame-ancestors 'self'");
  });

  it('asks browsers to upgrade only requests that came over HTTPS through the trusted proxy', async () => {
    const overHttps = await get(testApp.url, '/docs/', 'homeroom.district.test', { 'x-forwarded-proto': 'https' });
    expect(String(overHttps.headers['content-security-policy'])).toContain('upgrade-insecure-requests');
    const overHttp = await get(testApp.url, '/docs/', 'homeroom.district.test', { 'x-forwarded-proto': 'http' });
    expect(String(overHttp.headers['content-security-policy'])).not.toContain('upgrade-insecure-requests');
  });

  it('references only same-origin scripts and styles, and every one of them loads', async () => {
    const page = await get(testApp.url, '/docs/', host);
    const scripts = [...page.body.matchAll(/<script\b[^>]*\bsrc="([^"]+)"/g)].map((match) => match[1]);
    const styles = [...page.body.matchAll(/<link\b[^>]*\brel="stylesheet"[^>]*\bhref="([^"]+)"/g)].map(
      (match) => match[1],
    );
    expect(scripts.length).toBeGreaterThan(0);
    expect(styles.length).toBeGreaterThan(0);
    // script-src 'self' blocks inline scripts: the page must not depend on one.
    const inlineScripts = [...page.body.matchAll(/<script\b(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)].filter(
      (match) => match[1].trim().length > 0,
    );
    expect(inlineScripts).toEqual([]);
    for (const asset of [...scripts, ...styles]) {
      // Relative or root-relative: resolved against the page's own origin, never upgraded to another scheme.
      expect(asset).not.toMatch(/^[a-z]+:\/\//i);
      const resolved = new URL(asset, `http://${host}/docs/`);
      const loaded = await get(testApp.url, resolved.pathname, host);
      expect({ asset, status: loaded.status }).toEqual({ asset, status: 200 });
      expect(String(loaded.headers['content-type'])).toMatch(asset.endsWith('.css') ? /text\/css/ : /javascript/);
    }
  });
});
