import { z } from 'zod';

/** Reads one concern's variables from the environment and fails startup with every problem listed. */
export function parseEnv<T extends z.ZodType>(
  concern: string,
  schema: T,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<T> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues
      .map((issue) => `  - ${issue.path.join('.') || concern}: ${issue.message}`)
      .join('\n');
    throw new Error(`Invalid ${concern} configuration:\n${problems}`);
  }
  return result.data;
}

export const booleanFromEnv = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

export const listFromEnv = z.string().transform((value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0),
);

export const emptyAsUndefined = (value: unknown): unknown => (value === '' ? undefined : value);
