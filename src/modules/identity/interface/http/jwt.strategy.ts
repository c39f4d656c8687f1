import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { AuthConfig } from '../../../../config/index.js';
import type { AccessTokenClaims, AuthenticatedUser } from '../../application/authenticated-user.js';
import { AccessTokenAuthenticator } from '../../application/services/access-token.authenticator.js';
import { ACCESS_TOKEN_ALGORITHM } from '../../application/services/token.service.js';

@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    config: AuthConfig,
    private readonly authenticator: AccessTokenAuthenticator,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKey: config.jwtSecret,
      algorithms: [ACCESS_TOKEN_ALGORITHM],
      issuer: config.issuer,
      audience: config.audience,
      ignoreExpiration: false,
    });
  }

  validate(claims: AccessTokenClaims): Promise<AuthenticatedUser> {
    return this.authenticator.resolve(claims);
  }
}
