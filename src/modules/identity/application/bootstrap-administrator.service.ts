import { MikroORM, RequestContext } from '@mikro-orm/core';
import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { AppConfig, AuthConfig } from '../../../config/index.js';
import { EmailTakenError } from '../domain/identity.errors.js';
import { CreateAdminCommand, type CreatedAdmin } from './commands/create-admin.command.js';
import { UserRepository } from './ports/user.repository.js';

export const EMBEDDED_ADMIN_EMAIL = 'admin@homeroom.local';

/**
 * Creates the first district administrator when no user exists: from HOMEROOM_ADMIN_EMAIL/PASSWORD, or,
 * outside production, with a generated password that is printed once. Production without those variables
 * gets a warning pointing at `npx homeroom users create-admin` instead.
 */
@Injectable()
export class BootstrapAdministrator implements OnApplicationBootstrap {
  private readonly logger = new Logger('Identity');
  private created: CreatedAdmin | undefined;

  constructor(
    private readonly orm: MikroORM,
    private readonly commands: CommandBus,
    private readonly users: UserRepository,
    private readonly auth: AuthConfig,
    private readonly app: AppConfig,
  ) {}

  onApplicationBootstrap(): Promise<void> {
    return RequestContext.create(this.orm.em, () => this.ensureAdministrator());
  }

  /** Hands over the generated credentials once; later calls get nothing. */
  takeGeneratedCredentials(): CreatedAdmin | undefined {
    const created = this.created;
    this.created = undefined;
    return created?.generatedPassword ? created : undefined;
  }

  private async ensureAdministrator(): Promise<void> {
    if ((await this.users.count()) > 0) return;
    const configured = this.auth.bootstrapAdmin;
    if (!configured && this.app.isProduction) {
      this.logger.warn('No users exist. Create a district administrator with `npx homeroom users create-admin`.');
      return;
    }
    const email = configured?.email ?? EMBEDDED_ADMIN_EMAIL;
    try {
      this.created = await this.commands.execute(
        new CreateAdminCommand(email, 'District administrator', configured?.password),
      );
      this.logger.log('Created the first district administrator');
    } catch (error) {
      // Another process starting at the same moment created it first.
      if (!(error instanceof EmailTakenError)) throw error;
    }
  }
}
