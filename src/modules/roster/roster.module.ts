import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { Clock, SystemClock } from '@app/ddd';
import {
  ClearPersonLocalEditHandler,
  EditPersonLocalFieldsHandler,
} from './application/commands/edit-person-local-fields.command.js';
import { PersonLocalEdits } from './application/ports/person-local-edits.port.js';
import { RosterMirror } from './application/ports/roster-mirror.port.js';
import { RosterReadModel } from './application/ports/roster-read-model.port.js';
import { GetClassRosterHandler } from './application/queries/get-class-roster.query.js';
import { FindExistingStudentIdsHandler } from './application/queries/find-existing-student-ids.query.js';
import { FindStudentIdsBySourcedIdsHandler } from './application/queries/find-student-ids-by-sourced-ids.query.js';
import { FindStudentSchoolsHandler } from './application/queries/find-student-schools.query.js';
import { GetStaffHandler } from './application/queries/get-staff.query.js';
import { GetStudentHandler } from './application/queries/get-student.query.js';
import { ListClassesHandler } from './application/queries/list-classes.query.js';
import { ListSchoolsHandler } from './application/queries/list-schools.query.js';
import { ListStaffHandler } from './application/queries/list-staff.query.js';
import { ListStudentsHandler } from './application/queries/list-students.query.js';
import { ResolveSchoolScopeHandler } from './application/queries/resolve-school-scope.query.js';
import { PostgresPersonLocalEdits } from './infrastructure/postgres-person-local-edits.js';
import { PostgresRosterMirror } from './infrastructure/postgres-roster-mirror.js';
import { PostgresRosterReadModel } from './infrastructure/postgres-roster-read-model.js';
import { ClassesController } from './interface/http/classes.controller.js';
import { PersonLocalEditsController } from './interface/http/person-local-edits.controller.js';
import { SchoolsController } from './interface/http/schools.controller.js';
import { StaffController } from './interface/http/staff.controller.js';
import { StudentsController } from './interface/http/students.controller.js';

/**
 * The district's roster mirror. `RosterMirror` (the write side) is exported for the sync engine; the read side
 * (schools, classes, rosters, students, staff) answers on the QueryBus in every process role, and over HTTP where
 * HTTP is served.
 */
@Module({})
export class RosterModule {
  static forRole({ servesHttp }: { servesHttp: boolean }): DynamicModule {
    const providers: Provider[] = [
      { provide: RosterMirror, useClass: PostgresRosterMirror },
      { provide: PersonLocalEdits, useClass: PostgresPersonLocalEdits },
      { provide: Clock, useClass: SystemClock },
      EditPersonLocalFieldsHandler,
      ClearPersonLocalEditHandler,
      { provide: RosterReadModel, useClass: PostgresRosterReadModel },
      ListSchoolsHandler,
      ListClassesHandler,
      GetClassRosterHandler,
      ListStudentsHandler,
      GetStudentHandler,
      ListStaffHandler,
      GetStaffHandler,
      FindExistingStudentIdsHandler,
      FindStudentSchoolsHandler,
      ResolveSchoolScopeHandler,
      FindStudentIdsBySourcedIdsHandler,
    ];
    return {
      module: RosterModule,
      // The sync engine (module sis-sync) writes the mirror through the exported port.
      global: true,
      controllers: servesHttp
        ? [SchoolsController, ClassesController, StudentsController, StaffController, PersonLocalEditsController]
        : [],
      providers,
      exports: [RosterMirror],
    };
  }
}
