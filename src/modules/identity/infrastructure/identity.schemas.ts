import { EntitySchema } from '@mikro-orm/core';
import { RefreshToken, Session } from '../domain/session.js';
import { User } from '../domain/user.js';

export const UserSchema = new EntitySchema<User>({
  class: User,
  tableName: 'users',
  properties: {
    id: { type: 'uuid', primary: true },
    email: { type: 'string', unique: true },
    displayName: { type: 'string' },
    passwordHash: { type: 'string', lazy: false },
    roles: { type: 'json' },
    schoolIds: { type: 'json' },
    disabled: { type: 'boolean' },
    failedLoginCount: { type: 'integer' },
    lockedUntil: { type: 'Date', columnType: 'timestamptz', nullable: true },
    tokenVersion: { type: 'integer' },
    createdAt: { type: 'Date', columnType: 'timestamptz' },
    updatedAt: { type: 'Date', columnType: 'timestamptz' },
  },
});

export const SessionSchema = new EntitySchema<Session>({
  class: Session,
  tableName: 'sessions',
  properties: {
    id: { type: 'uuid', primary: true },
    userId: { type: 'uuid' },
    createdAt: { type: 'Date', columnType: 'timestamptz' },
    expiresAt: { type: 'Date', columnType: 'timestamptz' },
    revokedAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
    revokedReason: { type: 'string', nullable: true },
  },
});

export const RefreshTokenSchema = new EntitySchema<RefreshToken>({
  class: RefreshToken,
  tableName: 'refresh_tokens',
  properties: {
    tokenHash: { type: 'string', primary: true },
    sessionId: { type: 'uuid' },
    createdAt: { type: 'Date', columnType: 'timestamptz' },
    rotatedAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
  },
});
