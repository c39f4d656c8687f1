import type { RosterSeed } from '../roster/seed-roster.js';

/**
 * The small district the audit suites share: Ms Rivera teaches Algebra I at North (José and Sam), Ana is at
 * North outside her class, Zoë at South.
 */
export const AUDIT_DISTRICT: RosterSeed = {
  orgs: [
    { sourcedId: 'sch-north', name: 'North High' },
    { sourcedId: 'sch-south', name: 'South Middle' },
  ],
  classes: [
    { sourcedId: 'cls-alg', title: 'Algebra I', school: 'sch-north' },
    { sourcedId: 'cls-art', title: 'Art', school: 'sch-south' },
  ],
  people: [
    {
      sourcedId: 'tch-rivera',
      givenName: 'Elena',
      familyName: 'Rivera',
      role: 'teacher',
      email: 'ms.rivera@district.test',
      orgs: ['sch-north'],
    },
    { sourcedId: 'stu-jose', givenName: 'José', familyName: 'Núñez', role: 'student', orgs: ['sch-north'] },
    { sourcedId: 'stu-sam', givenName: 'Sam', familyName: 'Cross', role: 'student', orgs: ['sch-north'] },
    { sourcedId: 'stu-ana', givenName: 'Ana', familyName: 'López', role: 'student', orgs: ['sch-north'] },
    { sourcedId: 'stu-zoe', givenName: 'Zoë', familyName: 'Ødegaard', role: 'student', orgs: ['sch-south'] },
  ],
  enrollments: [
    { class: 'cls-alg', user: 'tch-rivera', role: 'teacher', primary: true },
    { class: 'cls-alg', user: 'stu-jose', role: 'student' },
    { class: 'cls-alg', user: 'stu-sam', role: 'student' },
    { class: 'cls-art', user: 'stu-zoe', role: 'student' },
  ],
};
