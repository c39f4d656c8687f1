import { Clock, SystemClock } from '@app/ddd';
import { RedisThrottlerStorage } from '@app/http';
import { MikroOrmModule } from '@mikro-orm/nestjs';
import { Module, type DynamicModule, type ExecutionContext, type Provider } from '@nestjs/common';
import { APP_GUARD, Reflector } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { ThrottlerModule } from '@nestjs/throttler';
import { Redis } from 'ioredis';
import { createHash } from 'node:crypto';
import { AuthConfig, RedisConfig } from '../../config/index.js';
import { BootstrapAdministrator } from './application/bootstrap-administrator.service.js';
import { CreateAdminHandler } from './application/commands/create-admin.command.js';
import { CreateUserHandler } from './application/commands/create-user.command.js';
import { LoginHandler } from './application/commands/login.command.js';
import { LogoutHandler } from './application/commands/logout.command.js';
import { RefreshTokensHandler } from './application/commands/refresh-tokens.command.js';
import { ResetPasswordHandler } from './application/commands/reset-password.command.js';
import { UpdateUserHandler } from './application/commands/update-user.command.js';
import { LoginFailureStore } from './application/ports/login-failure.store.js';
import { PasswordHasher } from './application/ports/password-hasher.port.js';
import { SessionRepository } from './application/ports/session.repository.js';
import { UserRepository } from './application/ports/user.repository.js';
import { PurgeExpiredSessionsJob } from './application/purge-expired-sessions.job.js';
import { AuthenticateAccessTokenHandler } from './application/queries/authenticate-access-token.query.js';
import { GetUserHandler } from './application/queries/get-user.query.js';
import { ListUsersHandler } from './application/queries/list-users.query.js';
import { SchoolScopeResolver } from './application/services/school-scope.resolver.js';
import { AccessTokenAuthenticator } from './application/services/access-token.authenticator.js';
import type { AuthenticatedUser } from './application/authenticated-user.js';
import { TokenService } from './application/services/token.service.js';
import { Argon2PasswordHasher } from './infrastructure/argon2-password-hasher.js';
import { RefreshTokenSchema, SessionSchema, UserSchema } from './infrastructure/identity.schemas.js';
import { MikroOrmSessionRepository, MikroOrmUserRepository } from './infrastructure/mikro-orm-identity.repositories.js';
import { PostgresLoginFailureStore } from './infrastructure/postgres-login-failure.store.js';
import { AUTH_RATE_LIMITED } from './interface/http/auth.decorators.js';
import { AuthController } from './interface/http/auth.controller.js';
import { JwtAuthGuard, RolesGuard } from './interface/http/guards.js';
import {
  ADDRESS_THROTTLER,
  AddressThrottlerGuard,
  CREDENTIALS_THROTTLER,
  USER_THROTTLER,
  UserThrottlerGuard,
} from './interface/http/throttler.guard.js';
import { UsersController } from './interface/http/users.controller.js';

const MINUTE_MS = 60_000;

/** Rate-limit counters are keyed by a digest, so Redis never holds client addresses or user ids. */
const throttleKey = (name: string, tracker: string): string =>
  createHash('sha256').update(`${name}\0${tracker}`).digest('base64url');

function throttlerModule(): DynamicModule {
  return ThrottlerModule.forRootAsync({
    inject: [AuthConfig, RedisConfig],
    useFactory: (auth: AuthConfig, redis: RedisConfig) => {
      const reflector = new Reflector();
      const isCredentialRoute = (context: ExecutionContext): boolean =>
        reflector.getAllAndOverride<boolean | undefined>(AUTH_RATE_LIMITED, [
          context.getHandler(),
          context.getClass(),
        ]) === true;
      return {
        throttlers: [
          // One counter per address over the whole API: a high ceiling, since a school shares one NAT address.
          {
            name: ADDRESS_THROTTLER,
            ttl: MINUTE_MS,
            limit: auth.apiRateLimitPerMinute,
            generateKey: (_context, tracker, name) => throttleKey(name, tracker),
          },
          // Strict, per address and route, on the routes that take credentials.
          {
            name: CREDENTIALS_THROTTLER,
            ttl: MINUTE_MS,
            limit: auth.authRateLimitPerMinute,
            skipIf: (context) => !isCredentialRoute(context),
          },
          // One counter per signed-in user over the authenticated routes.
          {
            name: USER_THROTTLER,
            ttl: MINUTE_MS,
            limit: auth.apiUserRateLimitPerMinute,
            getTracker: (request: Record<string, unknown>) =>
              (request['user'] as AuthenticatedUser | undefined)?.id ?? '',
            generateKey: (_context, tracker, name) => throttleKey(name, tracker),
          },
        ],
        storage: redis.url
          ? new RedisThrottlerStorage(
              // On the request path: never queue a command while Redis is away, never wait long for an answer.
              new Redis(redis.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 500 }),
              redis.prefix,
            )
          : undefined,
      };
    },
  });
}

/** Users, roles, sign-in with rotating refresh tokens, and the guards every HTTP route passes through. */
@Module({})
export class IdentityModule {
  static forRole({ servesHttp }: { servesHttp: boolean }): DynamicModule {
    const core: Provider[] = [
      { provide: Clock, useClass: SystemClock },
      { provide: PasswordHasher, useClass: Argon2PasswordHasher },
      { provide: UserRepository, useClass: MikroOrmUserRepository },
      { provide: SessionRepository, useClass: MikroOrmSessionRepository },
      { provide: LoginFailureStore, useClass: PostgresLoginFailureStore },
      TokenService,
      AccessTokenAuthenticator,
      LoginHandler,
      RefreshTokensHandler,
      LogoutHandler,
      CreateUserHandler,
      CreateAdminHandler,
      UpdateUserHandler,
      SchoolScopeResolver,
      ResetPasswordHandler,
      GetUserHandler,
      ListUsersHandler,
      AuthenticateAccessTokenHandler,
      PurgeExpiredSessionsJob,
    ];
    const http: Provider[] = [
      BootstrapAdministrator,
      // Order matters: per-address limits first, then authentication, then the per-user limit, then roles.
      { provide: APP_GUARD, useClass: AddressThrottlerGuard },
      { provide: APP_GUARD, useClass: JwtAuthGuard },
      { provide: APP_GUARD, useClass: UserThrottlerGuard },
      { provide: APP_GUARD, useClass: RolesGuard },
    ];
    return {
      module: IdentityModule,
      imports: [
        MikroOrmModule.forFeature([UserSchema, SessionSchema, RefreshTokenSchema]),
        JwtModule.register({}),
        ...(servesHttp ? [throttlerModule()] : []),
      ],
      controllers: servesHttp ? [AuthController, UsersController] : [],
      providers: [...core, ...(servesHttp ? http : [])],
    };
  }
}
