import { hostRefusal } from '@app/sis-http';
import { Clock } from '@app/ddd';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { randomUUID } from 'node:crypto';
import { SisSyncConfig } from '../../../../config/index.js';
import {
  assertCreatableProvider,
  isReservedConnectionName,
  resolveConnectionName,
  resolveNewConnectionSettings,
  type ConnectionSettingsInput,
} from '../../domain/connection-settings.policy.js';
import type { SisConnection } from '../../domain/sis-connection.js';
import { ConnectionNameTakenError } from '../../domain/sis-sync.errors.js';
import { SisConnectionRepository } from '../ports/sis-connection.repository.js';

export interface NewConnection extends ConnectionSettingsInput {
  name: string;
  provider: string;
  enabled?: boolean;
}

export class CreateConnectionCommand extends Command<SisConnection> {
  constructor(
    readonly actorId: string | null,
    readonly connection: NewConnection,
  ) {
    super();
  }
}

/** Validates and defaults the settings (vendor preset, mass-change holds) and stores the secret encrypted. */
@CommandHandler(CreateConnectionCommand)
export class CreateConnectionHandler implements ICommandHandler<CreateConnectionCommand, SisConnection> {
  constructor(
    private readonly connections: SisConnectionRepository,
    private readonly config: SisSyncConfig,
    private readonly clock: Clock,
  ) {}

  async execute({ connection: draft }: CreateConnectionCommand): Promise<SisConnection> {
    const { name: rawName, provider, enabled, ...input } = draft;
    assertCreatableProvider(provider);
    const name = resolveConnectionName(rawName);
    if (isReservedConnectionName(name)) throw new ConnectionNameTakenError();
    const { settings, secret } = resolveNewConnectionSettings(provider, input, {
      allowHttp: this.config.allowHttpSisUrls,
      hostRefusal: (host) => hostRefusal(host, this.config.addressPolicy),
    });
    const now = this.clock.now();
    const connection: SisConnection = {
      id: randomUUID(),
      name,
      provider,
      settings,
      hasSecret: typeof secret === 'string',
      enabled: enabled ?? true,
      createdAt: now,
      updatedAt: now,
    };
    await this.connections.insert(connection, secret ?? null);
    return connection;
  }
}
