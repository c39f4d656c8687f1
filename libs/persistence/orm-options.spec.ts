import { Configuration } from '@mikro-orm/core';
import { afterEach, describe, expect, it } from 'vitest';
import { buildOrmOptions } from './orm-options.js';

const COLOUR_VARIABLES = ['FORCE_COLOR', 'NO_COLOR', 'MIKRO_ORM_COLORS', 'MIKRO_ORM_NO_COLOR'] as const;
const saved = Object.fromEntries(COLOUR_VARIABLES.map((name) => [name, process.env[name]]));

afterEach(() => {
  for (const name of COLOUR_VARIABLES) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

describe('buildOrmOptions', () => {
  it('hands the log writer plain text: no ANSI colour inside the JSON log lines', () => {
    // As on a developer's terminal: nothing in the environment turns colours off.
    for (const name of COLOUR_VARIABLES) delete process.env[name];
    const written: string[] = [];
    const options = buildOrmOptions({ url: 'postgresql://localhost/homeroom', poolMax: 1, migrations: [] });
    const configuration = new Configuration({ ...options, logger: (message: string) => written.push(message) });
    const logger = configuration.getLogger();
    logger.log('migrator', "Applied 'Migration20260101000000_init'", { enabled: true });
    logger.warn('discovery', 'a warning', { enabled: true });
    logger.logQuery({ query: 'select 1', took: 2, enabled: true });
    expect(written).toHaveLength(3);
    expect(written[0]).toBe("[migrator] Applied 'Migration20260101000000_init'");
    for (const line of written) expect(line).not.toContain('\u001b');
  });
});
