import type { User } from '../../domain/user.js';

export interface UserPage {
  items: User[];
  nextCursor: string | null;
}

export abstract class UserRepository {
  abstract findById(id: string): Promise<User | null>;
  abstract findByEmail(email: string): Promise<User | null>;
  abstract count(): Promise<number>;
  /** Ordered by email; the cursor is opaque to callers. */
  abstract list(limit: number, cursor: string | undefined): Promise<UserPage>;
  /** Inserts or updates; throws EmailTakenError on a duplicate email. */
  abstract save(user: User): Promise<void>;
}
