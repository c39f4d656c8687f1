import type { INestApplicationContext } from '@nestjs/common';
import { BootstrapAdministrator } from '../application/bootstrap-administrator.service.js';

/**
 * Prints a generated administrator password to the console once, outside the structured log, so it is
 * never shipped to log storage as a field.
 */
export function printFirstRunCredentials(app: INestApplicationContext): void {
  const created = app.get(BootstrapAdministrator, { strict: false }).takeGeneratedCredentials();
  if (!created?.generatedPassword) return;
  const lines = [
    'Homeroom created the first district administrator. This password is shown once:',
    '',
    `  email:    ${created.email}`,
    `  password: ${created.generatedPassword}`,
    '',
    'Sign in and change it (PATCH /api/v1/users/{id}), or create your own admin with',
    '`npx homeroom users create-admin`.',
  ];
  const width = Math.max(...lines.map((line) => line.length)) + 2;
  const border = `+${'-'.repeat(width)}+`;
  console.log([border, ...lines.map((line) => `| ${line.padEnd(width - 1)}|`), border].join('\n'));
}
