import { Migration } from '@mikro-orm/migrations';

/**
 * Failed sign-ins are counted per (client address, email) and per email, whether or not the email belongs to
 * an account, so an unknown email answers exactly like a known one. Keys are SHA-256 digests: no address or
 * email is stored. The per-user hard lock (`locked_until`, `failed_login_count`) let anyone lock any account
 * (the district admin's included) with five requests; it is replaced by these counters and goes away.
 */
export class Migration20261207050000_login_failures extends Migration {
  override up(): void {
    this.addSql(`
      CREATE TABLE login_failures (
        key text PRIMARY KEY,
        failures integer NOT NULL CHECK (failures > 0),
        window_ends_at timestamptz NOT NULL
      )`);
    this.addSql('CREATE INDEX login_failures_window_ends_at_index ON login_failures (window_ends_at)');
    this.addSql('ALTER TABLE users DROP COLUMN IF EXISTS locked_until, DROP COLUMN IF EXISTS failed_login_count');
  }

  override down(): void {
    this.addSql('DROP TABLE login_failures');
    this.addSql(
      'ALTER TABLE users ADD COLUMN failed_login_count integer NOT NULL DEFAULT 0, ADD COLUMN locked_until timestamptz NULL',
    );
  }
}
