import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261124000000_identity } from './Migration20261124000000_identity.js';
import { Migration20261125000000_roster_sis_sync } from './Migration20261125000000_roster_sis_sync.js';
import { Migration20261125010000_local_edits_restore } from './Migration20261125010000_local_edits_restore.js';
import { Migration20261125020000_sis_connection_health } from './Migration20261125020000_sis_connection_health.js';
import { Migration20261125030000_audit_trail } from './Migration20261125030000_audit_trail.js';
import { Migration20261125041500_audit_read_models } from './Migration20261125041500_audit_read_models.js';
import { Migration20261125050000_audit_append_as_owner } from './Migration20261125050000_audit_append_as_owner.js';
import { Migration20261125060000_audit_chain_statement_lock } from './Migration20261125060000_audit_chain_statement_lock.js';
import { Migration20261125070000_staged_page_order } from './Migration20261125070000_staged_page_order.js';
import { Migration20261125071000_people_aliases_index } from './Migration20261125071000_people_aliases_index.js';
import { Migration20261207010000_audit_entry_jsonb } from './Migration20261207010000_audit_entry_jsonb.js';
import { Migration20261207030000_runtime_role_functions } from './Migration20261207030000_runtime_role_functions.js';
import { Migration20261207050000_login_failures } from './Migration20261207050000_login_failures.js';
import { Migration20261207080000_school_scope_local_ids } from './Migration20261207080000_school_scope_local_ids.js';
import { Migration20261208030000_job_queue } from './Migration20261208030000_job_queue.js';
import { Migration20261208050000_audit_verifications } from './Migration20261208050000_audit_verifications.js';
import { Migration20261209010000_extension_values } from './Migration20261209010000_extension_values.js';
import { Migration20261209020000_org_schools } from './Migration20261209020000_org_schools.js';
import { Migration20261209040000_run_upload_name_reject_hold } from './Migration20261209040000_run_upload_name_reject_hold.js';
import { Migration20261209050000_csv_upload_default } from './Migration20261209050000_csv_upload_default.js';

export { APPEND_ONLY_AUDIT_TABLES, runtimeRoleGrants } from './runtime-role-grants.js';

/**
 * Every migration, in order. `npm run migration:create` appends new ones here; the list is explicit so the
 * same build runs under tsc output, the test runner and the Docker image without file globbing.
 */
export const migrations: MigrationObject[] = [
  { name: 'Migration20261124000000_identity', class: Migration20261124000000_identity },
  { name: 'Migration20261125000000_roster_sis_sync', class: Migration20261125000000_roster_sis_sync },
  { name: 'Migration20261125010000_local_edits_restore', class: Migration20261125010000_local_edits_restore },
  { name: 'Migration20261125020000_sis_connection_health', class: Migration20261125020000_sis_connection_health },
  { name: 'Migration20261125030000_audit_trail', class: Migration20261125030000_audit_trail },
  { name: 'Migration20261125041500_audit_read_models', class: Migration20261125041500_audit_read_models },
  { name: 'Migration20261125050000_audit_append_as_owner', class: Migration20261125050000_audit_append_as_owner },
  {
    name: 'Migration20261125060000_audit_chain_statement_lock',
    class: Migration20261125060000_audit_chain_statement_lock,
  },
  { name: 'Migration20261125070000_staged_page_order', class: Migration20261125070000_staged_page_order },
  { name: 'Migration20261125071000_people_aliases_index', class: Migration20261125071000_people_aliases_index },
  { name: 'Migration20261207010000_audit_entry_jsonb', class: Migration20261207010000_audit_entry_jsonb },
  { name: 'Migration20261207030000_runtime_role_functions', class: Migration20261207030000_runtime_role_functions },
  { name: 'Migration20261207050000_login_failures', class: Migration20261207050000_login_failures },
  { name: 'Migration20261207080000_school_scope_local_ids', class: Migration20261207080000_school_scope_local_ids },
  { name: 'Migration20261208030000_job_queue', class: Migration20261208030000_job_queue },
  { name: 'Migration20261208050000_audit_verifications', class: Migration20261208050000_audit_verifications },
  { name: 'Migration20261209010000_extension_values', class: Migration20261209010000_extension_values },
  { name: 'Migration20261209020000_org_schools', class: Migration20261209020000_org_schools },
  {
    name: 'Migration20261209040000_run_upload_name_reject_hold',
    class: Migration20261209040000_run_upload_name_reject_hold,
  },
  { name: 'Migration20261209050000_csv_upload_default', class: Migration20261209050000_csv_upload_default },
];
