import type { SisConnection, SisConnectionSettings } from '../../domain/sis-connection.js';

/** A connection and its decrypted client/consumer secret, for the sync engine only (never for responses). */
export interface SisConnectionWithSecret {
  connection: SisConnection;
  /** `null` when the connection has no credentials (CSV uploads). */
  secret: string | null;
}

export interface SisConnectionRevision {
  connection: SisConnection;
  secret: string | null | undefined;
}

/**
 * Stored SIS connections. Deleted connections (soft delete) are invisible to every method. Secrets are
 * passed in and out as plain text and stored encrypted with the `SecretCipher`.
 */
export abstract class SisConnectionRepository {
  abstract findById(id: string): Promise<SisConnection | null>;

  /** Throws `SecretUnreadableError` when the stored secret cannot be decrypted with the configured keys. */
  abstract findWithSecret(id: string): Promise<SisConnectionWithSecret | null>;

  /** Every connection that is not deleted, by name. */
  abstract list(): Promise<SisConnection[]>;

  /** Throws `ConnectionNameTakenError` when another live connection has the name (case-insensitive). */
  abstract insert(connection: SisConnection, secret: string | null): Promise<void>;

  /**
   * Reads the live connection under a row lock, lets `revise` compute the new state, and writes name,
   * settings, enabled and updatedAt in the same transaction, so concurrent updates do not overwrite each
   * other. `secret` in the revision: a string replaces the stored one, `null` removes it, `undefined` keeps
   * it. Errors thrown by `revise` abort the update. Throws `ConnectionNotFoundError` or
   * `ConnectionNameTakenError`.
   */
  abstract update(id: string, revise: (current: SisConnection) => SisConnectionRevision): Promise<SisConnection>;

  /**
   * Sets deleted_at and disables the connection; its mirrored roster data stays. Throws
   * `RunAlreadyActiveError` when a run is queued, running or held, `ConnectionNotFoundError` when there is
   * no live connection with the id. Runs are checked under a row lock on the connection, so a run inserted
   * concurrently either commits first (and is seen) or waits for the delete.
   */
  abstract softDelete(id: string, at: Date): Promise<void>;

  /**
   * The id of the live `oneroster-csv` connection uploads naming no connection land on (never one an
   * administrator created), created from `template` when there is none. Safe under concurrency: the unique
   * indexes let exactly one insert win.
   */
  abstract ensureCsvImportConnection(template: {
    id: string;
    name: string;
    settings: SisConnectionSettings;
    at: Date;
  }): Promise<string>;
}
