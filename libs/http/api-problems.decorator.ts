import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { PROBLEM_CONTENT_TYPE } from './problem-details.js';

/** The component every problem response of the OpenAPI document refers to. */
export const PROBLEM_SCHEMA_NAME = 'Problem';

export type ProblemStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 503;

/** Per status, the stable codes an operation can answer with (besides the ones every operation shares). */
export type ProblemCodes = Partial<Record<ProblemStatus, readonly string[]>>;

/**
 * The RFC 9457 problem document the global filter sends, as a JSON schema: what `ProblemDetails` promises. A
 * domain error may add fields of its own (the field at fault, a retry delay), so extra properties are allowed.
 */
export const problemSchema = {
  type: 'object',
  description: 'RFC 9457 problem document. `code` is stable: branch on it, not on `title`.',
  required: ['type', 'title', 'status', 'code'],
  properties: {
    type: { type: 'string', example: 'urn:homeroom:problem:roster.student_not_found' },
    title: { type: 'string', example: 'Student not found' },
    status: { type: 'integer', minimum: 400, maximum: 599, example: 404 },
    code: { type: 'string', pattern: '^[A-Z][A-Z_]*\\.[A-Z][A-Z_]*$', example: 'ROSTER.STUDENT_NOT_FOUND' },
    detail: { type: 'string' },
    instance: { type: 'string', example: '/api/v1/students/8c4f8a52-5d0e-4b7a-9a43-3c1f3f6a9f10' },
    correlationId: { type: 'string', example: 'd6b2f1c0-1c4e-4d35-8d1f-2f3a1b0c9e77' },
    errorId: { type: 'string', format: 'uuid', description: 'On 500s only: quote it when reporting the problem' },
    errors: {
      type: 'array',
      description:
        'Every field at fault: `messages` from the request validator (REQUEST.VALIDATION_FAILED), `problem` and ' +
        '`message` from a domain check (e.g. AUDIT.DISCLOSURE_INCOMPLETE)',
      items: {
        type: 'object',
        required: ['field'],
        properties: {
          field: { type: 'string', example: 'email' },
          messages: { type: 'array', items: { type: 'string' } },
          problem: { type: 'string', example: 'missing' },
          message: { type: 'string' },
        },
      },
    },
  },
  additionalProperties: true,
} as const;

/** The schema of a problem response limited to these codes (the document builder merges the shared ones in). */
export function problemResponseSchema(codes: readonly string[]): Record<string, unknown> {
  return {
    allOf: [
      { $ref: `#/components/schemas/${PROBLEM_SCHEMA_NAME}` },
      { type: 'object', properties: { code: { type: 'string', enum: [...codes] } } },
    ],
  };
}

/**
 * Documents the problem responses of an operation and the stable codes each can carry, e.g.
 * `@ApiProblems({ 404: ['ROSTER.STUDENT_NOT_FOUND'], 403: ['ROSTER.ACCESS_DENIED'] })`. The responses every
 * operation shares (400 for refused input, 401 without a token, 403 for a missing role, 500) are added by the
 * document builder, so list only what this operation adds.
 */
export function ApiProblems(codes: ProblemCodes): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...Object.entries(codes).map(([status, list]) =>
      ApiResponse({
        status: Number(status),
        description: list.join(', '),
        content: { [PROBLEM_CONTENT_TYPE]: { schema: problemResponseSchema(list) } },
      }),
    ),
  );
}
