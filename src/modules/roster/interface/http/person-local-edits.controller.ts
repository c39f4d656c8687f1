import { Audited, AuditExempt } from '@app/audit-capture';
import { ApiProblems } from '@app/http';
import { rosterAuditPolicies } from './roster-audit.policies.js';
import { Body, Controller, Delete, Param, ParseEnumPipe, Patch } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { CurrentUser, RequireRoles, type AuthenticatedUser } from '../../../identity/index.js';
import {
  ClearPersonLocalEditCommand,
  EditPersonLocalFieldsCommand,
  type PersonKind,
} from '../../application/commands/edit-person-local-fields.command.js';
import { SIS_BACKED_EDITABLE_FIELDS, type SisBackedEditableField } from '../../domain/local-person-fields.js';
import { EditPersonLocalFieldsDto, PersonLocalStateDto } from './local-edits.dtos.js';
import { RosterIdPipe } from './roster-id.pipe.js';

const FIELD_PIPE = new ParseEnumPipe(Object.fromEntries(SIS_BACKED_EDITABLE_FIELDS.map((field) => [field, field])));

/**
 * Local edits of students and staff (`PATCH /students/{id}`, `PATCH /staff/{id}`): district administrators,
 * and school administrators for their schools. Sticky edits survive syncs until cleared here by an operator.
 */
@ApiTags('roster')
@ApiBearerAuth()
@Controller()
export class PersonLocalEditsController {
  constructor(private readonly commands: CommandBus) {}

  @Patch('students/:id')
  @Audited(rosterAuditPolicies.editStudent)
  @RequireRoles('district_admin', 'school_admin')
  @ApiOperation({ summary: "Edit a student's locally editable fields (sticky edits survive syncs)" })
  @ApiOkResponse({ type: PersonLocalStateDto })
  @ApiProblems({ 403: ['ROSTER.EDIT_DENIED'], 404: ['ROSTER.PERSON_NOT_FOUND'] })
  editStudent(
    @CurrentUser() user: AuthenticatedUser,
    @Param('id', RosterIdPipe) id: string,
    @Body() body: EditPersonLocalFieldsDto,
  ): Promise<PersonLocalStateDto> {
    return this.edit(user, 'student', id, body);
  }

  @Patch('staff/:id')
  @AuditExempt('Staff records, not education records')
  @RequireRoles('district_admin', 'school_admin')
  @ApiOperation({ summary: "Edit a staff member's locally editable fields (sticky edits survive syncs)" })
  @ApiOkResponse({ type: PersonLocalStateDto })
  @ApiProblems({ 403: ['ROSTER.EDIT_DENIED'], 404: ['ROSTER.PERSON_NOT_FOUND'] })
  editStaff(
    @CurrentUser() user: AuthenticatedUser,
    @Param('id', RosterIdPipe) id: string,
    @Body() body: EditPersonLocalFieldsDto,
  ): Promise<PersonLocalStateDto> {
    return this.edit(user, 'staff', id, body);
  }

  @Delete('students/:id/local-edits/:field')
  @Audited(rosterAuditPolicies.clearStudentEdit)
  @RequireRoles('district_admin', 'sis_operator', 'school_admin')
  @ApiOperation({ summary: "Clear a student's local edit of one field: the SIS value applies again" })
  @ApiOkResponse({ type: PersonLocalStateDto })
  @ApiParam({ name: 'field', enum: SIS_BACKED_EDITABLE_FIELDS })
  @ApiProblems({ 403: ['ROSTER.EDIT_DENIED'], 404: ['ROSTER.PERSON_NOT_FOUND', 'ROSTER.NO_LOCAL_EDIT'] })
  clearStudentEdit(
    @CurrentUser() user: AuthenticatedUser,
    @Param('id', RosterIdPipe) id: string,
    @Param('field', FIELD_PIPE) field: SisBackedEditableField,
  ): Promise<PersonLocalStateDto> {
    return this.clear(user, 'student', id, field);
  }

  @Delete('staff/:id/local-edits/:field')
  @AuditExempt('Staff records, not education records')
  @RequireRoles('district_admin', 'sis_operator', 'school_admin')
  @ApiOperation({ summary: "Clear a staff member's local edit of one field: the SIS value applies again" })
  @ApiOkResponse({ type: PersonLocalStateDto })
  @ApiParam({ name: 'field', enum: SIS_BACKED_EDITABLE_FIELDS })
  @ApiProblems({ 403: ['ROSTER.EDIT_DENIED'], 404: ['ROSTER.PERSON_NOT_FOUND', 'ROSTER.NO_LOCAL_EDIT'] })
  clearStaffEdit(
    @CurrentUser() user: AuthenticatedUser,
    @Param('id', RosterIdPipe) id: string,
    @Param('field', FIELD_PIPE) field: SisBackedEditableField,
  ): Promise<PersonLocalStateDto> {
    return this.clear(user, 'staff', id, field);
  }

  private async edit(
    user: AuthenticatedUser,
    kind: PersonKind,
    id: string,
    body: EditPersonLocalFieldsDto,
  ): Promise<PersonLocalStateDto> {
    return PersonLocalStateDto.from(
      await this.commands.execute(new EditPersonLocalFieldsCommand(user, kind, id, body)),
    );
  }

  private async clear(
    user: AuthenticatedUser,
    kind: PersonKind,
    id: string,
    field: SisBackedEditableField,
  ): Promise<PersonLocalStateDto> {
    return PersonLocalStateDto.from(
      await this.commands.execute(new ClearPersonLocalEditCommand(user, kind, id, field)),
    );
  }
}
