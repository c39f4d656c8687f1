import { RequestValidationError } from '@app/http';
import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { isRosterId } from '../../domain/roster-id.js';

/** A malformed id is the client's mistake (400 with the usual validation code), never a failed SQL cast (500). */
@Injectable()
export class RosterIdPipe implements PipeTransform<string, string> {
  /** Read by the OpenAPI document builder. */
  static readonly openApiFormat = 'uuid';

  transform(value: string, metadata: ArgumentMetadata): string {
    if (typeof value === 'string' && isRosterId(value)) return value;
    const field = metadata.data ?? 'id';
    throw new RequestValidationError([{ field, messages: [`${field} must be a UUID`] }]);
  }
}
