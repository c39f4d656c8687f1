#!/usr/bin/env node
// `npm run lint:openapi`: writes the OpenAPI document of the built app to a temporary file (no database, Redis
// or port needed: dist/src/openapi-export.js builds it from a preview app) and lints it with Redocly against the
// committed redocly.yaml. Exits non-zero on any Redocly error or request schema that disagrees with its validators.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const exporter = join(root, 'dist/src/openapi-export.js');
if (!existsSync(exporter)) {
  console.error('dist/src/openapi-export.js is missing: run `npm run build` first');
  process.exit(1);
}
const redocly = join(dirname(createRequire(import.meta.url).resolve('@redocly/cli/package.json')), 'bin/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'homeroom-openapi-'));
const file = join(dir, 'openapi.json');
const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' };
try {
  const exported = spawnSync(process.execPath, [exporter, file], { stdio: 'inherit', cwd: root, env });
  if (exported.status !== 0) process.exit(exported.status ?? 1);
  const lint = spawnSync(process.execPath, [redocly, 'lint', file, '--config', join(root, 'redocly.yaml')], {
    stdio: 'inherit',
    cwd: root,
    env,
  });
  process.exitCode = lint.status ?? 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
