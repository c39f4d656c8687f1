import { Command, CommandBus, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { NoUserWithEmailError } from '../../domain/identity.errors.js';
import { UserRepository } from '../ports/user.repository.js';
import { generatePassword } from './create-admin.command.js';
import { UpdateUserCommand } from './update-user.command.js';

export interface PasswordReset {
  id: string;
  email: string;
  /** Present when the password was generated: show it once, never log it. */
  generatedPassword?: string;
}

/** The actor of operator commands run on the server (never a user id, so no self-lockout rule applies). */
export const OPERATOR_ACTOR = 'operator-cli';

/** An operator resets a user's password (e.g. a locked-out district admin): like a PATCH, it ends every session. */
export class ResetPasswordCommand extends Command<PasswordReset> {
  constructor(
    readonly email: string,
    readonly password: string | undefined,
  ) {
    super();
  }
}

@CommandHandler(ResetPasswordCommand)
export class ResetPasswordHandler implements ICommandHandler<ResetPasswordCommand> {
  constructor(
    private readonly users: UserRepository,
    private readonly commands: CommandBus,
  ) {}

  async execute({ email, password }: ResetPasswordCommand): Promise<PasswordReset> {
    const user = await this.users.findByEmail(email);
    if (!user) throw new NoUserWithEmailError();
    const chosen = password ?? generatePassword();
    await this.commands.execute(new UpdateUserCommand(OPERATOR_ACTOR, user.id, { password: chosen }));
    return { id: user.id, email: user.email, ...(password ? {} : { generatedPassword: chosen }) };
  }
}
