import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { DomainError } from '@app/ddd';
import type { AuthenticatedUser } from '../../application/authenticated-user.js';
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

@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override canActivate(context: ExecutionContext) {
    if (context.getType() !== 'http') return true;
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]);
    if (isPublic) return true;
    return super.canActivate(context);
  }

  override handleRequest<T>(error: unknown, user: T | false): T {
    if (error instanceof DomainError) throw error;
    if (error || !user) throw new InvalidTokenError();
    return user;
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
