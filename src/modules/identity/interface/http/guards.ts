import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DomainError } from '@app/ddd';
import type { Request } from 'express';
import type { AuthenticatedUser } from '../../application/authenticated-user.js';
import { AccessTokenAuthenticator } from '../../application/services/access-token.authenticator.js';
import { InvalidTokenError } from '../../domain/identity.errors.js';
import type { Role } from '../../domain/role.js';
import { IS_PUBLIC, REQUIRED_ROLES } from './auth.decorators.js';

class MissingRoleError extends DomainError {
  readonly code = 'IDENTITY.FORBIDDEN';
  readonly kind = 'forbidden' as const;
  constructor(required: Role[]) {
    super('Your roles do not allow this', { requiredRoles: required });
  }
}

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/** The bearer token of an `Authorization` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  return header ? BEARER.exec(header)?.[1] : undefined;
}

/**
 * Authenticates every HTTP route that is not `@Public()` with the same verifier the socket gateway uses
 * (signature, type, expiry, issuer, audience, then the session and token version in the database).
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: AccessTokenAuthenticator,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]);
    if (isPublic) return true;
    const request = context.switchToHttp().getRequest<Request & { user?: AuthenticatedUser }>();
    const token = bearerToken(request.headers.authorization);
    if (!token) throw new InvalidTokenError();
    request.user = (await this.authenticator.authenticate(token)).user;
    return true;
  }
}

@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const required = this.reflector.getAllAndOverride<Role[] | undefined>(REQUIRED_ROLES, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!required || required.length === 0) return true;
    const user = context.switchToHttp().getRequest<{ user?: AuthenticatedUser }>().user;
    if (!user || !user.roles.some((role) => required.includes(role))) throw new MissingRoleError(required);
    return true;
  }
}
