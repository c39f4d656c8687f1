import { ValidationPipe } from '@nestjs/common';
import { RequestValidationError } from './request-validation.error.js';

/**
 * Rejects unknown properties (so a client cannot slip `roles` or `id` into a body that does not declare
 * them) and converts payloads into their DTO classes.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    // `value` is kept so that a missing property can be told apart (see RequestValidationError); it is never rendered.
    validationError: { target: false, value: true },
    exceptionFactory: (errors) => RequestValidationError.fromValidationErrors(errors),
  });
}
