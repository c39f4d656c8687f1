import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { failure, request } from './sis-http-request.fake.js';
import { addressRefusal, hostRefusal, PERMISSIVE_ADDRESS_POLICY, type SisAddressPolicy } from './address-policy.js';
import type { SisResolver } from './guarded-fetch.js';
import { sameOriginRedirect, SisHttpTransport, type SisHttpSettings } from './sis-http.transport.js';

const STRICT: SisAddressPolicy = { refuseInternal: true, refusePrivate: true, allowedHosts: [] };
const PRODUCTION_WITH_PRIVATE_SIS: SisAddressPolicy = { refuseInternal: true, refusePrivate: false, allowedHosts: [] };

describe('the SIS address policy', () => {
  it.each([
    ['127.0.0.1'],
    ['127.8.9.10'],
    ['0.0.0.0'],
    ['169.254.169.254'],
    ['::1'],
    ['[::1]'],
    ['::'],
    ['::ffff:127.0.0.1'],
    ['fe80::1'],
    ['10.0.0.5'],
    ['172.16.3.4'],
    ['192.168.1.1'],
    ['100.64.0.1'],
    ['fd12:3456::1'],
    ['localhost'],
    ['api.localhost'],
  ])('refuses %s under the strict policy, before any DNS', (host) => {
    expect(hostRefusal(host, STRICT)).toBeDefined();
  });

  it.each([['93.184.215.14'], ['2606:4700::1111'], ['sis.district.example']])(
    'lets %s through the strict host check',
    (host) => {
      expect(hostRefusal(host, STRICT)).toBeUndefined();
    },
  );

  it('refuses private ranges only when configured to', () => {
    expect(addressRefusal('10.0.0.5', PRODUCTION_WITH_PRIVATE_SIS)).toBeUndefined();
    expect(addressRefusal('127.0.0.1', PRODUCTION_WITH_PRIVATE_SIS)).toMatch(/loopback/);
    expect(addressRefusal('169.254.169.254', PRODUCTION_WITH_PRIVATE_SIS)).toMatch(/link-local/);
  });

  it('allows the hosts, addresses and ranges of the allow list', () => {
    const policy: SisAddressPolicy = { ...STRICT, allowedHosts: ['sis.district.local', '10.20.0.0/16', '::1'] };
    expect(addressRefusal('10.0.0.5', policy, 'SIS.District.Local')).toBeUndefined();
    expect(hostRefusal('sis.district.local', policy)).toBeUndefined();
    expect(addressRefusal('10.20.3.4', policy)).toBeUndefined();
    expect(addressRefusal('10.21.3.4', policy)).toBeDefined();
    expect(hostRefusal('[::1]', policy)).toBeUndefined();
    expect(hostRefusal('127.0.0.1', policy)).toBeDefined();
  });

  it('refuses nothing when permissive (tests and development)', () => {
    expect(hostRefusal('127.0.0.1', PERMISSIVE_ADDRESS_POLICY)).toBeUndefined();
    expect(hostRefusal('localhost', PERMISSIVE_ADDRESS_POLICY)).toBeUndefined();
  });
});

type Seen = { method: string; path: string; body: string; host: string | undefined };
const open: Server[] = [];
afterEach(async () => {
  for (const server of open.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function serve(
  handler: (request: IncomingMessage, response: ServerResponse) => void,
): Promise<{ port: number; url: string; requests: Seen[] }> {
  const requests: Seen[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += String(chunk)));
    request.on('end', () => {
      requests.push({ method: request.method ?? '', path: request.url ?? '', body, host: request.headers.host });
      handler(request, response);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  open.push(server);
  const port = (server.address() as AddressInfo).port;
  return { port, url: `http://127.0.0.1:${port}`, requests };
}

const answer = (status: number, headers: Record<string, string> = {}, body = '{"ok":true}') =>
  ((_request: IncomingMessage, response: ServerResponse) => {
    response.writeHead(status, { 'content-type': 'application/json', ...headers });
    response.end(body);
  }) satisfies Parameters<typeof serve>[0];

function transport(settings: SisHttpSettings): SisHttpTransport {
  return new SisHttpTransport(
    { maxAttempts: 3, sleep: async () => undefined, ...settings },
    { serverMessageFields: (body) => [body.message] },
  );
}

/** Resolves every name to the given addresses (the system resolver is never asked). */
const resolvingTo =
  (...addresses: string[]): SisResolver =>
  (_hostname, callback) =>
    callback(
      null,
      addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
    );

describe('SIS traffic under the address policy', () => {
  it("refuses a loopback URL (the service's own ports) before connecting, without retrying", async () => {
    const server = await serve(answer(200));
    const error = await failure(transport({ addressPolicy: STRICT }).send(request(`${server.url}/ims`)));
    expect(error.code).toBe('SIS_SYNC.SOURCE_UNREACHABLE');
    expect(error.message).toMatch(/Refused by the SIS address policy: 127\.0\.0\.1 is a loopback/);
    expect(server.requests).toHaveLength(0);
  });

  it('refuses a host name that resolves to loopback at connect time (no DNS rebinding: the checked answer is used)', async () => {
    const server = await serve(answer(200));
    const error = await failure(
      transport({ addressPolicy: STRICT, resolver: resolvingTo('127.0.0.1') }).send(
        request(`http://sis.district.test:${server.port}/ims`),
      ),
    );
    expect(error.message).toMatch(/Refused by the SIS address policy/);
    expect(server.requests).toHaveLength(0);
  });

  it('refuses a name when any address it resolves to is refused (a public one among them is never contacted)', async () => {
    const error = await failure(
      transport({ addressPolicy: STRICT, resolver: resolvingTo('93.184.215.14', '169.254.169.254') }).send(
        request('http://sis.district.test/ims'),
      ),
    );
    expect(error.message).toMatch(/169\.254\.169\.254 is a loopback, link-local/);
  });

  it('connects to the resolved address of a host on SIS_ALLOWED_HOSTS', async () => {
    const server = await serve(answer(200));
    const response = await transport({
      addressPolicy: { ...STRICT, allowedHosts: ['sis.district.test'] },
      resolver: resolvingTo('127.0.0.1'),
    }).send(request(`http://sis.district.test:${server.port}/ims`, { method: 'POST', body: 'a=1' }));
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ ok: true });
    expect(server.requests).toEqual([
      { method: 'POST', path: '/ims', body: 'a=1', host: `sis.district.test:${server.port}` },
    ]);
  });

  it('sends and reads like fetch under the permissive policy (status, headers, empty 204)', async () => {
    const server = await serve((incoming, response) => {
      if (incoming.url === '/empty') response.writeHead(204).end();
      else answer(200, { 'x-total-count': '7' })(incoming, response);
    });
    const sis = transport({ addressPolicy: PERMISSIVE_ADDRESS_POLICY });
    const response = await sis.send(request(`${server.url}/a`));
    expect(response.headers.get('x-total-count')).toBe('7');
    expect((await sis.send(request(`${server.url}/empty`))).status).toBe(204);
  });
});

describe('redirects', () => {
  it('does not follow a redirect to another host', async () => {
    const elsewhere = await serve(answer(200));
    const server = await serve(answer(302, { location: `http://localhost:${elsewhere.port}/steal` }));
    const error = await failure(transport({}).send(request(`${server.url}/ims`)));
    expect(error).toMatchObject({ code: 'REJECTED', status: 302 });
    expect(error.message).toMatch(/Redirect not followed/);
    expect(elsewhere.requests).toHaveLength(0);
  });

  it('follows a redirect on the same origin, a 303 as a GET without body', async () => {
    const server = await serve((incoming, response) => {
      if (incoming.url === '/old') answer(307, { location: '/moved' })(incoming, response);
      else if (incoming.url === '/moved') answer(303, { location: '/final' })(incoming, response);
      else answer(200)(incoming, response);
    });
    const response = await transport({}).send(request(`${server.url}/old`, { method: 'POST', body: 'x=1' }));
    expect(response.status).toBe(200);
    expect(server.requests.map((seen) => [seen.method, seen.path, seen.body])).toEqual([
      ['POST', '/old', 'x=1'],
      ['POST', '/moved', 'x=1'],
      ['GET', '/final', ''],
    ]);
  });

  it('does not follow a redirect from https to http, even on the same host', async () => {
    const calls: string[] = [];
    const fakeFetch: typeof fetch = async (input) => {
      calls.push(input instanceof Request ? input.url : input.toString());
      return new Response(null, { status: 301, headers: { location: 'http://sis.district.example/ims' } });
    };
    const error = await failure(transport({ fetch: fakeFetch }).send(request('https://sis.district.example/ims')));
    expect(error).toMatchObject({ code: 'REJECTED', status: 301 });
    expect(calls).toEqual(['https://sis.district.example/ims']);
    expect(sameOriginRedirect('https://a.example/x', 'http://a.example/y')).toBeUndefined();
    expect(sameOriginRedirect('https://a.example/x', 'https://a.example:8443/y')).toBeUndefined();
    expect(sameOriginRedirect('https://a.example/x', '/y?z=1')).toBe('https://a.example/y?z=1');
  });
});
