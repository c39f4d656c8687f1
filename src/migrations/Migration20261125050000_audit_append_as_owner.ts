import { Migration } from '@mikro-orm/migrations';

/**
 * Lets a non-superuser owner of the audit tables append to them.
 *
 * The foreign keys of `audit_event_payloads` and `audit_purged_events` check each new row with
 * `SELECT … FROM audit_events … FOR KEY SHARE`, run with the privileges of the owner of `audit_events`, and
 * PostgreSQL allows that row lock only to a role holding UPDATE on some column of the table. The trail
 * migration revoked UPDATE from the role that ran it, so when that role is not a superuser (a managed database's
 * admin user, or a dedicated app role) every append and every retention purge failed with "permission denied
 * for table audit_events" — and with AUDIT_FAIL_CLOSED every audited request with it.
 *
 * UPDATE on the key column alone is enough for the check. Changing a stored hash stays a privilege error, and
 * any UPDATE statement at all is still refused by the append-only trigger.
 */
export class Migration20261125050000_audit_append_as_owner extends Migration {
  override up(): void {
    this.addSql('GRANT UPDATE (seq) ON audit_events TO CURRENT_USER');
  }

  override down(): void {
    this.addSql('REVOKE UPDATE (seq) ON audit_events FROM CURRENT_USER');
  }
}
