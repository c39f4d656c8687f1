import { isUuid } from '@app/ddd';
import { runSql } from '@app/persistence';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable, Logger } from '@nestjs/common';
import { SecretCipher } from '../application/ports/secret-cipher.port.js';
import {
  SisConnectionRepository,
  type SisConnectionRevision,
  type SisConnectionWithSecret,
} from '../application/ports/sis-connection.repository.js';
import type { SisConnection, SisConnectionSettings, SisProvider } from '../domain/sis-connection.js';
import {
  ConnectionNameTakenError,
  ConnectionNotFoundError,
  RunAlreadyActiveError,
  SecretUnreadableError,
} from '../domain/sis-sync.errors.js';

interface ConnectionRow {
  id: string;
  name: string;
  provider: SisProvider;
  settings: SisConnectionSettings | string;
  secret_ciphertext: string | null;
  enabled: boolean;
  created_at: string | Date;
  updated_at: string | Date;
}

const COLUMNS = 'id, name, provider, settings, secret_ciphertext, enabled, created_at, updated_at';
const ACTIVE_RUN_STATES = "('queued', 'running', 'held')";
const NAME_INDEX = 'sis_connections_name_unique';

/**
 * `sis_connections` through plain SQL with server-side parameters (no entity: settings are one jsonb
 * document). Statements join the entity manager's current transaction, if any. Secrets are encrypted with
 * the `SecretCipher`, bound to the row id, and decrypted only by `findWithSecret`.
 */
@Injectable()
export class MikroOrmSisConnectionRepository extends SisConnectionRepository {
  private readonly logger = new Logger('SisConnections');

  constructor(
    private readonly em: EntityManager,
    private readonly cipher: SecretCipher,
  ) {
    super();
  }

  async findById(id: string): Promise<SisConnection | null> {
    const row = await this.row(id);
    return row ? toConnection(row) : null;
  }

  async findWithSecret(id: string): Promise<SisConnectionWithSecret | null> {
    const row = await this.row(id);
    if (!row) return null;
    const connection = toConnection(row);
    if (row.secret_ciphertext === null) return { connection, secret: null };
    let secret: string;
    try {
      secret = this.cipher.decrypt(row.secret_ciphertext, secretContext(id));
    } catch (error) {
      if (error instanceof SecretUnreadableError) throw new SecretUnreadableError(error.reason, id);
      throw error;
    }
    if (!this.cipher.isCurrent(row.secret_ciphertext)) await this.reencrypt(id, row.secret_ciphertext, secret);
    return { connection, secret };
  }

  async list(): Promise<SisConnection[]> {
    const rows = await runSql<ConnectionRow>(
      this.em,
      `SELECT ${COLUMNS} FROM sis_connections WHERE deleted_at IS NULL ORDER BY lower(name), id`,
    );
    return rows.map(toConnection);
  }

  async insert(connection: SisConnection, secret: string | null): Promise<void> {
    try {
      await runSql(
        this.em,
        `INSERT INTO sis_connections (id, name, provider, settings, secret_ciphertext, enabled, created_at, updated_at)
         VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8)`,
        [
          connection.id,
          connection.name,
          connection.provider,
          JSON.stringify(connection.settings),
          secret === null ? null : this.cipher.encrypt(secret, secretContext(connection.id)),
          connection.enabled,
          connection.createdAt,
          connection.updatedAt,
        ],
      );
    } catch (error) {
      if (isNameConflict(error)) throw new ConnectionNameTakenError();
      throw error;
    }
  }

  async update(id: string, revise: (current: SisConnection) => SisConnectionRevision): Promise<SisConnection> {
    if (!isUuid(id)) throw new ConnectionNotFoundError(id);
    try {
      return await this.em.transactional(async () => {
        const [row] = await runSql<ConnectionRow>(
          this.em,
          `SELECT ${COLUMNS} FROM sis_connections WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`,
          [id],
        );
        if (!row) throw new ConnectionNotFoundError(id);
        const { connection, secret } = revise(toConnection(row));
        const params: unknown[] = [
          id,
          connection.name,
          JSON.stringify(connection.settings),
          connection.enabled,
          connection.updatedAt,
        ];
        let assignments = 'name = $2, settings = $3::jsonb, enabled = $4, updated_at = $5';
        if (secret !== undefined) {
          params.push(secret === null ? null : this.cipher.encrypt(secret, secretContext(id)));
          assignments += ', secret_ciphertext = $6';
        }
        await runSql(this.em, `UPDATE sis_connections SET ${assignments} WHERE id = $1`, params);
        const hasSecret = secret === undefined ? row.secret_ciphertext !== null : secret !== null;
        return { ...connection, id, provider: row.provider, hasSecret };
      });
    } catch (error) {
      if (isNameConflict(error)) throw new ConnectionNameTakenError();
      throw error;
    }
  }

  async softDelete(id: string, at: Date): Promise<void> {
    if (!isUuid(id)) throw new ConnectionNotFoundError(id);
    await this.em.transactional(async () => {
      // FOR UPDATE conflicts with the key-share lock a run insert takes on its connection (foreign key), so a
      // run being created right now either committed before this (and is seen below) or waits for this delete.
      const live = await runSql<{ id: string }>(
        this.em,
        'SELECT id FROM sis_connections WHERE id = $1 AND deleted_at IS NULL FOR UPDATE',
        [id],
      );
      if (live.length === 0) throw new ConnectionNotFoundError(id);
      const [active] = await runSql<{ id: string }>(
        this.em,
        `SELECT id FROM sis_sync_runs WHERE connection_id = $1 AND state IN ${ACTIVE_RUN_STATES} LIMIT 1`,
        [id],
      );
      if (active) throw new RunAlreadyActiveError(id, active.id);
      await runSql(
        this.em,
        'UPDATE sis_connections SET deleted_at = $2, enabled = false, updated_at = $2 WHERE id = $1',
        [id, at],
      );
    });
  }

  async ensureCsvImportConnection(template: {
    id: string;
    name: string;
    settings: SisConnectionSettings;
    at: Date;
  }): Promise<string> {
    const existing = await this.csvUploadDefaultId();
    if (existing) return existing;
    // Concurrent callers race on the unique indexes (name, upload default): one insert wins, the others do
    // nothing and re-read.
    const [inserted] = await runSql<{ id: string }>(
      this.em,
      `INSERT INTO sis_connections
         (id, name, provider, settings, secret_ciphertext, enabled, created_at, updated_at, csv_upload_default)
       VALUES ($1, $2, 'oneroster-csv', $3::jsonb, NULL, true, $4, $4, true)
       ON CONFLICT DO NOTHING
       RETURNING id`,
      [template.id, template.name, JSON.stringify(template.settings), template.at],
    );
    if (inserted) return inserted.id;
    const winner = await this.csvUploadDefaultId();
    // The name belongs to a connection created before it was reserved.
    if (!winner) throw new ConnectionNameTakenError();
    return winner;
  }

  /** The live connection uploads naming no connection land on (not an administrator's CSV feed). */
  private async csvUploadDefaultId(): Promise<string | null> {
    const [row] = await runSql<{ id: string }>(
      this.em,
      'SELECT id FROM sis_connections WHERE csv_upload_default AND deleted_at IS NULL',
    );
    return row?.id ?? null;
  }

  private async row(id: string): Promise<ConnectionRow | null> {
    if (!isUuid(id)) return null;
    const [row] = await runSql<ConnectionRow>(
      this.em,
      `SELECT ${COLUMNS} FROM sis_connections WHERE id = $1 AND deleted_at IS NULL`,
      [id],
    );
    return row ?? null;
  }

  /** After a key rotation: rewrite a secret read with a previous key. Best effort; the read already worked. */
  private async reencrypt(id: string, previous: string, secret: string): Promise<void> {
    try {
      await runSql(
        this.em,
        'UPDATE sis_connections SET secret_ciphertext = $2 WHERE id = $1 AND secret_ciphertext = $3',
        [id, this.cipher.encrypt(secret, secretContext(id)), previous],
      );
    } catch (error) {
      this.logger.warn(
        `Could not re-encrypt the secret of connection ${id} with the current key: ${(error as Error).name}`,
      );
    }
  }
}

function toConnection(row: ConnectionRow): SisConnection {
  return {
    id: row.id,
    name: row.name,
    provider: row.provider,
    settings: typeof row.settings === 'string' ? (JSON.parse(row.settings) as SisConnectionSettings) : row.settings,
    hasSecret: row.secret_ciphertext !== null,
    enabled: row.enabled,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

/** Authenticated with the ciphertext, so a secret copied onto another connection's row does not decrypt. */
function secretContext(connectionId: string): string {
  return `sis_connections:${connectionId}`;
}

function isNameConflict(error: unknown): boolean {
  if (error instanceof UniqueConstraintViolationException) return true;
  const candidate = error as { code?: unknown; constraint?: unknown; message?: unknown } | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    candidate.code === '23505' &&
    (candidate.constraint === NAME_INDEX ||
      (typeof candidate.message === 'string' && candidate.message.includes(NAME_INDEX)))
  );
}
