import { EntitySchema } from '@mikro-orm/core';
import { RefreshToken, Session } from '../domain/session.js';
import { User } from '../domain/user.js';

// The domain keeps plain id fields (mapToPk), hence the casts on the relation targets.
// These mirror src/migrations exactly (types, defaults, keys, indexes, checks), so that
// `npx homeroom migration create` proposes only real changes.

export const UserSchema = new EntitySchema<User>({
  class: User,
  tableName: 'users',
  checks: [{ name: 'users_email_lowercase', expression: 'email = lower(email)' }],
  properties: {
    id: { type: 'uuid', primary: true },
    email: { type: 'string', columnType: 'text', unique: 'users_email_unique' },
    displayName: { type: 'string', columnType: 'text' },
    passwordHash: { type: 'string', columnType: 'text' },
    roles: { type: 'json', default: `'["teacher"]'` },
    schoolIds: { type: 'json', default: `'[]'` },
    disabled: { type: 'boolean', default: false },
    tokenVersion: { type: 'integer', default: 1 },
    createdAt: { type: 'Date', columnType: 'timestamptz' },
    updatedAt: { type: 'Date', columnType: 'timestamptz' },
  },
});

export const SessionSchema = new EntitySchema<Session>({
  class: Session,
  tableName: 'sessions',
  properties: {
    id: { type: 'uuid', primary: true },
    userId: {
      kind: 'm:1',
      entity: () => User as never,
      mapToPk: true,
      fieldName: 'user_id',
      deleteRule: 'cascade',
      index: 'sessions_user_id_index',
    },
    createdAt: { type: 'Date', columnType: 'timestamptz' },
    expiresAt: { type: 'Date', columnType: 'timestamptz' },
    revokedAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
    revokedReason: { type: 'string', columnType: 'text', nullable: true },
  },
});

export const RefreshTokenSchema = new EntitySchema<RefreshToken>({
  class: RefreshToken,
  tableName: 'refresh_tokens',
  properties: {
    tokenHash: { type: 'string', columnType: 'text', primary: true },
    sessionId: {
      kind: 'm:1',
      entity: () => Session as never,
      mapToPk: true,
      fieldName: 'session_id',
      deleteRule: 'cascade',
      index: 'refresh_tokens_session_id_index',
    },
    createdAt: { type: 'Date', columnType: 'timestamptz' },
    rotatedAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
  },
});
