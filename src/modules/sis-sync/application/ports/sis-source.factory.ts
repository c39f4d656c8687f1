import type { SisConnection } from '../../domain/sis-connection.js';
import type { SisSource, SisTrafficObserver } from './sis-source.port.js';

export interface OpenSourceContext {
  /** For CSV imports: the uploaded zip, as stored by the upload. */
  importFile: string | null;
  /** For CSV imports: the name the file was uploaded under (for the run's source), when known. */
  importFileName?: string | null;
  observer: SisTrafficObserver;
}

/** Builds the adapter for a connection's provider (OneRoster REST or CSV, PowerSchool). */
export abstract class SisSourceFactory {
  abstract open(connection: SisConnection, secret: string | null, context: OpenSourceContext): Promise<SisSource>;
}
