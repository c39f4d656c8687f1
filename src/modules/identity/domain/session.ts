export type SessionEndReason = 'logout' | 'reuse-detected' | 'revoked';

/** One sign-in: the family of refresh tokens that rotate from it, and the access tokens they mint. */
export class Session {
  id!: string;
  userId!: string;
  createdAt!: Date;
  expiresAt!: Date;
  revokedAt!: Date | null;
  revokedReason!: SessionEndReason | null;

  static start(id: string, userId: string, now: Date, ttlDays: number): Session {
    const session = new Session();
    session.id = id;
    session.userId = userId;
    session.createdAt = now;
    session.expiresAt = new Date(now.getTime() + ttlDays * 86_400_000);
    session.revokedAt = null;
    session.revokedReason = null;
    return session;
  }

  isActive(now: Date): boolean {
    return this.revokedAt === null && this.expiresAt > now;
  }

  revoke(reason: SessionEndReason, now: Date): void {
    if (this.revokedAt) return;
    this.revokedAt = now;
    this.revokedReason = reason;
  }
}

/** A refresh token is stored only as its SHA-256; a rotated one is kept to detect reuse. */
export class RefreshToken {
  tokenHash!: string;
  sessionId!: string;
  createdAt!: Date;
  rotatedAt!: Date | null;

  static issue(tokenHash: string, sessionId: string, now: Date): RefreshToken {
    const token = new RefreshToken();
    token.tokenHash = tokenHash;
    token.sessionId = sessionId;
    token.createdAt = now;
    token.rotatedAt = null;
    return token;
  }
}
