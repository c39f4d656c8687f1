import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';

/**
 * Runs work in one database transaction: every repository call inside it (through the same entity manager
 * or `runSql`) commits or rolls back together. Application code depends on this port, not on the ORM.
 */
export abstract class TransactionRunner {
  abstract run<T>(work: () => Promise<T>): Promise<T>;
}

@Injectable()
export class MikroOrmTransactionRunner extends TransactionRunner {
  constructor(private readonly em: EntityManager) {
    super();
  }

  run<T>(work: () => Promise<T>): Promise<T> {
    return this.em.transactional(() => work());
  }
}
