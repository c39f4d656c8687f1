export abstract class PasswordHasher {
  abstract hash(password: string): Promise<string>;
  abstract verify(hash: string, password: string): Promise<boolean>;
  /**
   * Spends as long as `verify` does on a real hash of the current cost, then answers false: used for emails
   * that have no account, so they cannot be told apart by timing.
   */
  abstract verifyNothing(password: string): Promise<false>;
}
