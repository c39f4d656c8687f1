import { load } from 'js-yaml';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * CI has no Docker engine, so the compose file's security rules are checked on its text and structure here:
 * no password in the file, every password a required variable documented in docker/.env.example, only the API's
 * port published to the network, a healthcheck on every long-running service.
 */
const dockerDir = join(import.meta.dirname, '../../docker');
const composeText = readFileSync(join(dockerDir, 'compose.yaml'), 'utf8');
const envExample = readFileSync(join(dockerDir, '.env.example'), 'utf8');

type Node = Record<string, unknown>;

/** Resolves YAML merge keys (`<<: *anchor`), which the parser leaves as a `<<` entry. */
function merged(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(merged);
  if (typeof value !== 'object' || value === null) return value;
  const node = value as Node;
  const bases = node['<<'] === undefined ? [] : [node['<<']].flat();
  const result: Node = {};
  for (const base of bases) Object.assign(result, merged(base));
  for (const [key, child] of Object.entries(node)) if (key !== '<<') result[key] = merged(child);
  return result;
}

interface Service {
  image?: string;
  build?: unknown;
  restart?: string;
  command?: unknown;
  ports?: (string | { published?: unknown; host_ip?: string })[];
  environment?: Record<string, unknown>;
  healthcheck?: { test?: unknown; disable?: boolean };
}

const compose = merged(load(composeText)) as { services: Record<string, Service> };
const services = compose.services;
const SECRET_NAME = /PASSWORD|SECRET|_KEY$|_KEYS$/;

function variablesIn(text: string): Set<string> {
  return new Set([...text.matchAll(/\$\{([A-Z0-9_]+)/g)].map((match) => match[1]));
}

describe('docker/compose.yaml', () => {
  it('holds no password: every secret setting is a variable, every password a required one', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [key, raw] of Object.entries(service.environment ?? {})) {
        const value = String(raw);
        if (SECRET_NAME.test(key)) {
          expect(value, `${name}.${key}`).toMatch(/^\$\{[A-Z0-9_]+(:[?-][^}]*)?\}$/);
          // A default would be a password written in the file; only an empty one (an optional setting) is allowed.
          if (/PASSWORD/.test(key)) expect(value, `${name}.${key}`).toMatch(/^\$\{[A-Z0-9_]+(:\?[^}]*|:-)\}$/);
        }
        // Credentials inside URLs come from required variables too.
        const inUrl = /^[a-z]+:\/\/([^@/]*)@/.exec(value)?.[1];
        if (inUrl !== undefined) {
          const password = inUrl.split(':').slice(1).join(':');
          expect(password, `${name}.${key}`).toMatch(/^\$\{[A-Z0-9_]+:\?[^}]*\}$/);
        }
      }
    }
    // No non-empty default on any password variable anywhere in the file (commands and healthchecks included).
    expect(composeText).not.toMatch(/\$\{[A-Z0-9_]*PASSWORD:-[^}]/);
    // The database superuser's and the roles' passwords are required: compose refuses to start without them.
    const postgres = services['postgres'].environment ?? {};
    for (const key of ['POSTGRES_PASSWORD', 'HOMEROOM_DB_OWNER_PASSWORD', 'HOMEROOM_DB_APP_PASSWORD']) {
      expect(postgres[key], key).toMatch(new RegExp(`^\\$\\{${key}:\\?`));
    }
  });

  it('runs Redis with a password, and gives it to the api and worker in REDIS_URL', () => {
    const redis = services['redis'];
    expect(redis.environment?.['REDIS_PASSWORD']).toMatch(/^\$\{REDIS_PASSWORD:\?/);
    expect(JSON.stringify(redis.command ?? [])).toContain('requirepass');
    expect(JSON.stringify(redis.healthcheck?.test)).toContain('REDISCLI_AUTH');
    for (const name of ['api', 'worker', 'migrate']) {
      expect(String(services[name].environment?.['REDIS_URL']), name).toMatch(
        /^redis:\/\/:\$\{REDIS_PASSWORD:\?[^}]*\}@redis:6379$/,
      );
    }
  });

  it('publishes only the API port to the network; anything else only on the host loopback', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const port of service.ports ?? []) {
        const text = typeof port === 'string' ? port : `${port.host_ip ?? ''}:${String(port.published)}`;
        if (name === 'api') continue;
        expect(text, `${name} publishes ${text}`).toMatch(/^127\.0\.0\.1:/);
      }
    }
    expect(services['api'].ports).toEqual(['3000:3000']);
  });

  it('gives the data stores, the api and the worker a healthcheck; the api and worker probe readiness', () => {
    for (const name of ['postgres', 'redis', 'api', 'worker']) {
      const service = services[name];
      expect(service.healthcheck?.disable, name).not.toBe(true);
      expect(service.healthcheck?.test, name).toBeDefined();
    }
    expect(JSON.stringify(services['api'].healthcheck?.test)).toContain('/health/ready');
    expect(JSON.stringify(services['worker'].healthcheck?.test)).toContain(':9464/health/ready');
  });

  it('documents every variable it reads in docker/.env.example', () => {
    const documented = new Set([...envExample.matchAll(/^([A-Z0-9_]+)=/gm)].map((match) => match[1]));
    const missing = [...variablesIn(composeText)].filter((name) => !documented.has(name));
    expect(missing).toEqual([]);
    // And the example holds no value for a password or key: each operator sets their own.
    for (const line of envExample.split('\n')) {
      const [name, value] = line.split('=', 2);
      if (value !== undefined && SECRET_NAME.test(name)) expect(value, name).toBe('');
    }
  });
});
