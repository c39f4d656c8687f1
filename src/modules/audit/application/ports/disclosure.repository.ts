import type { Disclosure } from '../../domain/disclosure.js';

/** 99.32 disclosure records (append-only: a record is never changed once written). */
export abstract class DisclosureRepository {
  abstract add(disclosure: Disclosure): Promise<void>;

  /** Oldest first. `requiredOnly` leaves out the bases 99.32(d) exempts from recording. */
  abstract listForStudent(studentId: string, options: { requiredOnly: boolean }): Promise<Disclosure[]>;
}
