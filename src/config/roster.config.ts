import { z } from 'zod';
import { parseEnv } from './env-parsing.js';

const rosterSchema = z.object({
  ACCESS_ENROLLMENT_GRACE_DAYS: z.coerce.number().int().min(0).max(365).default(30),
});

/** Who may read the roster mirror, beyond roles and scopes. */
export abstract class RosterConfig {
  /**
   * Days an ended enrollment (its end date, or its class's last term end when it has none) keeps granting a
   * teacher or school admin access to the student, for end-of-term grading. 0 ends access the day after.
   */
  abstract readonly enrollmentGraceDays: number;
}

export function loadRosterConfig(source: NodeJS.ProcessEnv): RosterConfig {
  const env = parseEnv('roster', rosterSchema, source);
  return { enrollmentGraceDays: env.ACCESS_ENROLLMENT_GRACE_DAYS };
}
