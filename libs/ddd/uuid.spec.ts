import { describe, expect, it } from 'vitest';
import { isUuid, UUID_PATTERN } from './uuid.js';

describe('isUuid', () => {
  it.each([
    ['a v4', '0b0f3c1e-8c8e-4f7b-9a53-8f1f0e2a6c11'],
    ['a v5', '9c1d2e3f-4a5b-5c6d-8e7f-0a1b2c3d4e5f'],
    ['a v7', '01890a5d-ac96-774b-bcce-b302099a8057'],
    ['the nil UUID (any version: the database only needs the shape)', '00000000-0000-0000-0000-000000000000'],
    ['upper case', '0B0F3C1E-8C8E-4F7B-9A53-8F1F0E2A6C11'],
  ])('accepts %s', (_label, value) => {
    expect(isUuid(value)).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['no hyphens', '0b0f3c1e8c8e4f7b9a538f1f0e2a6c11'],
    ['braces', '{0b0f3c1e-8c8e-4f7b-9a53-8f1f0e2a6c11}'],
    ['a non-hex digit', '0b0f3c1e-8c8e-4f7b-9a53-8f1f0e2a6c1g'],
    ['one digit short', '0b0f3c1e-8c8e-4f7b-9a53-8f1f0e2a6c1'],
    ['a trailing newline', '0b0f3c1e-8c8e-4f7b-9a53-8f1f0e2a6c11\n'],
    ['a prefix', 'x0b0f3c1e-8c8e-4f7b-9a53-8f1f0e2a6c11'],
    ['a SIS sourcedId', 'stu-0001'],
  ])('refuses %s', (_label, value) => {
    expect(isUuid(value)).toBe(false);
  });

  it('has a pattern without the global flag, so repeated tests give the same answer', () => {
    expect(UUID_PATTERN.flags).toBe('i');
    const id = '0b0f3c1e-8c8e-4f7b-9a53-8f1f0e2a6c11';
    expect([isUuid(id), isUuid(id), UUID_PATTERN.test(id)]).toEqual([true, true, true]);
  });
});
