import { createHmac, randomBytes } from 'node:crypto';

export interface OAuth1Credentials {
  consumerKey: string;
  consumerSecret: string;
  /** Two-legged OneRoster access has no token; kept for completeness and the RFC test vectors. */
  token?: string;
  tokenSecret?: string;
}

export interface OAuth1SigningInput extends OAuth1Credentials {
  method: string;
  /** The full request URL, query included: every query parameter is signed. */
  url: string;
  /** Unix seconds. */
  timestamp: number;
  nonce: string;
  /** Form-encoded body parameters of a POST, which RFC 5849 also signs. */
  bodyParams?: readonly (readonly [string, string])[];
}

/** RFC 3986 percent-encoding as RFC 5849 §3.6 requires: everything but ALPHA / DIGIT / "-" / "." / "_" / "~". */
export function oauthPercentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** RFC 5849 §3.4.1.2: scheme and host lower-cased, default port dropped, no query or fragment. */
export function oauthBaseStringUri(url: URL): string {
  const scheme = url.protocol.toLowerCase();
  const host = url.hostname.toLowerCase();
  const defaultPort = (scheme === 'http:' && url.port === '80') || (scheme === 'https:' && url.port === '443');
  const port = url.port && !defaultPort ? `:${url.port}` : '';
  return `${scheme}//${host}${port}${url.pathname}`;
}

/** RFC 5849 §3.4.1: METHOD & base string URI & normalised parameters, each percent-encoded. */
export function oauth1SignatureBaseString(
  method: string,
  url: string,
  oauthParams: Record<string, string>,
  bodyParams: readonly (readonly [string, string])[] = [],
): string {
  const parsed = new URL(url);
  const params: [string, string][] = [];
  // URLSearchParams decodes as application/x-www-form-urlencoded, which is what §3.4.1.3.1 prescribes.
  for (const [name, value] of parsed.searchParams) params.push([name, value]);
  for (const [name, value] of bodyParams) params.push([name, value]);
  for (const [name, value] of Object.entries(oauthParams)) params.push([name, value]);
  const normalised = params
    .map(([name, value]) => [oauthPercentEncode(name), oauthPercentEncode(value)] as const)
    .sort(([nameA, valueA], [nameB, valueB]) => compare(nameA, nameB) || compare(valueA, valueB))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
  return [method.toUpperCase(), oauthBaseStringUri(parsed), normalised].map(oauthPercentEncode).join('&');
}

/** The `Authorization: OAuth …` header value for one request, HMAC-SHA1 signed. */
export function oauth1AuthorizationHeader(input: OAuth1SigningInput): string {
  const oauthParams: Record<string, string> = {
    oauth_consumer_key: input.consumerKey,
    oauth_nonce: input.nonce,
    oauth_signature_method: 'HMAC-SHA1',
    oauth_timestamp: String(input.timestamp),
    oauth_version: '1.0',
  };
  if (input.token !== undefined) oauthParams.oauth_token = input.token;
  const baseString = oauth1SignatureBaseString(input.method, input.url, oauthParams, input.bodyParams);
  const key = `${oauthPercentEncode(input.consumerSecret)}&${oauthPercentEncode(input.tokenSecret ?? '')}`;
  const signature = createHmac('sha1', key).update(baseString).digest('base64');
  const headerParams = { ...oauthParams, oauth_signature: signature };
  return (
    'OAuth ' +
    Object.entries(headerParams)
      .map(([name, value]) => `${oauthPercentEncode(name)}="${oauthPercentEncode(value)}"`)
      .join(', ')
  );
}

/** 128 random bits: unique per request, retries included. */
export function oauth1Nonce(): string {
  return randomBytes(16).toString('hex');
}

function compare(a: string, b: string): number {
  // Byte order of the encoded strings (all ASCII after encoding), not locale order.
  return a < b ? -1 : a > b ? 1 : 0;
}
