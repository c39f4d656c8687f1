import { Writable } from 'node:stream';
import { pino, type LoggerOptions } from 'pino';
import { describe, expect, it } from 'vitest';
import type { AppConfig } from './config/index.js';
import { createLoggerOptions } from './logger-options.js';

/** The pino logger nestjs-pino builds from the options, writing its JSON lines into an array. */
function loggerWritingTo(lines: Record<string, unknown>[]) {
  const { pinoHttp } = createLoggerOptions({ logLevel: 'info' } as AppConfig);
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return pino(pinoHttp as LoggerOptions, stream);
}

describe('createLoggerOptions', () => {
  it('writes JSON lines without ANSI escapes, whatever a library colours its message with', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = loggerWritingTo(lines);
    logger.info({ context: 'MikroORM' }, "\u001b[90m[migrator] \u001b[39mApplied 'Migration20260101000000_init'");
    logger.warn('\u001b[1m\u001b[33mwarning:\u001b[39m\u001b[22m %s', '\u001b[36mcoloured argument\u001b[39m');
    logger.info({ msg: '\u001b[31mred in an object\u001b[39m' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines.map((line) => line['msg'])).toEqual([
      "[migrator] Applied 'Migration20260101000000_init'",
      'warning: coloured argument',
      'red in an object',
    ]);
    expect(JSON.stringify(lines)).not.toContain('\\u001b');
  });
});
