import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

const alias = [{ find: /^@app\/([a-z-]+)$/, replacement: resolve(import.meta.dirname, 'libs/$1/index.ts') }];

/**
 * Three tiers by file suffix: `*.spec.ts` unit (fakes, no I/O), `*.int-spec.ts` against real PostgreSQL and
 * Redis, `*.e2e-spec.ts` against the booted app. Every file gets its own database, so files run in parallel.
 */
export default defineConfig({
  resolve: { alias },
  test: {
    pool: 'forks',
    maxWorkers: 2,
    hookTimeout: 60_000,
    testTimeout: 30_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['src/**/*.spec.ts', 'libs/**/*.spec.ts'] } },
      {
        extends: true,
        test: { name: 'int', include: ['src/**/*.int-spec.ts', 'libs/**/*.int-spec.ts', 'test/**/*.int-spec.ts'] },
      },
      { extends: true, test: { name: 'e2e', include: ['test/**/*.e2e-spec.ts'] } },
    ],
  },
});
