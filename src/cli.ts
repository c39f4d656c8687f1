import { CLI_COMMANDS, parseBeforeBoot } from '@app/cli-commands';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * `npx homeroom <command>`. The arguments are checked against the command catalogue first: help, version and
 * usage errors are answered without reading configuration, writing secrets or opening the database. Only a
 * command that will run boots the app (imported lazily: loading it takes seconds). The process then exits with
 * the command's status, whatever connection (Redis, a pool) might still hold the event loop.
 */
async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const version = packageVersion();
  const decision = parseBeforeBoot(argv, {
    name: 'homeroom',
    version,
    description: 'Homeroom operator commands (run `homeroom <command> --help` for one command)',
    commands: CLI_COMMANDS,
  });
  if (decision.kind === 'answered') return decision.code;
  const { runCli } = await import('./cli/cli-app.js');
  return runCli(argv, version);
}

/** The compiled entry lives in dist/src; package.json ships beside dist (also in the Docker image). */
function packageVersion(): string | undefined {
  const file = fileURLToPath(new URL('../../package.json', import.meta.url));
  if (!existsSync(file)) return undefined;
  return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version;
}

/** Exits once stdout and stderr are flushed, so a piped JSON document is never cut short. */
function exit(code: number): void {
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

main().then(exit, (error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  exit(1);
});
