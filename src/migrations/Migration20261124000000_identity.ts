import { Migration } from '@mikro-orm/migrations';

export class Migration20261124000000_identity extends Migration {
  override up(): void {
    this.addSql(`
      CREATE TABLE users (
        id uuid PRIMARY KEY,
        email text NOT NULL,
        display_name text NOT NULL,
        password_hash text NOT NULL,
        roles jsonb NOT NULL DEFAULT '["teacher"]',
        school_ids jsonb NOT NULL DEFAULT '[]',
        disabled boolean NOT NULL DEFAULT false,
        failed_login_count integer NOT NULL DEFAULT 0,
        locked_until timestamptz NULL,
        token_version integer NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        CONSTRAINT users_email_unique UNIQUE (email),
        CONSTRAINT users_email_lowercase CHECK (email = lower(email))
      )`);
    this.addSql(`
      CREATE TABLE sessions (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz NULL,
        revoked_reason text NULL,
        CONSTRAINT sessions_user_id_foreign FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
      )`);
    this.addSql('CREATE INDEX sessions_user_id_index ON sessions (user_id)');
    this.addSql(`
      CREATE TABLE refresh_tokens (
        token_hash text PRIMARY KEY,
        session_id uuid NOT NULL,
        created_at timestamptz NOT NULL,
        rotated_at timestamptz NULL,
        CONSTRAINT refresh_tokens_session_id_foreign FOREIGN KEY (session_id) REFERENCES sessions (id) ON DELETE CASCADE
      )`);
    this.addSql('CREATE INDEX refresh_tokens_session_id_index ON refresh_tokens (session_id)');
  }

  override down(): void {
    this.addSql('DROP TABLE refresh_tokens');
    this.addSql('DROP TABLE sessions');
    this.addSql('DROP TABLE users');
  }
}
