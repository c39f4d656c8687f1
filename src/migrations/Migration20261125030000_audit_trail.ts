import { Migration } from '@mikro-orm/migrations';

const APPEND_ONLY_TABLES = ['audit_events', 'audit_checkpoints', 'audit_disclosures', 'audit_purged_events'];

/** 99.31(a) exceptions and the other bases a disclosure record can name (module `audit`, `disclosure.ts`). */
const DISCLOSURE_BASES = [
  'school_official',
  'other_school_enrollment',
  'authorized_representative',
  'financial_aid',
  'juvenile_justice',
  'studies',
  'accreditation',
  'dependent_student_parent',
  'judicial_order_or_subpoena',
  'health_safety_emergency',
  'directory_information',
  'parent_or_eligible_student',
  'sex_offender_registry',
  'child_welfare_agency',
  'written_consent',
];

/**
 * The FERPA audit trail (module `audit`).
 *
 * `audit_events` is the hash chain: a contiguous `seq`, `prev_hash` and `hash` = SHA-256(prev_hash ‖
 * int8send(seq) ‖ entry_hash), assigned by a trigger under an advisory lock with the tip read by `seq` (never by
 * insertion order), refused outside READ COMMITTED (a REPEATABLE READ snapshot can predate the tip), and
 * `UNIQUE (prev_hash)` as the fork detector. The entry itself (canonical JSON, whose SHA-256 is `entry_hash`)
 * lives in `audit_event_payloads`, so a retention purge can remove it while the chain still verifies; every
 * purged entry leaves a row in `audit_purged_events`, written by the same trigger that allows the delete.
 *
 * Append-only: UPDATE, DELETE and TRUNCATE are revoked from PUBLIC and from the migrating role (the app role
 * in a one-role setup), and statement-level triggers refuse them for everyone, the owner included. A
 * superuser can still disable triggers; the hash chain and exported signed checkpoints make that detectable.
 */
export class Migration20261125030000_audit_trail extends Migration {
  override up(): void {
    this.addSql(`
      CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'The audit trail is append-only: % on % is not allowed', TG_OP, TG_TABLE_NAME
          USING ERRCODE = 'insufficient_privilege';
      END $$`);

    this.addSql(`
      CREATE TABLE audit_events (
        seq bigint PRIMARY KEY,
        entry_hash bytea NOT NULL,
        prev_hash bytea NOT NULL,
        hash bytea NOT NULL,
        CONSTRAINT audit_events_prev_hash_unique UNIQUE (prev_hash),
        CONSTRAINT audit_events_seq_check CHECK (seq >= 1),
        CONSTRAINT audit_events_hash_length_check
          CHECK (octet_length(entry_hash) = 32 AND octet_length(prev_hash) = 32 AND octet_length(hash) = 32)
      )`);

    this.addSql(`
      CREATE FUNCTION audit_events_chain() RETURNS trigger LANGUAGE plpgsql AS $$
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
    this.addSql(
      'CREATE TRIGGER audit_events_chain BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_events_chain()',
    );

    this.addSql(`
      CREATE TABLE audit_event_payloads (
        seq bigint PRIMARY KEY,
        occurred_at timestamptz NOT NULL,
        action text NOT NULL,
        outcome text NOT NULL,
        actor_id uuid NULL,
        student_ids uuid[] NOT NULL DEFAULT '{}',
        entry text NOT NULL,
        CONSTRAINT audit_event_payloads_seq_foreign FOREIGN KEY (seq) REFERENCES audit_events (seq),
        CONSTRAINT audit_event_payloads_outcome_check CHECK (outcome IN ('allowed', 'denied', 'failed'))
      )`);
    this.addSql('CREATE INDEX audit_event_payloads_occurred_index ON audit_event_payloads (occurred_at)');
    this.addSql('CREATE INDEX audit_event_payloads_students_index ON audit_event_payloads USING gin (student_ids)');

    this.addSql(`
      CREATE TABLE audit_purged_events (
        seq bigint PRIMARY KEY,
        occurred_at timestamptz NOT NULL,
        purged_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT audit_purged_events_seq_foreign FOREIGN KEY (seq) REFERENCES audit_events (seq)
      )`);

    // Entries are removed only by audit_purge_payloads(), which sets the flag below for its own transaction;
    // each removal is recorded, so an entry that is simply missing is tampering.
    this.addSql(`
      CREATE FUNCTION audit_event_payloads_purge_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF coalesce(current_setting('homeroom.audit_purge', true), '') <> 'on' THEN
          RAISE EXCEPTION 'Audit entries are removed only by the retention purge'
            USING ERRCODE = 'insufficient_privilege';
        END IF;
        INSERT INTO audit_purged_events (seq, occurred_at) VALUES (OLD.seq, OLD.occurred_at);
        RETURN OLD;
      END $$`);
    this.addSql(
      `CREATE TRIGGER audit_event_payloads_purge_only BEFORE DELETE ON audit_event_payloads
        FOR EACH ROW EXECUTE FUNCTION audit_event_payloads_purge_only()`,
    );
    this.addSql(
      `CREATE TRIGGER audit_event_payloads_refuse_update BEFORE UPDATE ON audit_event_payloads
        FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()`,
    );
    this.addSql(
      `CREATE TRIGGER audit_event_payloads_refuse_truncate BEFORE TRUNCATE ON audit_event_payloads
        FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()`,
    );

    this.addSql(`
      CREATE TABLE audit_checkpoints (
        id bigint PRIMARY KEY,
        tree_size bigint NOT NULL,
        head_hash bytea NOT NULL,
        signed_at timestamptz NOT NULL,
        key_id text NOT NULL,
        body text NOT NULL,
        signature bytea NOT NULL,
        CONSTRAINT audit_checkpoints_id_check CHECK (id >= 1),
        CONSTRAINT audit_checkpoints_tree_size_check CHECK (tree_size >= 0)
      )`);
    this.addSql('CREATE INDEX audit_checkpoints_signed_at_index ON audit_checkpoints (signed_at)');

    this.addSql(`
      CREATE TABLE audit_disclosures (
        id uuid PRIMARY KEY,
        student_ids uuid[] NOT NULL,
        party_name text NOT NULL,
        party_type text NOT NULL,
        basis text NOT NULL,
        legitimate_interest text NOT NULL,
        data_categories text[] NOT NULL,
        disclosed_on date NOT NULL,
        redisclosure_parties jsonb NOT NULL DEFAULT '[]',
        threat_description text NULL,
        emergency_recipients jsonb NULL,
        parent_notified_at timestamptz NULL,
        recorded_by uuid NOT NULL,
        recorded_at timestamptz NOT NULL,
        CONSTRAINT audit_disclosures_students_check CHECK (cardinality(student_ids) >= 1),
        CONSTRAINT audit_disclosures_party_name_check CHECK (btrim(party_name) <> ''),
        CONSTRAINT audit_disclosures_party_type_check
          CHECK (party_type IN ('individual', 'school', 'agency', 'organization', 'court', 'other')),
        CONSTRAINT audit_disclosures_basis_check CHECK (basis IN (${DISCLOSURE_BASES.map((b) => `'${b}'`).join(', ')})),
        CONSTRAINT audit_disclosures_interest_check CHECK (btrim(legitimate_interest) <> ''),
        CONSTRAINT audit_disclosures_categories_check CHECK (cardinality(data_categories) >= 1),
        CONSTRAINT audit_disclosures_redisclosure_check CHECK (jsonb_typeof(redisclosure_parties) = 'array'),
        CONSTRAINT audit_disclosures_emergency_check CHECK (
          basis <> 'health_safety_emergency' OR (
            threat_description IS NOT NULL AND btrim(threat_description) <> ''
            AND jsonb_typeof(emergency_recipients) = 'array' AND jsonb_array_length(emergency_recipients) >= 1))
      )`);
    this.addSql('CREATE INDEX audit_disclosures_students_index ON audit_disclosures USING gin (student_ids)');

    for (const table of APPEND_ONLY_TABLES) {
      this.addSql(
        `CREATE TRIGGER ${table}_refuse_change BEFORE UPDATE OR DELETE ON ${table}
          FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()`,
      );
      this.addSql(
        `CREATE TRIGGER ${table}_refuse_truncate BEFORE TRUNCATE ON ${table}
          FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()`,
      );
    }
    for (const table of [...APPEND_ONLY_TABLES, 'audit_event_payloads']) {
      this.addSql(`REVOKE UPDATE, TRUNCATE ON ${table} FROM PUBLIC, CURRENT_USER`);
    }
    this.addSql(`REVOKE DELETE ON ${APPEND_ONLY_TABLES.join(', ')} FROM PUBLIC, CURRENT_USER`);

    // Legal holds (99.10(e): nothing may be destroyed while a request to inspect it is outstanding).
    this.addSql(`
      CREATE TABLE audit_legal_holds (
        id uuid PRIMARY KEY,
        student_id uuid NOT NULL,
        reason text NOT NULL,
        placed_by uuid NOT NULL,
        placed_at timestamptz NOT NULL,
        released_by uuid NULL,
        released_at timestamptz NULL,
        CONSTRAINT audit_legal_holds_reason_check CHECK (btrim(reason) <> '')
      )`);
    this.addSql(
      'CREATE INDEX audit_legal_holds_active_index ON audit_legal_holds (student_id) WHERE released_at IS NULL',
    );

    // The retention purge: drops entries older than the cutoff, except those about a student under an active
    // legal hold and disclosure records of students whose record still exists (99.32(a)(2)).
    this.addSql(`
      CREATE FUNCTION audit_purge_payloads(p_cutoff timestamptz, p_limit integer) RETURNS bigint
      LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
      DECLARE purged bigint;
      BEGIN
        PERFORM set_config('homeroom.audit_purge', 'on', true);
        WITH doomed AS (
          SELECT p.seq FROM audit_event_payloads p
           WHERE p.occurred_at < p_cutoff
             AND NOT EXISTS (
               SELECT 1 FROM audit_legal_holds h WHERE h.released_at IS NULL AND h.student_id = ANY (p.student_ids))
             AND NOT (p.action LIKE 'disclosure.%'
               AND EXISTS (SELECT 1 FROM roster_people r WHERE r.id = ANY (p.student_ids)))
           ORDER BY p.seq
           LIMIT p_limit
        )
        DELETE FROM audit_event_payloads p USING doomed WHERE p.seq = doomed.seq;
        GET DIAGNOSTICS purged = ROW_COUNT;
        PERFORM set_config('homeroom.audit_purge', 'off', true);
        RETURN purged;
      END $$`);

    // Read models built from the stream; each remembers the last seq it has applied.
    this.addSql(`
      CREATE TABLE audit_projection_positions (
        name text PRIMARY KEY,
        position bigint NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    this.addSql(`
      CREATE TABLE audit_access_by_student (
        student_id uuid NOT NULL,
        seq bigint NOT NULL,
        occurred_at timestamptz NOT NULL,
        actor_id uuid NULL,
        action text NOT NULL,
        outcome text NOT NULL,
        PRIMARY KEY (student_id, seq)
      )`);
    this.addSql(`
      CREATE TABLE audit_access_by_actor (
        actor_id uuid NOT NULL,
        seq bigint NOT NULL,
        occurred_at timestamptz NOT NULL,
        action text NOT NULL,
        outcome text NOT NULL,
        student_count integer NOT NULL,
        PRIMARY KEY (actor_id, seq)
      )`);
    this.addSql(`
      CREATE TABLE audit_denied_access (
        seq bigint PRIMARY KEY,
        occurred_at timestamptz NOT NULL,
        actor_id uuid NULL,
        action text NOT NULL,
        reason text NOT NULL
      )`);
    this.addSql(`
      CREATE TABLE audit_disclosure_log (
        student_id uuid NOT NULL,
        seq bigint NOT NULL,
        disclosure_id uuid NOT NULL,
        occurred_at timestamptz NOT NULL,
        PRIMARY KEY (student_id, seq)
      )`);
  }

  override down(): void {
    for (const table of [
      'audit_disclosure_log',
      'audit_denied_access',
      'audit_access_by_actor',
      'audit_access_by_student',
      'audit_projection_positions',
      'audit_legal_holds',
      'audit_disclosures',
      'audit_checkpoints',
      'audit_purged_events',
      'audit_event_payloads',
      'audit_events',
    ]) {
      this.addSql(`DROP TABLE ${table}`);
    }
    this.addSql('DROP FUNCTION audit_purge_payloads(timestamptz, integer)');
    this.addSql('DROP FUNCTION audit_event_payloads_purge_only()');
    this.addSql('DROP FUNCTION audit_events_chain()');
    this.addSql('DROP FUNCTION audit_refuse_change()');
  }
}
