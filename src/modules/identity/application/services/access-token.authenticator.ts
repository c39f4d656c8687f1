import { Clock } from '@app/ddd';
import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { AuthConfig } from '../../../../config/index.js';
import { InvalidTokenError } from '../../domain/identity.errors.js';
import { isRole } from '../../domain/role.js';
import type { AccessTokenClaims, AuthenticatedUser } from '../authenticated-user.js';
import { SessionRepository } from '../ports/session.repository.js';
import { UserRepository } from '../ports/user.repository.js';
import { ACCESS_TOKEN_ALGORITHM } from './token.service.js';

export interface Authentication {
  user: AuthenticatedUser;
  expiresAt: Date;
}

/**
 * Verifies an access token's signature (HS256 only), issuer, audience, expiry and not-before, then checks
 * the database on every call: the user still exists and is enabled, the token's version is current, and
 * its session is not revoked. So logout, disabling and role changes take effect on the next request.
 */
@Injectable()
export class AccessTokenAuthenticator {
  constructor(
    private readonly jwt: JwtService,
    private readonly config: AuthConfig,
    private readonly users: UserRepository,
    private readonly sessions: SessionRepository,
    private readonly clock: Clock,
  ) {}

  verifySignature(token: string): AccessTokenClaims & { exp: number } {
    try {
      return this.jwt.verify<AccessTokenClaims & { exp: number }>(token, {
        algorithms: [ACCESS_TOKEN_ALGORITHM],
        secret: this.config.jwtSecret,
        issuer: this.config.issuer,
        audience: this.config.audience,
      });
    } catch {
      throw new InvalidTokenError();
    }
  }

  async authenticate(token: string): Promise<Authentication> {
    const claims = this.verifySignature(token);
    return { user: await this.resolve(claims), expiresAt: new Date(claims.exp * 1000) };
  }

  async resolve(claims: AccessTokenClaims): Promise<AuthenticatedUser> {
    if (typeof claims.sub !== 'string' || typeof claims.sid !== 'string' || typeof claims.ver !== 'number') {
      throw new InvalidTokenError();
    }
    const [user, session] = await Promise.all([this.users.findById(claims.sub), this.sessions.findById(claims.sid)]);
    const now = this.clock.now();
    if (!user || user.disabled || user.tokenVersion !== claims.ver) throw new InvalidTokenError();
    if (!session || session.userId !== user.id || !session.isActive(now)) throw new InvalidTokenError();
    return {
      id: user.id,
      email: user.email,
      displayName: user.displayName,
      roles: user.roles.filter(isRole),
      schoolIds: user.schoolIds,
      sessionId: session.id,
    };
  }
}
