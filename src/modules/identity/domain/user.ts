import { DEFAULT_ROLES, type Role } from './role.js';

export interface NewUser {
  id: string;
  email: string;
  displayName: string;
  passwordHash: string;
  roles?: readonly Role[];
  schoolIds?: readonly string[];
  now: Date;
}

export interface AccessChange {
  roles?: readonly Role[];
  schoolIds?: readonly string[];
  disabled?: boolean;
}

export class User {
  id!: string;
  email!: string;
  displayName!: string;
  passwordHash!: string;
  roles!: Role[];
  schoolIds!: string[];
  disabled!: boolean;
  /** Bumped whenever access changes; access tokens carry it and die when it moves on. */
  tokenVersion!: number;
  createdAt!: Date;
  updatedAt!: Date;

  static create(input: NewUser): User {
    const user = new User();
    user.id = input.id;
    user.email = normaliseEmail(input.email);
    user.displayName = input.displayName.trim();
    user.passwordHash = input.passwordHash;
    user.roles = [...new Set(input.roles && input.roles.length > 0 ? input.roles : DEFAULT_ROLES)];
    user.schoolIds = [...new Set(input.schoolIds ?? [])];
    user.disabled = false;
    user.tokenVersion = 1;
    user.createdAt = input.now;
    user.updatedAt = input.now;
    return user;
  }

  /** Applies an access change; returns whether anything changed (and so whether old tokens must die). */
  changeAccess(change: AccessChange, now: Date): boolean {
    let changed = false;
    if (change.roles && !sameSet(change.roles, this.roles)) {
      this.roles = [...new Set(change.roles)];
      changed = true;
    }
    if (change.schoolIds && !sameSet(change.schoolIds, this.schoolIds)) {
      this.schoolIds = [...new Set(change.schoolIds)];
      changed = true;
    }
    if (change.disabled !== undefined && change.disabled !== this.disabled) {
      this.disabled = change.disabled;
      changed = true;
    }
    if (changed) {
      this.tokenVersion += 1;
      this.updatedAt = now;
    }
    return changed;
  }

  rename(displayName: string, now: Date): void {
    this.displayName = displayName.trim();
    this.updatedAt = now;
  }

  changePasswordHash(passwordHash: string, now: Date): void {
    this.passwordHash = passwordHash;
    this.tokenVersion += 1;
    this.updatedAt = now;
  }
}

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

function sameSet<T>(a: readonly T[], b: readonly T[]): boolean {
  const left = new Set(a);
  const right = new Set(b);
  return left.size === right.size && [...left].every((item) => right.has(item));
}
