import type { MigrationObject } from '@mikro-orm/core';

/**
 * Every migration, in order. `npm run migration:create` appends new ones here; the list is explicit so the
 * same build runs under tsc output, the test runner and the Docker image without file globbing.
 */
export const migrations: MigrationObject[] = [];
