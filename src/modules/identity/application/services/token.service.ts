import { Clock } from '@app/ddd';
import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { AuthConfig } from '../../../../config/index.js';
import { RefreshToken, Session } from '../../domain/session.js';
import type { User } from '../../domain/user.js';
import type { AccessTokenClaims } from '../authenticated-user.js';

export const ACCESS_TOKEN_ALGORITHM = 'HS256';
/** RFC 9068 explicit typing: a JWT signed with our key for any other purpose is never taken for an access token. */
export const ACCESS_TOKEN_TYPE = 'at+jwt';

export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
}

export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Mints short-lived access tokens (JWT, HS256 only) and opaque refresh tokens stored only as hashes. */
@Injectable()
export class TokenService {
  constructor(
    private readonly jwt: JwtService,
    private readonly config: AuthConfig,
    private readonly clock: Clock,
  ) {}

  startSession(userId: string): Session {
    return Session.start(randomUUID(), userId, this.clock.now(), this.config.refreshTokenTtlDays);
  }

  newRefreshToken(session: Session): { token: string; record: RefreshToken } {
    const token = randomBytes(32).toString('base64url');
    return { token, record: RefreshToken.issue(hashRefreshToken(token), session.id, this.clock.now()) };
  }

  async accessToken(user: User, session: Session): Promise<string> {
    const claims: AccessTokenClaims = { sub: user.id, sid: session.id, ver: user.tokenVersion, roles: user.roles };
    const now = Math.floor(this.clock.now().getTime() / 1000);
    return this.jwt.signAsync(
      { ...claims, nbf: now },
      {
        algorithm: ACCESS_TOKEN_ALGORITHM,
        header: { alg: ACCESS_TOKEN_ALGORITHM, typ: ACCESS_TOKEN_TYPE },
        secret: this.config.jwtSecret,
        issuer: this.config.issuer,
        audience: this.config.audience,
        expiresIn: this.config.accessTokenTtlSeconds,
        jwtid: randomUUID(),
      },
    );
  }

  async issue(user: User, session: Session): Promise<IssuedTokens & { refreshRecord: RefreshToken }> {
    const { token, record } = this.newRefreshToken(session);
    return {
      accessToken: await this.accessToken(user, session),
      refreshToken: token,
      refreshRecord: record,
      expiresIn: this.config.accessTokenTtlSeconds,
    };
  }
}
