import { Clock } from '@app/ddd';
import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { AuthConfig } from '../../../../config/index.js';
import { InvalidTokenError } from '../../domain/identity.errors.js';
import { isRole } from '../../domain/role.js';
import type { AccessTokenClaims, AuthenticatedUser } from '../authenticated-user.js';
import { SessionRepository } from '../ports/session.repository.js';
import { ACCESS_TOKEN_ALGORITHM, ACCESS_TOKEN_TYPE } from './token.service.js';

export interface Authentication {
  user: AuthenticatedUser;
  expiresAt: Date;
}

interface VerifiedToken {
  header: { typ?: unknown };
  payload: AccessTokenClaims & { exp?: unknown };
}

/**
 * The one verification path for HTTP and sockets. Verifies an access token's signature (HS256 only), type
 * (`at+jwt`), issuer, audience, expiry (required: a token without `exp` never expires, so it is refused) and
 * not-before, then checks
 * the database on every call: the user still exists and is enabled, the token's version is current, and
 * its session is not revoked. So logout, disabling and role changes take effect on the next request.
 */
@Injectable()
export class AccessTokenAuthenticator {
  constructor(
    private readonly jwt: JwtService,
    private readonly config: AuthConfig,
    private readonly sessions: SessionRepository,
    private readonly clock: Clock,
  ) {}

  verifySignature(token: string): AccessTokenClaims & { exp: number } {
    let verified: VerifiedToken;
    try {
      verified = this.jwt.verify<VerifiedToken & object>(token, {
        algorithms: [ACCESS_TOKEN_ALGORITHM],
        secret: this.config.jwtSecret,
        issuer: this.config.issuer,
        audience: this.config.audience,
        complete: true,
      });
    } catch {
      throw new InvalidTokenError();
    }
    const { header, payload } = verified;
    if (header.typ !== ACCESS_TOKEN_TYPE || typeof payload.exp !== 'number' || !Number.isFinite(payload.exp)) {
      throw new InvalidTokenError();
    }
    return { ...payload, exp: payload.exp };
  }

  async authenticate(token: string): Promise<Authentication> {
    const claims = this.verifySignature(token);
    return { user: await this.resolve(claims), expiresAt: new Date(claims.exp * 1000) };
  }

  async resolve(claims: AccessTokenClaims): Promise<AuthenticatedUser> {
    if (typeof claims.sub !== 'string' || typeof claims.sid !== 'string' || typeof claims.ver !== 'number') {
      throw new InvalidTokenError();
    }
    const principal = await this.sessions.findPrincipal(claims.sub, claims.sid);
    if (!principal || principal.disabled || principal.tokenVersion !== claims.ver) throw new InvalidTokenError();
    if (principal.sessionRevoked || principal.sessionExpiresAt <= this.clock.now()) throw new InvalidTokenError();
    return {
      id: principal.userId,
      email: principal.email,
      displayName: principal.displayName,
      roles: principal.roles.filter(isRole),
      schoolIds: principal.schoolIds,
      sessionId: principal.sessionId,
    };
  }
}
