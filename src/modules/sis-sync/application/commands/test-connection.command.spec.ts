import type { RosterEntity } from '@app/contracts';
import { Clock } from '@app/ddd';
import { describe, expect, it } from 'vitest';
import { csvImportConnectionSettings } from '../../domain/connection-defaults.js';
import type { SisConnection, SisConnectionSettings } from '../../domain/sis-connection.js';
import { ConnectionNotFoundError } from '../../domain/sis-sync.errors.js';
import type { ConnectionHealthRepository } from '../ports/connection-health.repository.js';
import type { SisConnectionRepository } from '../ports/sis-connection.repository.js';
import type { OpenSourceContext, SisSourceFactory } from '../ports/sis-source.factory.js';
import { SisSource, SisSourceError, type SisCheckResult, type SisEntityPull } from '../ports/sis-source.port.js';
import { TestConnectionCommand, TestConnectionHandler } from './test-connection.command.js';

const SECRET = 'client-secret-value-123';
const CONNECTION_ID = 'c0000000-0000-4000-8000-000000000001';

class FixedClock extends Clock {
  now(): Date {
    return new Date('2026-11-25T08:00:00Z');
  }
}

type CheckBehaviour = (signal: AbortSignal | undefined, context: OpenSourceContext) => Promise<SisCheckResult[]>;

class ScriptedSource extends SisSource {
  closed = false;
  constructor(
    private readonly behaviour: CheckBehaviour,
    private readonly context: OpenSourceContext,
  ) {
    super();
  }
  entities() {
    return [] as const;
  }
  pull<E extends RosterEntity>(): Promise<SisEntityPull<E>> {
    throw new Error('not used');
  }
  describe(): string {
    return 'scripted';
  }
  checkAccess(signal?: AbortSignal): Promise<SisCheckResult[]> {
    return this.behaviour(signal, this.context);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

function settings(overrides: Partial<SisConnectionSettings> = {}): SisConnectionSettings {
  return {
    ...csvImportConnectionSettings(),
    version: '1.2',
    baseUrl: 'https://sis.test/ims/oneroster/rostering/v1p2',
    auth: { type: 'oauth2', tokenUrl: 'https://sis.test/token', clientId: 'homeroom' },
    requestTimeoutMs: 1_000,
    ...overrides,
  };
}

function connection(overrides: Partial<SisConnection> = {}): SisConnection {
  return {
    id: CONNECTION_ID,
    name: 'District SIS',
    provider: 'oneroster',
    settings: settings(),
    hasSecret: true,
    enabled: true,
    createdAt: new Date(),
    updatedAt: new Date(),
    ...overrides,
  };
}

const pass = (check: SisCheckResult['check']): SisCheckResult => ({ check, ok: true, detail: 'fine', durationMs: 1 });

function world(behaviour: CheckBehaviour | Error, found: SisConnection | null = connection()) {
  const sources: ScriptedSource[] = [];
  const tokens: { connectionId: string; expiresAt: Date | null }[] = [];
  const connections = {
    findWithSecret: async (id: string) => (found && found.id === id ? { connection: found, secret: SECRET } : null),
  } as unknown as SisConnectionRepository;
  const factory = {
    open: async (_connection: SisConnection, _secret: string | null, context: OpenSourceContext) => {
      if (behaviour instanceof Error) throw behaviour;
      const source = new ScriptedSource(behaviour, context);
      sources.push(source);
      return source;
    },
  } as unknown as SisSourceFactory;
  const health = {
    recordToken: async (connectionId: string, expiresAt: Date | null) => {
      tokens.push({ connectionId, expiresAt });
    },
  } as unknown as ConnectionHealthRepository;
  const handler = new TestConnectionHandler(connections, factory, health, new FixedClock());
  return { handler, sources, tokens, test: () => handler.execute(new TestConnectionCommand(CONNECTION_ID)) };
}

describe('TestConnectionHandler', () => {
  it('passes when every check passes, closes the source and records the token the checks obtained', async () => {
    const expiresAt = new Date('2026-11-25T09:00:00Z');
    const { test, sources, tokens } = world(async (_signal, context) => {
      context.observer.onToken?.({ expiresAt });
      return [pass('reachability'), pass('credentials'), pass('permission:orgs')];
    });
    const result = await test();
    expect(result.ok).toBe(true);
    expect(result.checks.map((check) => check.check)).toEqual(['reachability', 'credentials', 'permission:orgs']);
    expect(sources[0]?.closed).toBe(true);
    expect(tokens).toEqual([{ connectionId: CONNECTION_ID, expiresAt }]);
  });

  it('fails when any check fails, and never repeats the secret', async () => {
    const { test } = world(async () => [
      pass('reachability'),
      { check: 'credentials', ok: false, detail: `refused ${SECRET} (401)`, durationMs: 3 },
    ]);
    const result = await test();
    expect(result.ok).toBe(false);
    expect(result.checks[1]).toMatchObject({ check: 'credentials', ok: false, detail: 'refused [redacted] (401)' });
    expect(JSON.stringify(result)).not.toContain(SECRET);
  });

  it('answers within the request timeout when the source ignores the signal', async () => {
    const { test, sources } = world(
      () => new Promise<SisCheckResult[]>((resolve) => setTimeout(() => resolve([]), 3_000)),
    );
    const started = Date.now();
    const result = await test();
    expect(Date.now() - started).toBeLessThan(1_200);
    expect(result).toMatchObject({
      ok: false,
      checks: [{ check: 'reachability', ok: false, detail: expect.stringMatching(/^Timed out/) }],
    });
    expect(sources[0]?.closed).toBe(false);
  });

  it('keeps what finished and marks the check the deadline cut short as timed out', async () => {
    const { test } = world(async (signal) => {
      const results = [pass('reachability'), pass('credentials')];
      await new Promise<void>((resolve) => signal?.addEventListener('abort', () => resolve()));
      // An adapter that loses the abort reason still gets "Timed out".
      results.push({ check: 'permission:classes', ok: false, detail: 'This operation was aborted', durationMs: 800 });
      results.push({
        check: 'permission:users',
        ok: false,
        detail: (signal?.reason as Error).message,
        durationMs: 0,
      });
      return results;
    });
    const result = await test();
    expect(result.ok).toBe(false);
    expect(result.checks.slice(0, 2)).toHaveLength(2);
    expect(result.checks.slice(0, 2).every((check) => check.ok)).toBe(true);
    expect(result.checks.slice(2).map((check) => check.detail)).toEqual([
      "Timed out: no answer within the connection's request timeout (1000 ms)",
      "Timed out: no answer within the connection's request timeout (1000 ms)",
    ]);
  });

  it('turns a source that cannot be opened into a verdict on what is wrong', async () => {
    const auth = await world(
      new SisSourceError('SIS_SYNC.SOURCE_AUTH_FAILED', 'The connection has no client secret'),
    ).test();
    expect(auth).toMatchObject({ ok: false, checks: [{ check: 'credentials', ok: false }] });
    const protocol = await world(new SisSourceError('SIS_SYNC.SOURCE_PROTOCOL_ERROR', 'No base URL')).test();
    expect(protocol).toMatchObject({
      ok: false,
      checks: [{ check: 'reachability', ok: false, detail: 'No base URL' }],
    });
  });

  it('refuses unknown connections', async () => {
    await expect(world(async () => [], null).test()).rejects.toBeInstanceOf(ConnectionNotFoundError);
  });

  it('tells a CSV connection what can be checked: no SIS to reach, its packages by a dry-run upload', async () => {
    const csv = connection({ provider: 'oneroster-csv', settings: csvImportConnectionSettings(), hasSecret: false });
    const result = await world(async () => {
      throw new Error('a CSV connection has no source to open');
    }, csv).test();
    expect(result).toMatchObject({ ok: true, checks: [{ check: 'upload', ok: true }] });
    expect(result.checks[0].detail).toContain('dryRun=true');
    expect(result.checks[0].detail).toContain(`connectionId=${csv.id}`);

    const disabled = await world(async () => [], { ...csv, enabled: false }).test();
    expect(disabled).toMatchObject({ ok: false, checks: [{ check: 'upload', ok: false }] });
    expect(disabled.checks[0].detail).toMatch(/disabled/);
  });
});
