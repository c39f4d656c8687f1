import { JSON_OPTION, type CliCommandDefinition } from './cli-command.js';

/** `sync` exit statuses by the state the run ended in; anything that stops the command earlier exits 1. */
export const SYNC_EXIT_CODES = { succeeded: 0, failed: 1, held: 2, cancelled: 3 } as const;

/** The exit status of a command that followed a run until it settled (or stopped for review). */
export function syncExitCode(state: string): number {
  if (state === 'succeeded' || state === 'succeeded_with_issues') return SYNC_EXIT_CODES.succeeded;
  if (state === 'held') return SYNC_EXIT_CODES.held;
  if (state === 'cancelled') return SYNC_EXIT_CODES.cancelled;
  return SYNC_EXIT_CODES.failed;
}

const SYNC_EXIT_HELP = `
Exit status:
  0  the run succeeded, with or without issues (or the dry run previewed its changes)
  1  the run failed, or the command could not start it
  2  the run is held for review (approve or discard it with \`homeroom runs\`)
  3  the run was cancelled`;

const DRY_RUN = { flags: '--dry-run', description: 'preview the changes without applying them' };

export const MIGRATE_CLI = {
  name: 'migrate',
  description:
    'Apply pending database migrations as DATABASE_MIGRATION_URL (or DATABASE_URL) and grant the runtime role (also done at start-up by default)',
  options: { json: JSON_OPTION },
} satisfies CliCommandDefinition;

export const MIGRATION_CREATE_CLI = {
  name: 'create',
  arguments: '[name]',
  description: 'Write a migration for the difference between the entity definitions and the database',
  options: { json: JSON_OPTION },
} satisfies CliCommandDefinition;

export const MIGRATION_CLI = {
  name: 'migration',
  description: 'Schema migrations',
  options: {},
  subCommands: [MIGRATION_CREATE_CLI],
} satisfies CliCommandDefinition;

const PASSWORD = { flags: '--password <password>', description: 'at least 12 characters; generated when omitted' };

export const USERS_CREATE_ADMIN_CLI = {
  name: 'create-admin',
  description: 'Create a district administrator',
  options: {
    email: { flags: '--email <email>', description: 'sign-in email', required: true },
    displayName: { flags: '--display-name <name>', description: 'name shown in the UI' },
    password: PASSWORD,
    json: JSON_OPTION,
  },
} satisfies CliCommandDefinition;

export const USERS_RESET_PASSWORD_CLI = {
  name: 'reset-password',
  description: "Set a user's password (generated when omitted) and end every session of that user",
  options: {
    email: { flags: '--email <email>', description: 'sign-in email of the user', required: true },
    password: PASSWORD,
    json: JSON_OPTION,
  },
} satisfies CliCommandDefinition;

export const USERS_CLI = {
  name: 'users',
  description: 'User administration',
  options: {},
  subCommands: [USERS_CREATE_ADMIN_CLI, USERS_RESET_PASSWORD_CLI],
} satisfies CliCommandDefinition;

export const AUDIT_VERIFY_CLI = {
  name: 'verify',
  description:
    'Verify the hash chain and its signed checkpoints in the database (exit 1 naming the first bad seq), or an ' +
    'exported bundle offline with --bundle and --public-key',
  options: {
    readModels: {
      flags: '--read-models',
      description:
        'also recompute each read model (access by student, by actor, denied, disclosures) from the log for the ' +
        'range and compare it row by row, naming the first difference',
    },
    fromSeq: { flags: '--from-seq <seq>', description: 'first seq to check (links from the entry before it)' },
    toSeq: { flags: '--to-seq <seq>', description: 'last seq to check (default: the tip)' },
    checkpoints: {
      flags: '--checkpoints <file>',
      description: 'also check against checkpoints held outside the database (checkpoints.jsonl of an earlier export)',
    },
    bundle: { flags: '--bundle <dir>', description: 'verify an exported bundle offline instead (no database)' },
    publicKey: { flags: '--public-key <file>', description: 'trusted public key(s) for --bundle (PEM); repeatable' },
    json: JSON_OPTION,
  },
} satisfies CliCommandDefinition;

export const AUDIT_EXPORT_CLI = {
  name: 'export',
  description:
    'Sign a checkpoint covering the tip, then write or extend an offline-verifiable bundle (segments, checkpoints, ' +
    'public keys, manifest) in --out',
  options: {
    out: { flags: '--out <dir>', description: 'bundle directory (created, or extended if it holds a bundle)' },
    json: JSON_OPTION,
  },
} satisfies CliCommandDefinition;

export const AUDIT_REBUILD_READ_MODELS_CLI = {
  name: 'rebuild-read-models',
  description:
    'Replay the whole log into the read models (access by student, by actor, denied attempts, disclosures) in ' +
    'one transaction: readers see the old rows until the new ones are complete, and a failure leaves them as ' +
    'they were; entries skipped earlier are retried',
  options: { json: JSON_OPTION },
} satisfies CliCommandDefinition;

export const AUDIT_CLI = {
  name: 'audit',
  description:
    'FERPA audit trail: verify the hash chain, export a bundle, verify a bundle offline, rebuild read models',
  options: {},
  subCommands: [AUDIT_VERIFY_CLI, AUDIT_EXPORT_CLI, AUDIT_REBUILD_READ_MODELS_CLI],
} satisfies CliCommandDefinition;

export const SYNC_IMPORT_CLI = {
  name: 'import',
  arguments: '<zip>',
  description: 'Import a OneRoster CSV zip (bulk or delta files)',
  helpAfter: SYNC_EXIT_HELP,
  options: {
    connection: {
      flags: '--connection <connectionId>',
      description: 'into this oneroster-csv connection (default: the shared "OneRoster CSV uploads" connection)',
    },
    dryRun: DRY_RUN,
    json: JSON_OPTION,
  },
} satisfies CliCommandDefinition;

export const SYNC_CLI = {
  name: 'sync',
  arguments: '[connectionId]',
  description: 'Sync a SIS connection now (delta by default), or `sync import <zip>`',
  helpAfter: SYNC_EXIT_HELP,
  options: {
    full: { flags: '--full', description: 'pull everything; records missing from the SIS are deactivated' },
    remaster: { flags: '--remaster', description: 'SIS values replace sticky local edits, which are cleared' },
    delta: { flags: '--delta', description: 'pull records changed since the last successful run (default)' },
    dryRun: DRY_RUN,
    json: JSON_OPTION,
  },
  subCommands: [SYNC_IMPORT_CLI],
} satisfies CliCommandDefinition;

const REASON = {
  flags: '--reason <text>',
  description: 'why, recorded in the audit trail with your OS account',
};

export const RUNS_LIST_CLI = {
  name: 'list',
  description: 'List sync runs, newest first, with their state and hold reasons',
  options: {
    state: {
      flags: '--state <state>',
      description: 'only runs in this state (queued, running, held, succeeded, failed, cancelled)',
    },
    connection: { flags: '--connection <connectionId>', description: 'only runs of this SIS connection' },
    limit: { flags: '--limit <n>', description: 'at most this many runs, 1 to 200 (default 20)' },
    json: JSON_OPTION,
  },
} satisfies CliCommandDefinition;

export const RUNS_SHOW_CLI = {
  name: 'show',
  arguments: '<runId>',
  description: 'Show a run: state, hold reasons, counts (the preview of a held or dry run), issues, error',
  options: { json: JSON_OPTION },
} satisfies CliCommandDefinition;

export const RUNS_APPROVE_CLI = {
  name: 'approve',
  arguments: '<runId>',
  description: 'Approve a held run: it is queued again and a worker applies it as previewed',
  options: { reason: REASON, json: JSON_OPTION },
} satisfies CliCommandDefinition;

export const RUNS_DISCARD_CLI = {
  name: 'discard',
  arguments: '<runId>',
  description: 'Discard a held run: nothing is applied and the run ends cancelled',
  options: { reason: REASON, json: JSON_OPTION },
} satisfies CliCommandDefinition;

export const RUNS_CLI = {
  name: 'runs',
  description: 'Sync runs: list them, show one, approve or discard a held run',
  options: {},
  subCommands: [RUNS_LIST_CLI, RUNS_SHOW_CLI, RUNS_APPROVE_CLI, RUNS_DISCARD_CLI],
} satisfies CliCommandDefinition;

/** Every top-level command, in the order `homeroom --help` lists them. */
export const CLI_COMMANDS: readonly CliCommandDefinition[] = [
  MIGRATE_CLI,
  MIGRATION_CLI,
  USERS_CLI,
  SYNC_CLI,
  RUNS_CLI,
  AUDIT_CLI,
];
