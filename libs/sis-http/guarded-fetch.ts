import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { Readable } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import { addressRefusal, hostRefusal, type SisAddressPolicy } from './address-policy.js';

/** The code of the error a refused address raises; the transport treats it as permanent (no retry). */
export const ADDRESS_REFUSED_CODE = 'ERR_SIS_ADDRESS_REFUSED';

export class SisAddressRefusedError extends Error {
  readonly code = ADDRESS_REFUSED_CODE;
  constructor(reason: string) {
    super(`Refused by the SIS address policy: ${reason}`);
    this.name = 'SisAddressRefusedError';
  }
}

/** `dns.lookup` with `all: true`, or a stand-in (tests resolve names to chosen addresses). */
export type SisResolver = (
  hostname: string,
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

const systemResolver: SisResolver = (hostname, callback) => dnsLookup(hostname, { all: true }, callback);

/**
 * A `fetch` for SIS traffic that connects only to addresses the policy allows: the host is resolved once, every
 * address it resolves to is checked, and the socket connects to a checked address (the check sits in the
 * socket's own `lookup`, so a second, different DNS answer cannot slip in: no DNS rebinding). IP literals and
 * `localhost` are judged before any socket exists. Redirects are never followed here (the transport decides).
 * Connections are kept alive between requests (each new one passes the same lookup), and the body is handed
 * over as a stream, so the caller can stop reading a body past its size limit; no compression is requested.
 */
export function createGuardedFetch(policy: SisAddressPolicy, resolver: SisResolver = systemResolver): typeof fetch {
  const lookup: LookupFunction = (hostname: string, options: LookupOptions, callback) => {
    resolver(hostname, (error, addresses) => {
      if (error) return callback(error, '', 4);
      const refused = addresses.map((entry) => addressRefusal(entry.address, policy, hostname)).find(Boolean);
      if (refused || addresses.length === 0) {
        return callback(new SisAddressRefusedError(refused ?? `${hostname} has no address`), '', 4);
      }
      const wanted = options.family === 4 || options.family === 6 ? options.family : undefined;
      const usable = wanted ? addresses.filter((entry) => entry.family === wanted) : addresses;
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, usable);
      const first = usable[0] ?? addresses[0];
      callback(null, first.address, first.family);
    });
  };
  const agents = {
    'http:': new http.Agent({ keepAlive: true, lookup }),
    'https:': new https.Agent({ keepAlive: true, lookup }),
  };

  return async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const refusal = hostRefusal(url.hostname, policy);
    if (refusal) throw new SisAddressRefusedError(refusal);
    const protocol = url.protocol === 'https:' || url.protocol === 'http:' ? url.protocol : undefined;
    if (!protocol) throw new TypeError(`Unsupported protocol ${url.protocol}`);
    const client = protocol === 'https:' ? https : http;
    const method = init?.method ?? 'GET';

    const headers = new Headers(init?.headers);
    return new Promise<Response>((resolve, reject) => {
      const request = client.request(
        url,
        {
          method,
          headers: Object.fromEntries(headers.entries()),
          signal: init?.signal ?? undefined,
          agent: agents[protocol],
        },
        (response) => {
          const status = response.statusCode ?? 502;
          const responseHeaders = new Headers();
          for (let index = 0; index + 1 < response.rawHeaders.length; index += 2) {
            responseHeaders.append(response.rawHeaders[index], response.rawHeaders[index + 1]);
          }
          const nullBody = method === 'HEAD' || status === 204 || status === 205 || status === 304;
          if (nullBody) response.resume();
          try {
            resolve(
              new Response(nullBody ? null : (Readable.toWeb(response) as ReadableStream<Uint8Array>), {
                status: status >= 200 && status <= 599 ? status : 502,
                statusText: response.statusMessage,
                headers: responseHeaders,
              }),
            );
          } catch (error) {
            response.destroy();
            reject(error instanceof Error ? error : new Error(String(error)));
          }
        },
      );
      request.on('error', reject);
      const body = init?.body;
      if (typeof body === 'string' || body instanceof Uint8Array) request.end(body);
      else if (body === undefined || body === null) request.end();
      else {
        request.destroy();
        reject(new TypeError('The SIS fetch sends string bodies only'));
      }
    });
  };
}
