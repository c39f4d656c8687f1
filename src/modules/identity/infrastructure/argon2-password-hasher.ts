import argon2 from 'argon2';
import { randomBytes } from 'node:crypto';
import { PasswordHasher } from '../application/ports/password-hasher.port.js';

/** argon2id with the library's defaults (m=64 MiB, t=3, p=4), above OWASP's minimum. */
export class Argon2PasswordHasher extends PasswordHasher {
  /** A hash of a random password made with the same options as real ones, so a decoy check costs the same. */
  private decoy: Promise<string> | undefined;

  hash(password: string): Promise<string> {
    return argon2.hash(password, { type: argon2.argon2id });
  }

  async verify(hash: string, password: string): Promise<boolean> {
    try {
      return await argon2.verify(hash, password);
    } catch {
      return false;
    }
  }

  async verifyNothing(password: string): Promise<false> {
    this.decoy ??= this.hash(randomBytes(24).toString('base64url'));
    await this.verify(await this.decoy, password);
    return false;
  }
}
