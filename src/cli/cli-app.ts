import 'reflect-metadata';
import { isDomainError } from '@app/ddd';
import { ConsoleLogger, Module, type DynamicModule, type LogLevel } from '@nestjs/common';
import { CommandFactory } from 'nest-commander';
import { AppModule } from '../app.module.js';
import { AuditCliModule, runOfflineAuditCommand } from '../modules/audit/index.js';
import { IdentityCliModule } from '../modules/identity/index.js';
import { prepareRuntimeEnvironment, type RuntimeEnvironment } from '../runtime-environment.js';
import { CreateMigrationCommand, MigrateCommand, MigrationCommand } from './migration.commands.js';
import {
  RunsApproveCliCommand,
  RunsCliCommand,
  RunsDiscardCliCommand,
  RunsListCliCommand,
  RunsShowCliCommand,
} from './runs.commands.js';

/** Everything `homeroom` can run: the app in its `cli` role and the command classes. */
@Module({})
export class CliModule {
  static forRuntime(runtime: RuntimeEnvironment): DynamicModule {
    return {
      module: CliModule,
      imports: [
        AppModule.forRole({ role: 'cli', configuration: runtime.configuration, databaseUrl: runtime.databaseUrl }),
        IdentityCliModule,
        AuditCliModule,
      ],
      providers: [
        MigrateCommand,
        MigrationCommand,
        CreateMigrationCommand,
        RunsCliCommand,
        RunsListCliCommand,
        RunsShowCliCommand,
        RunsApproveCliCommand,
        RunsDiscardCliCommand,
      ],
    };
  }
}

/** Warnings and errors of the framework go to stderr: stdout carries the command's result (and `--json`) only. */
class StderrLogger extends ConsoleLogger {
  protected override printMessages(
    messages: unknown[],
    context?: string,
    logLevel?: LogLevel,
    _writeStreamType?: 'stdout' | 'stderr',
    errorStack?: unknown,
    params?: Record<string, unknown>,
  ): void {
    super.printMessages(messages, context, logLevel, 'stderr', errorStack, params);
  }
}

/** An error as the operator reads it on stderr: the message, and the stable code of a domain error. */
export function describeCliError(error: unknown): string {
  if (isDomainError(error)) return `${error.message} (${error.code})`;
  return error instanceof Error ? error.message : String(error);
}

/**
 * Boots the app for one command (after `parseBeforeBoot` accepted the arguments), runs it, closes everything
 * it opened and returns the exit status the command set.
 */
export async function runCli(argv: readonly string[], version: string | undefined): Promise<number> {
  // Offline verification of an exported bundle needs no configuration, database or service: answered first.
  const offline = await runOfflineAuditCommand([...argv]);
  if (offline !== undefined) return offline;
  const runtime = await prepareRuntimeEnvironment({ LOG_LEVEL: 'warn', ...process.env });
  try {
    const app = await CommandFactory.runWithoutClosing(CliModule.forRuntime(runtime), {
      logger: new StderrLogger('homeroom', { logLevels: ['error', 'warn'] }),
      cliName: 'homeroom',
      version,
      errorHandler: (error: Error & { code?: string }) => {
        if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return;
        console.error(describeCliError(error));
        process.exitCode = 1;
      },
      serviceErrorHandler: (error: Error) => {
        console.error(describeCliError(error));
        process.exitCode = 1;
      },
    });
    await app.close();
  } finally {
    await runtime.stop();
  }
  return Number(process.exitCode ?? 0);
}
