import { Type } from 'class-transformer';
import { IsDefined, IsIn, IsObject, IsString, MaxLength, MinLength, ValidateIf, ValidateNested } from 'class-validator';
import { describe, expect, it } from 'vitest';
import { RequestValidationError, type FieldError } from './request-validation.error.js';
import { createValidationPipe } from './validation.pipe.js';

class CredentialsDto {
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  clientId!: string;
}

class ConnectionDto {
  @IsIn(['oneroster', 'csv'])
  provider!: string;

  @ValidateIf((body: { provider?: unknown }, value) => body.provider === 'oneroster' || value !== undefined)
  @IsDefined({
    message: ({ object }) => `baseUrl is required for provider ${String((object as ConnectionDto).provider)}`,
  })
  @IsString()
  @MaxLength(2000)
  baseUrl?: string;

  @IsString()
  @MinLength(1)
  @MaxLength(100)
  name!: string;

  @IsObject()
  @ValidateNested()
  @Type(() => CredentialsDto)
  auth!: CredentialsDto;
}

async function fieldErrors(body: unknown): Promise<FieldError[]> {
  try {
    await createValidationPipe().transform(body, { type: 'body', metatype: ConnectionDto });
  } catch (error) {
    if (error instanceof RequestValidationError) return error.errors;
    throw error;
  }
  return [];
}

describe('createValidationPipe', () => {
  it('says a missing property is required, once, instead of listing every constraint', async () => {
    expect(await fieldErrors({ provider: 'csv', auth: { clientId: 'c' } })).toEqual([
      { field: 'name', messages: ['name is required'] },
    ]);
  });

  it('names the path of a missing nested property', async () => {
    expect(await fieldErrors({ provider: 'csv', name: 'n', auth: {} })).toEqual([
      { field: 'auth.clientId', messages: ['auth.clientId is required'] },
    ]);
    expect(await fieldErrors({ provider: 'csv', name: 'n' })).toEqual([
      { field: 'auth', messages: ['auth is required'] },
    ]);
  });

  it("uses the DTO's own @IsDefined message for a conditionally required property", async () => {
    expect(await fieldErrors({ provider: 'oneroster', name: 'n', auth: { clientId: 'c' } })).toEqual([
      { field: 'baseUrl', messages: ['baseUrl is required for provider oneroster'] },
    ]);
    expect(await fieldErrors({ provider: 'csv', name: 'n', auth: { clientId: 'c' } })).toEqual([]);
  });

  it('keeps every constraint message for a value that is present but wrong', async () => {
    const errors = await fieldErrors({ provider: 'oneroster', baseUrl: 42, name: '', auth: { clientId: 'c' } });
    expect(errors).toEqual([
      {
        field: 'baseUrl',
        messages: expect.arrayContaining(['baseUrl must be a string']),
      },
      { field: 'name', messages: ['name must be longer than or equal to 1 characters'] },
    ]);
    expect(errors[0]?.messages).not.toContain('baseUrl is required for provider oneroster');
  });

  it('treats null as a present value (the type message, not "required")', async () => {
    expect(await fieldErrors({ provider: 'csv', name: null, auth: { clientId: 'c' } })).toEqual([
      { field: 'name', messages: expect.arrayContaining(['name must be a string']) },
    ]);
  });
});
