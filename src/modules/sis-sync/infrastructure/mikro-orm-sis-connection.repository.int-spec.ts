import { PERMISSIVE_ADDRESS_POLICY } from '@app/sis-http';
import { applyPendingMigrations, buildOrmOptions } from '@app/persistence';
import { createTestDatabase, type TestDatabase } from '@app/testing';
import { MikroORM } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SisSyncConfig } from '../../../config/index.js';
import { migrations } from '../../../migrations/index.js';
import { csvImportConnectionSettings } from '../domain/connection-defaults.js';
import { resolveNewConnectionSettings } from '../domain/connection-settings.policy.js';
import { CSV_IMPORT_CONNECTION_NAME, type SisConnection } from '../domain/sis-connection.js';
import {
  ConnectionNameTakenError,
  ConnectionNotFoundError,
  RunAlreadyActiveError,
  SecretUnreadableError,
} from '../domain/sis-sync.errors.js';
import { AesGcmSecretCipher } from './aes-gcm-secret-cipher.js';
import { MikroOrmSisConnectionRepository } from './mikro-orm-sis-connection.repository.js';

const OLD_KEY = 'old-key-material-that-is-long-enough-0123456789';
const NEW_KEY = Buffer.alloc(32, 7).toString('base64');

function cipher(secretsKey: string, previousSecretsKeys: string[] = []): AesGcmSecretCipher {
  const config: SisSyncConfig = {
    secretsKey,
    previousSecretsKeys,
    allowHttpSisUrls: true,
    addressPolicy: PERMISSIVE_ADDRESS_POLICY,
    runLeaseSeconds: 60,
    applyChunkSize: 5000,
    maxResponseBytes: 64 * 1024 ** 2,
    writeLanes: 1,
  };
  return new AesGcmSecretCipher(config);
}

function connection(name: string): SisConnection {
  const { settings } = resolveNewConnectionSettings(
    'oneroster',
    {
      version: '1.2',
      baseUrl: 'https://sis.test/ims/oneroster/rostering/v1p2',
      auth: { type: 'oauth2', tokenUrl: 'https://sis.test/token', clientId: 'c', clientSecret: 'unused' },
    },
    { allowHttp: false },
  );
  const now = new Date();
  return {
    id: randomUUID(),
    name,
    provider: 'oneroster',
    settings,
    hasSecret: true,
    enabled: true,
    createdAt: now,
    updatedAt: now,
  };
}

function csvTemplate(): { id: string; name: string; settings: SisConnection['settings']; at: Date } {
  return {
    id: randomUUID(),
    name: CSV_IMPORT_CONNECTION_NAME,
    settings: csvImportConnectionSettings(),
    at: new Date(),
  };
}

/** A CSV feed as an administrator creates it over the API. */
function csvConnection(name: string, at: Date): SisConnection {
  const { settings } = resolveNewConnectionSettings('oneroster-csv', { version: '1.2' }, { allowHttp: false });
  return {
    id: randomUUID(),
    name,
    provider: 'oneroster-csv',
    settings,
    hasSecret: false,
    enabled: true,
    createdAt: at,
    updatedAt: at,
  };
}

describe('MikroOrmSisConnectionRepository (PostgreSQL)', () => {
  let database: TestDatabase;
  let orm: MikroORM;

  beforeAll(async () => {
    database = await createTestDatabase('sis_connections');
    orm = await MikroORM.init(buildOrmOptions({ url: database.url, poolMax: 6, migrations }));
    await applyPendingMigrations(orm, database.url);
  });

  afterAll(async () => {
    await orm?.close(true);
    await database?.drop();
  });

  const repository = (aes = cipher(OLD_KEY)) => new MikroOrmSisConnectionRepository(orm.em, aes);

  it('gives the engine the decrypted secret, and nobody else', async () => {
    const created = connection('Engine');
    await repository().insert(created, 'the-client-secret');
    const plain = await repository().findById(created.id);
    expect(plain).toMatchObject({ id: created.id, hasSecret: true, settings: created.settings });
    expect(JSON.stringify(plain)).not.toContain('the-client-secret');
    const withSecret = await repository().findWithSecret(created.id);
    expect(withSecret?.secret).toBe('the-client-secret');
    expect(await repository().findWithSecret(randomUUID())).toBeNull();
    expect(await repository().findWithSecret('not-a-uuid')).toBeNull();
  });

  it('fails with SECRET_UNREADABLE, naming the connection, when the key is gone', async () => {
    const created = connection('Lost key');
    await repository().insert(created, 'secret');
    const error = await repository(cipher(NEW_KEY))
      .findWithSecret(created.id)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SecretUnreadableError);
    expect((error as SecretUnreadableError).details).toEqual({ reason: 'unknown_key', connectionId: created.id });
  });

  it('does not decrypt a ciphertext copied onto another connection', async () => {
    const a = connection('Copy source');
    const b = connection('Copy target');
    await repository().insert(a, 'secret-a');
    await repository().insert(b, 'secret-b');
    await orm.em
      .getConnection()
      .execute(
        'UPDATE sis_connections SET secret_ciphertext = (SELECT secret_ciphertext FROM sis_connections WHERE id = ?) WHERE id = ?',
        [a.id, b.id],
      );
    await expect(repository().findWithSecret(b.id)).rejects.toMatchObject({ details: { reason: 'tampered' } });
  });

  it('re-encrypts a secret read with a previous key after a rotation', async () => {
    const created = connection('Rotation');
    await repository().insert(created, 'rotating-secret');
    const rotated = cipher(NEW_KEY, [OLD_KEY]);
    const stored = async () =>
      (
        await orm.em
          .getConnection()
          .execute<{ secret_ciphertext: string }[]>('SELECT secret_ciphertext FROM sis_connections WHERE id = ?', [
            created.id,
          ])
      )[0].secret_ciphertext;
    expect(rotated.isCurrent(await stored())).toBe(false);
    expect((await repository(rotated).findWithSecret(created.id))?.secret).toBe('rotating-secret');
    expect(rotated.isCurrent(await stored())).toBe(true);
    expect((await repository(cipher(NEW_KEY)).findWithSecret(created.id))?.secret).toBe('rotating-secret');
  });

  it('updates under a row lock and keeps, replaces or removes the secret', async () => {
    const created = connection('Update');
    await repository().insert(created, 'first');
    const renamed = await repository().update(created.id, (current) => ({
      connection: { ...current, name: 'Updated' },
      secret: undefined,
    }));
    expect(renamed).toMatchObject({ name: 'Updated', hasSecret: true });
    expect((await repository().findWithSecret(created.id))?.secret).toBe('first');
    await repository().update(created.id, (current) => ({ connection: current, secret: 'second' }));
    expect((await repository().findWithSecret(created.id))?.secret).toBe('second');
    const cleared = await repository().update(created.id, (current) => ({ connection: current, secret: null }));
    expect(cleared.hasSecret).toBe(false);
    expect((await repository().findWithSecret(created.id))?.secret).toBeNull();

    await expect(
      repository().update(created.id, () => {
        throw new ConnectionNameTakenError();
      }),
    ).rejects.toBeInstanceOf(ConnectionNameTakenError);
    await expect(
      repository().update(created.id, (current) => ({ connection: { ...current, name: 'ENGINE' }, secret: undefined })),
    ).rejects.toBeInstanceOf(ConnectionNameTakenError);
    await expect(
      repository().update(randomUUID(), (current) => ({ connection: current, secret: undefined })),
    ).rejects.toBeInstanceOf(ConnectionNotFoundError);
  });

  it('serialises concurrent updates instead of losing one', async () => {
    const created = connection('Concurrent');
    await repository().insert(created, 'secret');
    await Promise.all(
      [100, 200, 300, 400].map((pageSize) =>
        repository().update(created.id, (current) => ({
          connection: {
            ...current,
            settings: { ...current.settings, schoolScope: [...current.settings.schoolScope, `s-${pageSize}`] },
          },
          secret: undefined,
        })),
      ),
    );
    expect((await repository().findById(created.id))?.settings.schoolScope.sort()).toEqual([
      's-100',
      's-200',
      's-300',
      's-400',
    ]);
  });

  it('refuses to delete while a run is active, then soft-deletes', async () => {
    const created = connection('Delete');
    await repository().insert(created, 'secret');
    const runId = randomUUID();
    await orm.em.getConnection().execute(
      `INSERT INTO sis_sync_runs (id, connection_id, mode, trigger, state, created_at, updated_at)
         VALUES (?, ?, 'delta', 'schedule', 'queued', now(), now())`,
      [runId, created.id],
    );
    await expect(repository().softDelete(created.id, new Date())).rejects.toBeInstanceOf(RunAlreadyActiveError);
    await orm.em.getConnection().execute("UPDATE sis_sync_runs SET state = 'failed' WHERE id = ?", [runId]);
    await repository().softDelete(created.id, new Date());
    expect(await repository().findById(created.id)).toBeNull();
    expect((await repository().list()).map((item) => item.id)).not.toContain(created.id);
    await expect(repository().softDelete(created.id, new Date())).rejects.toBeInstanceOf(ConnectionNotFoundError);
  });

  it('creates the CSV upload connection once, however many uploads ask at the same time', async () => {
    const template = () => ({
      id: randomUUID(),
      name: CSV_IMPORT_CONNECTION_NAME,
      settings: csvImportConnectionSettings(),
      at: new Date(),
    });
    const ids = await Promise.all(Array.from({ length: 6 }, () => repository().ensureCsvImportConnection(template())));
    expect(new Set(ids).size).toBe(1);
    expect(await repository().ensureCsvImportConnection(template())).toBe(ids[0]);
    const csv = await repository().findWithSecret(ids[0]);
    expect(csv).toMatchObject({
      connection: { name: CSV_IMPORT_CONNECTION_NAME, provider: 'oneroster-csv', hasSecret: false },
      secret: null,
    });
    const rows = await orm.em
      .getConnection()
      .execute<{ count: string }[]>(
        "SELECT count(*)::text AS count FROM sis_connections WHERE provider = 'oneroster-csv'",
      );
    expect(rows[0].count).toBe('1');
  });

  it("never lands uploads that name no connection on an administrator's CSV connection, even an older one", async () => {
    const uploads = await repository().ensureCsvImportConnection(csvTemplate());
    const feed = csvConnection('Charter school feed', new Date('2020-01-01T00:00:00Z'));
    await repository().insert(feed, null);
    expect(await repository().ensureCsvImportConnection(csvTemplate())).toBe(uploads);

    // Deleted, the upload connection is created afresh under its name; the feed is still not it.
    await repository().softDelete(uploads, new Date());
    const again = await repository().ensureCsvImportConnection(csvTemplate());
    expect(again).not.toBe(uploads);
    expect(again).not.toBe(feed.id);
    expect(await repository().findById(again)).toMatchObject({ name: CSV_IMPORT_CONNECTION_NAME });
  });
});

describe('the CSV upload connection across the csv_upload_default migration', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase('sis_connections_upgrade');
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('keeps the connection uploads landed on before the upgrade, renamed or not', async () => {
    const index = migrations.findIndex((migration) => migration.name.includes('csv_upload_default'));
    expect(index).toBeGreaterThan(0);
    const before = await MikroORM.init(
      buildOrmOptions({ url: database.url, poolMax: 2, migrations: migrations.slice(0, index) }),
    );
    const legacyId = randomUUID();
    try {
      await applyPendingMigrations(before, database.url);
      await before.em.getConnection().execute(
        `INSERT INTO sis_connections (id, name, provider, settings, enabled, created_at, updated_at)
             VALUES (?, 'Uploads (renamed)', 'oneroster-csv', ?::jsonb, true, now(), now())`,
        [legacyId, JSON.stringify(csvImportConnectionSettings())],
      );
    } finally {
      await before.close(true);
    }
    const after = await MikroORM.init(buildOrmOptions({ url: database.url, poolMax: 2, migrations }));
    try {
      await applyPendingMigrations(after, database.url);
      const upgraded = new MikroOrmSisConnectionRepository(after.em, cipher(OLD_KEY));
      expect(await upgraded.ensureCsvImportConnection(csvTemplate())).toBe(legacyId);
    } finally {
      await after.close(true);
    }
  });
});
