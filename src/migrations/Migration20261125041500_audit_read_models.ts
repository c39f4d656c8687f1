import { Migration } from '@mikro-orm/migrations';

/**
 * Indexes the audit read side needs (module `audit`): filtering the trail by action newest first, and removing
 * the projection rows of entries the retention purge dropped. The purge records each dropped entry in
 * `audit_purged_events` with the purging transaction's `now()`; `purged_at` finds that transaction's entries,
 * and the `seq` indexes find their projection rows (the projections' keys start with a student or actor id).
 */
export class Migration20261125041500_audit_read_models extends Migration {
  override up(): void {
    this.addSql('CREATE INDEX audit_event_payloads_action_index ON audit_event_payloads (action, seq)');
    this.addSql('CREATE INDEX audit_purged_events_purged_at_index ON audit_purged_events (purged_at)');
    this.addSql('CREATE INDEX audit_access_by_student_seq_index ON audit_access_by_student (seq)');
    this.addSql('CREATE INDEX audit_access_by_actor_seq_index ON audit_access_by_actor (seq)');
    this.addSql('CREATE INDEX audit_disclosure_log_seq_index ON audit_disclosure_log (seq)');
    this.addSql('CREATE INDEX audit_legal_holds_placed_index ON audit_legal_holds (placed_at DESC, id DESC)');
  }

  override down(): void {
    for (const index of [
      'audit_legal_holds_placed_index',
      'audit_disclosure_log_seq_index',
      'audit_access_by_actor_seq_index',
      'audit_access_by_student_seq_index',
      'audit_purged_events_purged_at_index',
      'audit_event_payloads_action_index',
    ]) {
      this.addSql(`DROP INDEX ${index}`);
    }
  }
}
