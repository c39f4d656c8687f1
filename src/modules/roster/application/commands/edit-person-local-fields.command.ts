import { Clock } from '@app/ddd';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { AuthenticatedUser } from '../../../identity/index.js';
import { NoLocalEditError, RosterEditDeniedError, RosterPersonNotFoundError } from '../../domain/roster.errors.js';
import type { LocalPersonChanges, PersonLocalState, SisBackedEditableField } from '../../domain/local-person-fields.js';
import { PersonLocalEdits, type EditablePerson } from '../ports/person-local-edits.port.js';
import { rosterAccessScope, scopeCoversSchool } from '../roster-access-scope.js';

export type PersonKind = 'student' | 'staff';

type Editor = Pick<AuthenticatedUser, 'id' | 'roles' | 'schoolIds' | 'email'>;

export class EditPersonLocalFieldsCommand extends Command<PersonLocalState> {
  constructor(
    readonly editor: Editor,
    readonly kind: PersonKind,
    readonly personId: string,
    readonly changes: LocalPersonChanges,
  ) {
    super();
  }
}

export class ClearPersonLocalEditCommand extends Command<PersonLocalState> {
  constructor(
    readonly editor: Editor,
    readonly kind: PersonKind,
    readonly personId: string,
    readonly field: SisBackedEditableField,
  ) {
    super();
  }
}

/** District administrators edit anyone; school administrators the people of their schools; nobody else. */
function assertMayEdit(editor: Editor, person: EditablePerson): void {
  if (editor.roles.includes('district_admin')) return;
  if (editor.roles.includes('school_admin')) {
    const scope = rosterAccessScope({ ...editor, roles: ['school_admin'] });
    if (person.schools.some((school) => scopeCoversSchool(scope, school))) return;
  }
  throw new RosterEditDeniedError(person.id);
}

async function findPerson(edits: PersonLocalEdits, kind: PersonKind, id: string): Promise<EditablePerson> {
  const person = await edits.findActivePerson(id);
  if (!person || person.isStudent !== (kind === 'student')) throw new RosterPersonNotFoundError(kind, id);
  return person;
}

@CommandHandler(EditPersonLocalFieldsCommand)
export class EditPersonLocalFieldsHandler implements ICommandHandler<EditPersonLocalFieldsCommand> {
  constructor(
    private readonly edits: PersonLocalEdits,
    private readonly clock: Clock,
  ) {}

  async execute({ editor, kind, personId, changes }: EditPersonLocalFieldsCommand): Promise<PersonLocalState> {
    const person = await findPerson(this.edits, kind, personId);
    assertMayEdit(editor, person);
    return this.edits.apply(person.id, changes, editor.id, this.clock.now());
  }
}

/** An operator clears a sticky local edit: the SIS value comes back and later syncs update it again. */
@CommandHandler(ClearPersonLocalEditCommand)
export class ClearPersonLocalEditHandler implements ICommandHandler<ClearPersonLocalEditCommand> {
  constructor(
    private readonly edits: PersonLocalEdits,
    private readonly clock: Clock,
  ) {}

  async execute({ editor, kind, personId, field }: ClearPersonLocalEditCommand): Promise<PersonLocalState> {
    const person = await findPerson(this.edits, kind, personId);
    if (!editor.roles.includes('district_admin') && !editor.roles.includes('sis_operator')) {
      assertMayEdit(editor, person);
    }
    if (!(await this.edits.clear(person.id, field, editor.id, this.clock.now()))) throw new NoLocalEditError(field);
    const updated = await this.edits.findActivePerson(person.id);
    if (!updated) throw new RosterPersonNotFoundError(kind, personId);
    return {
      id: updated.id,
      isStudent: updated.isStudent,
      localEdits: updated.localEdits,
      directoryOptOut: updated.directoryOptOut,
      contactPreferences: updated.contactPreferences,
    };
  }
}
