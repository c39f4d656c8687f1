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

  static fromValidationErrors(errors: ValidationError[], parent = ''): RequestValidationError {
    const flat: FieldError[] = [];
    const walk = (list: ValidationError[], prefix: string): void => {
      for (const error of list) {
        const field = prefix ? `${prefix}.${error.property}` : error.property;
        if (error.constraints) flat.push({ field, messages: Object.values(error.constraints) });
        if (error.children?.length) walk(error.children, field);
      }
    };
    walk(errors, parent);
    return new RequestValidationError(flat);
  }
}
