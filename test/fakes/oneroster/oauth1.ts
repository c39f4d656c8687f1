import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** OAuth 1.0a (RFC 5849) signing, as OneRoster 1.1 servers verify it. */
export type OAuth1SignatureMethod = 'HMAC-SHA1' | 'HMAC-SHA256';

export interface OAuth1Credentials {
  consumerKey: string;
  consumerSecret: string;
}

/** RFC 3986 unreserved characters stay, everything else is %XX (stricter than encodeURIComponent). */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** RFC 5849 §3.4.1: method, base URL without query, and every query + oauth parameter, sorted. */
export function oauth1SignatureBaseString(method: string, url: URL, oauthParameters: [string, string][]): string {
  const baseUrl = `${url.protocol}//${url.host.toLowerCase()}${url.pathname}`;
  const pairs = [...url.searchParams.entries(), ...oauthParameters]
    .filter(([name]) => name !== 'oauth_signature' && name !== 'realm')
    .map(([name, value]) => [percentEncode(name), percentEncode(value)] as const)
    .sort(([leftName, leftValue], [rightName, rightValue]) =>
      leftName < rightName
        ? -1
        : leftName > rightName
          ? 1
          : leftValue < rightValue
            ? -1
            : leftValue > rightValue
              ? 1
              : 0,
    );
  const normalized = pairs.map(([name, value]) => `${name}=${value}`).join('&');
  return [method.toUpperCase(), percentEncode(baseUrl), percentEncode(normalized)].join('&');
}

export function oauth1Signature(
  baseString: string,
  consumerSecret: string,
  signatureMethod: OAuth1SignatureMethod,
  tokenSecret = '',
): string {
  const algorithm = signatureMethod === 'HMAC-SHA256' ? 'sha256' : 'sha1';
  return createHmac(algorithm, `${percentEncode(consumerSecret)}&${percentEncode(tokenSecret)}`)
    .update(baseString)
    .digest('base64');
}

export interface SignOAuth1Options {
  signatureMethod?: OAuth1SignatureMethod;
  nonce?: string;
  /** Seconds since the epoch. */
  timestamp?: number;
}

/** The `Authorization: OAuth …` header value for a request (for tests that play the client). */
export function signOAuth1Request(
  method: string,
  url: string | URL,
  credentials: OAuth1Credentials,
  options: SignOAuth1Options = {},
): string {
  const target = typeof url === 'string' ? new URL(url) : url;
  const signatureMethod = options.signatureMethod ?? 'HMAC-SHA1';
  const oauthParameters: [string, string][] = [
    ['oauth_consumer_key', credentials.consumerKey],
    ['oauth_nonce', options.nonce ?? randomBytes(16).toString('hex')],
    ['oauth_signature_method', signatureMethod],
    ['oauth_timestamp', String(options.timestamp ?? Math.floor(Date.now() / 1000))],
    ['oauth_version', '1.0'],
  ];
  const signature = oauth1Signature(
    oauth1SignatureBaseString(method, target, oauthParameters),
    credentials.consumerSecret,
    signatureMethod,
  );
  oauthParameters.push(['oauth_signature', signature]);
  return `OAuth ${oauthParameters.map(([name, value]) => `${name}="${percentEncode(value)}"`).join(', ')}`;
}

export function parseOAuth1Header(header: string): Map<string, string> | null {
  const match = /^OAuth\s+(.*)$/i.exec(header.trim());
  if (!match) return null;
  const parameters = new Map<string, string>();
  for (const part of match[1].matchAll(/([A-Za-z0-9_.~-]+)\s*=\s*"([^"]*)"/g)) {
    try {
      parameters.set(decodeURIComponent(part[1]), decodeURIComponent(part[2]));
    } catch {
      return null;
    }
  }
  return parameters;
}

export type OAuth1Verdict = { ok: true } | { ok: false; reason: string };

export interface OAuth1VerifyOptions extends OAuth1Credentials {
  /** Allowed distance between `oauth_timestamp` and the real clock. */
  maxSkewSeconds: number;
  seenNonces: Set<string>;
  nowSeconds: number;
}

/** Verifies a signed request; `url` must be the absolute URL the client signed (scheme, Host header, path, query). */
export function verifyOAuth1Request(
  method: string,
  url: URL,
  authorization: string | undefined,
  options: OAuth1VerifyOptions,
): OAuth1Verdict {
  const fromHeader = authorization ? parseOAuth1Header(authorization) : null;
  const parameters = fromHeader ?? new Map<string, string>();
  // Parameters may also travel in the query string (RFC 5849 §3.5.3); those are signed as query params.
  for (const [name, value] of url.searchParams)
    if (name.startsWith('oauth_') && !parameters.has(name)) parameters.set(name, value);
  const signature = parameters.get('oauth_signature');
  if (!signature) return { ok: false, reason: 'missing oauth_signature' };
  if (parameters.get('oauth_consumer_key') !== options.consumerKey)
    return { ok: false, reason: 'unknown consumer key' };
  const signatureMethod = parameters.get('oauth_signature_method');
  if (signatureMethod !== 'HMAC-SHA1' && signatureMethod !== 'HMAC-SHA256') {
    return { ok: false, reason: `unsupported signature method ${signatureMethod}` };
  }
  const version = parameters.get('oauth_version');
  if (version !== undefined && version !== '1.0') return { ok: false, reason: 'oauth_version must be 1.0' };
  const timestamp = Number(parameters.get('oauth_timestamp'));
  if (!Number.isInteger(timestamp)) return { ok: false, reason: 'missing oauth_timestamp' };
  if (Math.abs(options.nowSeconds - timestamp) > options.maxSkewSeconds)
    return { ok: false, reason: 'stale timestamp' };
  const nonce = parameters.get('oauth_nonce');
  if (!nonce) return { ok: false, reason: 'missing oauth_nonce' };

  const oauthFromHeader = fromHeader ? [...fromHeader.entries()].filter(([name]) => name.startsWith('oauth_')) : [];
  const expected = oauth1Signature(
    oauth1SignatureBaseString(method, url, oauthFromHeader),
    options.consumerSecret,
    signatureMethod,
  );
  const expectedBytes = Buffer.from(expected);
  const givenBytes = Buffer.from(signature);
  if (expectedBytes.length !== givenBytes.length || !timingSafeEqual(expectedBytes, givenBytes)) {
    return { ok: false, reason: 'signature mismatch' };
  }
  if (options.seenNonces.has(nonce)) return { ok: false, reason: 'nonce reused' };
  options.seenNonces.add(nonce);
  return { ok: true };
}
