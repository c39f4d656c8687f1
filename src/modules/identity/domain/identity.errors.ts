import { DomainError } from '@app/ddd';

export class InvalidCredentialsError extends DomainError {
  readonly code = 'IDENTITY.INVALID_CREDENTIALS';
  readonly kind = 'unauthenticated' as const;
  constructor() {
    super('The email or password is not correct');
  }
}

/** Failed sign-ins from this address for this email used up their allowance; other addresses are unaffected. */
export class TooManySignInAttemptsError extends DomainError {
  readonly code = 'IDENTITY.TOO_MANY_SIGN_IN_ATTEMPTS';
  readonly kind = 'rate_limited' as const;
  constructor(retryAfterSeconds: number) {
    super('Too many failed sign-ins for this email from this address: retry later', { retryAfterSeconds });
  }
}

export class InvalidTokenError extends DomainError {
  readonly code = 'IDENTITY.TOKEN_INVALID';
  readonly kind = 'unauthenticated' as const;
  constructor(message = 'The access token is missing, invalid, expired or revoked') {
    super(message);
  }
}

export class InvalidRefreshTokenError extends DomainError {
  readonly code = 'IDENTITY.REFRESH_TOKEN_INVALID';
  readonly kind = 'unauthenticated' as const;
  constructor() {
    super('The refresh token is invalid, expired or revoked');
  }
}

export class RefreshTokenReusedError extends DomainError {
  readonly code = 'IDENTITY.REFRESH_TOKEN_REUSED';
  readonly kind = 'unauthenticated' as const;
  constructor() {
    super('This refresh token was already used: the session has been revoked, sign in again');
  }
}

export class WeakPasswordError extends DomainError {
  readonly code = 'IDENTITY.WEAK_PASSWORD';
  readonly kind = 'validation' as const;
  constructor(reason: string) {
    super(reason);
  }
}

export class EmailTakenError extends DomainError {
  readonly code = 'IDENTITY.EMAIL_TAKEN';
  readonly kind = 'conflict' as const;
  constructor() {
    super('A user with this email already exists');
  }
}

export class UserNotFoundError extends DomainError {
  readonly code = 'IDENTITY.USER_NOT_FOUND';
  readonly kind = 'not_found' as const;
  constructor(userId: string) {
    super('No user has that id', { userId });
  }
}

export class InvalidUserCursorError extends DomainError {
  readonly code = 'IDENTITY.INVALID_CURSOR';
  readonly kind = 'validation' as const;
  constructor() {
    super('The cursor is malformed or belongs to another listing; start again without it', { fields: ['cursor'] });
  }
}

export class NoUserWithEmailError extends DomainError {
  readonly code = 'IDENTITY.USER_NOT_FOUND';
  readonly kind = 'not_found' as const;
  constructor() {
    super('No user has that email');
  }
}

export class SelfLockoutError extends DomainError {
  readonly code = 'IDENTITY.SELF_LOCKOUT';
  readonly kind = 'conflict' as const;
  constructor() {
    super('You cannot disable your own account or remove your own district_admin role');
  }
}
