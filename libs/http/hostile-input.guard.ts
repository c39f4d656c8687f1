import type { IncomingMessage, ServerResponse } from 'node:http';

/** Deepest JSON body accepted; our deepest DTO (connection thresholds) nests four levels. */
export const MAX_JSON_DEPTH = 32;
/** Most query parameters accepted on one request. */
export const MAX_QUERY_PARAMETERS = 100;

/** NUL or a UTF-16 surrogate without its pair: text that PostgreSQL or a UTF-8 encoder cannot store faithfully. */
// eslint-disable-next-line no-control-regex -- finding NUL is the point
const UNSTORABLE_TEXT = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Input refused at the edge, before any route sees it. Shaped like a body-parser error (`status`, `type`), so the
 * problem filter answers it the same way, with the stable `code` carried here.
 */
export class RefusedInputError extends Error {
  readonly status = 400;
  constructor(
    readonly type: 'entity.too.deep' | 'entity.invalid.characters' | 'query.invalid',
    readonly code: 'HTTP.BODY_TOO_DEEP' | 'HTTP.INVALID_CHARACTERS' | 'HTTP.INVALID_QUERY',
    readonly title: string,
  ) {
    super(title);
    this.name = 'RefusedInputError';
  }
}

/** True when `text` holds NUL or a lone surrogate. */
export function hasUnstorableText(text: string): boolean {
  return UNSTORABLE_TEXT.test(text);
}

/**
 * The first problem with a parsed JSON value, walked without recursion: nesting deeper than `maxDepth`, or NUL or
 * a lone surrogate in any string or object key. Undefined when the value is fine.
 */
export function jsonValueProblem(value: unknown, maxDepth = MAX_JSON_DEPTH): RefusedInputError | undefined {
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const { value: current, depth } = stack.pop()!;
    if (typeof current === 'string') {
      if (hasUnstorableText(current)) return invalidCharacters('The request body');
      continue;
    }
    if (typeof current !== 'object' || current === null) continue;
    if (depth >= maxDepth) {
      return new RefusedInputError(
        'entity.too.deep',
        'HTTP.BODY_TOO_DEEP',
        `The request body nests deeper than ${maxDepth} levels`,
      );
    }
    if (Array.isArray(current)) {
      for (const item of current as unknown[]) stack.push({ value: item, depth: depth + 1 });
      continue;
    }
    for (const [key, item] of Object.entries(current)) {
      if (hasUnstorableText(key)) return invalidCharacters('The request body');
      stack.push({ value: item, depth: depth + 1 });
    }
  }
  return undefined;
}

/**
 * The first problem with a request's URL: NUL or a lone surrogate in the path or in a query parameter's name or
 * value (after percent-decoding), or more than `MAX_QUERY_PARAMETERS` parameters.
 */
export function urlProblem(url: string): RefusedInputError | undefined {
  const queryAt = url.indexOf('?');
  const path = queryAt === -1 ? url : url.slice(0, queryAt);
  for (const segment of path.split('/')) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      continue; // a malformed escape is the router's to refuse (404 or 400)
    }
    if (hasUnstorableText(decoded)) return invalidCharacters('The request path');
  }
  if (queryAt === -1) return undefined;
  const parameters = new URLSearchParams(url.slice(queryAt + 1));
  let count = 0;
  for (const [name, value] of parameters) {
    count += 1;
    if (count > MAX_QUERY_PARAMETERS) {
      return new RefusedInputError(
        'query.invalid',
        'HTTP.INVALID_QUERY',
        `The query string has more than ${MAX_QUERY_PARAMETERS} parameters`,
      );
    }
    if (hasUnstorableText(name) || hasUnstorableText(value)) return invalidCharacters('A query parameter');
  }
  return undefined;
}

/** Express middleware refusing hostile URLs; mount it before the routes. */
export function refuseHostileUrls() {
  return (request: IncomingMessage, _response: ServerResponse, next: (error?: unknown) => void): void => {
    next(urlProblem(request.url ?? ''));
  };
}

/** Express middleware refusing hostile parsed bodies; mount it right after the body parsers. */
export function refuseHostileBodies(maxDepth = MAX_JSON_DEPTH) {
  return (
    request: IncomingMessage & { body?: unknown },
    _response: ServerResponse,
    next: (error?: unknown) => void,
  ): void => {
    next(request.body === undefined ? undefined : jsonValueProblem(request.body, maxDepth));
  };
}

function invalidCharacters(where: string): RefusedInputError {
  return new RefusedInputError(
    'entity.invalid.characters',
    'HTTP.INVALID_CHARACTERS',
    `${where} contains a NUL character or an unpaired UTF-16 surrogate`,
  );
}
