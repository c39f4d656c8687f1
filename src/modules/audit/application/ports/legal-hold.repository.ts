import type { LegalHold } from '../../domain/legal-hold.js';

export interface LegalHoldFilter {
  studentId?: string;
  active?: boolean;
}

/** Keyset position in newest-first order. */
export interface LegalHoldPosition {
  placedAt: Date;
  id: string;
}

export abstract class LegalHoldRepository {
  abstract add(hold: LegalHold): Promise<void>;

  abstract findById(id: string): Promise<LegalHold | null>;

  /** Releases an active hold; null when there is no such hold or it was already released. */
  abstract release(id: string, releasedBy: string, releasedAt: Date): Promise<LegalHold | null>;

  /** Newest first. */
  abstract list(filter: LegalHoldFilter, after: LegalHoldPosition | undefined, limit: number): Promise<LegalHold[]>;
}
