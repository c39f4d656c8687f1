import { PERMISSIVE_ADDRESS_POLICY } from '@app/sis-http';
import { Clock } from '@app/ddd';
import { describe, expect, it } from 'vitest';
import type { SisSyncConfig } from '../../../../config/index.js';
import { csvImportConnectionSettings } from '../../domain/connection-defaults.js';
import { CSV_IMPORT_CONNECTION_NAME, sameConnectionName, type SisConnection } from '../../domain/sis-connection.js';
import {
  ConnectionNameTakenError,
  ConnectionNotFoundError,
  InvalidConnectionSettingsError,
  ProviderNotSupportedError,
} from '../../domain/sis-sync.errors.js';
import {
  SisConnectionRepository,
  type SisConnectionRevision,
  type SisConnectionWithSecret,
} from '../ports/sis-connection.repository.js';
import { CreateConnectionCommand, CreateConnectionHandler, type NewConnection } from './create-connection.command.js';
import { EnsureCsvImportConnectionHandler } from './ensure-csv-import-connection.command.js';
import { UpdateConnectionCommand, UpdateConnectionHandler } from './update-connection.command.js';

/** Keeps rows (with plain secrets) in memory and enforces the unique live name like the index does. */
class InMemorySisConnectionRepository extends SisConnectionRepository {
  readonly rows = new Map<string, { connection: SisConnection; secret: string | null }>();

  findById(id: string): Promise<SisConnection | null> {
    return Promise.resolve(this.rows.get(id)?.connection ?? null);
  }
  findWithSecret(id: string): Promise<SisConnectionWithSecret | null> {
    return Promise.resolve(this.rows.get(id) ?? null);
  }
  list(): Promise<SisConnection[]> {
    return Promise.resolve([...this.rows.values()].map((row) => row.connection));
  }
  insert(connection: SisConnection, secret: string | null): Promise<void> {
    this.assertNameFree(connection);
    this.rows.set(connection.id, { connection, secret });
    return Promise.resolve();
  }
  async update(id: string, revise: (current: SisConnection) => SisConnectionRevision): Promise<SisConnection> {
    const row = this.rows.get(id);
    if (!row) throw new ConnectionNotFoundError(id);
    const { connection, secret } = revise(row.connection);
    this.assertNameFree(connection);
    const next = {
      connection: { ...connection, hasSecret: secret === undefined ? row.secret !== null : secret !== null },
      secret: secret === undefined ? row.secret : secret,
    };
    this.rows.set(id, next);
    return next.connection;
  }
  softDelete(id: string): Promise<void> {
    this.rows.delete(id);
    return Promise.resolve();
  }
  /** The connection uploads naming none land on (PostgreSQL flags it; an administrator's CSV feed never is). */
  private uploadDefault: string | null = null;

  ensureCsvImportConnection(template: { id: string; name: string; at: Date }): Promise<string> {
    if (this.uploadDefault && this.rows.has(this.uploadDefault)) return Promise.resolve(this.uploadDefault);
    this.uploadDefault = template.id;
    this.rows.set(template.id, {
      connection: {
        id: template.id,
        name: template.name,
        provider: 'oneroster-csv',
        settings: csvImportConnectionSettings(),
        hasSecret: false,
        enabled: true,
        createdAt: template.at,
        updatedAt: template.at,
      },
      secret: null,
    });
    return Promise.resolve(template.id);
  }

  private assertNameFree(connection: SisConnection): void {
    for (const { connection: other } of this.rows.values()) {
      if (other.id !== connection.id && sameConnectionName(other.name, connection.name)) {
        throw new ConnectionNameTakenError();
      }
    }
  }
}

class FixedClock extends Clock {
  constructor(private time = new Date('2026-11-25T08:00:00Z')) {
    super();
  }
  now(): Date {
    return this.time;
  }
  advance(ms: number): void {
    this.time = new Date(this.time.getTime() + ms);
  }
}

const config: SisSyncConfig = {
  secretsKey: 'k'.repeat(32),
  previousSecretsKeys: [],
  allowHttpSisUrls: false,
  addressPolicy: PERMISSIVE_ADDRESS_POLICY,
  runLeaseSeconds: 60,
  applyChunkSize: 5000,
  maxResponseBytes: 64 * 1024 ** 2,
  writeLanes: 1,
};

const body = (overrides: Partial<NewConnection> = {}): NewConnection => ({
  name: 'Campus',
  provider: 'oneroster',
  version: '1.2',
  vendor: 'generic',
  baseUrl: 'https://sis.district.test/ims/oneroster/rostering/v1p2',
  auth: { type: 'oauth2', tokenUrl: 'https://sis.district.test/token', clientId: 'c', clientSecret: 'top-secret' },
  ...overrides,
});

function setup(sisSync: SisSyncConfig = config) {
  const repository = new InMemorySisConnectionRepository();
  const clock = new FixedClock();
  return {
    repository,
    clock,
    create: new CreateConnectionHandler(repository, sisSync, clock),
    update: new UpdateConnectionHandler(repository, sisSync, clock),
    ensureCsv: new EnsureCsvImportConnectionHandler(repository, clock),
  };
}

describe('connection commands', () => {
  it('creates a connection, passing the secret to the repository and not into the settings', async () => {
    const { create, repository } = setup();
    const created = await create.execute(new CreateConnectionCommand('admin', body({ name: '  Campus  ' })));
    expect(created).toMatchObject({ name: 'Campus', provider: 'oneroster', enabled: true, hasSecret: true });
    expect(repository.rows.get(created.id)?.secret).toBe('top-secret');
    expect(JSON.stringify(created)).not.toContain('top-secret');
  });

  it('refuses unknown providers, the reserved CSV name, and http in production', async () => {
    const { create } = setup();
    await expect(create.execute(new CreateConnectionCommand('a', body({ provider: 'clever' })))).rejects.toBeInstanceOf(
      ProviderNotSupportedError,
    );
    await expect(
      create.execute(new CreateConnectionCommand('a', body({ name: CSV_IMPORT_CONNECTION_NAME.toUpperCase() }))),
    ).rejects.toBeInstanceOf(ConnectionNameTakenError);
    await expect(
      create.execute(new CreateConnectionCommand('a', { name: CSV_IMPORT_CONNECTION_NAME, provider: 'oneroster-csv' })),
    ).rejects.toBeInstanceOf(ConnectionNameTakenError);
    await expect(
      create.execute(new CreateConnectionCommand('a', body({ baseUrl: 'http://sis.district.test/oneroster' }))),
    ).rejects.toMatchObject({ details: { field: 'baseUrl' } });
  });

  describe('under the strict address policy (production, or SIS_BLOCK_PRIVATE_ADDRESSES=true)', () => {
    const strict: SisSyncConfig = {
      ...config,
      addressPolicy: { refuseInternal: true, refusePrivate: true, allowedHosts: ['10.9.8.7'] },
    };

    it.each([
      ['loopback', 'https://127.0.0.1:9464/metrics'],
      ['cloud metadata (link-local)', 'https://169.254.169.254/latest/meta-data'],
      ['IPv6 loopback', 'https://[::1]/ims'],
      ['a private range', 'https://10.1.2.3/ims'],
      ['IPv4-mapped loopback', 'https://[::ffff:127.0.0.1]/ims'],
      ['localhost', 'https://localhost:3000/ims'],
    ])('refuses a base URL pointing at %s on create and on update', async (_label, url) => {
      const { create, update, repository } = setup(strict);
      await expect(create.execute(new CreateConnectionCommand('a', body({ baseUrl: url })))).rejects.toMatchObject({
        code: 'SIS_SYNC.INVALID_CONNECTION_SETTINGS',
        details: { field: 'baseUrl' },
      });
      const created = await create.execute(new CreateConnectionCommand('a', body()));
      await expect(
        update.execute(new UpdateConnectionCommand('a', created.id, { baseUrl: url })),
      ).rejects.toBeInstanceOf(InvalidConnectionSettingsError);
      expect(repository.rows.get(created.id)?.connection).toEqual(created);
    });

    it('refuses an internal token URL too, and allows what SIS_ALLOWED_HOSTS lists', async () => {
      const { create } = setup(strict);
      const auth = { type: 'oauth2', tokenUrl: 'https://169.254.169.254/token', clientId: 'c', clientSecret: 's' };
      await expect(create.execute(new CreateConnectionCommand('a', body({ auth })))).rejects.toMatchObject({
        details: { field: 'auth.tokenUrl' },
      });
      const allowed = await create.execute(
        new CreateConnectionCommand('a', body({ baseUrl: 'https://10.9.8.7/ims/oneroster/rostering/v1p2' })),
      );
      expect(allowed.settings.baseUrl).toBe('https://10.9.8.7/ims/oneroster/rostering/v1p2');
    });
  });

  it('updates settings, keeps the secret and bumps updatedAt; the provider stays', async () => {
    const { create, update, repository, clock } = setup();
    const created = await create.execute(new CreateConnectionCommand('a', body()));
    clock.advance(60_000);
    const updated = await update.execute(
      new UpdateConnectionCommand('a', created.id, { pageSize: 500, enabled: false, name: 'Campus (prod)' }),
    );
    expect(updated).toMatchObject({ name: 'Campus (prod)', enabled: false, provider: 'oneroster', hasSecret: true });
    expect(updated.settings.pageSize).toBe(500);
    expect(updated.updatedAt.getTime() - created.updatedAt.getTime()).toBe(60_000);
    expect(repository.rows.get(created.id)?.secret).toBe('top-secret');
  });

  it('rejects an invalid update without changing anything', async () => {
    const { create, update, repository } = setup();
    const created = await create.execute(new CreateConnectionCommand('a', body()));
    await expect(
      update.execute(
        new UpdateConnectionCommand('a', created.id, { schedule: { cron: 'every day', timeZone: 'UTC' } }),
      ),
    ).rejects.toBeInstanceOf(InvalidConnectionSettingsError);
    expect(repository.rows.get(created.id)?.connection).toEqual(created);
  });

  it('creates a CSV connection: name, version, school scope, thresholds, field policies; nothing to call', async () => {
    const { create, repository } = setup();
    const created = await create.execute(
      new CreateConnectionCommand('admin', {
        name: 'Charter school feed',
        provider: 'oneroster-csv',
        version: '1.1',
        vendor: 'infinite-campus',
        schoolScope: ['charter-1'],
        thresholds: { people: { deactivate: { maxCount: 5 } } },
        fieldPolicies: { phone: 'local' },
      }),
    );
    expect(created).toMatchObject({ name: 'Charter school feed', provider: 'oneroster-csv', hasSecret: false });
    expect(created.settings).toMatchObject({
      version: '1.1',
      baseUrl: null,
      auth: { type: 'none' },
      schedule: null,
      peakHours: null,
      schoolScope: ['charter-1'],
      fieldPolicies: { phone: 'local' },
      personMergeRule: 'ic-role-prefix',
    });
    expect(created.settings.thresholds.people).toEqual({ deactivate: { maxCount: 5 } });
    expect(created.settings.thresholds['*']?.deactivate).toEqual({ maxPercent: 10 });
    expect(repository.rows.get(created.id)?.secret).toBeNull();
  });

  it('refuses a base URL, credentials, a schedule or peak hours on a CSV connection with one 422 naming each', async () => {
    const { create, update, repository } = setup();
    const refused = create.execute(
      new CreateConnectionCommand('a', {
        name: 'CSV with an endpoint',
        provider: 'oneroster-csv',
        baseUrl: 'https://sis.district.test/ims/oneroster/rostering/v1p2',
        auth: { type: 'oauth2', tokenUrl: 'https://sis.district.test/token', clientId: 'c', clientSecret: 's' },
        schedule: { cron: '@daily', timeZone: 'America/Chicago' },
        peakHours: { start: '07:00', end: '16:00', concurrency: 1, timeZone: 'America/Chicago' },
      }),
    );
    const error = await refused.then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(InvalidConnectionSettingsError);
    const issues = (error as InvalidConnectionSettingsError).issues;
    expect(issues.map((issue) => issue.field)).toEqual(['baseUrl', 'auth.type', 'schedule', 'peakHours']);
    expect(issues[0].message).toMatch(/upload/);
    expect(repository.rows.size).toBe(0);

    const created = await create.execute(new CreateConnectionCommand('a', { name: 'Feed', provider: 'oneroster-csv' }));
    await expect(
      update.execute(new UpdateConnectionCommand('a', created.id, { baseUrl: 'https://sis.district.test/x' })),
    ).rejects.toMatchObject({ code: 'SIS_SYNC.INVALID_CONNECTION_SETTINGS', details: { field: 'baseUrl' } });
    // A vendor whose preset limits peak-hour requests still makes no requests here.
    const revised = await update.execute(new UpdateConnectionCommand('a', created.id, { vendor: 'infinite-campus' }));
    expect(revised.settings.peakHours).toBeNull();
  });

  it('ensures one CSV upload connection', async () => {
    const { ensureCsv, repository, create } = setup();
    await create.execute(new CreateConnectionCommand('a', { name: 'Charter feed', provider: 'oneroster-csv' }));
    const first = await ensureCsv.execute();
    expect(await ensureCsv.execute()).toBe(first);
    expect(repository.rows.get(first)?.connection).toMatchObject({
      name: CSV_IMPORT_CONNECTION_NAME,
      provider: 'oneroster-csv',
      hasSecret: false,
    });
  });
});
