import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { AccessTokenAuthenticator, type Authentication } from '../services/access-token.authenticator.js';

/** For entry points other than HTTP (socket handshakes): who does this access token belong to, until when. */
export class AuthenticateAccessTokenQuery extends Query<Authentication> {
  constructor(readonly token: string) {
    super();
  }
}

@QueryHandler(AuthenticateAccessTokenQuery)
export class AuthenticateAccessTokenHandler implements IQueryHandler<AuthenticateAccessTokenQuery> {
  constructor(private readonly authenticator: AccessTokenAuthenticator) {}

  execute({ token }: AuthenticateAccessTokenQuery): Promise<Authentication> {
    return this.authenticator.authenticate(token);
  }
}
