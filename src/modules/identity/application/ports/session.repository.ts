import type { RefreshToken, Session, SessionEndReason } from '../../domain/session.js';

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
  /**
   * Marks a refresh token rotated and stores its successor, atomically and only if nobody rotated it first
   * (a conditional update, so of concurrent callers exactly one gets true). False: it was already rotated.
   */
  abstract rotate(previousTokenHash: string, successor: RefreshToken, now: Date): Promise<boolean>;
  /** Ends a session unless it already ended; true when this call ended it. */
  abstract revoke(sessionId: string, reason: SessionEndReason, now: Date): Promise<boolean>;
  /** Ends every live session of a user in one statement; returns the ids this call ended. */
  abstract revokeAllForUser(userId: string, reason: SessionEndReason, now: Date): Promise<string[]>;
  /** Persists the session and token changes in one transaction. */
  abstract save(sessions: Session[], tokens: RefreshToken[]): Promise<void>;
  /** Deletes sessions that ended (expired or revoked) before the given time; returns how many. */
  abstract purgeEndedBefore(before: Date): Promise<number>;
}
