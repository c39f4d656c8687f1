import { Migration } from '@mikro-orm/migrations';

/**
 * Takes the chain lock once per INSERT statement instead of once per row.
 *
 * The isolation check and `pg_advisory_xact_lock` move to a BEFORE … FOR EACH STATEMENT trigger, which
 * PostgreSQL fires before any row of the statement (COPY included); the row trigger keeps reading the tip and
 * computing the hashes. The lock is still held until the transaction ends, and each tip read still takes a
 * fresh snapshot after it was granted, so concurrent writers still cannot fork the chain (the concurrency and
 * isolation tests run against this). A bulk append spent about a tenth of its time re-taking a lock it held.
 */
export class Migration20261125060000_audit_chain_statement_lock extends Migration {
  override up(): void {
    this.addSql(`
      CREATE FUNCTION audit_events_lock_chain() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF current_setting('transaction_isolation') <> 'read committed' THEN
          RAISE EXCEPTION 'Audit events must be appended in READ COMMITTED transactions, not %',
            current_setting('transaction_isolation') USING ERRCODE = 'serialization_failure';
        END IF;
        PERFORM pg_advisory_xact_lock(20261125, 1);
        RETURN NULL;
      END $$`);
    this.addSql(
      `CREATE TRIGGER audit_events_lock_chain BEFORE INSERT ON audit_events
        FOR EACH STATEMENT EXECUTE FUNCTION audit_events_lock_chain()`,
    );
    this.addSql(`
      CREATE OR REPLACE FUNCTION audit_events_chain() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        tip_seq bigint;
        tip_hash bytea;
      BEGIN
        SELECT seq, hash INTO tip_seq, tip_hash FROM audit_events ORDER BY seq DESC LIMIT 1;
        NEW.seq := coalesce(tip_seq, 0) + 1;
        NEW.prev_hash := coalesce(tip_hash, '\\x0000000000000000000000000000000000000000000000000000000000000000'::bytea);
        NEW.hash := sha256(NEW.prev_hash || int8send(NEW.seq) || NEW.entry_hash);
        RETURN NEW;
      END $$`);
  }

  override down(): void {
    this.addSql(`
      CREATE OR REPLACE FUNCTION audit_events_chain() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        tip_seq bigint;
        tip_hash bytea;
      BEGIN
        IF current_setting('transaction_isolation') <> 'read committed' THEN
          RAISE EXCEPTION 'Audit events must be appended in READ COMMITTED transactions, not %',
            current_setting('transaction_isolation') USING ERRCODE = 'serialization_failure';
        END IF;
        PERFORM pg_advisory_xact_lock(20261125, 1);
        SELECT seq, hash INTO tip_seq, tip_hash FROM audit_events ORDER BY seq DESC LIMIT 1;
        NEW.seq := coalesce(tip_seq, 0) + 1;
        NEW.prev_hash := coalesce(tip_hash, '\\x0000000000000000000000000000000000000000000000000000000000000000'::bytea);
        NEW.hash := sha256(NEW.prev_hash || int8send(NEW.seq) || NEW.entry_hash);
        RETURN NEW;
      END $$`);
    this.addSql('DROP TRIGGER audit_events_lock_chain ON audit_events');
    this.addSql('DROP FUNCTION audit_events_lock_chain()');
  }
}
