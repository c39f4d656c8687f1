import { Module } from '@nestjs/common';
import { CreateAdminCliCommand, ResetPasswordCliCommand, UsersCliCommand } from './interface/cli/users.command.js';

/** Operator commands; the handlers they call are registered by IdentityModule. */
@Module({ providers: [UsersCliCommand, CreateAdminCliCommand, ResetPasswordCliCommand] })
export class IdentityCliModule {}
