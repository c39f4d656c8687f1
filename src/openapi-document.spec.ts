import 'reflect-metadata';
import { PROBLEM_CONTENT_TYPE } from '@app/http';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { previewOpenApiDocument } from './openapi-preview.js';
import type { BuiltOpenApiDocument } from './openapi-document.js';

interface Operation {
  summary?: string;
  security?: unknown[];
  requestBody?: { content: Record<string, { schema?: Record<string, unknown>; example?: unknown }> };
  responses: Record<string, { content?: Record<string, { schema?: { allOf?: { $ref?: string }[] } }> }>;
}

/**
 * The OpenAPI document is a contract, built without a database: it passes Redocly's lint with the committed
 * redocly.yaml (recommended-strict, problem details on every 4xx, examples that match their schemas), and its
 * request schemas agree with the validators.
 */
describe('OpenAPI document', () => {
  let built: BuiltOpenApiDocument;
  let operations: [string, Operation][];
  const dir = mkdtempSync(join(tmpdir(), 'homeroom-openapi-'));

  beforeAll(async () => {
    built = await previewOpenApiDocument();
    const paths = built.document.paths as unknown as Record<string, Record<string, Operation>>;
    operations = Object.entries(paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, operation]): [string, Operation] => [
        `${method.toUpperCase()} ${path}`,
        operation,
      ]),
    );
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('has request schemas that agree with their validators', () => {
    expect(built.report.mismatches).toEqual([]);
  });

  it('passes `redocly lint` with redocly.yaml', () => {
    const file = join(dir, 'openapi.json');
    writeFileSync(file, JSON.stringify(built.document));
    const cli = resolve(import.meta.dirname, '../node_modules/@redocly/cli/bin/cli.js');
    const lint = spawnSync(
      process.execPath,
      [cli, 'lint', file, '--config', resolve(import.meta.dirname, '../redocly.yaml'), '--format', 'stylish'],
      { encoding: 'utf8', env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' } },
    );
    expect(lint.status, `${lint.stdout}\n${lint.stderr}`).toBe(0);
  }, 120_000);

  it('documents every error response as a problem document with the shared schema and its codes', () => {
    for (const [name, operation] of operations) {
      const statuses = Object.keys(operation.responses);
      expect(
        statuses.some((status) => /^2/.test(status)),
        name,
      ).toBe(true);
      expect(
        statuses.some((status) => /^4/.test(status)),
        name,
      ).toBe(true);
      expect(operation.summary, name).toBeTruthy();
      for (const status of statuses.filter((status) => /^4/.test(status))) {
        const schema = operation.responses[status].content?.[PROBLEM_CONTENT_TYPE]?.schema;
        expect(schema?.allOf?.[0]?.$ref, `${name} ${status}`).toBe('#/components/schemas/Problem');
      }
    }
  });

  it('marks public routes as such and requires the bearer token elsewhere', () => {
    const open = operations.filter(([, operation]) => operation.security?.length === 0).map(([name]) => name);
    expect(open.sort()).toEqual([
      'GET /api/v1/audit/public-key',
      'GET /health/live',
      'GET /health/ready',
      'POST /api/v1/auth/login',
      'POST /api/v1/auth/refresh',
    ]);
  });

  it('closes every JSON request body and gives it an example', () => {
    const schemas = built.document.components?.schemas as Record<string, Record<string, unknown>>;
    for (const [name, operation] of operations) {
      const json = operation.requestBody?.content['application/json'];
      if (!json) continue;
      expect(json.example, name).toBeDefined();
      const ref = (json.schema?.['$ref'] as string | undefined)?.split('/').at(-1);
      expect(ref, name).toBeDefined();
      expect(schemas[ref!]['additionalProperties'], name).toBe(false);
    }
  });

  it('describes hold reasons as the objects a run carries', () => {
    const schemas = built.document.components?.schemas as Record<string, { properties: Record<string, unknown> }>;
    expect(schemas['SyncRunDto'].properties['holdReasons']).toMatchObject({
      type: 'array',
      items: { type: 'object', required: ['kind', 'entity', 'count'] },
    });
  });
});
