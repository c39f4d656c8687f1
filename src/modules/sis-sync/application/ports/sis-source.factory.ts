import type { SisConnection } from '../../domain/sis-connection.js';
import type { SisSource, SisTrafficObserver } from './sis-source.port.js';

export interface OpenSourceContext {
  /** For CSV imports: the uploaded zip, as stored by the upload. */
  importFile: string | null;
  observer: SisTrafficObserver;
}

/** Builds the adapter for a connection's provider (OneRoster REST or CSV, PowerSchool). */
export abstract class SisSourceFactory {
  abstract open(connection: SisConnection, secret: string | null, context: OpenSourceContext): Promise<SisSource>;
}
