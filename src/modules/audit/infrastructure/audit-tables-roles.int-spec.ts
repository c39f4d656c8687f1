import { applyPendingMigrations, buildOrmOptions } from '@app/persistence';
import { adminDatabaseUrl, createTestDatabase, type TestDatabase } from '@app/testing';
import { MikroORM } from '@mikro-orm/postgresql';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrations } from '../../../migrations/index.js';
import { VerifyAuditChainQuery } from '../application/queries/verify-audit-chain.query.js';
import { accessDraft, auditIntegrity } from './audit-integrity-wiring.fake.js';

/** What PostgreSQL answered, or 'ok'. */
async function attempt(client: pg.Client, sql: string): Promise<{ code?: string; message: string }> {
  try {
    await client.query(sql);
    return { message: 'ok' };
  } catch (error) {
    return { code: (error as { code?: string }).code, message: (error as Error).message };
  }
}

const PERMISSION_DENIED = { code: '42501', message: expect.stringMatching(/^permission denied for table/) };
const appendOnly = (operation: string, table: string) => ({
  code: '42501',
  message: `The audit trail is append-only: ${operation} on ${table} is not allowed`,
});
const PURGE_ONLY = { code: '42501', message: 'Audit entries are removed only by the retention purge' };

/**
 * The layers under the hash chain: the role that migrated (and so owns) the tables lost UPDATE, DELETE and
 * TRUNCATE on them, and the triggers refuse even a superuser, who can only get past them by disabling them.
 */
describe('audit tables: privileges and append-only triggers (PostgreSQL roles)', () => {
  const role = `homeroom_test_audit_owner_${randomBytes(4).toString('hex')}`;
  let admin: pg.Client;
  let database: TestDatabase;
  let ownerOrm: MikroORM;
  let owner: pg.Client;
  let superuser: pg.Client;

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: adminDatabaseUrl() });
    await admin.connect();
    await admin.query(`CREATE ROLE "${role}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE`);
    database = await createTestDatabase('audit_roles');
    await admin.query(`ALTER DATABASE "${database.name}" OWNER TO "${role}"`);
    const ownerUrl = new URL(database.url);
    ownerUrl.username = role;
    ownerOrm = await MikroORM.init(buildOrmOptions({ url: ownerUrl.toString(), poolMax: 3, migrations }));
    await applyPendingMigrations(ownerOrm, ownerUrl.toString());
    owner = new pg.Client({ connectionString: ownerUrl.toString() });
    await owner.connect();
    superuser = new pg.Client({ connectionString: database.url });
    await superuser.connect();
    await auditIntegrity(ownerOrm.em).log.append(Array.from({ length: 12 }, (_unused, index) => accessDraft(index)));
  });

  afterAll(async () => {
    await owner?.end();
    await superuser?.end();
    await ownerOrm?.close(true);
    await database?.drop();
    await admin?.query(`DROP ROLE IF EXISTS "${role}"`);
    await admin?.end();
  });

  it('the migrating role owns the tables and may append, but not change or remove', async () => {
    const { rows } = await superuser.query<{ tableowner: string }>(
      "SELECT DISTINCT tableowner FROM pg_tables WHERE tablename IN ('audit_events', 'audit_event_payloads')",
    );
    expect(rows).toEqual([{ tableowner: role }]);
    expect(
      (await owner.query<{ super: boolean }>('SELECT usesuper AS super FROM pg_user WHERE usename = current_user'))
        .rows,
    ).toEqual([{ super: false }]);

    for (const [table, key] of [
      ['audit_events', 'hash'],
      ['audit_checkpoints', 'signature'],
      ['audit_purged_events', 'purged_at'],
    ]) {
      expect(await attempt(owner, `UPDATE ${table} SET ${key} = ${key} WHERE false`)).toEqual(PERMISSION_DENIED);
      expect(await attempt(owner, `DELETE FROM ${table}`)).toEqual(PERMISSION_DENIED);
      expect(await attempt(owner, `TRUNCATE ${table} CASCADE`)).toEqual(PERMISSION_DENIED);
    }
    expect(await attempt(owner, "UPDATE audit_event_payloads SET entry = '{}' WHERE seq = 3")).toEqual(
      PERMISSION_DENIED,
    );
    expect(await attempt(owner, 'TRUNCATE audit_event_payloads')).toEqual(PERMISSION_DENIED);
    // DELETE stays granted on payloads for the purge function (SECURITY DEFINER, running as this owner); the
    // trigger lets only that function through.
    expect(await attempt(owner, 'DELETE FROM audit_event_payloads WHERE seq = 3')).toEqual(PURGE_ONLY);
  });

  it('a superuser is refused by the triggers while they are enabled', async () => {
    expect(await attempt(superuser, 'UPDATE audit_events SET hash = hash WHERE false')).toEqual(
      appendOnly('UPDATE', 'audit_events'),
    );
    expect(await attempt(superuser, 'DELETE FROM audit_events WHERE false')).toEqual(
      appendOnly('DELETE', 'audit_events'),
    );
    expect(await attempt(superuser, 'TRUNCATE audit_events CASCADE')).toMatchObject({ code: '42501' });
    expect(await attempt(superuser, "UPDATE audit_event_payloads SET entry = '{}' WHERE seq = 3")).toEqual(
      appendOnly('UPDATE', 'audit_event_payloads'),
    );
    expect(await attempt(superuser, 'TRUNCATE audit_event_payloads')).toEqual(
      appendOnly('TRUNCATE', 'audit_event_payloads'),
    );
    expect(await attempt(superuser, 'DELETE FROM audit_event_payloads WHERE seq = 3')).toEqual(PURGE_ONLY);
    expect(await attempt(superuser, 'DELETE FROM audit_checkpoints')).toEqual(
      appendOnly('DELETE', 'audit_checkpoints'),
    );
    const { rows } = await superuser.query<{ count: string }>(
      'SELECT (SELECT count(*) FROM audit_events) + (SELECT count(*) FROM audit_event_payloads) AS count',
    );
    expect(rows[0].count).toBe('24');
  });

  it('the retention purge removes payloads, records each removal, and the chain still verifies', async () => {
    const { rows } = await owner.query<{ purged: string }>(
      "SELECT audit_purge_payloads(now() + interval '1 day', 4) AS purged",
    );
    expect(rows[0].purged).toBe('4');
    const recorded = await owner.query<{ seq: string }>(
      'SELECT seq::text AS seq FROM audit_purged_events ORDER BY seq',
    );
    expect(recorded.rows.map((row) => row.seq)).toEqual(['1', '2', '3', '4']);
    const result = await auditIntegrity(ownerOrm.em).verify.execute(new VerifyAuditChainQuery());
    expect(result).toMatchObject({ ok: true, checkedEntries: 12, purgedEntries: 4 });
  });
});
