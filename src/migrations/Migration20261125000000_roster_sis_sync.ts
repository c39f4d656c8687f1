import { Migration } from '@mikro-orm/migrations';

/**
 * The district's roster mirror (module `roster`) and the SIS sync bookkeeping (module `sis-sync`).
 * Roster tables share one shape: a local UUID, the source identity (connection + sourcedId, unique), an
 * active/inactive status with who deactivated it, the source's dateLastModified, a hash of the normalised
 * record (so a re-sync of identical data changes nothing) and the unknown `metadata.*` fields.
 */
const SOURCE_COLUMNS = `
  id uuid PRIMARY KEY,
  connection_id uuid NOT NULL,
  sourced_id text NOT NULL,
  status text NOT NULL DEFAULT 'active',
  source_modified_at timestamptz NULL,
  source_hash text NOT NULL,
  metadata jsonb NOT NULL DEFAULT '{}',
  created_by_run uuid NULL,
  updated_by_run uuid NULL,
  deactivated_at timestamptz NULL,
  deactivated_by_run uuid NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()`;

function sourceConstraints(table: string): string {
  return `
  CONSTRAINT ${table}_source_unique UNIQUE (connection_id, sourced_id),
  CONSTRAINT ${table}_status_check CHECK (status IN ('active', 'inactive'))`;
}

export class Migration20261125000000_roster_sis_sync extends Migration {
  override up(): void {
    this.addSql('CREATE EXTENSION IF NOT EXISTS pg_trgm');

    this.addSql(`
      CREATE TABLE sis_connections (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        provider text NOT NULL,
        settings jsonb NOT NULL,
        secret_ciphertext text NULL,
        enabled boolean NOT NULL DEFAULT true,
        last_scheduled_at timestamptz NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        deleted_at timestamptz NULL,
        CONSTRAINT sis_connections_provider_check CHECK (provider IN ('oneroster', 'oneroster-csv', 'powerschool'))
      )`);
    this.addSql(
      'CREATE UNIQUE INDEX sis_connections_name_unique ON sis_connections (lower(name)) WHERE deleted_at IS NULL',
    );

    this.addSql(`
      CREATE TABLE sis_sync_runs (
        id uuid PRIMARY KEY,
        connection_id uuid NOT NULL,
        mode text NOT NULL,
        dry_run boolean NOT NULL DEFAULT false,
        trigger text NOT NULL,
        state text NOT NULL,
        requested_by uuid NULL,
        source_description text NULL,
        delta_since timestamptz NULL,
        import_file text NULL,
        counts jsonb NOT NULL DEFAULT '{}',
        preview jsonb NULL,
        hold_reasons jsonb NOT NULL DEFAULT '[]',
        checkpoint jsonb NOT NULL DEFAULT '{}',
        issue_count integer NOT NULL DEFAULT 0,
        error_code text NULL,
        error_message text NULL,
        attempt integer NOT NULL DEFAULT 0,
        lease_owner text NULL,
        lease_expires_at timestamptz NULL,
        cancel_requested boolean NOT NULL DEFAULT false,
        approved_by uuid NULL,
        approved_at timestamptz NULL,
        created_at timestamptz NOT NULL,
        started_at timestamptz NULL,
        finished_at timestamptz NULL,
        updated_at timestamptz NOT NULL,
        CONSTRAINT sis_sync_runs_connection_id_foreign FOREIGN KEY (connection_id) REFERENCES sis_connections (id),
        CONSTRAINT sis_sync_runs_mode_check CHECK (mode IN ('full', 'delta')),
        CONSTRAINT sis_sync_runs_state_check CHECK (state IN
          ('queued', 'running', 'held', 'succeeded', 'succeeded_with_issues', 'failed', 'cancelled'))
      )`);
    // One active run per connection, whichever process asks: the database is the arbiter.
    this.addSql(`CREATE UNIQUE INDEX sis_sync_runs_one_active_per_connection ON sis_sync_runs (connection_id)
      WHERE state IN ('queued', 'running', 'held')`);
    this.addSql(
      'CREATE INDEX sis_sync_runs_connection_created_index ON sis_sync_runs (connection_id, created_at DESC)',
    );
    this.addSql('CREATE INDEX sis_sync_runs_created_index ON sis_sync_runs (created_at DESC, id DESC)');

    this.addSql(`
      CREATE TABLE sis_sync_run_issues (
        id bigserial PRIMARY KEY,
        run_id uuid NOT NULL,
        entity text NOT NULL,
        sourced_id text NULL,
        field text NULL,
        severity text NOT NULL DEFAULT 'error',
        message text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT sis_sync_run_issues_run_id_foreign FOREIGN KEY (run_id) REFERENCES sis_sync_runs (id) ON DELETE CASCADE
      )`);
    this.addSql('CREATE INDEX sis_sync_run_issues_run_index ON sis_sync_run_issues (run_id, id)');

    this.addSql(`
      CREATE TABLE sis_sync_run_pulls (
        run_id uuid NOT NULL,
        entity text NOT NULL,
        complete boolean NOT NULL DEFAULT false,
        snapshot boolean NOT NULL DEFAULT false,
        records integer NOT NULL DEFAULT 0,
        pages integer NOT NULL DEFAULT 0,
        started_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz NULL,
        PRIMARY KEY (run_id, entity),
        CONSTRAINT sis_sync_run_pulls_run_id_foreign FOREIGN KEY (run_id) REFERENCES sis_sync_runs (id) ON DELETE CASCADE
      )`);

    // Uploaded OneRoster CSV zips, in the database so any worker process can read what any API process took in.
    this.addSql(`
      CREATE TABLE sis_import_file_chunks (
        file_id uuid NOT NULL,
        seq integer NOT NULL,
        data bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (file_id, seq)
      )`);

    // Pending change set of a run: what the SIS said, normalised, before it is applied. UNLOGGED because it
    // is rebuilt from the SIS if PostgreSQL itself crashes; a worker crash keeps it.
    this.addSql(`
      CREATE UNLOGGED TABLE roster_staged_records (
        run_id uuid NOT NULL,
        entity text NOT NULL,
        sourced_id text NOT NULL,
        status text NOT NULL,
        source_hash text NOT NULL,
        payload jsonb NOT NULL,
        search_text text NULL,
        PRIMARY KEY (run_id, entity, sourced_id)
      )`);

    this.addSql(`
      CREATE TABLE roster_orgs (${SOURCE_COLUMNS},
        name text NOT NULL,
        type text NOT NULL,
        identifier text NULL,
        parent_sourced_id text NULL,
        ${sourceConstraints('roster_orgs')}
      )`);

    this.addSql(`
      CREATE TABLE roster_academic_sessions (${SOURCE_COLUMNS},
        title text NOT NULL,
        type text NOT NULL,
        start_date date NULL,
        end_date date NULL,
        school_year integer NULL,
        parent_sourced_id text NULL,
        org_sourced_id text NULL,
        ${sourceConstraints('roster_academic_sessions')}
      )`);

    this.addSql(`
      CREATE TABLE roster_courses (${SOURCE_COLUMNS},
        title text NOT NULL,
        course_code text NULL,
        grades jsonb NOT NULL DEFAULT '[]',
        subjects jsonb NOT NULL DEFAULT '[]',
        org_sourced_id text NULL,
        school_year_sourced_id text NULL,
        ${sourceConstraints('roster_courses')}
      )`);

    this.addSql(`
      CREATE TABLE roster_classes (${SOURCE_COLUMNS},
        title text NOT NULL,
        class_code text NULL,
        class_type text NULL,
        location text NULL,
        grades jsonb NOT NULL DEFAULT '[]',
        subjects jsonb NOT NULL DEFAULT '[]',
        periods jsonb NOT NULL DEFAULT '[]',
        course_sourced_id text NULL,
        school_sourced_id text NULL,
        term_sourced_ids jsonb NOT NULL DEFAULT '[]',
        ${sourceConstraints('roster_classes')}
      )`);
    this.addSql('CREATE INDEX roster_classes_school_index ON roster_classes (connection_id, school_sourced_id)');

    this.addSql(`
      CREATE TABLE roster_people (${SOURCE_COLUMNS},
        given_name text NOT NULL,
        family_name text NOT NULL,
        middle_name text NULL,
        preferred_first_name text NULL,
        preferred_last_name text NULL,
        pronouns text NULL,
        username text NULL,
        email text NULL,
        identifier text NULL,
        enabled boolean NOT NULL DEFAULT true,
        roles jsonb NOT NULL DEFAULT '[]',
        primary_role text NOT NULL,
        org_sourced_ids jsonb NOT NULL DEFAULT '[]',
        primary_org_sourced_id text NULL,
        grades jsonb NOT NULL DEFAULT '[]',
        agent_sourced_ids jsonb NOT NULL DEFAULT '[]',
        user_ids jsonb NOT NULL DEFAULT '[]',
        source_aliases jsonb NOT NULL DEFAULT '[]',
        phone text NULL,
        sms text NULL,
        search_text text NOT NULL DEFAULT '',
        ${sourceConstraints('roster_people')}
      )`);
    this.addSql('CREATE INDEX roster_people_search_trgm ON roster_people USING gin (search_text gin_trgm_ops)');
    this.addSql('CREATE INDEX roster_people_orgs_index ON roster_people USING gin (org_sourced_ids jsonb_path_ops)');
    this.addSql('CREATE INDEX roster_people_email_index ON roster_people (lower(email))');

    this.addSql(`
      CREATE TABLE roster_demographics (${SOURCE_COLUMNS},
        birth_date date NULL,
        sex text NULL,
        race jsonb NOT NULL DEFAULT '{}',
        hispanic_or_latino boolean NULL,
        country_of_birth_code text NULL,
        state_of_birth text NULL,
        city_of_birth text NULL,
        public_school_residence_status text NULL,
        ${sourceConstraints('roster_demographics')}
      )`);

    this.addSql(`
      CREATE TABLE roster_enrollments (${SOURCE_COLUMNS},
        class_sourced_id text NOT NULL,
        school_sourced_id text NULL,
        user_sourced_id text NOT NULL,
        role text NOT NULL,
        is_primary boolean NOT NULL DEFAULT false,
        begin_date date NULL,
        end_date date NULL,
        ${sourceConstraints('roster_enrollments')}
      )`);
    this.addSql('CREATE INDEX roster_enrollments_class_index ON roster_enrollments (connection_id, class_sourced_id)');
    this.addSql('CREATE INDEX roster_enrollments_user_index ON roster_enrollments (connection_id, user_sourced_id)');
  }

  override down(): void {
    for (const table of [
      'roster_enrollments',
      'roster_demographics',
      'roster_people',
      'roster_classes',
      'roster_courses',
      'roster_academic_sessions',
      'roster_orgs',
      'roster_staged_records',
      'sis_import_file_chunks',
      'sis_sync_run_pulls',
      'sis_sync_run_issues',
      'sis_sync_runs',
      'sis_connections',
    ]) {
      this.addSql(`DROP TABLE ${table}`);
    }
  }
}
