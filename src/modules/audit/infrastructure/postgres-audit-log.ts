import { entryHash } from '@app/audit-chain';
import { runSql } from '@app/persistence';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AuditLog, type AppendedAuditEntry } from '../application/ports/audit-log.port.js';
import { AuditMetrics } from '../application/ports/audit-metrics.port.js';
import { toAuditEntry, type AuditEntry, type AuditEntryDraft } from '../domain/audit-entry.js';
import { storableAuditEntry } from '../domain/storable-audit-entry.js';

interface PreparedEntry {
  entry: AuditEntry;
  text: string;
  hash: Buffer;
}

interface PendingAppend {
  entries: PreparedEntry[];
  resolve: (appended: AppendedAuditEntry[]) => void;
  reject: (error: unknown) => void;
}

/** Advisory lock class of `appendUnlessRecorded` (the chain's own lock is (20261125, 1)). */
const RECORDED_ONCE_LOCK = 20261126;

/** Entries per INSERT when several requests' entries are committed together. */
const MAX_GROUP_ENTRIES = 2_000;

// The chain trigger assigns seq, prev_hash and hash; the payload row is joined back by entry hash (entries
// carry a random id, so their hashes are unique). Rows reach the trigger in input order under the chain lock, so
// the statement's entries hold consecutive seqs in that order: only the first comes back.
const APPEND_SQL = `
  WITH input AS (
    SELECT * FROM unnest($1::bytea[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::uuid[], $7::text[])
      WITH ORDINALITY AS i (entry_hash, entry, occurred_at, action, outcome, actor_id, student_ids, ord)
  ),
  chained AS (
    INSERT INTO audit_events (entry_hash) SELECT entry_hash FROM input ORDER BY ord RETURNING seq, entry_hash
  ),
  payloads AS (
    INSERT INTO audit_event_payloads (seq, occurred_at, action, outcome, actor_id, student_ids, entry)
    SELECT c.seq, i.occurred_at, i.action, i.outcome, i.actor_id, i.student_ids::uuid[], i.entry
      FROM chained c JOIN input i ON i.entry_hash = c.entry_hash
    RETURNING seq
  )
  SELECT min(c.seq)::text AS first_seq, max(c.seq)::text AS last_seq, count(*)::int AS entries FROM chained c`;

/**
 * Appends to the chain in PostgreSQL. The append is one statement, so on its own it commits atomically without
 * BEGIN/COMMIT round trips (the chain trigger's advisory lock lasts until that commit). Outside a transaction, appends from concurrent requests are committed
 * together (group commit): the chain admits one writer at a time, so batching is what keeps throughput up
 * under load, and no request waits longer than the commit already in flight.
 */
@Injectable()
export class PostgresAuditLog extends AuditLog {
  private readonly pending: PendingAppend[] = [];
  private flushing = false;

  constructor(
    private readonly em: EntityManager,
    private readonly metrics: AuditMetrics,
  ) {
    super();
  }

  append(drafts: readonly AuditEntryDraft[]): Promise<AppendedAuditEntry[]> {
    if (drafts.length === 0) return Promise.resolve([]);
    const entries = drafts.map((draft) => prepare(draft));
    if (this.em.isInTransaction()) {
      // Inside a savepoint, so a failed append leaves the caller's transaction usable: a caller that goes on
      // without the entry (AUDIT_FAIL_CLOSED=false) would otherwise have its COMMIT silently turned into a ROLLBACK.
      return this.timed(entries, () => this.em.transactional((em) => this.insert(em, entries)));
    }
    return new Promise((resolve, reject) => {
      this.pending.push({ entries, resolve, reject });
      void this.drain();
    });
  }

  async appendUnlessRecorded(draft: AuditEntryDraft): Promise<boolean> {
    if ((draft.resource.id ?? null) === null) {
      throw new TypeError('appendUnlessRecorded needs an entry about one resource (resource.id)');
    }
    const entries = [prepare(draft)];
    // Looked up as stored (made storable), so the key matches the entry and never holds a NUL.
    const { type, id } = entries[0].entry.resource;
    const action = entries[0].entry.action;
    return this.em.fork().transactional(async (em) => {
      await runSql(em, 'SELECT pg_advisory_xact_lock($1, hashtext($2))', [
        RECORDED_ONCE_LOCK,
        `${action}|${type}|${id}`,
      ]);
      // audit_entry_jsonb never throws: entries stored before they were made storable may hold \u0000.
      const [found] = await runSql(
        em,
        `SELECT 1 FROM audit_event_payloads
          WHERE action = $1 AND audit_entry_jsonb(entry)->'resource'->>'type' = $2
            AND audit_entry_jsonb(entry)->'resource'->>'id' = $3
          LIMIT 1`,
        [action, type, id],
      );
      if (found) return false;
      await this.timed(entries, () => this.insert(em, entries));
      return true;
    });
  }

  private async drain(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.pending.length > 0) {
        const group: PendingAppend[] = [];
        let size = 0;
        while (
          this.pending.length > 0 &&
          (group.length === 0 || size + this.pending[0].entries.length <= MAX_GROUP_ENTRIES)
        ) {
          const next = this.pending.shift()!;
          group.push(next);
          size += next.entries.length;
        }
        const entries = group.flatMap((item) => item.entries);
        try {
          const appended = await this.timed(entries, () => this.insert(this.em.fork(), entries));
          let offset = 0;
          for (const item of group) {
            item.resolve(appended.slice(offset, offset + item.entries.length));
            offset += item.entries.length;
          }
        } catch (error) {
          for (const item of group) item.reject(error);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  private async timed(
    entries: PreparedEntry[],
    work: () => Promise<AppendedAuditEntry[]>,
  ): Promise<AppendedAuditEntry[]> {
    const started = performance.now();
    let appended: AppendedAuditEntry[];
    try {
      appended = await work();
    } catch (error) {
      this.metrics.appendFailed(entries.length);
      throw error;
    }
    this.metrics.appended(
      entries.map((prepared) => prepared.entry),
      (performance.now() - started) / 1000,
    );
    return appended;
  }

  private async insert(em: EntityManager, entries: PreparedEntry[]): Promise<AppendedAuditEntry[]> {
    const [row] = await runSql<{ first_seq: string; last_seq: string; entries: number }>(em, APPEND_SQL, [
      entries.map((prepared) => prepared.hash),
      entries.map((prepared) => prepared.text),
      entries.map((prepared) => prepared.entry.occurredAt),
      entries.map((prepared) => prepared.entry.action),
      entries.map((prepared) => prepared.entry.outcome),
      entries.map((prepared) => (prepared.entry.actor.type === 'user' ? prepared.entry.actor.id : null)),
      entries.map((prepared) => `{${prepared.entry.studentIds.join(',')}}`),
    ]);
    const first = BigInt(row.first_seq);
    if (row.entries !== entries.length || BigInt(row.last_seq) - first + 1n !== BigInt(entries.length)) {
      throw new Error(
        `Appended ${row.entries} audit entries as seqs ${row.first_seq}–${row.last_seq}, not ${entries.length}`,
      );
    }
    return entries.map((prepared, index) => ({ seq: String(first + BigInt(index)), entry: prepared.entry }));
  }
}

/** Every stored entry is valid jsonb, whatever the draft held (see `storableAuditEntry`). */
function prepare(draft: AuditEntryDraft): PreparedEntry {
  const { entry, text } = storableAuditEntry(toAuditEntry(randomUUID(), draft));
  return { entry, text, hash: entryHash(text) };
}
