import { Injectable } from '@nestjs/common';
import { SisSyncConfig } from '../../../config/index.js';
import { SisSourceFactory, type OpenSourceContext } from '../application/ports/sis-source.factory.js';
import { SisSourceError, type SisSource } from '../application/ports/sis-source.port.js';
import type { SisConnection } from '../domain/sis-connection.js';
import { OneRosterCsvSisSource } from './oneroster-csv.sis-source.js';
import { OneRosterRestSisSource } from './oneroster-rest.sis-source.js';
import { PowerSchoolSisSource } from './powerschool.sis-source.js';

const CSV_PAGE = 2_000;

/**
 * An uploaded file is always read as a OneRoster CSV package; otherwise the connection's provider decides. SIS
 * traffic goes through the configured address policy (checked on the address each socket connects to).
 */
@Injectable()
export class ProviderSisSourceFactory extends SisSourceFactory {
  constructor(private readonly config: SisSyncConfig) {
    super();
  }

  async open(connection: SisConnection, secret: string | null, context: OpenSourceContext): Promise<SisSource> {
    if (context.importFile) {
      return OneRosterCsvSisSource.open({
        zipPath: context.importFile,
        displayName: context.importFileName ?? null,
        schoolScope: connection.settings.schoolScope,
        batchSize: CSV_PAGE,
        extensionMappings: connection.settings.extensionMappings,
      });
    }
    switch (connection.provider) {
      case 'oneroster':
        return new OneRosterRestSisSource({
          settings: connection.settings,
          secret,
          observer: context.observer,
          client: { maxResponseBytes: this.config.maxResponseBytes, addressPolicy: this.config.addressPolicy },
        });
      case 'oneroster-csv':
        throw new SisSourceError('SIS_SYNC.CSV_INVALID', 'CSV connections sync only from an uploaded file');
      case 'powerschool':
        return new PowerSchoolSisSource({
          settings: connection.settings,
          secret,
          observer: context.observer,
          client: { maxResponseBytes: this.config.maxResponseBytes, addressPolicy: this.config.addressPolicy },
        });
    }
  }
}
