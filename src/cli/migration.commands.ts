import { migrateDatabase, PERSISTENCE_SETTINGS, type PersistenceSettings } from '@app/persistence';
import { MikroORM } from '@mikro-orm/core';
import { Inject } from '@nestjs/common';
import { commandMetadata, MIGRATE_CLI, MIGRATION_CLI, MIGRATION_CREATE_CLI, printResult } from '@app/cli-commands';
import { Command, CommandRunner, Option, SubCommand } from 'nest-commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

@Command(commandMetadata(MIGRATE_CLI))
export class MigrateCommand extends CommandRunner {
  constructor(
    private readonly orm: MikroORM,
    @Inject(PERSISTENCE_SETTINGS) private readonly settings: PersistenceSettings,
  ) {
    super();
  }

  async run(_params: string[], options: { json?: boolean }): Promise<void> {
    const { applied } = await migrateDatabase(this.orm, this.settings);
    printResult(options.json, { applied }, () =>
      console.log(applied.length === 0 ? 'The database is up to date.' : `Applied: ${applied.join(', ')}`),
    );
  }

  @Option(MIGRATE_CLI.options.json)
  parseJson(): boolean {
    return true;
  }
}

@SubCommand(commandMetadata(MIGRATION_CREATE_CLI))
export class CreateMigrationCommand extends CommandRunner {
  constructor(private readonly orm: MikroORM) {
    super();
  }

  async run([name]: string[], options: { json?: boolean }): Promise<void> {
    const major = Number(process.versions.node.split('.')[0]);
    if (major < 22) {
      // MikroORM 7's migration generator imports fs.globSync, which Node gained in 22.
      throw new Error(
        `migration create needs Node.js 22 or later (this is ${process.versions.node}). ` +
          'Run it under Node 22, or write the migration by hand as in src/migrations/.',
      );
    }
    const directory = resolve('src/migrations');
    const result = await this.orm.migrator.create(directory, false, false, name);
    if (!result.fileName) {
      printResult(options.json, { written: null }, () => console.log('No schema changes: nothing to write.'));
      return;
    }
    registerMigration(directory, result.fileName);
    printResult(options.json, { written: `src/migrations/${result.fileName}` }, () =>
      console.log(`Wrote src/migrations/${result.fileName} and registered it in src/migrations/index.ts`),
    );
  }

  @Option(MIGRATION_CREATE_CLI.options.json)
  parseJson(): boolean {
    return true;
  }
}

@Command({ ...commandMetadata(MIGRATION_CLI), subCommands: [CreateMigrationCommand] })
export class MigrationCommand extends CommandRunner {
  run(): Promise<void> {
    this.command.help();
    return Promise.resolve();
  }
}

/** Adds the generated class to the explicit migrations list, which is what the app runs. */
function registerMigration(directory: string, fileName: string): void {
  const index = join(directory, 'index.ts');
  const module = basename(fileName).replace(/\.ts$/, '');
  const source = readFileSync(join(directory, fileName), 'utf8');
  const className = /export class (\w+)/.exec(source)?.[1];
  if (!className) throw new Error(`Could not find the migration class in ${fileName}`);
  let text = readFileSync(index, 'utf8');
  text = text.replace(
    /(import type \{ MigrationObject \} from '@mikro-orm\/core';\n)/,
    `$1import { ${className} } from './${module}.js';\n`,
  );
  text = text.replace(/\n\];\s*$/, `\n  { name: '${module}', class: ${className} },\n];\n`);
  writeFileSync(index, text);
}
