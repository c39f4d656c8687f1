export type { AuthenticatedUser } from './application/authenticated-user.js';
export { AuthenticateAccessTokenQuery } from './application/queries/authenticate-access-token.query.js';
export type { Authentication } from './application/services/access-token.authenticator.js';
export { ROLES, type Role } from './domain/role.js';
export { IdentityCliModule } from './identity-cli.module.js';
export { IdentityModule } from './identity.module.js';
export { CurrentUser, IS_PUBLIC, Public, REQUIRED_ROLES, RequireRoles } from './interface/http/auth.decorators.js';
export { printFirstRunCredentials } from './interface/first-run-credentials.js';
