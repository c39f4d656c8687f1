import { KeysetCursorCodec, isUuid } from '@app/ddd';
import { runSql } from '@app/persistence';
import { EntityManager, UniqueConstraintViolationException } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { SessionRepository, type SessionPrincipal } from '../application/ports/session.repository.js';
import { UserRepository, type UserPage } from '../application/ports/user.repository.js';
import { EmailTakenError, InvalidUserCursorError } from '../domain/identity.errors.js';
import { RefreshToken, Session, type SessionEndReason } from '../domain/session.js';
import { normaliseEmail, User } from '../domain/user.js';

/** Users are listed by email; the cursor is the last email handed out, checked by the shared codec. */
const usersCursor = new KeysetCursorCodec<{ email: string }>({
  listing: 'users',
  fields: ['email'],
  invalid: () => new InvalidUserCursorError(),
});

@Injectable()
export class MikroOrmUserRepository extends UserRepository {
  constructor(private readonly em: EntityManager) {
    super();
  }

  findById(id: string): Promise<User | null> {
    if (!isUuid(id)) return Promise.resolve(null);
    return this.em.findOne(User, { id });
  }

  findByEmail(email: string): Promise<User | null> {
    return this.em.findOne(User, { email: normaliseEmail(email) });
  }

  count(): Promise<number> {
    return this.em.count(User, {});
  }

  async list(limit: number, cursor: string | undefined): Promise<UserPage> {
    const after = usersCursor.decode(cursor)?.email;
    const items = await this.em.find(User, after ? { email: { $gt: after } } : {}, {
      orderBy: { email: 'asc' },
      limit: limit + 1,
    });
    const hasMore = items.length > limit;
    const page = items.slice(0, limit);
    const last = page.at(-1);
    return { items: page, nextCursor: hasMore && last ? usersCursor.encode({ email: last.email }) : null };
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
    if (!isUuid(id)) return Promise.resolve(null);
    return this.em.findOne(Session, { id });
  }

  async findPrincipal(userId: string, sessionId: string): Promise<SessionPrincipal | null> {
    if (!isUuid(userId) || !isUuid(sessionId)) return null;
    // Hot path (every authenticated request): one indexed join, no entity hydration.
    const rows = await this.em.getConnection().execute<PrincipalRow[]>(
      `SELECT u.id AS user_id, u.email, u.display_name, u.roles, u.school_ids, u.disabled, u.token_version,
              s.id AS session_id, s.expires_at, s.revoked_at IS NOT NULL AS session_revoked
         FROM sessions s JOIN users u ON u.id = s.user_id
        WHERE s.id = ? AND u.id = ?`,
      [sessionId, userId],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      userId: row.user_id,
      email: row.email,
      displayName: row.display_name,
      roles: row.roles,
      schoolIds: row.school_ids,
      disabled: row.disabled,
      tokenVersion: row.token_version,
      sessionId: row.session_id,
      sessionExpiresAt: new Date(row.expires_at),
      sessionRevoked: row.session_revoked,
    };
  }

  findToken(tokenHash: string): Promise<RefreshToken | null> {
    return this.em.findOne(RefreshToken, { tokenHash });
  }

  async rotate(previousTokenHash: string, successor: RefreshToken, now: Date): Promise<boolean> {
    return this.em.transactional(async (em) => {
      // Under READ COMMITTED a concurrent rotation waits on the row lock, then re-checks `rotated_at IS NULL`.
      const claimed = await em.nativeUpdate(
        RefreshToken,
        { tokenHash: previousTokenHash, rotatedAt: null },
        { rotatedAt: now },
      );
      if (claimed !== 1) return false;
      await em.insert(successor);
      return true;
    });
  }

  async revoke(sessionId: string, reason: SessionEndReason, now: Date): Promise<boolean> {
    if (!isUuid(sessionId)) return false;
    const ended = await this.em.nativeUpdate(
      Session,
      { id: sessionId, revokedAt: null },
      { revokedAt: now, revokedReason: reason },
    );
    return ended === 1;
  }

  async revokeAllForUser(userId: string, reason: SessionEndReason, now: Date): Promise<string[]> {
    if (!isUuid(userId)) return [];
    const rows = await runSql<{ id: string }>(
      this.em,
      `UPDATE sessions SET revoked_at = $1, revoked_reason = $2
        WHERE user_id = $3 AND revoked_at IS NULL AND expires_at > $1
        RETURNING id`,
      [now, reason, userId],
    );
    return rows.map((row) => row.id);
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

interface PrincipalRow {
  user_id: string;
  email: string;
  display_name: string;
  roles: string[];
  school_ids: string[];
  disabled: boolean;
  token_version: number;
  session_id: string;
  expires_at: string | Date;
  session_revoked: boolean;
}
