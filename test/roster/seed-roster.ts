import type { EnrollmentRole, OrgType, PersonRole } from '@app/contracts';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { personSearchText } from '../../src/modules/roster/index.js';

type Status = 'active' | 'inactive';

export interface OrgSeed {
  sourcedId: string;
  name: string;
  type?: OrgType;
  status?: Status;
  identifier?: string;
}

export interface CourseSeed {
  sourcedId: string;
  title: string;
  courseCode?: string;
  org?: string;
}

export interface ClassSeed {
  sourcedId: string;
  title: string;
  school: string | null;
  course?: string;
  classCode?: string;
  /** sourcedIds of the class's terms (academic sessions). */
  terms?: string[];
  status?: Status;
}

export interface SessionSeed {
  sourcedId: string;
  title: string;
  type?: 'term' | 'semester' | 'gradingPeriod' | 'schoolYear';
  startDate?: string;
  endDate?: string;
}

export interface PersonSeed {
  sourcedId: string;
  givenName: string;
  familyName: string;
  middleName?: string;
  preferredFirstName?: string;
  role: PersonRole;
  /** Further roles the person holds (OneRoster 1.2 `roles[]`, roleType secondary). */
  secondaryRoles?: PersonRole[];
  email?: string;
  username?: string;
  identifier?: string;
  phone?: string;
  orgs?: string[];
  agents?: string[];
  grades?: string[];
  status?: Status;
}

export interface EnrollmentSeed {
  class: string;
  user: string;
  role: EnrollmentRole;
  primary?: boolean;
  beginDate?: string;
  endDate?: string;
  status?: Status;
}

export interface DemographicsSeed {
  sourcedId: string;
  birthDate: string;
  sex: 'male' | 'female' | 'unspecified' | 'other';
  hispanicOrLatino?: boolean;
  status?: Status;
}

export interface RosterSeed {
  /** Registers the connection (a row of `sis_connections`) under this name; without it the rows have none. */
  connectionName?: string;
  orgs?: OrgSeed[];
  sessions?: SessionSeed[];
  courses?: CourseSeed[];
  classes?: ClassSeed[];
  people?: PersonSeed[];
  enrollments?: EnrollmentSeed[];
  demographics?: DemographicsSeed[];
}

type SeededTable = 'orgs' | 'academic_sessions' | 'courses' | 'classes' | 'people' | 'enrollments' | 'demographics';

export interface SeededRoster {
  connectionId: string;
  /** The local id given to a seeded record; throws for a sourcedId that was not seeded. */
  id(table: SeededTable, sourcedId: string): string;
}

const MODIFIED_AT = '2026-09-01T12:00:00.000Z';

/**
 * Writes roster rows straight into the mirror tables of one connection, the way a finished sync leaves them
 * (including `search_text`), so the read side can be tested without running a sync.
 */
export async function seedRoster(
  databaseUrl: string,
  seed: RosterSeed,
  connectionId: string = randomUUID(),
): Promise<SeededRoster> {
  const ids = new Map<string, string>();
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const insert = async (table: SeededTable, sourcedId: string, status: Status, columns: Record<string, unknown>) => {
    const id = randomUUID();
    ids.set(`${table}:${sourcedId}`, id);
    const names = [
      'id',
      'connection_id',
      'sourced_id',
      'status',
      'source_modified_at',
      'source_hash',
      ...Object.keys(columns),
    ];
    const values = [id, connectionId, sourcedId, status, MODIFIED_AT, 'seeded', ...Object.values(columns)];
    const placeholders = values.map((_value, index) => `$${index + 1}`).join(', ');
    await client.query(`INSERT INTO roster_${table} (${names.join(', ')}) VALUES (${placeholders})`, values);
  };
  const json = (value: unknown) => JSON.stringify(value);
  try {
    if (seed.connectionName !== undefined) {
      await client.query(
        `INSERT INTO sis_connections (id, name, provider, settings, created_at, updated_at)
         VALUES ($1, $2, 'oneroster', '{}', now(), now())`,
        [connectionId, seed.connectionName],
      );
    }
    for (const org of seed.orgs ?? []) {
      await insert('orgs', org.sourcedId, org.status ?? 'active', {
        name: org.name,
        type: org.type ?? 'school',
        identifier: org.identifier ?? null,
      });
    }
    for (const session of seed.sessions ?? []) {
      await insert('academic_sessions', session.sourcedId, 'active', {
        title: session.title,
        type: session.type ?? 'term',
        start_date: session.startDate ?? null,
        end_date: session.endDate ?? null,
      });
    }
    for (const course of seed.courses ?? []) {
      await insert('courses', course.sourcedId, 'active', {
        title: course.title,
        course_code: course.courseCode ?? null,
        org_sourced_id: course.org ?? null,
      });
    }
    for (const cls of seed.classes ?? []) {
      await insert('classes', cls.sourcedId, cls.status ?? 'active', {
        title: cls.title,
        class_code: cls.classCode ?? null,
        class_type: 'scheduled',
        school_sourced_id: cls.school,
        course_sourced_id: cls.course ?? null,
        term_sourced_ids: json(cls.terms ?? []),
      });
    }
    for (const person of seed.people ?? []) {
      const orgs = person.orgs ?? [];
      await insert('people', person.sourcedId, person.status ?? 'active', {
        given_name: person.givenName,
        family_name: person.familyName,
        middle_name: person.middleName ?? null,
        preferred_first_name: person.preferredFirstName ?? null,
        email: person.email ?? null,
        username: person.username ?? null,
        identifier: person.identifier ?? null,
        phone: person.phone ?? null,
        roles: json([
          { role: person.role, roleType: 'primary', orgSourcedId: orgs[0] ?? null, beginDate: null, endDate: null },
          ...(person.secondaryRoles ?? []).map((role) => ({
            role,
            roleType: 'secondary',
            orgSourcedId: orgs[0] ?? null,
            beginDate: null,
            endDate: null,
          })),
        ]),
        primary_role: person.role,
        org_sourced_ids: json(orgs),
        primary_org_sourced_id: orgs[0] ?? null,
        grades: json(person.grades ?? []),
        agent_sourced_ids: json(person.agents ?? []),
        search_text: personSearchText(person),
      });
    }
    let enrollmentNumber = 0;
    for (const enrollment of seed.enrollments ?? []) {
      enrollmentNumber += 1;
      await insert(
        'enrollments',
        `enr-${enrollmentNumber}-${enrollment.class}-${enrollment.user}`,
        enrollment.status ?? 'active',
        {
          class_sourced_id: enrollment.class,
          user_sourced_id: enrollment.user,
          role: enrollment.role,
          is_primary: enrollment.primary ?? false,
          begin_date: enrollment.beginDate ?? null,
          end_date: enrollment.endDate ?? null,
        },
      );
    }
    for (const demographics of seed.demographics ?? []) {
      await insert('demographics', demographics.sourcedId, demographics.status ?? 'active', {
        birth_date: demographics.birthDate,
        sex: demographics.sex,
        hispanic_or_latino: demographics.hispanicOrLatino ?? null,
        race: json({ white: true, asian: false }),
      });
    }
  } finally {
    await client.end();
  }
  return {
    connectionId,
    id(table, sourcedId) {
      const id = ids.get(`${table}:${sourcedId}`);
      if (!id) throw new Error(`Nothing seeded as ${table} ${sourcedId}`);
      return id;
    },
  };
}
