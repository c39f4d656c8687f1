import { Module } from '@nestjs/common';
import { CreateAdminCliCommand, UsersCliCommand } from './interface/cli/users.command.js';

/** Operator commands; the handlers they call are registered by IdentityModule. */
@Module({ providers: [UsersCliCommand, CreateAdminCliCommand] })
export class IdentityCliModule {}
