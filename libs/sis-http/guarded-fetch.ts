import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
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
 * Bodies are read whole; no compression is requested.
 */
export function createGuardedFetch(policy: SisAddressPolicy, resolver: SisResolver = systemResolver): typeof fetch {
  return async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const refusal = hostRefusal(url.hostname, policy);
    if (refusal) throw new SisAddressRefusedError(refusal);
    const client = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : undefined;
    if (!client) throw new TypeError(`Unsupported protocol ${url.protocol}`);

    const lookup: LookupFunction = (hostname: string, options: LookupOptions, callback) => {
      resolver(hostname, (error, addresses) => {
        if (error) return callback(error, '', 4);
        const refused = addresses.map((entry) => addressRefusal(entry.address, policy, url.hostname)).find(Boolean);
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

    const headers = new Headers(init?.headers);
    return new Promise<Response>((resolve, reject) => {
      const request = client.request(
        url,
        {
          method: init?.method ?? 'GET',
          headers: Object.fromEntries(headers.entries()),
          lookup,
          signal: init?.signal ?? undefined,
          agent: false,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () => {
            const status = response.statusCode ?? 502;
            const responseHeaders = new Headers();
            for (let index = 0; index + 1 < response.rawHeaders.length; index += 2) {
              responseHeaders.append(response.rawHeaders[index], response.rawHeaders[index + 1]);
            }
            const nullBody = status === 204 || status === 205 || status === 304;
            try {
              resolve(
                new Response(nullBody ? null : Buffer.concat(chunks), {
                  status: status >= 200 && status <= 599 ? status : 502,
                  statusText: response.statusMessage,
                  headers: responseHeaders,
                }),
              );
            } catch (error) {
              reject(error instanceof Error ? error : new Error(String(error)));
            }
          });
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
