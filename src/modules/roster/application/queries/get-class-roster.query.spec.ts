import { beforeEach, describe, expect, it } from 'vitest';
import { RosterAccessDeniedError, RosterClassNotFoundError } from '../../domain/roster.errors.js';
import { GetClassRosterHandler, GetClassRosterQuery } from './get-class-roster.query.js';
import { InMemoryRosterReadModel } from './roster-read-model.fake.js';

const CLASS_ID = '5a0c7a3e-2b44-4d8f-8f57-7f0e6c1d2b3a';
const north = { id: '11111111-1111-4111-8111-111111111111', sourcedId: 'sch-north' };

describe('GetClassRosterHandler', () => {
  let roster: InMemoryRosterReadModel;
  let handler: GetClassRosterHandler;

  beforeEach(() => {
    roster = new InMemoryRosterReadModel();
    handler = new GetClassRosterHandler(roster);
    roster.classes.set(CLASS_ID, {
      class: {
        id: CLASS_ID,
        sourcedId: 'cls-alg',
        status: 'active',
        dateLastModified: null,
        title: 'Algebra I',
        classCode: null,
        classType: 'scheduled',
        location: null,
        grades: [],
        subjects: [],
        periods: [],
        school: { ...north, name: 'North High' },
        course: null,
        source: { connectionId: 'c0000000-0000-4000-8000-000000000000', connectionName: 'District SIS' },
      },
      access: { school: north, teacherEmails: ['ms.rivera@district.test'] },
      members: [],
    });
  });

  it('answers 404 for an unknown class, whoever asks', async () => {
    await expect(
      handler.execute(new GetClassRosterQuery({ roles: ['teacher'], schoolIds: [], email: 'a@b.c' }, north.id)),
    ).rejects.toBeInstanceOf(RosterClassNotFoundError);
  });

  it('lets the teacher of the class and the admin of its school in, and no one else', async () => {
    const teacher = { roles: ['teacher' as const], schoolIds: [], email: 'ms.rivera@district.test' };
    const schoolAdmin = { roles: ['school_admin' as const], schoolIds: [north.id], email: 'p@district.test' };
    const otherTeacher = { roles: ['teacher' as const], schoolIds: [], email: 'mr.chen@district.test' };
    await expect(handler.execute(new GetClassRosterQuery(teacher, CLASS_ID))).resolves.toMatchObject({
      class: { title: 'Algebra I' },
    });
    await expect(handler.execute(new GetClassRosterQuery(schoolAdmin, CLASS_ID))).resolves.toBeDefined();
    await expect(handler.execute(new GetClassRosterQuery(otherTeacher, CLASS_ID))).rejects.toBeInstanceOf(
      RosterAccessDeniedError,
    );
  });
});
