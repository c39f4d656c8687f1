import {
  commandMetadata,
  printResult,
  USERS_CLI,
  USERS_CREATE_ADMIN_CLI,
  USERS_RESET_PASSWORD_CLI,
} from '@app/cli-commands';
import { MikroORM, RequestContext } from '@mikro-orm/core';
import { CommandBus } from '@nestjs/cqrs';
import { Command, CommandRunner, Option, SubCommand } from 'nest-commander';
import { CreateAdminCommand } from '../../application/commands/create-admin.command.js';
import { ResetPasswordCommand } from '../../application/commands/reset-password.command.js';

interface CreateAdminOptions {
  email: string;
  displayName?: string;
  password?: string;
  json?: boolean;
}

@SubCommand(commandMetadata(USERS_CREATE_ADMIN_CLI))
export class CreateAdminCliCommand extends CommandRunner {
  constructor(
    private readonly commands: CommandBus,
    private readonly orm: MikroORM,
  ) {
    super();
  }

  async run(_params: string[], options: CreateAdminOptions): Promise<void> {
    if (!options.email) throw new Error('--email is required');
    const password = options.password ?? process.env['HOMEROOM_ADMIN_PASSWORD'] ?? undefined;
    const created = await RequestContext.create(this.orm.em, () =>
      this.commands.execute(
        new CreateAdminCommand(options.email, options.displayName ?? 'District administrator', password),
      ),
    );
    const document = { id: created.id, email: created.email, generatedPassword: created.generatedPassword ?? null };
    printResult(options.json, document, () => {
      console.log(`Created district administrator ${created.email} (${created.id}).`);
      if (created.generatedPassword) console.log(`Generated password (shown once): ${created.generatedPassword}`);
    });
  }

  @Option(USERS_CREATE_ADMIN_CLI.options.email)
  parseEmail(value: string): string {
    return value;
  }

  @Option(USERS_CREATE_ADMIN_CLI.options.displayName)
  parseDisplayName(value: string): string {
    return value;
  }

  @Option(USERS_CREATE_ADMIN_CLI.options.password)
  parsePassword(value: string): string {
    return value;
  }

  @Option(USERS_CREATE_ADMIN_CLI.options.json)
  parseJson(): boolean {
    return true;
  }
}

interface ResetPasswordOptions {
  email: string;
  password?: string;
  json?: boolean;
}

@SubCommand(commandMetadata(USERS_RESET_PASSWORD_CLI))
export class ResetPasswordCliCommand extends CommandRunner {
  constructor(
    private readonly commands: CommandBus,
    private readonly orm: MikroORM,
  ) {
    super();
  }

  async run(_params: string[], options: ResetPasswordOptions): Promise<void> {
    if (!options.email) throw new Error('--email is required');
    const reset = await RequestContext.create(this.orm.em, () =>
      this.commands.execute(new ResetPasswordCommand(options.email, options.password)),
    );
    const document = { id: reset.id, email: reset.email, generatedPassword: reset.generatedPassword ?? null };
    printResult(options.json, document, () => {
      console.log(`Reset the password of ${reset.email} (${reset.id}); every session of that user has ended.`);
      if (reset.generatedPassword) console.log(`Generated password (shown once): ${reset.generatedPassword}`);
    });
  }

  @Option(USERS_RESET_PASSWORD_CLI.options.email)
  parseEmail(value: string): string {
    return value;
  }

  @Option(USERS_RESET_PASSWORD_CLI.options.password)
  parsePassword(value: string): string {
    return value;
  }

  @Option(USERS_RESET_PASSWORD_CLI.options.json)
  parseJson(): boolean {
    return true;
  }
}

@Command({ ...commandMetadata(USERS_CLI), subCommands: [CreateAdminCliCommand, ResetPasswordCliCommand] })
export class UsersCliCommand extends CommandRunner {
  run(): Promise<void> {
    this.command.help();
    return Promise.resolve();
  }
}
