import { PERSON_ROLES, type EnrollmentRole, type ExtensionValue, type PersonRole } from '@app/contracts';
import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { DEMOGRAPHICS_ROLES } from '../../application/roster-access-scope.js';
import { DEFAULT_PAGE_SIZE, MAX_CURSOR_LENGTH, MAX_PAGE_SIZE } from '../../application/roster-page-cursor.js';
import type {
  ClassMemberView,
  ClassRosterView,
  ClassView,
  CourseSummaryView,
  DemographicsView,
  GuardianView,
  PersonNameView,
  RecordSourceView,
  SchoolSummaryView,
  SchoolView,
  SourcedView,
  StaffView,
  StudentDetailView,
  StudentEnrollmentView,
  StudentView,
} from '../../application/roster-views.js';
import { ROSTER_ID_PATTERN } from '../../domain/roster-id.js';
import { STAFF_ROLES, type StaffRole } from '../../domain/staff-roles.js';

const ENROLLMENT_ROLES: EnrollmentRole[] = ['student', 'teacher', 'administrator', 'proctor', 'aide', 'guardian'];

export class RosterPageQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit?: number;

  @ApiPropertyOptional({ description: 'The `nextCursor` of the previous page, as given' })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_CURSOR_LENGTH)
  cursor?: string;
}

/** An optional filter by the local id (a UUID) of a school or connection. */
function IdFilter(name: 'schoolId' | 'connectionId', description: string): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ format: 'uuid', description }),
    IsOptional(),
    Matches(ROSTER_ID_PATTERN, { message: `${name} must be a UUID` }),
  );
}

const ConnectionFilter = (): PropertyDecorator =>
  IdFilter(
    'connectionId',
    'Only the records of this SIS connection (the id of `/sis/connections`); an unknown one gives an empty page',
  );

export class ListClassesQueryDto extends RosterPageQueryDto {
  @IdFilter('schoolId', 'Only the classes of this school (its local id)')
  schoolId?: string;

  @ConnectionFilter()
  connectionId?: string;
}

/** The free-text search of the student and staff lists. */
abstract class PersonSearchQueryDto extends RosterPageQueryDto {
  @ApiPropertyOptional({
    description: 'Names, identifier, username or email; tolerant of typos and accents. Results come best match first.',
    maxLength: 100,
  })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  search?: string;
}

export class ListStudentsQueryDto extends PersonSearchQueryDto {
  @IdFilter(
    'schoolId',
    "Only the students of this school (its local id): listed in the school's org or enrolled in its classes",
  )
  schoolId?: string;

  @ConnectionFilter()
  connectionId?: string;
}

export class ListStaffQueryDto extends PersonSearchQueryDto {
  @IdFilter(
    'schoolId',
    "Only the staff of this school (its local id): listed in the school's org, or teaching, assisting, " +
      'proctoring or administering one of its classes',
  )
  schoolId?: string;

  @ConnectionFilter()
  connectionId?: string;

  @ApiPropertyOptional({ enum: STAFF_ROLES, description: 'Only the people holding this role, primary or not' })
  @IsOptional()
  @IsIn(STAFF_ROLES)
  role?: StaffRole;
}

/** The SIS connection a record came from: tells apart the same district imported under two connections. */
export class RecordSourceDto {
  @ApiProperty({ format: 'uuid', description: 'The SIS connection the record was imported through' })
  connectionId!: string;

  @ApiProperty({ nullable: true, type: String, description: "The connection's name; null if it no longer exists" })
  connectionName!: string | null;

  static from(view: RecordSourceView): RecordSourceDto {
    return { connectionId: view.connectionId, connectionName: view.connectionName };
  }
}

class SourcedDto {
  @ApiProperty({ format: 'uuid', description: 'Local id, used in URLs' }) id!: string;
  @ApiProperty({ description: "The SIS's id; never accepted in URLs" }) sourcedId!: string;
  @ApiProperty({ enum: ['active', 'inactive'] }) status!: 'active' | 'inactive';
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) dateLastModified!: string | null;

  static fields(view: SourcedView): SourcedDto {
    return {
      id: view.id,
      sourcedId: view.sourcedId,
      status: view.status,
      dateLastModified: view.dateLastModified,
    };
  }
}

/** A person's names, as every roster record of a person gives them. */
abstract class PersonNameDto extends SourcedDto {
  @ApiProperty() givenName!: string;
  @ApiProperty() familyName!: string;
  @ApiProperty({ nullable: true, type: String }) middleName!: string | null;
  @ApiProperty({ nullable: true, type: String }) preferredFirstName!: string | null;
  @ApiProperty({ nullable: true, type: String }) preferredLastName!: string | null;

  static override fields(view: PersonNameView): PersonNameDto {
    return {
      ...SourcedDto.fields(view),
      givenName: view.givenName,
      familyName: view.familyName,
      middleName: view.middleName,
      preferredFirstName: view.preferredFirstName,
      preferredLastName: view.preferredLastName,
    };
  }
}

export class SchoolSummaryDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() sourcedId!: string;
  @ApiProperty() name!: string;

  static from(view: SchoolSummaryView): SchoolSummaryDto {
    return { id: view.id, sourcedId: view.sourcedId, name: view.name };
  }
}

export class SchoolDto extends SourcedDto {
  @ApiProperty() name!: string;
  @ApiProperty({ nullable: true, type: String }) identifier!: string | null;
  @ApiProperty({ type: RecordSourceDto }) source!: RecordSourceDto;

  static from(view: SchoolView): SchoolDto {
    return {
      ...SourcedDto.fields(view),
      name: view.name,
      identifier: view.identifier,
      source: RecordSourceDto.from(view.source),
    };
  }
}

export class SchoolPageDto {
  @ApiProperty({ type: [SchoolDto] }) items!: SchoolDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}

export class CourseSummaryDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() sourcedId!: string;
  @ApiProperty() title!: string;
  @ApiProperty({ nullable: true, type: String }) courseCode!: string | null;

  static from(view: CourseSummaryView): CourseSummaryDto {
    return { id: view.id, sourcedId: view.sourcedId, title: view.title, courseCode: view.courseCode };
  }
}

export class ClassDto extends SourcedDto {
  @ApiProperty() title!: string;
  @ApiProperty({ nullable: true, type: String }) classCode!: string | null;
  @ApiProperty({ nullable: true, type: String, example: 'scheduled' }) classType!: string | null;
  @ApiProperty({ nullable: true, type: String }) location!: string | null;
  @ApiProperty({ type: [String] }) grades!: string[];
  @ApiProperty({ type: [String] }) subjects!: string[];
  @ApiProperty({ type: [String] }) periods!: string[];
  @ApiProperty({ nullable: true, type: SchoolSummaryDto }) school!: SchoolSummaryDto | null;
  @ApiProperty({ nullable: true, type: CourseSummaryDto }) course!: CourseSummaryDto | null;
  @ApiProperty({ type: RecordSourceDto }) source!: RecordSourceDto;

  static from(view: ClassView): ClassDto {
    return {
      ...SourcedDto.fields(view),
      title: view.title,
      classCode: view.classCode,
      classType: view.classType,
      location: view.location,
      grades: view.grades,
      subjects: view.subjects,
      periods: view.periods,
      school: view.school ? SchoolSummaryDto.from(view.school) : null,
      course: view.course ? CourseSummaryDto.from(view.course) : null,
      source: RecordSourceDto.from(view.source),
    };
  }
}

export class ClassPageDto {
  @ApiProperty({ type: [ClassDto] }) items!: ClassDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}

class EnrollmentDto extends SourcedDto {}

export class ClassMemberPersonDto extends PersonNameDto {
  @ApiProperty({ nullable: true, type: String }) identifier!: string | null;
  @ApiProperty({ nullable: true, type: String }) email!: string | null;
}

/** What an enrollment says, whichever side (class or student) it is listed from. */
export abstract class EnrollmentTermsDto {
  @ApiProperty({ type: EnrollmentDto }) enrollment!: EnrollmentDto;
  @ApiProperty({
    type: String,
    example: 'teacher',
    description:
      `One of ${ENROLLMENT_ROLES.join(', ')}; from a OneRoster 1.2 source, possibly an extension value (ext:…) ` +
      "the connection's extensionMappings give no core meaning (neither a student nor a teacher of the class)",
  })
  role!: EnrollmentRole | ExtensionValue;
  @ApiProperty() primary!: boolean;
  @ApiProperty({ nullable: true, type: String, format: 'date' }) beginDate!: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date' }) endDate!: string | null;
}

export class ClassMemberDto extends EnrollmentTermsDto {
  @ApiProperty({ type: ClassMemberPersonDto }) person!: ClassMemberPersonDto;

  static from(view: ClassMemberView): ClassMemberDto {
    const { person } = view;
    return {
      enrollment: SourcedDto.fields(view.enrollment),
      role: view.role,
      primary: view.primary,
      beginDate: view.beginDate,
      endDate: view.endDate,
      person: {
        ...PersonNameDto.fields(person),
        identifier: person.identifier,
        email: person.email,
      },
    };
  }
}

export class ClassRosterDto {
  @ApiProperty({ type: ClassDto }) class!: ClassDto;
  @ApiProperty({
    type: [ClassMemberDto],
    description: 'Active enrollments: teachers first, then others, then students',
  })
  members!: ClassMemberDto[];

  static from(view: ClassRosterView): ClassRosterDto {
    return { class: ClassDto.from(view.class), members: view.members.map((member) => ClassMemberDto.from(member)) };
  }
}

export class StudentDto extends PersonNameDto {
  @ApiProperty({ nullable: true, type: String }) pronouns!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'e.g. the student number' }) identifier!: string | null;
  @ApiProperty({ nullable: true, type: String }) username!: string | null;
  @ApiProperty({ nullable: true, type: String }) email!: string | null;
  @ApiProperty({ type: [String] }) grades!: string[];
  @ApiProperty({ type: [SchoolSummaryDto], description: "Active schools in the student's orgs" })
  schools!: SchoolSummaryDto[];

  @ApiProperty({ type: RecordSourceDto }) source!: RecordSourceDto;

  static from(view: StudentView): StudentDto {
    return {
      ...PersonNameDto.fields(view),
      pronouns: view.pronouns,
      identifier: view.identifier,
      username: view.username,
      email: view.email,
      grades: view.grades,
      schools: view.schools.map((school) => SchoolSummaryDto.from(school)),
      source: RecordSourceDto.from(view.source),
    };
  }
}

export class StudentPageDto {
  @ApiProperty({ type: [StudentDto] }) items!: StudentDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}

export class StaffDto extends PersonNameDto {
  @ApiProperty({ nullable: true, type: String, description: 'e.g. the staff number' }) identifier!: string | null;
  @ApiProperty({ nullable: true, type: String }) username!: string | null;
  @ApiProperty({ nullable: true, type: String }) email!: string | null;
  @ApiProperty({
    type: String,
    example: 'teacher',
    description: 'The primary OneRoster role (a staff role, or another role beside a secondary staff role)',
  })
  role!: PersonRole;
  @ApiProperty({ type: [String], example: ['teacher', 'administrator'], description: 'Every role held, primary first' })
  roles!: PersonRole[];
  @ApiProperty({ type: [SchoolSummaryDto], description: "Active schools in the person's orgs" })
  schools!: SchoolSummaryDto[];
  @ApiProperty({ type: RecordSourceDto }) source!: RecordSourceDto;

  static from(view: StaffView): StaffDto {
    return {
      ...PersonNameDto.fields(view),
      identifier: view.identifier,
      username: view.username,
      email: view.email,
      role: view.role,
      roles: view.roles,
      schools: view.schools.map((school) => SchoolSummaryDto.from(school)),
      source: RecordSourceDto.from(view.source),
    };
  }
}

export class StaffPageDto {
  @ApiProperty({ type: [StaffDto] }) items!: StaffDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}

export class EnrolledClassDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() sourcedId!: string;
  @ApiProperty() title!: string;
  @ApiProperty({ nullable: true, type: String }) classCode!: string | null;
  @ApiProperty({ nullable: true, type: SchoolSummaryDto }) school!: SchoolSummaryDto | null;
}

export class StudentEnrollmentDto extends EnrollmentTermsDto {
  @ApiProperty({ type: EnrolledClassDto }) class!: EnrolledClassDto;

  static from(view: StudentEnrollmentView): StudentEnrollmentDto {
    return {
      enrollment: SourcedDto.fields(view.enrollment),
      role: view.role,
      primary: view.primary,
      beginDate: view.beginDate,
      endDate: view.endDate,
      class: {
        id: view.class.id,
        sourcedId: view.class.sourcedId,
        title: view.class.title,
        classCode: view.class.classCode,
        school: view.class.school ? SchoolSummaryDto.from(view.class.school) : null,
      },
    };
  }
}

export class GuardianDto extends PersonNameDto {
  @ApiProperty({
    type: String,
    example: 'guardian',
    description:
      `The linked person's primary role: one of ${PERSON_ROLES.join(', ')}, or from a OneRoster 1.2 source an ` +
      "extension value (ext:…) the connection's extensionMappings give no core meaning",
  })
  role!: PersonRole | ExtensionValue;
  @ApiProperty({ nullable: true, type: String }) email!: string | null;
  @ApiProperty({ nullable: true, type: String }) phone!: string | null;
  @ApiProperty({ nullable: true, type: String }) sms!: string | null;

  static from(view: GuardianView): GuardianDto {
    return {
      ...PersonNameDto.fields(view),
      role: view.role,
      email: view.email,
      phone: view.phone,
      sms: view.sms,
    };
  }
}

export class DemographicsDto extends SourcedDto {
  @ApiProperty({ nullable: true, type: String, format: 'date' }) birthDate!: string | null;
  @ApiProperty({ nullable: true, type: String }) sex!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'boolean', nullable: true } })
  race!: Record<string, boolean | null>;
  @ApiProperty({ nullable: true, type: Boolean }) hispanicOrLatino!: boolean | null;
  @ApiProperty({ nullable: true, type: String }) countryOfBirthCode!: string | null;
  @ApiProperty({ nullable: true, type: String }) stateOfBirth!: string | null;
  @ApiProperty({ nullable: true, type: String }) cityOfBirth!: string | null;
  @ApiProperty({ nullable: true, type: String }) publicSchoolResidenceStatus!: string | null;

  static from(view: DemographicsView): DemographicsDto {
    return {
      ...SourcedDto.fields(view),
      birthDate: view.birthDate,
      sex: view.sex,
      race: view.race,
      hispanicOrLatino: view.hispanicOrLatino,
      countryOfBirthCode: view.countryOfBirthCode,
      stateOfBirth: view.stateOfBirth,
      cityOfBirth: view.cityOfBirth,
      publicSchoolResidenceStatus: view.publicSchoolResidenceStatus,
    };
  }
}

export class StudentDetailDto extends StudentDto {
  @ApiProperty({ type: [StudentEnrollmentDto], description: 'Active enrollments in active classes' })
  enrollments!: StudentEnrollmentDto[];

  @ApiProperty({ type: [GuardianDto], description: 'Active people linked through agents, in either direction' })
  guardians!: GuardianDto[];

  @ApiPropertyOptional({
    nullable: true,
    type: DemographicsDto,
    description:
      `Present only for ${DEMOGRAPHICS_ROLES.join(' and ')} (a school admin: for the students of their own ` +
      'schools); null when the SIS sent none.',
  })
  demographics?: DemographicsDto | null;

  static fromDetail(view: StudentDetailView): StudentDetailDto {
    return {
      ...StudentDto.from(view.student),
      enrollments: view.enrollments.map((enrollment) => StudentEnrollmentDto.from(enrollment)),
      guardians: view.guardians.map((guardian) => GuardianDto.from(guardian)),
      ...(view.demographics === undefined
        ? {}
        : { demographics: view.demographics ? DemographicsDto.from(view.demographics) : null }),
    };
  }
}
