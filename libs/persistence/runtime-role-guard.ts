import type { EntityManager } from '@mikro-orm/postgresql';
import { runSql } from './sql.js';

interface ConnectedRole {
  role: string;
  superuser: boolean;
  owned: string[];
}

/**
 * Refuses a connection whose role could undo the database's own protections: a superuser bypasses every
 * privilege, and the owner of a table (or a member of the owner's role) can grant itself any privilege on it,
 * disable its triggers, or drop it. In production the service connects as a role that owns nothing; the owner
 * only runs migrations (DATABASE_MIGRATION_URL).
 */
export async function assertLeastPrivilegedRole(
  em: EntityManager,
  options: { /** Tables to name first in the message, when the role owns them. */ highlight?: readonly string[] } = {},
): Promise<void> {
  const [connected] = await runSql<ConnectedRole>(
    em.fork(),
    `SELECT r.rolname AS role, r.rolsuper AS superuser,
            coalesce((SELECT array_agg(c.relname::text ORDER BY c.relname)
                        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                       WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
                         AND n.nspname NOT IN ('pg_catalog', 'information_schema')
                         AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'
                         AND pg_has_role(current_user, c.relowner, 'MEMBER')), '{}') AS owned
       FROM pg_roles r WHERE r.rolname = current_user`,
  );
  if (!connected) throw new Error('Could not read the connected database role');
  const fix =
    'Connect the service (DATABASE_URL) as a role that owns nothing and is not a superuser, and run migrations ' +
    'as the owner with DATABASE_MIGRATION_URL (see "Database roles" in the README).';
  if (connected.superuser) {
    throw new Error(
      `Refusing to start in production: the database role "${connected.role}" (DATABASE_URL) is a superuser, ` +
        `which bypasses privileges and can disable the audit trail's append-only triggers. ${fix}`,
    );
  }
  if (connected.owned.length > 0) {
    const highlight = new Set(options.highlight ?? []);
    const ordered = [
      ...connected.owned.filter((name) => highlight.has(name)),
      ...connected.owned.filter((name) => !highlight.has(name)),
    ];
    const shown = ordered.slice(0, 5).join(', ');
    const more = connected.owned.length > 5 ? ` and ${connected.owned.length - 5} more` : '';
    throw new Error(
      `Refusing to start in production: the database role "${connected.role}" (DATABASE_URL) owns ${shown}${more}, ` +
        `so it could grant itself UPDATE on the audit trail or disable its append-only triggers. ${fix}`,
    );
  }
}
