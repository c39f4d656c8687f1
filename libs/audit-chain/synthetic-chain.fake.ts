import { canonicalJson } from './canonical-json.js';
import { chainHash, entryHash, GENESIS_HASH } from './chain-hash.js';
import type { ChainRecord } from './chain-verifier.js';
import { createCheckpoint, type CheckpointRecord } from './checkpoint.js';
import { auditSigningKeyFrom, type AuditSigningKey } from './signing-key.js';

export const FIXTURE_ORIGIN = 'audit.district.test';

/** A chain built the way the database trigger builds it, for tests of the verifier and the bundle. */
export interface SyntheticChain {
  records: ChainRecord[];
  key: AuditSigningKey;
  checkpoints: CheckpointRecord[];
}

export function syntheticEntry(seq: number): string {
  return canonicalJson({
    v: 1,
    id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    occurredAt: new Date(Date.UTC(2026, 10, 20, 8, 0, seq)).toISOString(),
    action: seq % 3 === 0 ? 'student.list' : 'student.read',
    resource: { type: 'student', id: null },
    actor: { type: 'user', id: '11111111-1111-4111-8111-111111111111', roles: ['teacher'], schoolIds: [] },
    studentIds: ['22222222-2222-4222-8222-222222222222'],
    dataCategories: ['directory'],
    purpose: null,
    outcome: 'allowed',
    reason: null,
    origin: { channel: 'http', requestId: `req-${seq}`, clientIp: '127.0.0.1', userAgent: 'tést "ua"', route: null },
    details: {},
  });
}

/** `length` entries; those listed in `purged` lost their text to the retention purge; checkpoints at `sizes`. */
export function syntheticChain(
  length: number,
  options: { purged?: number[]; checkpointSizes?: number[]; keyMaterial?: string } = {},
): SyntheticChain {
  const key = auditSigningKeyFrom(options.keyMaterial ?? 'synthetic-chain-key-material-0123456789');
  const purged = new Set(options.purged ?? []);
  const records: ChainRecord[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= length; seq += 1) {
    const entry = syntheticEntry(seq);
    const digest = entryHash(entry);
    const hash = chainHash(prev, seq, digest);
    records.push({
      seq,
      entryHash: digest,
      prevHash: prev,
      hash,
      entry: purged.has(seq) ? null : entry,
      purged: purged.has(seq),
    });
    prev = hash;
  }
  const checkpoints: CheckpointRecord[] = [];
  for (const size of options.checkpointSizes ?? []) {
    checkpoints.push(signSyntheticCheckpoint(records, checkpoints, size, key));
  }
  return { records, key, checkpoints };
}

export function signSyntheticCheckpoint(
  records: readonly ChainRecord[],
  previous: readonly CheckpointRecord[],
  size: number,
  key: AuditSigningKey,
  overrides: { origin?: string; time?: string } = {},
): CheckpointRecord {
  const last = previous.at(-1);
  return createCheckpoint(
    {
      origin: overrides.origin ?? FIXTURE_ORIGIN,
      id: previous.length + 1,
      size,
      head: size === 0 ? GENESIS_HASH : records[size - 1].hash,
      time: overrides.time ?? new Date(Date.UTC(2026, 10, 20, 9, previous.length)).toISOString(),
      prev: last ? last.signature : null,
      keyId: key.keyId,
    },
    key.privateKey,
  );
}

/** A copy of the record with some fields replaced (records are shared between tests otherwise). */
export function altered(record: ChainRecord, change: Partial<ChainRecord>): ChainRecord {
  return { ...record, ...change };
}
