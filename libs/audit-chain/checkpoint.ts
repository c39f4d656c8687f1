import { sign, verify, type KeyObject } from 'node:crypto';
import { GENESIS_HASH, HASH_BYTES } from './chain-hash.js';

export const CHECKPOINT_FORMAT = 'homeroom-audit-checkpoint/v1';
const SIGNATURE_BYTES = 64;
const FIELDS = ['origin', 'id', 'size', 'head', 'time', 'prev', 'key'] as const;
const ISO_UTC_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const KEY_ID = /^[0-9a-f]{16}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * What a checkpoint commits to: the chain of `origin` had `size` entries and its hash at seq = size was `head`
 * at `time`; `prev` is the signature of checkpoint `id - 1` (so checkpoints form a chain of their own, as
 * CloudTrail digests do), `keyId` the key that signs this one.
 */
export interface CheckpointFields {
  origin: string;
  id: number;
  size: number;
  head: Buffer;
  time: string;
  /** Signature of the previous checkpoint, or null for the first. */
  prev: Buffer | null;
  keyId: string;
}

/** A signed checkpoint as stored and exported: the signed note body, its signature, and its fields for lookup. */
export interface CheckpointRecord {
  id: number;
  size: number;
  head: Buffer;
  time: string;
  keyId: string;
  body: string;
  signature: Buffer;
}

export class CheckpointFormatError extends Error {}

/**
 * The signed note (modelled on C2SP tlog-checkpoint): one `name value` line per field, each ended by `\n`.
 *
 * ```
 * homeroom-audit-checkpoint/v1
 * origin <origin>
 * id <n>
 * size <tree size = last seq covered>
 * head <base64 hash at seq = size; 32 zero bytes when size is 0>
 * time <ISO-8601 UTC with milliseconds>
 * prev <base64 signature of checkpoint id - 1, or ->
 * key <key id>
 * ```
 */
export function buildCheckpointBody(fields: CheckpointFields): string {
  assertFields(fields);
  return [
    CHECKPOINT_FORMAT,
    `origin ${fields.origin}`,
    `id ${fields.id}`,
    `size ${fields.size}`,
    `head ${fields.head.toString('base64')}`,
    `time ${fields.time}`,
    `prev ${fields.prev ? fields.prev.toString('base64') : '-'}`,
    `key ${fields.keyId}`,
    '',
  ].join('\n');
}

/** Parses a body strictly: the same fields in the same order, nothing else; throws CheckpointFormatError. */
export function parseCheckpointBody(body: string): CheckpointFields {
  if (!body.endsWith('\n')) throw new CheckpointFormatError('The checkpoint body must end with a newline');
  const lines = body.slice(0, -1).split('\n');
  if (lines[0] !== CHECKPOINT_FORMAT) {
    throw new CheckpointFormatError(`The checkpoint body must start with "${CHECKPOINT_FORMAT}"`);
  }
  if (lines.length !== FIELDS.length + 1) {
    throw new CheckpointFormatError(`The checkpoint body must have ${FIELDS.length + 1} lines`);
  }
  const values = FIELDS.map((name, index) => {
    const line = lines[index + 1];
    if (!line.startsWith(`${name} `)) throw new CheckpointFormatError(`Line ${index + 2} must be "${name} <value>"`);
    return line.slice(name.length + 1);
  });
  const [origin, id, size, head, time, prev, keyId] = values;
  const fields: CheckpointFields = {
    origin,
    id: decimal(id, 'id'),
    size: decimal(size, 'size'),
    head: base64Bytes(head, HASH_BYTES, 'head'),
    time,
    prev: prev === '-' ? null : base64Bytes(prev, SIGNATURE_BYTES, 'prev'),
    keyId,
  };
  assertFields(fields);
  if (buildCheckpointBody(fields) !== body) throw new CheckpointFormatError('The checkpoint body is not canonical');
  return fields;
}

/** Ed25519 over the body's UTF-8 bytes. */
export function signCheckpoint(body: string, privateKey: KeyObject): Buffer {
  return sign(null, Buffer.from(body, 'utf8'), privateKey);
}

export function verifyCheckpointSignature(body: string, signature: Buffer, publicKey: KeyObject): boolean {
  if (signature.length !== SIGNATURE_BYTES) return false;
  return verify(null, Buffer.from(body, 'utf8'), publicKey, signature);
}

/** Builds, signs and packs a checkpoint in one step. */
export function createCheckpoint(fields: CheckpointFields, privateKey: KeyObject): CheckpointRecord {
  const body = buildCheckpointBody(fields);
  return {
    id: fields.id,
    size: fields.size,
    head: fields.head,
    time: fields.time,
    keyId: fields.keyId,
    body,
    signature: signCheckpoint(body, privateKey),
  };
}

/** The head of an empty chain. */
export const EMPTY_CHAIN_HEAD: Buffer = GENESIS_HASH;

function assertFields(fields: CheckpointFields): void {
  if (fields.origin.length === 0 || /[\n\r]/.test(fields.origin)) {
    throw new CheckpointFormatError('The origin must be one non-empty line');
  }
  if (!Number.isSafeInteger(fields.id) || fields.id < 1) throw new CheckpointFormatError('id must be 1 or more');
  if (!Number.isSafeInteger(fields.size) || fields.size < 0) throw new CheckpointFormatError('size must be 0 or more');
  if (fields.head.length !== HASH_BYTES) throw new CheckpointFormatError(`head must be ${HASH_BYTES} bytes`);
  if (!ISO_UTC_MS.test(fields.time) || Number.isNaN(Date.parse(fields.time))) {
    throw new CheckpointFormatError('time must be ISO-8601 UTC with milliseconds');
  }
  if (fields.prev !== null && fields.prev.length !== SIGNATURE_BYTES) {
    throw new CheckpointFormatError(`prev must be a ${SIGNATURE_BYTES}-byte signature`);
  }
  if (!KEY_ID.test(fields.keyId)) throw new CheckpointFormatError('key must be 16 hex digits');
}

function decimal(value: string, name: string): number {
  if (!/^(0|[1-9]\d{0,15})$/.test(value)) throw new CheckpointFormatError(`${name} must be a decimal number`);
  return Number(value);
}

function base64Bytes(value: string, length: number, name: string): Buffer {
  const bytes = Buffer.from(value, 'base64');
  if (!BASE64.test(value) || bytes.length !== length) {
    throw new CheckpointFormatError(`${name} must be the base64 of ${length} bytes`);
  }
  return bytes;
}
