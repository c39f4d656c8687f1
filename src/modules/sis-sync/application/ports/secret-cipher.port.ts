/**
 * Encrypts credentials at rest. The ciphertext is self-describing (format version and key id) so keys can
 * rotate: new values use the current key, older ones still decrypt while their key is configured.
 * `context` is authenticated but not stored (e.g. `sis_connections:<id>`): a ciphertext copied onto another
 * row does not decrypt there.
 */
export abstract class SecretCipher {
  abstract encrypt(plain: string, context?: string): string;
  /** Throws `SecretUnreadableError` (never the key, never the plaintext) when it cannot decrypt. */
  abstract decrypt(cipher: string, context?: string): string;
  /** False when the value was encrypted with a previous key and should be re-encrypted. */
  abstract isCurrent(cipher: string): boolean;
}
