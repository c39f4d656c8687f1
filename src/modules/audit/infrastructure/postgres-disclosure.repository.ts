import { runSql } from '@app/persistence';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { DisclosureRepository } from '../application/ports/disclosure.repository.js';
import {
  BASES_EXEMPT_FROM_RECORDING,
  isRecordRequired,
  type Disclosure,
  type DisclosureBasis,
  type DisclosurePartyType,
  type RedisclosureParty,
} from '../domain/disclosure.js';

interface DisclosureRow {
  id: string;
  student_ids: string[];
  party_name: string;
  party_type: DisclosurePartyType;
  basis: DisclosureBasis;
  legitimate_interest: string;
  data_categories: string[];
  disclosed_on: string;
  redisclosure_parties: RedisclosureParty[];
  threat_description: string | null;
  emergency_recipients: string[] | null;
  parent_notified_at: string | Date | null;
  recorded_by: string;
  recorded_at: string | Date;
}

const COLUMNS = `id, student_ids::text[] AS student_ids, party_name, party_type, basis, legitimate_interest,
  data_categories, disclosed_on::text AS disclosed_on, redisclosure_parties, threat_description, emergency_recipients,
  parent_notified_at, recorded_by, recorded_at`;

/** `audit_disclosures`, whose CHECK constraints hold the 99.32 rules a second time. Append-only. */
@Injectable()
export class PostgresDisclosureRepository extends DisclosureRepository {
  constructor(private readonly em: EntityManager) {
    super();
  }

  async add(disclosure: Disclosure): Promise<void> {
    await runSql(
      this.em,
      `INSERT INTO audit_disclosures (id, student_ids, party_name, party_type, basis, legitimate_interest,
         data_categories, disclosed_on, redisclosure_parties, threat_description, emergency_recipients,
         parent_notified_at, recorded_by, recorded_at)
       VALUES ($1, $2::uuid[], $3, $4, $5, $6, $7::text[], $8::date, $9::jsonb, $10, $11::jsonb, $12, $13, $14)`,
      [
        disclosure.id,
        disclosure.studentIds,
        disclosure.party.name,
        disclosure.party.type,
        disclosure.basis,
        disclosure.legitimateInterest,
        disclosure.dataCategories,
        disclosure.disclosedOn,
        JSON.stringify(disclosure.redisclosureParties),
        disclosure.emergency?.threat ?? null,
        disclosure.emergency ? JSON.stringify(disclosure.emergency.recipients) : null,
        disclosure.parentNotifiedAt?.toISOString() ?? null,
        disclosure.recordedBy,
        disclosure.recordedAt.toISOString(),
      ],
    );
  }

  async listForStudent(studentId: string, options: { requiredOnly: boolean }): Promise<Disclosure[]> {
    const rows = await runSql<DisclosureRow>(
      this.em,
      `SELECT ${COLUMNS} FROM audit_disclosures
        WHERE student_ids @> ARRAY[$1::uuid] AND ($2::boolean IS FALSE OR basis <> ALL ($3::text[]))
        ORDER BY disclosed_on, recorded_at, id`,
      [studentId, options.requiredOnly, [...BASES_EXEMPT_FROM_RECORDING]],
    );
    return rows.map(toDisclosure);
  }
}

function toDisclosure(row: DisclosureRow): Disclosure {
  return {
    id: row.id,
    studentIds: row.student_ids,
    party: { name: row.party_name, type: row.party_type },
    basis: row.basis,
    legitimateInterest: row.legitimate_interest,
    dataCategories: row.data_categories,
    disclosedOn: row.disclosed_on,
    redisclosureParties: row.redisclosure_parties,
    emergency:
      row.threat_description !== null && row.emergency_recipients !== null
        ? { threat: row.threat_description, recipients: row.emergency_recipients }
        : null,
    parentNotifiedAt: row.parent_notified_at === null ? null : new Date(row.parent_notified_at),
    recordedBy: row.recorded_by,
    recordedAt: new Date(row.recorded_at),
    recordRequired: isRecordRequired(row.basis),
  };
}
