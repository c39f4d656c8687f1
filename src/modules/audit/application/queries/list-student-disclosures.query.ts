import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { Disclosure } from '../../domain/disclosure.js';
import { DisclosureRepository } from '../ports/disclosure.repository.js';

/**
 * A student's record of disclosures (99.32(c): what the parent or eligible student may inspect), oldest first.
 * `required` keeps only the disclosures 99.32 requires recording; `all` adds the exempt ones.
 */
export class ListStudentDisclosuresQuery extends Query<Disclosure[]> {
  constructor(
    readonly studentId: string,
    readonly scope: 'required' | 'all' = 'all',
  ) {
    super();
  }
}

@QueryHandler(ListStudentDisclosuresQuery)
export class ListStudentDisclosuresHandler implements IQueryHandler<ListStudentDisclosuresQuery> {
  constructor(private readonly disclosures: DisclosureRepository) {}

  execute({ studentId, scope }: ListStudentDisclosuresQuery): Promise<Disclosure[]> {
    return this.disclosures.listForStudent(studentId.toLowerCase(), { requiredOnly: scope === 'required' });
  }
}
