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

/**
 * Applies the strict per-address limit of the credential routes (sign-in, refresh). Put it on those routes
 * only: authenticated reads are limited per user, since a school's staff share one NAT address.
 */
export const AuthRateLimited = (): MethodDecorator & ClassDecorator => SetMetadata(AUTH_RATE_LIMITED, true);

export const CurrentUser = createParamDecorator((_data: unknown, context: ExecutionContext): AuthenticatedUser => {
  const request = context.switchToHttp().getRequest<{ user: AuthenticatedUser }>();
  return request.user;
});
