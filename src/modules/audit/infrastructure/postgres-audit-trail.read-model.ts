import { runSql } from '@app/persistence';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import {
  AuditTrailReadModel,
  type ActorStudentAccess,
  type AuditEventFilter,
  type AuditEventPage,
  type AuditEventRecord,
} from '../application/ports/audit-trail-read-model.port.js';

/** Collects `$n` parameters while a statement is assembled from optional filters. */
class Params {
  readonly values: unknown[] = [];

  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

function windowConditions(params: Params, window: { from?: Date; to?: Date }): string[] {
  const conditions: string[] = [];
  if (window.from) conditions.push(`p.occurred_at >= ${params.add(window.from.toISOString())}::timestamptz`);
  if (window.to) conditions.push(`p.occurred_at < ${params.add(window.to.toISOString())}::timestamptz`);
  return conditions;
}

/**
 * Reads the trail through the read models where they narrow the search (by student, by actor: both keyed by
 * id then seq, so a page is an index range), then the entries themselves from the payload table. An entry
 * whose payload was purged has no row to join, so it never appears.
 */
@Injectable()
export class PostgresAuditTrailReadModel extends AuditTrailReadModel {
  constructor(private readonly em: EntityManager) {
    super();
  }

  listEvents(filter: AuditEventFilter, page: AuditEventPage): Promise<AuditEventRecord[]> {
    const params = new Params();
    const conditions: string[] = [];
    let source = 'audit_event_payloads p';
    let key = 'p.seq';
    if (filter.studentId) {
      source = 'audit_access_by_student x JOIN audit_event_payloads p ON p.seq = x.seq';
      key = 'x.seq';
      conditions.push(`x.student_id = ${params.add(filter.studentId)}::uuid`);
      if (filter.actorId) conditions.push(`p.actor_id = ${params.add(filter.actorId)}::uuid`);
    } else if (filter.actorId) {
      source = 'audit_access_by_actor x JOIN audit_event_payloads p ON p.seq = x.seq';
      key = 'x.seq';
      conditions.push(`x.actor_id = ${params.add(filter.actorId)}::uuid`);
    }
    if (filter.action) conditions.push(`p.action = ${params.add(filter.action)}`);
    if (filter.outcome) conditions.push(`p.outcome = ${params.add(filter.outcome)}`);
    conditions.push(...windowConditions(params, filter));
    const descending = page.order === 'desc';
    if (page.after !== undefined) {
      conditions.push(`${key} ${descending ? '<' : '>'} ${params.add(page.after.toString())}::bigint`);
    }
    const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
    return runSql<AuditEventRecord>(
      this.em,
      `SELECT p.seq::text AS seq, p.entry AS text FROM ${source} ${where}
        ORDER BY ${key} ${descending ? 'DESC' : 'ASC'} LIMIT ${params.add(page.limit)}`,
      params.values,
    );
  }

  async listActorStudents(
    actorId: string,
    window: { from?: Date; to?: Date },
    afterStudentId: string | undefined,
    limit: number,
  ): Promise<ActorStudentAccess[]> {
    const params = new Params();
    const conditions = [`x.actor_id = ${params.add(actorId)}::uuid`, ...windowConditions(params, window)];
    if (afterStudentId) conditions.push(`s.student_id > ${params.add(afterStudentId)}::uuid`);
    const rows = await runSql<{
      student_id: string;
      accesses: number;
      denied: number;
      first_at: string | Date;
      last_at: string | Date;
      actions: string[];
    }>(
      this.em,
      `SELECT s.student_id::text AS student_id, count(*)::int AS accesses,
              (count(*) FILTER (WHERE p.outcome = 'denied'))::int AS denied,
              min(p.occurred_at) AS first_at, max(p.occurred_at) AS last_at,
              array_agg(DISTINCT p.action ORDER BY p.action) AS actions
         FROM audit_access_by_actor x
         JOIN audit_event_payloads p ON p.seq = x.seq
         CROSS JOIN LATERAL unnest(p.student_ids) AS s (student_id)
        WHERE ${conditions.join(' AND ')}
        GROUP BY s.student_id
        ORDER BY s.student_id
        LIMIT ${params.add(limit)}`,
      params.values,
    );
    return rows.map((row) => ({
      studentId: row.student_id,
      accesses: row.accesses,
      denied: row.denied,
      firstAt: new Date(row.first_at),
      lastAt: new Date(row.last_at),
      actions: row.actions,
    }));
  }

  async latestActorEntry(actorId: string, window: { from?: Date; to?: Date }): Promise<AuditEventRecord | null> {
    const params = new Params();
    const conditions = [`x.actor_id = ${params.add(actorId)}::uuid`, ...windowConditions(params, window)];
    const [row] = await runSql<AuditEventRecord>(
      this.em,
      `SELECT p.seq::text AS seq, p.entry AS text
         FROM audit_access_by_actor x JOIN audit_event_payloads p ON p.seq = x.seq
        WHERE ${conditions.join(' AND ')}
        ORDER BY x.seq DESC LIMIT 1`,
      params.values,
    );
    return row ?? null;
  }
}
