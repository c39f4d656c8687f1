import { EntityManager, UniqueConstraintViolationException } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { SessionRepository } from '../application/ports/session.repository.js';
import { UserRepository, type UserPage } from '../application/ports/user.repository.js';
import { EmailTakenError } from '../domain/identity.errors.js';
import { RefreshToken, Session } from '../domain/session.js';
import { normaliseEmail, User } from '../domain/user.js';

@Injectable()
export class MikroOrmUserRepository extends UserRepository {
  constructor(private readonly em: EntityManager) {
    super();
  }

  findById(id: string): Promise<User | null> {
    if (!UUID.test(id)) return Promise.resolve(null);
    return this.em.findOne(User, { id });
  }

  findByEmail(email: string): Promise<User | null> {
    return this.em.findOne(User, { email: normaliseEmail(email) });
  }

  count(): Promise<number> {
    return this.em.count(User, {});
  }

  async list(limit: number, cursor: string | undefined): Promise<UserPage> {
    const after = cursor ? Buffer.from(cursor, 'base64url').toString('utf8') : undefined;
    const items = await this.em.find(User, after ? { email: { $gt: after } } : {}, {
      orderBy: { email: 'asc' },
      limit: limit + 1,
    });
    const hasMore = items.length > limit;
    const page = items.slice(0, limit);
    const last = page.at(-1);
    return { items: page, nextCursor: hasMore && last ? Buffer.from(last.email).toString('base64url') : null };
  }

  async save(user: User): Promise<void> {
    try {
      await this.em.persist(user).flush();
    } catch (error) {
      if (error instanceof UniqueConstraintViolationException) {
        this.em.clear();
        throw new EmailTakenError();
      }
      throw error;
    }
  }
}

@Injectable()
export class MikroOrmSessionRepository extends SessionRepository {
  constructor(private readonly em: EntityManager) {
    super();
  }

  findById(id: string): Promise<Session | null> {
    if (!UUID.test(id)) return Promise.resolve(null);
    return this.em.findOne(Session, { id });
  }

  findToken(tokenHash: string): Promise<RefreshToken | null> {
    return this.em.findOne(RefreshToken, { tokenHash });
  }

  activeForUser(userId: string): Promise<Session[]> {
    return this.em.find(Session, { userId, revokedAt: null, expiresAt: { $gt: new Date() } });
  }

  async save(sessions: Session[], tokens: RefreshToken[]): Promise<void> {
    // Tokens reference sessions by id only, so the unit of work cannot order the inserts by itself.
    await this.em.transactional(async (em) => {
      await em.persist(sessions).flush();
      await em.persist(tokens).flush();
    });
  }

  async purgeEndedBefore(before: Date): Promise<number> {
    return this.em.transactional(async (em) => {
      const ended = { $or: [{ expiresAt: { $lt: before } }, { revokedAt: { $lt: before } }] };
      const sessions = await em.find(Session, ended, { fields: ['id'] });
      const ids = sessions.map((session) => session.id);
      if (ids.length === 0) return 0;
      await em.nativeDelete(RefreshToken, { sessionId: { $in: ids } });
      return em.nativeDelete(Session, { id: { $in: ids } });
    });
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
