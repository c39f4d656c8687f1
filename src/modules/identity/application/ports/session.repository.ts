import type { RefreshToken, Session } from '../../domain/session.js';

export abstract class SessionRepository {
  abstract findById(id: string): Promise<Session | null>;
  abstract findToken(tokenHash: string): Promise<RefreshToken | null>;
  abstract activeForUser(userId: string): Promise<Session[]>;
  /** Persists the session and token changes in one transaction. */
  abstract save(sessions: Session[], tokens: RefreshToken[]): Promise<void>;
  /** Deletes sessions that ended (expired or revoked) before the given time; returns how many. */
  abstract purgeEndedBefore(before: Date): Promise<number>;
}
