import { describe, expect, it } from 'vitest';
import { WeakPasswordError } from './identity.errors.js';
import { assertAcceptablePassword } from './password-policy.js';
import { Session } from './session.js';
import { User } from './user.js';

const t0 = new Date('2026-11-24T08:00:00Z');
const minutes = (n: number) => new Date(t0.getTime() + n * 60_000);

function user(): User {
  return User.create({
    id: 'u-1',
    email: ' Ms.Rivera@District.ORG ',
    displayName: ' Ms. Rivera ',
    passwordHash: 'h',
    now: t0,
  });
}

describe('User', () => {
  it('normalises the email and defaults to the least-privileged role', () => {
    const created = user();
    expect(created.email).toBe('ms.rivera@district.org');
    expect(created.displayName).toBe('Ms. Rivera');
    expect(created.roles).toEqual(['teacher']);
    expect(created.tokenVersion).toBe(1);
  });

  it('bumps the token version only when access really changes', () => {
    const account = user();
    expect(account.changeAccess({ roles: ['teacher'], schoolIds: [] }, t0)).toBe(false);
    expect(account.tokenVersion).toBe(1);
    expect(account.changeAccess({ roles: ['school_admin', 'teacher'] }, t0)).toBe(true);
    expect(account.tokenVersion).toBe(2);
    expect(account.changeAccess({ disabled: true }, t0)).toBe(true);
    expect(account.tokenVersion).toBe(3);
  });

  it('a password change invalidates tokens', () => {
    const account = user();
    account.changePasswordHash('h2', t0);
    expect(account.tokenVersion).toBe(2);
  });
});

describe('Session', () => {
  it('is active until it expires or is revoked, and keeps the first revocation reason', () => {
    const session = Session.start('s-1', 'u-1', t0, 14);
    expect(session.isActive(minutes(60))).toBe(true);
    expect(session.isActive(new Date(t0.getTime() + 14 * 86_400_000))).toBe(false);
    session.revoke('reuse-detected', minutes(1));
    session.revoke('logout', minutes(2));
    expect(session.isActive(minutes(3))).toBe(false);
    expect(session.revokedReason).toBe('reuse-detected');
  });
});

describe('password policy', () => {
  it.each([
    ['too short', 'elevenchars'],
    ['the email itself', 'ms.rivera@district.org'],
    ['one repeated character', 'aaaaaaaaaaaaaaaa'],
    ['too long', 'x'.repeat(257) + 'abcd'],
  ])('refuses a password that is %s', (_label, password) => {
    expect(() => assertAcceptablePassword(password, 'ms.rivera@district.org')).toThrow(WeakPasswordError);
  });

  it('accepts a long passphrase', () => {
    expect(() => assertAcceptablePassword('correct horse battery staple', 'ms.rivera@district.org')).not.toThrow();
  });
});
