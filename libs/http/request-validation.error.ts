import type { ValidationError } from 'class-validator';

export interface FieldError {
  field: string;
  messages: string[];
}

/** Thrown by the global validation pipe; rendered as a 400 problem listing every field at fault. */
export class RequestValidationError extends Error {
  readonly code = 'REQUEST.VALIDATION_FAILED';

  constructor(readonly errors: FieldError[]) {
    super(errors.map((error) => error.messages.join('; ')).join('; '));
    this.name = 'RequestValidationError';
  }

  /**
   * A property left out (`undefined`; the validator must keep `value` on its errors for this) is reported once as
   * "<field> is required", or with the DTO's own `@IsDefined` message when it has one (e.g. "baseUrl is required
   * for provider oneroster"), rather than with every constraint that an absent value also fails. Values are never
   * copied into the error.
   */
  static fromValidationErrors(errors: ValidationError[], parent = ''): RequestValidationError {
    const flat: FieldError[] = [];
    const walk = (list: ValidationError[], prefix: string): void => {
      for (const error of list) {
        const field = prefix ? `${prefix}.${error.property}` : error.property;
        if (error.constraints && Object.keys(error.constraints).length > 0) {
          flat.push({ field, messages: messagesFor(error, field) });
        }
        if (error.children?.length && error.value !== undefined) walk(error.children, field);
      }
    };
    walk(errors, parent);
    return new RequestValidationError(flat);
  }
}

function messagesFor(error: ValidationError, field: string): string[] {
  const constraints = error.constraints ?? {};
  const missing = error.value === undefined && !('whitelistValidation' in constraints);
  if (!missing) return Object.values(constraints);
  return [constraints['isDefined'] ?? `${field} is required`];
}
