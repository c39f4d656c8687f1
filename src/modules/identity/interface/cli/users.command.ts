import { MikroORM, RequestContext } from '@mikro-orm/core';
import { CommandBus } from '@nestjs/cqrs';
import { Command, CommandRunner, Option, SubCommand } from 'nest-commander';
import { CreateAdminCommand } from '../../application/commands/create-admin.command.js';
import { ResetPasswordCommand } from '../../application/commands/reset-password.command.js';

interface CreateAdminOptions {
  email: string;
  displayName?: string;
  password?: string;
}

@SubCommand({ name: 'create-admin', description: 'Create a district administrator' })
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
    console.log(`Created district administrator ${created.email} (${created.id}).`);
    if (created.generatedPassword) console.log(`Generated password (shown once): ${created.generatedPassword}`);
  }

  @Option({ flags: '--email <email>', description: 'sign-in email', required: true })
  parseEmail(value: string): string {
    return value;
  }

  @Option({ flags: '--display-name <name>', description: 'name shown in the UI' })
  parseDisplayName(value: string): string {
    return value;
  }

  @Option({ flags: '--password <password>', description: 'at least 12 characters; generated when omitted' })
  parsePassword(value: string): string {
    return value;
  }
}

interface ResetPasswordOptions {
  email: string;
  password?: string;
}

@SubCommand({
  name: 'reset-password',
  description: "Set a user's password (generated when omitted) and end every session of that user",
})
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
    console.log(`Reset the password of ${reset.email} (${reset.id}); every session of that user has ended.`);
    if (reset.generatedPassword) console.log(`Generated password (shown once): ${reset.generatedPassword}`);
  }

  @Option({ flags: '--email <email>', description: 'sign-in email of the user', required: true })
  parseEmail(value: string): string {
    return value;
  }

  @Option({ flags: '--password <password>', description: 'at least 12 characters; generated when omitted' })
  parsePassword(value: string): string {
    return value;
  }
}

@Command({
  name: 'users',
  description: 'User administration',
  subCommands: [CreateAdminCliCommand, ResetPasswordCliCommand],
})
export class UsersCliCommand extends CommandRunner {
  run(): Promise<void> {
    this.command.help();
    return Promise.resolve();
  }
}
