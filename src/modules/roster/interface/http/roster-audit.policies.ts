import type { AuditPolicy } from '@app/audit-capture';
import type { ClassRosterDto, StudentPageDto } from './roster.dtos.js';

/** How each student-scoped roster route is audited (see `@app/audit-capture`). */
export const rosterAuditPolicies = {
  listStudents: {
    action: 'student.list',
    resource: 'student',
    dataCategories: ['directory', 'enrollment'],
    subjects: { from: 'result', select: (result) => (result as StudentPageDto).items.map((student) => student.id) },
    mode: 'read',
  },
  readStudent: {
    action: 'student.read',
    resource: 'student',
    dataCategories: ['directory', 'enrollment', 'guardians', 'demographics', 'contact'],
    subjects: { from: 'param', name: 'id' },
    mode: 'read',
  },
  readClassRoster: {
    action: 'class_roster.read',
    resource: 'class',
    dataCategories: ['directory', 'enrollment'],
    subjects: {
      from: 'result',
      select: (result) =>
        (result as ClassRosterDto).members
          .filter((member) => member.role === 'student')
          .map((member) => member.person.id),
    },
    mode: 'read',
  },
  editStudent: {
    action: 'student.update',
    resource: 'student',
    dataCategories: ['directory', 'contact'],
    subjects: { from: 'param', name: 'id' },
    mode: 'write',
  },
  clearStudentEdit: {
    action: 'student.local_edit.clear',
    resource: 'student',
    dataCategories: ['directory', 'contact'],
    subjects: { from: 'param', name: 'id' },
    mode: 'write',
  },
} satisfies Record<string, AuditPolicy>;
