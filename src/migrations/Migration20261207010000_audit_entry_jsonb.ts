import { Migration } from '@mikro-orm/migrations';

/**
 * Audit entries that PostgreSQL's jsonb refuses no longer stop the read models (module `audit`).
 *
 * An entry is canonical JSON text; entries appended before the app made them storable may hold `\u0000` (a NUL
 * from a request path) or a lone surrogate, which `entry::jsonb` refuses, so every projection batch holding one
 * failed and every audit query with it. `audit_entry_jsonb(entry)` never throws: it casts, and when the cast is
 * refused it casts again with those escapes replaced by `\ufffd` (the stored entry, and so its hash, is left as
 * it is), and answers NULL when even that is not JSON.
 *
 * `audit_projection_failures` remembers entries a projection could not apply, so they are skipped (and reported)
 * instead of blocking the projection, until a rebuild retries them.
 */
export class Migration20261207010000_audit_entry_jsonb extends Migration {
  override up(): void {
    this.addSql(String.raw`
      CREATE FUNCTION audit_entry_jsonb(entry text) RETURNS jsonb
      LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
      BEGIN
        RETURN entry::jsonb;
      EXCEPTION WHEN data_exception THEN
        BEGIN
          RETURN regexp_replace(
                   regexp_replace(replace(entry, '\u0000', '\ufffd'),
                     '\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})', '\\ufffd', 'g'),
                   '(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}', '\\ufffd', 'g')::jsonb;
        EXCEPTION WHEN data_exception THEN
          RETURN NULL;
        END;
      END $$`);

    this.addSql(`
      CREATE TABLE audit_projection_failures (
        projection text NOT NULL,
        seq bigint NOT NULL,
        error_code text NOT NULL,
        message text NOT NULL,
        failed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (projection, seq)
      )`);
  }
}
