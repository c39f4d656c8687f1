import { createHash } from 'node:crypto';

/** Version of the hashing rules below; written into exports so a verifier knows which rules apply. */
export const AUDIT_CHAIN_VERSION = 1;
export const HASH_BYTES = 32;
/** `prev_hash` of the first entry. */
export const GENESIS_HASH: Buffer = Buffer.alloc(HASH_BYTES);

/** SHA-256 of the entry's canonical JSON (UTF-8). */
export function entryHash(entry: string): Buffer {
  return createHash('sha256').update(entry, 'utf8').digest();
}

/**
 * hash(n) = SHA-256(prev_hash ‖ seq as 8-byte big-endian ‖ entry_hash). The database trigger computes the same
 * (`sha256(prev || int8send(seq) || entry_hash)`); binding the entry through its own hash lets a retention
 * purge drop the entry text and keep a chain that still verifies.
 */
export function chainHash(prevHash: Buffer, seq: bigint | number, entryDigest: Buffer): Buffer {
  const seqBytes = Buffer.alloc(8);
  seqBytes.writeBigInt64BE(BigInt(seq));
  return createHash('sha256').update(prevHash).update(seqBytes).update(entryDigest).digest();
}
