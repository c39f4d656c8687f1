import { Injectable } from '@nestjs/common';
import type { AuthenticatedUser } from '../../../identity/index.js';
import { RoomPolicyProvider, type RoomPolicy } from '../../../realtime/index.js';
import { COMPLIANCE_ROOM } from '../../application/compliance-room.js';

const COMPLIANCE_ROLES = new Set(['compliance_officer', 'district_admin']);

/** `compliance`: denied accesses and failed verifications of the audit trail, as they happen. */
@Injectable()
@RoomPolicyProvider()
export class ComplianceRoomPolicy implements RoomPolicy {
  readonly prefix = COMPLIANCE_ROOM;

  canJoin(user: AuthenticatedUser, roomId: string | undefined): boolean {
    return roomId === undefined && user.roles.some((role) => COMPLIANCE_ROLES.has(role));
  }
}
