import { describe, expect, it } from 'vitest';
import { parseRoom } from './room-policy.js';
import { RoomPolicyRegistry } from './room-policy.registry.js';
import { UserRoomPolicy } from './user-room.policy.js';

const alice = {
  id: 'alice',
  email: 'a@d.test',
  displayName: 'A',
  roles: ['teacher' as const],
  schoolIds: [],
  sessionId: 's',
};

describe('room policies', () => {
  const registry = new RoomPolicyRegistry(undefined as never, undefined as never);
  registry.register(new UserRoomPolicy());

  it('parses room names and rejects anything else', () => {
    expect(parseRoom('sync-run:123')).toEqual({ prefix: 'sync-run', id: '123' });
    expect(parseRoom('sis-ops')).toEqual({ prefix: 'sis-ops', id: undefined });
    expect(parseRoom('../etc')).toBeUndefined();
    expect(parseRoom(42)).toBeUndefined();
  });

  it('lets a user join only their own user room', async () => {
    expect(await registry.decide(alice, 'user:alice')).toEqual({ ok: true });
    expect(await registry.decide(alice, 'user:bob')).toMatchObject({ ok: false, code: 'REALTIME.ROOM_FORBIDDEN' });
  });

  it('refuses rooms nobody owns', async () => {
    expect(await registry.decide(alice, 'class:1')).toMatchObject({ ok: false, code: 'REALTIME.ROOM_UNKNOWN' });
  });

  it('refuses two policies for one prefix', () => {
    expect(() => registry.register(new UserRoomPolicy())).toThrow('Two room policies for "user"');
  });
});
