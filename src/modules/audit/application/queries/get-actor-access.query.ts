import { Query, QueryBus, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { DISTRICT_WIDE_ROLES, FindStudentSchoolsQuery } from '../../../roster/index.js';
import { parseAuditEntry } from '../../domain/audit-entry.js';
import { AuditQueryRangeError } from '../../domain/audit-records.errors.js';
import { decodeIdCursor, pageSize } from '../audit-cursor.js';
import { AuditProjector } from '../ports/audit-projector.port.js';
import { AuditTrailReadModel, type ActorStudentAccess } from '../ports/audit-trail-read-model.port.js';

export interface ActorStudentAccessView extends ActorStudentAccess {
  /**
   * True when none of the student's current schools is among the actor's schools (a lead for a snooping
   * review, not proof: enrollments change); null when the actor has district-wide roles or no school scope.
   */
  outsideActorSchools: boolean | null;
}

export interface ActorAccessPage {
  /** Roles and schools the actor's latest entry in the window recorded; null when there is none. */
  actor: { roles: string[]; schoolIds: string[] } | null;
  items: ActorStudentAccessView[];
  nextCursor: string | null;
}

/** Which students one user's recorded accesses touched, grouped by student (a snooping investigation). */
export class GetActorAccessQuery extends Query<ActorAccessPage> {
  constructor(
    readonly actorId: string,
    readonly window: { from?: Date; to?: Date },
    readonly page: { cursor?: string; limit?: number } = {},
  ) {
    super();
  }
}

@QueryHandler(GetActorAccessQuery)
export class GetActorAccessHandler implements IQueryHandler<GetActorAccessQuery> {
  constructor(
    private readonly trail: AuditTrailReadModel,
    private readonly projector: AuditProjector,
    private readonly queries: QueryBus,
  ) {}

  async execute({ actorId, window, page }: GetActorAccessQuery): Promise<ActorAccessPage> {
    if (window.from && window.to && window.from >= window.to) throw new AuditQueryRangeError();
    const limit = pageSize(page.limit);
    const after = decodeIdCursor(page.cursor);
    await this.projector.catchUp();
    const [rows, latest] = await Promise.all([
      this.trail.listActorStudents(actorId, window, after, limit + 1),
      this.trail.latestActorEntry(actorId, window),
    ]);
    const groups = rows.slice(0, limit);
    const actor = latest ? parseAuditEntry(latest.text).actor : null;
    const schoolKeys = new Set(actor?.schoolIds ?? []);
    const districtWide = actor?.roles.some((role) => (DISTRICT_WIDE_ROLES as readonly string[]).includes(role));
    const judged = actor !== null && !districtWide && schoolKeys.size > 0;
    const schools = judged
      ? await this.queries.execute(new FindStudentSchoolsQuery(groups.map((group) => group.studentId)))
      : new Map<string, { id: string; sourcedId: string }[]>();
    return {
      actor: actor ? { roles: actor.roles, schoolIds: actor.schoolIds } : null,
      items: groups.map((group) => ({
        ...group,
        outsideActorSchools: judged
          ? !(schools.get(group.studentId) ?? []).some(
              (school) => schoolKeys.has(school.id) || schoolKeys.has(school.sourcedId),
            )
          : null,
      })),
      nextCursor: rows.length > limit ? groups.at(-1)!.studentId : null,
    };
  }
}
