export const MAX_CURSOR_LENGTH = 2048;

/** NUL, other C0 controls and DEL, or a UTF-16 surrogate without its pair: never part of a sort key we hand out. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNSAFE_TEXT = /[\u0000-\u001f\u007f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export interface KeysetCursorOptions<P> {
  /** Names the listing, so that a cursor of one listing cannot be replayed against another. */
  listing: string;
  /** The sort key's fields, in order. */
  fields: readonly (keyof P & string)[];
  /** Optional per-field patterns (ids, scores) checked on decode. */
  patterns?: Partial<Record<keyof P & string, RegExp>>;
  /** The module's own domain error (a `validation` kind, so a 400 problem) for any cursor it did not produce. */
  invalid: () => Error;
}

/**
 * The one codec for opaque keyset cursors: base64url JSON of the listing's name and the last row's sort key.
 * Decoding checks everything before a value reaches SQL: the alphabet and length, the JSON shape, the listing,
 * each field's type and pattern, and that no field carries control characters or lone surrogates (PostgreSQL
 * refuses NUL in text, which would otherwise surface as a 500).
 */
export class KeysetCursorCodec<P extends { [K in keyof P]: string }> {
  constructor(private readonly options: KeysetCursorOptions<P>) {}

  encode(position: P): string {
    const { listing, fields } = this.options;
    return Buffer.from(JSON.stringify([listing, ...fields.map((field) => position[field])])).toString('base64url');
  }

  /** Null without a cursor; the configured error for anything this codec did not produce. */
  decode(cursor: string | undefined): P | null {
    if (cursor === undefined || cursor === '') return null;
    const { listing, fields, invalid } = this.options;
    const patterns: Partial<Record<keyof P & string, RegExp>> = this.options.patterns ?? {};
    if (cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
    let decoded: unknown;
    try {
      decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    } catch {
      throw invalid();
    }
    if (!Array.isArray(decoded) || decoded.length !== fields.length + 1 || decoded[0] !== listing) throw invalid();
    const values: unknown[] = decoded.slice(1);
    const position: Record<string, string> = {};
    fields.forEach((field, index) => {
      const value = values[index];
      const pattern: RegExp | undefined = patterns[field];
      if (typeof value !== 'string' || UNSAFE_TEXT.test(value) || (pattern && !pattern.test(value))) throw invalid();
      position[field] = value;
    });
    return position as P;
  }
}
