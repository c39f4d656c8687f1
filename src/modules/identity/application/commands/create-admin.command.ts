import { Command, CommandBus, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { randomBytes } from 'node:crypto';
import { CreateUserCommand } from './create-user.command.js';

export interface CreatedAdmin {
  id: string;
  email: string;
  /** Present when the password was generated: show it once, never log it. */
  generatedPassword?: string;
}

export class CreateAdminCommand extends Command<CreatedAdmin> {
  constructor(
    readonly email: string,
    readonly displayName: string,
    readonly password: string | undefined,
  ) {
    super();
  }
}

export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}

@CommandHandler(CreateAdminCommand)
export class CreateAdminHandler implements ICommandHandler<CreateAdminCommand> {
  constructor(private readonly commands: CommandBus) {}

  async execute({ email, displayName, password }: CreateAdminCommand): Promise<CreatedAdmin> {
    const chosen = password ?? generatePassword();
    const user = await this.commands.execute(new CreateUserCommand(email, displayName, chosen, ['district_admin'], []));
    return { id: user.id, email: user.email, ...(password ? {} : { generatedPassword: chosen }) };
  }
}
