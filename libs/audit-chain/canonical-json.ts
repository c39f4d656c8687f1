/**
 * RFC 8785 (JSON Canonicalization Scheme) for the values audit entries hold: object keys sorted by UTF-16 code
 * units, no whitespace, strings and finite numbers as ECMAScript's JSON.stringify writes them. The same
 * bytes come out in every process and time zone, so a verifier can recompute an entry's hash anywhere.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('Canonical JSON cannot hold NaN or Infinity');
      return JSON.stringify(value);
    case 'object': {
      // Array.from visits holes of sparse arrays (map skips them and would write `[1,,3]`).
      if (Array.isArray(value))
        return `[${Array.from(value, (item: unknown) => canonicalJson(item ?? null)).join(',')}]`;
      if (value instanceof Date) return JSON.stringify(value.toISOString());
      const entries = Object.entries(value as Record<string, unknown>)
        .filter(([, item]) => item !== undefined)
        .sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0));
      return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
    }
    case 'bigint':
    case 'function':
    case 'symbol':
    case 'undefined':
      break;
  }
  throw new TypeError(`Canonical JSON cannot hold a ${typeof value}`);
}
