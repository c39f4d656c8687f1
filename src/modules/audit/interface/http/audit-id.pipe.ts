import { isUuid } from '@app/ddd';
import { RequestValidationError } from '@app/http';
import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';

/** Student, actor and hold ids are UUIDs; anything else is a 400 with the usual validation problem. */
@Injectable()
export class AuditIdPipe implements PipeTransform<string, string> {
  /** Read by the OpenAPI document builder. */
  static readonly openApiFormat = 'uuid';

  transform(value: string, metadata: ArgumentMetadata): string {
    if (typeof value === 'string' && isUuid(value)) return value.toLowerCase();
    const field = metadata.data ?? 'id';
    throw new RequestValidationError([{ field, messages: [`${field} must be a UUID`] }]);
  }
}
