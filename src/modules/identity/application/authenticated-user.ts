import type { Role } from '../domain/role.js';

/** Who is calling, as every guard, handler and socket sees it. */
export interface AuthenticatedUser {
  id: string;
  email: string;
  displayName: string;
  roles: Role[];
  schoolIds: string[];
  sessionId: string;
}

export interface AccessTokenClaims {
  sub: string;
  sid: string;
  ver: number;
  roles: Role[];
}
