import { normaliseSearchQuery } from '../../domain/person-search-text.js';
import { InvalidRosterCursorError } from '../../domain/roster.errors.js';
import type { RankedStudentPosition, StudentPosition } from '../ports/roster-read-model.port.js';
import { CURSOR_FIELD_PATTERNS, PageCursorCodec, toPage } from '../roster-page-cursor.js';
import type { Page, PersonNameView } from '../roster-views.js';

/** What a list of students or of staff takes. */
export interface PersonListOptions {
  /** Free text over names, identifier, username and email; tolerant of typos and accents. */
  search?: string;
  /** Local id of a school; a school outside the viewer's scope simply yields nothing. */
  schoolId?: string;
  /** Id of a SIS connection; an unknown one simply yields nothing. */
  connectionId?: string;
  limit?: number;
  cursor?: string;
}

/** How one kind of person (students, staff) is read: a page by name, or a page of best matches for a search. */
export interface PersonPageReads<View extends PersonNameView, Ranked extends { score: string }> {
  byName(after: StudentPosition | null, limit: number): Promise<View[]>;
  bySearch(search: string, after: RankedStudentPosition | null, limit: number): Promise<Ranked[]>;
  /** The person a ranked match is about. */
  person(ranked: Ranked): View;
}

/**
 * The pages of a list of people: by name without a search, best matches first with one. Each kind has cursors of
 * its own (`byNameKind`, `bySearchKind`), so that a cursor of one list is refused by another.
 */
export class PersonPages {
  private readonly byNameCursor: PageCursorCodec<StudentPosition>;
  /** The search text rides along so that a cursor cannot be replayed against a different search. */
  private readonly bySearchCursor: PageCursorCodec<RankedStudentPosition & { search: string }>;

  constructor(byNameKind: string, bySearchKind: string) {
    this.byNameCursor = new PageCursorCodec<StudentPosition>(byNameKind, ['familyName', 'givenName', 'id'], {
      id: CURSOR_FIELD_PATTERNS.id,
    });
    this.bySearchCursor = new PageCursorCodec<RankedStudentPosition & { search: string }>(
      bySearchKind,
      ['search', 'score', 'familyName', 'givenName', 'id'],
      { id: CURSOR_FIELD_PATTERNS.id, score: CURSOR_FIELD_PATTERNS.score },
    );
  }

  /** One page of at most `limit` people (already checked by `assertPageSize`). */
  async read<View extends PersonNameView, Ranked extends { score: string }>(
    options: { search?: string; cursor?: string },
    limit: number,
    reads: PersonPageReads<View, Ranked>,
  ): Promise<Page<View>> {
    const search = normaliseSearchQuery(options.search ?? '');
    if (search === '') {
      const after = this.byNameCursor.decode(options.cursor);
      const rows = await reads.byName(after, limit + 1);
      return toPage(rows, limit, ({ familyName, givenName, id }) =>
        this.byNameCursor.encode({ familyName, givenName, id }),
      );
    }
    const after = this.bySearchCursor.decode(options.cursor);
    if (after && after.search !== search) throw new InvalidRosterCursorError();
    const rows = await reads.bySearch(search, after, limit + 1);
    const page = toPage(rows, limit, (ranked) => {
      const { familyName, givenName, id } = reads.person(ranked);
      return this.bySearchCursor.encode({ search, score: ranked.score, familyName, givenName, id });
    });
    return { items: page.items.map((ranked) => reads.person(ranked)), nextCursor: page.nextCursor };
  }
}
