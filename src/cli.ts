import 'reflect-metadata';
import { Module, type DynamicModule } from '@nestjs/common';
import { CommandFactory } from 'nest-commander';
import { AppModule } from './app.module.js';
import { CreateMigrationCommand, MigrateCommand, MigrationCommand } from './cli/migration.commands.js';
import { AuditCliModule, runOfflineAuditCommand } from './modules/audit/index.js';
import { IdentityCliModule } from './modules/identity/index.js';
import { prepareRuntimeEnvironment, type RuntimeEnvironment } from './runtime-environment.js';

@Module({})
class CliModule {
  static forRuntime(runtime: RuntimeEnvironment): DynamicModule {
    return {
      module: CliModule,
      imports: [
        AppModule.forRole({ role: 'cli', configuration: runtime.configuration, databaseUrl: runtime.databaseUrl }),
        IdentityCliModule,
        AuditCliModule,
      ],
      providers: [MigrateCommand, MigrationCommand, CreateMigrationCommand],
    };
  }
}

/** `npx homeroom <command>`: operator commands run against the configured (or embedded) database. */
async function main(): Promise<void> {
  // Offline verification of an exported bundle needs no configuration, database or service: answered first.
  const offline = await runOfflineAuditCommand(process.argv.slice(2));
  if (offline !== undefined) {
    process.exitCode = offline;
    return;
  }
  const runtime = await prepareRuntimeEnvironment({ LOG_LEVEL: 'warn', ...process.env });
  try {
    const app = await CommandFactory.runWithoutClosing(CliModule.forRuntime(runtime), {
      logger: ['error', 'warn'],
      cliName: 'homeroom',
      errorHandler: (error: Error & { code?: string }) => {
        if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return;
        console.error(error.message);
        process.exitCode = 1;
      },
      serviceErrorHandler: (error: Error) => {
        console.error(error.message);
        process.exitCode = 1;
      },
    });
    await app.close();
  } finally {
    await runtime.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
