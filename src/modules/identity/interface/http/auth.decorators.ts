import { createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import type { AuthenticatedUser } from '../../application/authenticated-user.js';
import type { Role } from '../../domain/role.js';

export const IS_PUBLIC = 'homeroom:public';
export const REQUIRED_ROLES = 'homeroom:required-roles';
export const AUTH_RATE_LIMITED = 'homeroom:auth-rate-limited';

/** Opts a route out of the global JWT guard. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);

/** The caller needs at least one of these roles (403 otherwise). */
export const RequireRoles = (...roles: Role[]): MethodDecorator & ClassDecorator => SetMetadata(REQUIRED_ROLES, roles);

/** Applies the stricter per-IP limit of the sign-in routes. */
export const AuthRateLimited = (): ClassDecorator => SetMetadata(AUTH_RATE_LIMITED, true);

export const CurrentUser = createParamDecorator((_data: unknown, context: ExecutionContext): AuthenticatedUser => {
  const request = context.switchToHttp().getRequest<{ user: AuthenticatedUser }>();
  return request.user;
});
