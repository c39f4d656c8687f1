import { Migration } from '@mikro-orm/migrations';

/**
 * Each verification of the audit chain (scheduled or by hand), so every process can report when the chain last
 * verified and how, and the next scheduled run can start from where the last good one ended. Append-only like
 * the rest of the trail: a failed verification must not be quietly rewritten into a good one.
 */
export class Migration20261208050000_audit_verifications extends Migration {
  override up(): void {
    this.addSql(`
      CREATE TABLE audit_verifications (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        verified_at timestamptz NOT NULL,
        ok boolean NOT NULL,
        from_seq bigint NOT NULL,
        to_seq bigint NOT NULL,
        checked_entries bigint NOT NULL,
        first_bad_seq bigint NULL,
        problem text NULL,
        CONSTRAINT audit_verifications_range_check CHECK (from_seq >= 1 AND to_seq >= from_seq - 1)
      )`);
    this.addSql('CREATE INDEX audit_verifications_ok_index ON audit_verifications (ok, id DESC)');
    this.addSql(
      `CREATE TRIGGER audit_verifications_append_only BEFORE UPDATE OR DELETE ON audit_verifications
        FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()`,
    );
    this.addSql(
      `CREATE TRIGGER audit_verifications_refuse_truncate BEFORE TRUNCATE ON audit_verifications
        FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()`,
    );
  }

  override down(): void {
    this.addSql('DROP TABLE audit_verifications');
  }
}
