import { DomainError } from '@app/ddd';

/** One problem with a connection setting: `field` is the request path (`schedule.cron`, `auth.clientSecret`). */
export interface SettingIssue {
  field: string;
  message: string;
}

export class ConnectionNotFoundError extends DomainError {
  readonly code = 'SIS_SYNC.CONNECTION_NOT_FOUND';
  readonly kind = 'not_found' as const;
  constructor(connectionId: string) {
    super('No SIS connection has that id', { connectionId });
  }
}

export class ConnectionNameTakenError extends DomainError {
  readonly code = 'SIS_SYNC.CONNECTION_NAME_TAKEN';
  readonly kind = 'conflict' as const;
  constructor() {
    super('Another SIS connection already has this name', { field: 'name' });
  }
}

/**
 * Settings that are well-formed but do not make a usable connection (bad cron or zone, http in production,
 * OAuth 1 with OneRoster 1.2, …). `field` names the first setting at fault, `errors` lists every one in
 * the same shape as request validation errors. Messages never repeat secret values.
 */
export class InvalidConnectionSettingsError extends DomainError {
  readonly code = 'SIS_SYNC.INVALID_CONNECTION_SETTINGS';
  readonly kind = 'unprocessable' as const;
  readonly issues: readonly SettingIssue[];
  constructor(issues: readonly SettingIssue[]) {
    const first = issues[0] ?? { field: 'settings', message: 'The connection settings are not valid' };
    super(issues.length > 1 ? `${first.message} (and ${issues.length - 1} more)` : first.message, {
      field: first.field,
      errors: issues.map((issue) => ({ field: issue.field, messages: [issue.message] })),
    });
    this.issues = issues.length > 0 ? issues : [first];
  }
}

export class ProviderNotSupportedError extends DomainError {
  readonly code = 'SIS_SYNC.PROVIDER_NOT_SUPPORTED';
  readonly kind = 'unprocessable' as const;
  constructor(provider: string, reason: string) {
    super(reason, { field: 'provider', provider });
  }
}

export class RunAlreadyActiveError extends DomainError {
  readonly code = 'SIS_SYNC.RUN_ALREADY_ACTIVE';
  readonly kind = 'conflict' as const;
  constructor(connectionId: string, runId?: string) {
    super('This connection has a sync run that is queued, running or held', {
      connectionId,
      ...(runId ? { runId } : {}),
    });
  }
}

export type SecretUnreadableReason = 'unknown_key' | 'tampered' | 'malformed' | 'no_key';

/**
 * A stored secret could not be decrypted: the key it was encrypted with is not configured (SIS_SECRETS_KEY
 * changed without keeping the old one in SIS_SECRETS_PREVIOUS_KEYS) or the ciphertext was altered.
 */
export class SecretUnreadableError extends DomainError {
  readonly code = 'SIS_SYNC.SECRET_UNREADABLE';
  readonly kind = 'unavailable' as const;
  constructor(
    readonly reason: SecretUnreadableReason,
    connectionId?: string,
  ) {
    super(
      'The stored SIS credential cannot be decrypted with the configured keys; re-enter the secret or restore the previous SIS_SECRETS_KEY',
      { reason, ...(connectionId ? { connectionId } : {}) },
    );
  }
}
