/** A bind address meaning every interface: `0.0.0.0`, `::` or none. */
function isWildcard(host: string): boolean {
  return host === '' || host === '0.0.0.0' || host === '::' || host === '[::]';
}

/**
 * The URL a person can open for a server bound to `host`:`port`: a wildcard address (`0.0.0.0`, `::`, empty) is
 * given as `localhost`, an IPv6 address in brackets.
 */
export function listeningUrl(host: string, port: number): string {
  const shown = isWildcard(host) ? 'localhost' : host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `http://${shown}:${port}`;
}

/** The start-up line of the API: where it listens and where its documentation is. */
export function listeningMessage(host: string, port: number): string {
  const url = listeningUrl(host, port);
  const everywhere = isWildcard(host) ? ` (every interface, ${host || '0.0.0.0'}:${port})` : '';
  return `Listening on ${url}${everywhere}; API docs at ${url}/docs, OpenAPI at ${url}/openapi.json`;
}
