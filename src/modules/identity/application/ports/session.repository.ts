import type { RefreshToken, Session } from '../../domain/session.js';

/** What a request needs to know about its caller, read in one round trip on every authenticated request. */
export interface SessionPrincipal {
  userId: string;
  email: string;
  displayName: string;
  roles: string[];
  schoolIds: string[];
  disabled: boolean;
  tokenVersion: number;
  sessionId: string;
  sessionExpiresAt: Date;
  sessionRevoked: boolean;
}

export abstract class SessionRepository {
  abstract findPrincipal(userId: string, sessionId: string): Promise<SessionPrincipal | null>;
  abstract findById(id: string): Promise<Session | null>;
  abstract findToken(tokenHash: string): Promise<RefreshToken | null>;
  abstract activeForUser(userId: string): Promise<Session[]>;
  /** Persists the session and token changes in one transaction. */
  abstract save(sessions: Session[], tokens: RefreshToken[]): Promise<void>;
  /** Deletes sessions that ended (expired or revoked) before the given time; returns how many. */
  abstract purgeEndedBefore(before: Date): Promise<number>;
}
