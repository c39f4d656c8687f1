import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, Reflector } from '@nestjs/core';
import type { AuthenticatedUser } from '../../identity/index.js';
import { parseRoom, ROOM_POLICY, type RoomEvent, type RoomPolicy } from './room-policy.js';

export type JoinDecision = { ok: true } | { ok: false; code: string; message: string };

@Injectable()
export class RoomPolicyRegistry implements OnModuleInit {
  private readonly policies = new Map<string, RoomPolicy>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly reflector: Reflector,
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders()) {
      if (!wrapper.metatype || !wrapper.instance) continue;
      if (!this.reflector.get<boolean | undefined>(ROOM_POLICY, wrapper.metatype)) continue;
      this.register(wrapper.instance as RoomPolicy);
    }
  }

  register(policy: RoomPolicy): void {
    if (this.policies.has(policy.prefix)) throw new Error(`Two room policies for "${policy.prefix}"`);
    this.policies.set(policy.prefix, policy);
  }

  async decide(user: AuthenticatedUser, room: unknown): Promise<JoinDecision> {
    const parsed = parseRoom(room);
    if (!parsed) return { ok: false, code: 'REALTIME.BAD_REQUEST', message: 'Room names look like "prefix:id"' };
    const policy = this.policies.get(parsed.prefix);
    if (!policy) return { ok: false, code: 'REALTIME.ROOM_UNKNOWN', message: 'No such kind of room' };
    if (!(await policy.canJoin(user, parsed.id))) {
      return { ok: false, code: 'REALTIME.ROOM_FORBIDDEN', message: 'You may not join this room' };
    }
    return { ok: true };
  }

  /** The room's current state for a socket `decide` just let in (nothing for rooms without one). */
  async currentState(room: string): Promise<readonly RoomEvent[]> {
    const parsed = parseRoom(room);
    if (!parsed) return [];
    const policy = this.policies.get(parsed.prefix);
    return policy?.currentState ? policy.currentState(parsed.id) : [];
  }
}
