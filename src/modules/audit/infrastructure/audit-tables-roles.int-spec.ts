import { applyPendingMigrations, assertLeastPrivilegedRole, buildOrmOptions, migrateDatabase } from '@app/persistence';
import { adminDatabaseUrl, createTestDatabase, type TestDatabase } from '@app/testing';
import { MikroORM } from '@mikro-orm/postgresql';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrations, runtimeRoleGrants } from '../../../migrations/index.js';
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

/**
 * Two roles: the owner runs the migrations, the service connects as a role that owns nothing. The owner could
 * grant itself UPDATE or disable the append-only triggers; the runtime role can do neither, and has only what
 * the service needs: SELECT and INSERT on the audit trail, DML on the rest.
 */
describe('audit tables: the runtime role that owns nothing (two PostgreSQL roles)', () => {
  const suffix = randomBytes(4).toString('hex');
  const ownerRole = `homeroom_test_owner_${suffix}`;
  const runtimeRole = `homeroom_test_app_${suffix}`;
  const otherRole = `homeroom_test_other_${suffix}`;
  const APPEND_ONLY = [
    'audit_events',
    'audit_event_payloads',
    'audit_checkpoints',
    'audit_disclosures',
    'audit_purged_events',
    'audit_verifications',
  ];
  let admin: pg.Client;
  let database: TestDatabase;
  let ownerUrl: string;
  let runtimeUrl: string;
  let runtimeOrm: MikroORM;
  let runtime: pg.Client;
  let owner: pg.Client;
  let other: pg.Client;

  const urlFor = (role: string): string => {
    const url = new URL(database.url);
    url.username = role;
    return url.toString();
  };

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: adminDatabaseUrl() });
    await admin.connect();
    for (const role of [ownerRole, runtimeRole, otherRole]) {
      await admin.query(`CREATE ROLE "${role}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE`);
    }
    database = await createTestDatabase('audit_runtime_role');
    await admin.query(`ALTER DATABASE "${database.name}" OWNER TO "${ownerRole}"`);
    ownerUrl = urlFor(ownerRole);
    runtimeUrl = urlFor(runtimeRole);
    runtimeOrm = await MikroORM.init(buildOrmOptions({ url: runtimeUrl, poolMax: 3, migrations }));
    // What start-up (or `homeroom migrate`) does with DATABASE_URL and DATABASE_MIGRATION_URL both set.
    await migrateDatabase(runtimeOrm, {
      url: runtimeUrl,
      migrationUrl: ownerUrl,
      migrations,
      runtimeRole,
      runtimeGrants: runtimeRoleGrants,
    });
    runtime = new pg.Client({ connectionString: runtimeUrl });
    owner = new pg.Client({ connectionString: ownerUrl });
    other = new pg.Client({ connectionString: urlFor(otherRole) });
    await Promise.all([runtime.connect(), owner.connect(), other.connect()]);
  });

  afterAll(async () => {
    await Promise.all([runtime?.end(), owner?.end(), other?.end()]);
    await runtimeOrm?.close(true);
    await database?.drop();
    for (const role of [ownerRole, runtimeRole, otherRole]) await admin?.query(`DROP ROLE IF EXISTS "${role}"`);
    await admin?.end();
  });

  it('the runtime role appends to the chain, which still verifies', async () => {
    await auditIntegrity(runtimeOrm.em).log.append(Array.from({ length: 6 }, (_unused, index) => accessDraft(index)));
    const result = await auditIntegrity(runtimeOrm.em).verify.execute(new VerifyAuditChainQuery());
    expect(result).toMatchObject({ ok: true, checkedEntries: 6 });
    const { rows } = await runtime.query<{ owner: string }>(
      "SELECT DISTINCT tableowner AS owner FROM pg_tables WHERE schemaname = 'public'",
    );
    expect(rows).toEqual([{ owner: ownerRole }]);
  });

  it('the runtime role cannot grant itself privileges or disable the triggers', async () => {
    for (const table of APPEND_ONLY) {
      // Without the grant option PostgreSQL only warns that nothing was granted: checked below.
      await attempt(runtime, `GRANT UPDATE, DELETE, TRUNCATE ON ${table} TO CURRENT_USER`);
      expect(await attempt(runtime, `ALTER TABLE ${table} DISABLE TRIGGER ALL`)).toEqual({
        code: '42501',
        message: `must be owner of table ${table}`,
      });
      expect(await attempt(runtime, `ALTER TABLE ${table} OWNER TO CURRENT_USER`)).toMatchObject({ code: '42501' });
    }
    expect(await attempt(runtime, 'DROP TRIGGER audit_events_chain ON audit_events')).toMatchObject({ code: '42501' });
    expect(
      await attempt(
        runtime,
        'CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$',
      ),
    ).toMatchObject({ code: '42501' });
    // The grant attempts changed nothing.
    const { rows } = await runtime.query<{ allowed: boolean }>(
      `SELECT bool_or(has_table_privilege(current_user, t, p)) AS allowed
         FROM unnest($1::text[]) t, unnest(ARRAY['UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p`,
      [APPEND_ONLY],
    );
    expect(rows).toEqual([{ allowed: false }]);
  });

  it('the runtime role cannot UPDATE, DELETE or TRUNCATE any audit table: privileges refuse before the triggers', async () => {
    for (const table of APPEND_ONLY) {
      const column =
        table === 'audit_verifications'
          ? 'ok'
          : table === 'audit_disclosures' || table === 'audit_checkpoints'
            ? 'id'
            : 'seq';
      expect(await attempt(runtime, `UPDATE ${table} SET ${column} = ${column} WHERE false`)).toEqual(
        PERMISSION_DENIED,
      );
      expect(await attempt(runtime, `DELETE FROM ${table}`)).toEqual(PERMISSION_DENIED);
      expect(await attempt(runtime, `TRUNCATE ${table} CASCADE`)).toEqual(PERMISSION_DENIED);
    }
    // Not even with the purge flag set by hand: only the purge function (running as the owner) deletes entries.
    await runtime.query('BEGIN');
    await runtime.query("SET LOCAL homeroom.audit_purge = 'on'");
    expect(await attempt(runtime, 'DELETE FROM audit_event_payloads WHERE seq = 1')).toEqual(PERMISSION_DENIED);
    await runtime.query('ROLLBACK');
  });

  it('the runtime role has DML on the other tables and may run the retention purge; other roles may not', async () => {
    const { rows } = await runtime.query<{ table: string }>(
      `SELECT c.relname AS table FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname <> ALL ($1::text[])
          AND NOT (has_table_privilege(current_user, c.oid, 'SELECT, INSERT')
               AND has_table_privilege(current_user, c.oid, 'UPDATE') AND has_table_privilege(current_user, c.oid, 'DELETE'))`,
      [APPEND_ONLY],
    );
    expect(rows.filter((row) => row.table !== 'schema_migrations')).toEqual([]);
    expect(await attempt(runtime, "INSERT INTO schema_migrations (name) VALUES ('forged')")).toEqual(PERMISSION_DENIED);
    expect(await attempt(other, "SELECT audit_purge_payloads(now() + interval '1 day', 100)")).toMatchObject({
      code: '42501',
      message: 'permission denied for function audit_purge_payloads',
    });
    // ANALYZE as the owner, which PostgreSQL before 17 requires; nobody else may call it.
    expect(
      await attempt(runtime, "SELECT refresh_table_statistics('roster_staged_records', ARRAY['run_id', 'status'])"),
    ).toEqual({ message: 'ok' });
    expect(await attempt(other, "SELECT refresh_table_statistics('roster_people', '{}')")).toMatchObject({
      code: '42501',
    });
    const purged = await runtime.query<{ purged: string }>(
      "SELECT audit_purge_payloads(now() + interval '1 day', 2) AS purged",
    );
    expect(purged.rows[0].purged).toBe('2');
    const result = await auditIntegrity(runtimeOrm.em).verify.execute(new VerifyAuditChainQuery());
    expect(result).toMatchObject({ ok: true, purgedEntries: 2 });
  });

  it('the production check accepts the runtime role and refuses the owner, naming the fix', async () => {
    await expect(assertLeastPrivilegedRole(runtimeOrm.em)).resolves.toBeUndefined();
    const ownerOrm = await MikroORM.init(buildOrmOptions({ url: ownerUrl, poolMax: 1, migrations }));
    try {
      await expect(assertLeastPrivilegedRole(ownerOrm.em, { highlight: APPEND_ONLY })).rejects.toThrow(
        new RegExp(`role "${ownerRole}" \\(DATABASE_URL\\) owns .*audit_events.*DATABASE_MIGRATION_URL`, 's'),
      );
    } finally {
      await ownerOrm.close(true);
    }
    const superOrm = await MikroORM.init(buildOrmOptions({ url: database.url, poolMax: 1, migrations }));
    try {
      await expect(assertLeastPrivilegedRole(superOrm.em)).rejects.toThrow(/is a superuser/);
    } finally {
      await superOrm.close(true);
    }
  });
});
