import { applyPendingMigrations, buildOrmOptions } from '@app/persistence';
import { createTestDatabase, type TestDatabase } from '@app/testing';
import { MikroORM } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrations } from '../../../migrations/index.js';
import { RefreshToken, Session } from '../domain/session.js';
import { User } from '../domain/user.js';
import { RefreshTokenSchema, SessionSchema, UserSchema } from './identity.schemas.js';
import { MikroOrmSessionRepository, MikroOrmUserRepository } from './mikro-orm-identity.repositories.js';
import { PostgresLoginFailureStore } from './postgres-login-failure.store.js';

describe('identity persistence (PostgreSQL)', () => {
  let database: TestDatabase;
  let orm: MikroORM;
  const t0 = new Date('2026-12-07T08:00:00Z');

  beforeAll(async () => {
    database = await createTestDatabase('identity');
    orm = await MikroORM.init(
      buildOrmOptions({
        url: database.url,
        poolMax: 8,
        migrations,
        entities: [UserSchema, SessionSchema, RefreshTokenSchema],
      }),
    );
    await applyPendingMigrations(orm, database.url);
  });

  afterAll(async () => {
    await orm?.close(true);
    await database?.drop();
  });

  // Each caller gets its own unit of work, as concurrent requests do.
  const sessions = () => new MikroOrmSessionRepository(orm.em.fork());

  async function signedInUser(sessionCount: number): Promise<{ user: User; sessions: Session[]; token: RefreshToken }> {
    const user = User.create({
      id: randomUUID(),
      email: `${randomUUID()}@district.test`,
      displayName: 'T',
      passwordHash: 'h',
      now: t0,
    });
    await new MikroOrmUserRepository(orm.em.fork()).save(user);
    const started = Array.from({ length: sessionCount }, () => Session.start(randomUUID(), user.id, new Date(), 14));
    const token = RefreshToken.issue(randomUUID(), started[0].id, new Date());
    await sessions().save(started, [token]);
    return { user, sessions: started, token };
  }

  it('lets exactly one of five concurrent rotations of one refresh token win', async () => {
    const {
      sessions: [session],
      token,
    } = await signedInUser(1);
    const successors = Array.from({ length: 5 }, () => RefreshToken.issue(randomUUID(), session.id, new Date()));
    const outcomes = await Promise.all(successors.map((next) => sessions().rotate(token.tokenHash, next, new Date())));
    expect(outcomes.filter(Boolean)).toHaveLength(1);
    const stored = await orm.em.fork().find(RefreshToken, { sessionId: session.id });
    expect(stored).toHaveLength(2);
    expect(stored.find((row) => row.tokenHash === token.tokenHash)?.rotatedAt).toBeInstanceOf(Date);
    expect(
      await sessions().rotate(token.tokenHash, RefreshToken.issue(randomUUID(), session.id, new Date()), new Date()),
    ).toBe(false);
  });

  it('revokes every live session of a user once, and a session only once', async () => {
    const { user, sessions: started } = await signedInUser(3);
    const ended = await sessions().revokeAllForUser(user.id, 'revoked', new Date());
    expect([...ended].sort()).toEqual(started.map((session) => session.id).sort());
    expect(await sessions().revokeAllForUser(user.id, 'revoked', new Date())).toEqual([]);
    expect(await sessions().revoke(started[0].id, 'logout', new Date())).toBe(false);
    const other = await signedInUser(1);
    expect(await sessions().revoke(other.sessions[0].id, 'reuse-detected', new Date())).toBe(true);
    expect(await sessions().revoke(other.sessions[0].id, 'reuse-detected', new Date())).toBe(false);
  });

  it('counts login failures per key in windows, without losing concurrent ones', async () => {
    const store = () => new PostgresLoginFailureStore(orm.em.fork());
    const [a, b] = [randomUUID(), randomUUID()];
    const window = 15 * 60_000;
    await Promise.all(Array.from({ length: 5 }, () => store().record([a, b], t0, window)));
    await store().record([a], new Date(t0.getTime() + 60_000), window);
    const [countA, countB] = await store().read([a, b], new Date(t0.getTime() + 120_000));
    expect(countA).toEqual({ failures: 6, windowEndsAt: new Date(t0.getTime() + window) });
    expect(countB?.failures).toBe(5);
    // After the window a failure starts a new one; reading an ended window gives zero.
    const later = new Date(t0.getTime() + window + 1);
    expect((await store().read([b], later))[0]).toEqual({ failures: 0, windowEndsAt: null });
    await store().record([a], later, window);
    expect((await store().read([a], later))[0]).toEqual({
      failures: 1,
      windowEndsAt: new Date(later.getTime() + window),
    });
    await store().clear([a]);
    expect((await store().read([a], later))[0]?.failures).toBe(0);
    expect(await store().purgeEndedBefore(later)).toBeGreaterThanOrEqual(1);
  });
});
