/**
 * Person fields district staff may edit in Homeroom. The first five also come from the SIS, and each
 * connection decides who wins for them (`sis`, `local`, `sticky`); the last two exist only here, so a sync
 * never touches them. `directoryOptOut` is the FERPA 99.37 directory-information opt-out.
 */
export const SIS_BACKED_EDITABLE_FIELDS = [
  'preferredFirstName',
  'preferredLastName',
  'pronouns',
  'phone',
  'sms',
] as const;
export type SisBackedEditableField = (typeof SIS_BACKED_EDITABLE_FIELDS)[number];

export interface ContactPreferences {
  email?: boolean;
  sms?: boolean;
  phone?: boolean;
  /** BCP 47 language for messages home, e.g. `es`. */
  language?: string;
}

export interface LocalPersonChanges {
  preferredFirstName?: string | null;
  preferredLastName?: string | null;
  pronouns?: string | null;
  phone?: string | null;
  sms?: string | null;
  directoryOptOut?: boolean;
  contactPreferences?: ContactPreferences;
}

/** A local value that stands in for the SIS's, with who set it and the SIS value it replaced. */
export interface LocalOverride {
  value: string | null;
  sisValue: string | null;
  editedBy: string | null;
  editedAt: string;
}

export interface PersonLocalState {
  id: string;
  isStudent: boolean;
  localEdits: Partial<Record<SisBackedEditableField, LocalOverride>>;
  directoryOptOut: boolean;
  contactPreferences: ContactPreferences;
}
