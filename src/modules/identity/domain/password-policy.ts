import { WeakPasswordError } from './identity.errors.js';

export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 256;

/** Length over composition rules (NIST SP 800-63B): at least 12 characters, and not the email itself. */
export function assertAcceptablePassword(password: string, email: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new WeakPasswordError(`The password must have at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw new WeakPasswordError(`The password must have at most ${MAX_PASSWORD_LENGTH} characters`);
  }
  if (password.trim().toLowerCase() === email.trim().toLowerCase()) {
    throw new WeakPasswordError('The password must not be the email address');
  }
  if (new Set(password).size < 4) {
    throw new WeakPasswordError('The password must not repeat one or two characters');
  }
}
