import { isUuid } from '@app/ddd';
import { runSql } from '@app/persistence';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { PersonLocalEdits, type EditablePerson } from '../application/ports/person-local-edits.port.js';
import {
  SIS_BACKED_EDITABLE_FIELDS,
  type LocalOverride,
  type LocalPersonChanges,
  type PersonLocalState,
  type SisBackedEditableField,
} from '../domain/local-person-fields.js';
import { LOCALLY_EDITABLE_PERSON_COLUMNS } from './roster-mirror.tables.js';

interface PersonRow {
  id: string;
  is_student: boolean;
  local_overrides: Record<string, LocalOverride>;
  directory_opt_out: boolean;
  contact_preferences: PersonLocalState['contactPreferences'];
  schools: { id: string; sourcedId: string }[];
  current: Record<string, string | null>;
}

@Injectable()
export class PostgresPersonLocalEdits extends PersonLocalEdits {
  constructor(private readonly em: EntityManager) {
    super();
  }

  async findActivePerson(id: string): Promise<EditablePerson | null> {
    const row = await this.load(id, false);
    return row ? toEditable(row) : null;
  }

  apply(id: string, changes: LocalPersonChanges, editedBy: string, at: Date): Promise<PersonLocalState> {
    return this.em.transactional(async () => {
      const row = await this.load(id, true);
      if (!row) throw new Error(`Person ${id} disappeared while being edited`);
      const overrides = { ...row.local_overrides };
      const history: { field: string; before: unknown; after: unknown }[] = [];
      const assignments: Record<string, unknown> = {};
      for (const field of SIS_BACKED_EDITABLE_FIELDS) {
        if (!(field in changes)) continue;
        const value = changes[field] ?? null;
        const before = row.current[field] ?? null;
        overrides[field] = {
          value,
          sisValue: overrides[field]?.sisValue ?? before,
          editedBy,
          editedAt: at.toISOString(),
        };
        assignments[LOCALLY_EDITABLE_PERSON_COLUMNS[field]] = value;
        history.push({ field, before, after: value });
      }
      if (changes.directoryOptOut !== undefined && changes.directoryOptOut !== row.directory_opt_out) {
        assignments['directory_opt_out'] = changes.directoryOptOut;
        history.push({ field: 'directoryOptOut', before: row.directory_opt_out, after: changes.directoryOptOut });
      }
      if (changes.contactPreferences !== undefined) {
        assignments['contact_preferences'] = JSON.stringify(changes.contactPreferences);
        history.push({
          field: 'contactPreferences',
          before: row.contact_preferences,
          after: changes.contactPreferences,
        });
      }
      assignments['local_overrides'] = JSON.stringify(overrides);
      await this.update(id, assignments);
      await this.record(id, history, editedBy, at);
      const updated = await this.load(id, false);
      return toState(updated!);
    });
  }

  clear(id: string, field: SisBackedEditableField, clearedBy: string, at: Date): Promise<boolean> {
    return this.em.transactional(async () => {
      const row = await this.load(id, true);
      const override = row?.local_overrides[field];
      if (!row || !override) return false;
      const overrides = { ...row.local_overrides };
      delete overrides[field];
      await this.update(id, {
        [LOCALLY_EDITABLE_PERSON_COLUMNS[field]]: override.sisValue,
        local_overrides: JSON.stringify(overrides),
      });
      await this.record(id, [{ field, before: override.value, after: override.sisValue }], clearedBy, at);
      return true;
    });
  }

  private async load(id: string, forUpdate: boolean): Promise<PersonRow | null> {
    if (!isUuid(id)) return null;
    const columns = Object.entries(LOCALLY_EDITABLE_PERSON_COLUMNS)
      .map(([field, column]) => `'${field}', p.${column}`)
      .join(', ');
    const [row] = await runSql<PersonRow>(
      this.em,
      `SELECT p.id, p.roles @> '[{"role": "student"}]'::jsonb OR p.primary_role = 'student' AS is_student,
              p.local_overrides, p.directory_opt_out, p.contact_preferences,
              json_build_object(${columns}) AS current,
              coalesce((SELECT json_agg(json_build_object('id', o.id, 'sourcedId', o.sourced_id))
                          FROM roster_orgs o
                         WHERE o.connection_id = p.connection_id AND o.status = 'active'
                           AND (p.org_sourced_ids ? o.sourced_id
                                -- The school of a department the person is in (see roster_orgs.school_sourced_id).
                                OR o.sourced_id IN (SELECT d.school_sourced_id FROM roster_orgs d
                                                     WHERE d.connection_id = p.connection_id
                                                       AND p.org_sourced_ids ? d.sourced_id))), '[]') AS schools
         FROM roster_people p WHERE p.id = $1 AND p.status = 'active'${forUpdate ? ' FOR UPDATE OF p' : ''}`,
      [id],
    );
    return row ?? null;
  }

  private async update(id: string, assignments: Record<string, unknown>): Promise<void> {
    const columns = Object.keys(assignments);
    const sets = columns.map((column, index) => {
      const cast = column === 'local_overrides' || column === 'contact_preferences' ? '::jsonb' : '';
      return `${column} = $${index + 2}${cast}`;
    });
    await runSql(this.em, `UPDATE roster_people SET ${sets.join(', ')} WHERE id = $1`, [
      id,
      ...columns.map((column) => assignments[column]),
    ]);
  }

  private async record(
    id: string,
    history: readonly { field: string; before: unknown; after: unknown }[],
    by: string,
    at: Date,
  ): Promise<void> {
    if (history.length === 0) return;
    await runSql(
      this.em,
      `INSERT INTO roster_local_edits (person_id, field, old_value, new_value, edited_by, edited_at)
       SELECT $1, h.field, h.before, h.after, $3, $4
         FROM jsonb_to_recordset($2::jsonb) AS h(field text, before jsonb, after jsonb)`,
      [id, JSON.stringify(history), isUuid(by) ? by : null, at],
    );
  }
}

function toState(row: PersonRow): PersonLocalState {
  return {
    id: row.id,
    isStudent: row.is_student,
    localEdits: row.local_overrides,
    directoryOptOut: row.directory_opt_out,
    contactPreferences: row.contact_preferences,
  };
}

function toEditable(row: PersonRow): EditablePerson {
  return { ...toState(row), schools: row.schools };
}
