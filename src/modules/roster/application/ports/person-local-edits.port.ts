import type { SchoolReference } from '../roster-access-scope.js';
import type { LocalPersonChanges, PersonLocalState, SisBackedEditableField } from '../../domain/local-person-fields.js';

export interface EditablePerson extends PersonLocalState {
  /** The schools the person belongs to (for school administrators' scope). */
  schools: SchoolReference[];
}

/** Local edits of mirrored people, recorded with who and when; sync runs respect them per field policy. */
export abstract class PersonLocalEdits {
  abstract findActivePerson(id: string): Promise<EditablePerson | null>;

  abstract apply(id: string, changes: LocalPersonChanges, editedBy: string, at: Date): Promise<PersonLocalState>;

  /** Drops a local edit and puts the SIS value back. False when the field had no local edit. */
  abstract clear(id: string, field: SisBackedEditableField, clearedBy: string, at: Date): Promise<boolean>;
}
