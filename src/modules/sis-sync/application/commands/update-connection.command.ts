import { hostRefusal } from '@app/sis-http';
import { Clock } from '@app/ddd';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { SisSyncConfig } from '../../../../config/index.js';
import {
  isReservedConnectionName,
  resolveConnectionName,
  resolveRevisedConnectionSettings,
  type ConnectionSettingsInput,
} from '../../domain/connection-settings.policy.js';
import { sameConnectionName, type SisConnection } from '../../domain/sis-connection.js';
import { ConnectionNameTakenError } from '../../domain/sis-sync.errors.js';
import { SisConnectionRepository } from '../ports/sis-connection.repository.js';

export interface ConnectionChanges extends ConnectionSettingsInput {
  name?: string;
  enabled?: boolean;
}

export class UpdateConnectionCommand extends Command<SisConnection> {
  constructor(
    readonly actorId: string | null,
    readonly connectionId: string,
    readonly changes: ConnectionChanges,
  ) {
    super();
  }
}

/**
 * Applies a partial change under a row lock: given fields replace the stored ones, everything is validated
 * again, and the secret is kept unless a new one is given. The provider never changes (ids from another
 * provider would not match the mirrored records).
 */
@CommandHandler(UpdateConnectionCommand)
export class UpdateConnectionHandler implements ICommandHandler<UpdateConnectionCommand, SisConnection> {
  constructor(
    private readonly connections: SisConnectionRepository,
    private readonly config: SisSyncConfig,
    private readonly clock: Clock,
  ) {}

  async execute({ connectionId, changes }: UpdateConnectionCommand): Promise<SisConnection> {
    const { name: rawName, enabled, ...input } = changes;
    return this.connections.update(connectionId, (current) => {
      const name = rawName !== undefined ? resolveConnectionName(rawName) : current.name;
      // The upload connection keeps its own (reserved) name; no other connection may take it.
      if (rawName !== undefined && isReservedConnectionName(name) && !sameConnectionName(name, current.name)) {
        throw new ConnectionNameTakenError();
      }
      const { settings, secret } = resolveRevisedConnectionSettings(
        current.provider,
        { settings: current.settings, hasSecret: current.hasSecret },
        input,
        {
          allowHttp: this.config.allowHttpSisUrls,
          hostRefusal: (host) => hostRefusal(host, this.config.addressPolicy),
        },
      );
      return {
        connection: { ...current, name, settings, enabled: enabled ?? current.enabled, updatedAt: this.clock.now() },
        secret,
      };
    });
  }
}
