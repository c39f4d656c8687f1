import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { RosterAccessDeniedError, RosterStudentNotFoundError } from '../../domain/roster.errors.js';
import { RosterReadModel } from '../ports/roster-read-model.port.js';
import {
  mayViewDemographics,
  rosterAccessScope,
  scopeCoversStudent,
  type RosterViewer,
} from '../roster-access-scope.js';
import type { StudentDetailView } from '../roster-views.js';

/** An active student with their active enrollments and guardians, and demographics for the roles allowed them. */
export class GetStudentQuery extends Query<StudentDetailView> {
  constructor(
    readonly viewer: RosterViewer,
    readonly studentId: string,
  ) {
    super();
  }
}

@QueryHandler(GetStudentQuery)
export class GetStudentHandler implements IQueryHandler<GetStudentQuery> {
  constructor(private readonly roster: RosterReadModel) {}

  async execute({ viewer, studentId }: GetStudentQuery): Promise<StudentDetailView> {
    const found = await this.roster.findStudent(studentId);
    if (!found) throw new RosterStudentNotFoundError(studentId);
    if (!scopeCoversStudent(rosterAccessScope(viewer), found.access)) {
      throw new RosterAccessDeniedError('student', studentId);
    }
    const [enrollments, guardians] = await Promise.all([
      this.roster.listStudentEnrollments(studentId),
      this.roster.listGuardians(studentId),
    ]);
    const detail: StudentDetailView = { student: found.student, enrollments, guardians };
    if (mayViewDemographics(viewer, found.access)) detail.demographics = await this.roster.findDemographics(studentId);
    return detail;
  }
}
