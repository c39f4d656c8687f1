import { DomainError, isUuid } from '@app/ddd';

/** 99.31(a) exceptions and the other bases a disclosure can rest on; the database CHECK holds the same list. */
export const DISCLOSURE_BASES = [
  'school_official',
  'other_school_enrollment',
  'authorized_representative',
  'financial_aid',
  'juvenile_justice',
  'studies',
  'accreditation',
  'dependent_student_parent',
  'judicial_order_or_subpoena',
  'health_safety_emergency',
  'directory_information',
  'parent_or_eligible_student',
  'sex_offender_registry',
  'child_welfare_agency',
  'written_consent',
] as const;
export type DisclosureBasis = (typeof DISCLOSURE_BASES)[number];

export const DISCLOSURE_PARTY_TYPES = ['individual', 'school', 'agency', 'organization', 'court', 'other'] as const;
export type DisclosurePartyType = (typeof DISCLOSURE_PARTY_TYPES)[number];

/**
 * 99.32(d): disclosures to the parent or eligible student, to school officials under 99.31(a)(1), with written
 * consent, or of directory information need not be recorded. They may still be recorded (and are worth
 * recording); they are flagged so a parent's copy can show "what 99.32 requires" or everything.
 */
export const BASES_EXEMPT_FROM_RECORDING: readonly DisclosureBasis[] = [
  'school_official',
  'parent_or_eligible_student',
  'written_consent',
  'directory_information',
];

export interface DisclosureParty {
  name: string;
  type: DisclosurePartyType;
}

/** A party the recipient may redisclose to on the school's behalf (99.33(b)), with its interest (99.32(a)(4)). */
export interface RedisclosureParty {
  name: string;
  legitimateInterest: string;
}

/** 99.32(a)(5) / 99.36: the articulable and significant threat, and the parties told about it. */
export interface EmergencyDetails {
  threat: string;
  recipients: string[];
}

/** One record of a disclosure of PII from students' education records (34 CFR 99.32(a)). */
export interface Disclosure {
  id: string;
  studentIds: string[];
  party: DisclosureParty;
  basis: DisclosureBasis;
  legitimateInterest: string;
  /** What was disclosed, as category codes (`attendance`, `grades`, `iep`, …). */
  dataCategories: string[];
  /** Calendar date of the disclosure, `YYYY-MM-DD`. */
  disclosedOn: string;
  redisclosureParties: RedisclosureParty[];
  emergency: EmergencyDetails | null;
  /** When the parent was notified or a notification was attempted (99.31(a)(9)(ii), 99.34). */
  parentNotifiedAt: Date | null;
  recordedBy: string;
  recordedAt: Date;
  /** False for the bases 99.32(d) exempts from recording. */
  recordRequired: boolean;
}

/** What a caller sends. Untrusted: every field is checked by `recordDisclosure`. */
export interface DisclosureDraft {
  studentIds?: unknown;
  party?: unknown;
  basis?: unknown;
  legitimateInterest?: unknown;
  dataCategories?: unknown;
  disclosedOn?: unknown;
  redisclosureParties?: unknown;
  emergency?: unknown;
  parentNotifiedAt?: unknown;
}

export interface DisclosureFieldProblem {
  field: string;
  problem: 'missing' | 'invalid';
  message: string;
}

/** A disclosure record lacks a field 99.32 requires, or holds one that is not valid. */
export class DisclosureIncompleteError extends DomainError {
  readonly code = 'AUDIT.DISCLOSURE_INCOMPLETE';
  readonly kind = 'unprocessable' as const;

  constructor(readonly problems: readonly DisclosureFieldProblem[]) {
    super(`The disclosure record is incomplete or invalid: ${problems.map((problem) => problem.field).join(', ')}`, {
      fields: problems.map((problem) => problem.field),
      errors: problems,
    });
  }
}

const CATEGORY = /^[a-z][a-z0-9_]{0,63}$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/;
const MAX_STUDENTS = 5_000;
const MAX_LIST = 50;
const MAX_NAME = 300;
const MAX_TEXT = 2_000;
/** FERPA dates from 1974; an earlier date is a typo. */
const EARLIEST_DISCLOSURE = '1974-01-01';
const DAY_MS = 86_400_000;
/** Clock skew tolerated for a notification time reported by the client. */
const FUTURE_SLACK_MS = 5 * 60_000;

/**
 * Checks a disclosure draft against 99.32 and returns the record to store, or throws one error listing every
 * field at fault (so a form can mark them all at once).
 */
export function recordDisclosure(
  draft: DisclosureDraft,
  context: { id: string; recordedBy: string; recordedAt: Date },
): Disclosure {
  const problems: DisclosureFieldProblem[] = [];
  const missing = (field: string, message: string): void => void problems.push({ field, problem: 'missing', message });
  const invalid = (field: string, message: string): void => void problems.push({ field, problem: 'invalid', message });

  const studentIds = checkStudentIds(draft.studentIds, missing, invalid);

  let party: DisclosureParty | null = null;
  if (isAbsent(draft.party)) {
    missing('party.name', 'Name the party that requested or received the information');
    missing('party.type', `Give the party's type: ${DISCLOSURE_PARTY_TYPES.join(', ')}`);
  } else if (!isRecord(draft.party)) {
    invalid('party', 'party must be an object with name and type');
  } else {
    const name = text(draft.party['name'], 'party.name', MAX_NAME, missing, invalid, 'Name the party');
    const type = oneOf(draft.party['type'], DISCLOSURE_PARTY_TYPES, 'party.type', missing, invalid);
    if (name !== null && type !== null) party = { name, type };
  }

  const basis = oneOf(draft.basis, DISCLOSURE_BASES, 'basis', missing, invalid);
  const legitimateInterest = text(
    draft.legitimateInterest,
    'legitimateInterest',
    MAX_TEXT,
    missing,
    invalid,
    'State the legitimate interest the party had in the information',
  );
  const dataCategories = checkCategories(draft.dataCategories, missing, invalid);
  const disclosedOn = checkDisclosedOn(draft.disclosedOn, context.recordedAt, missing, invalid);
  const redisclosureParties = checkRedisclosures(draft.redisclosureParties, invalid, missing);
  const emergency = checkEmergency(draft.emergency, basis, missing, invalid);
  const parentNotifiedAt = checkNotifiedAt(draft.parentNotifiedAt, context.recordedAt, invalid);

  if (
    problems.length > 0 ||
    studentIds === null ||
    party === null ||
    basis === null ||
    legitimateInterest === null ||
    dataCategories === null ||
    disclosedOn === null ||
    redisclosureParties === null ||
    emergency === undefined ||
    parentNotifiedAt === undefined
  ) {
    throw new DisclosureIncompleteError(problems);
  }
  return {
    id: context.id,
    studentIds,
    party,
    basis,
    legitimateInterest,
    dataCategories,
    disclosedOn,
    redisclosureParties,
    emergency,
    parentNotifiedAt,
    recordedBy: context.recordedBy,
    recordedAt: context.recordedAt,
    recordRequired: isRecordRequired(basis),
  };
}

export function isRecordRequired(basis: DisclosureBasis): boolean {
  return !BASES_EXEMPT_FROM_RECORDING.includes(basis);
}

type Report = (field: string, message: string) => void;

function isAbsent(value: unknown): boolean {
  return value === undefined || value === null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(
  value: unknown,
  field: string,
  max: number,
  missing: Report,
  invalid: Report,
  missingMessage: string,
): string | null {
  if (isAbsent(value) || (typeof value === 'string' && value.trim() === '')) {
    missing(field, missingMessage);
    return null;
  }
  if (typeof value !== 'string') {
    invalid(field, `${field} must be text`);
    return null;
  }
  const trimmed = value.trim();
  if (trimmed.length > max) {
    invalid(field, `${field} is longer than ${max} characters`);
    return null;
  }
  return trimmed;
}

function oneOf<T extends string>(
  value: unknown,
  allowed: readonly T[],
  field: string,
  missing: Report,
  invalid: Report,
): T | null {
  if (isAbsent(value) || value === '') {
    missing(field, `${field} is required: one of ${allowed.join(', ')}`);
    return null;
  }
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    invalid(field, `${field} must be one of ${allowed.join(', ')}`);
    return null;
  }
  return value as T;
}

function checkStudentIds(value: unknown, missing: Report, invalid: Report): string[] | null {
  if (isAbsent(value) || (Array.isArray(value) && value.length === 0)) {
    missing('studentIds', 'List at least one student whose information was disclosed');
    return null;
  }
  if (!Array.isArray(value)) {
    invalid('studentIds', 'studentIds must be a list of student ids');
    return null;
  }
  if (value.length > MAX_STUDENTS) {
    invalid('studentIds', `At most ${MAX_STUDENTS} students per record`);
    return null;
  }
  if (!value.every((id): id is string => typeof id === 'string' && isUuid(id))) {
    invalid('studentIds', 'Every student id must be a UUID');
    return null;
  }
  return [...new Set(value.map((id) => id.toLowerCase()))];
}

function checkCategories(value: unknown, missing: Report, invalid: Report): string[] | null {
  if (isAbsent(value) || (Array.isArray(value) && value.length === 0)) {
    missing('dataCategories', 'Say what was disclosed (category codes such as attendance, grades, iep)');
    return null;
  }
  if (!Array.isArray(value) || value.length > MAX_LIST) {
    invalid('dataCategories', `dataCategories must be a list of at most ${MAX_LIST} category codes`);
    return null;
  }
  if (!value.every((category): category is string => typeof category === 'string' && CATEGORY.test(category))) {
    invalid('dataCategories', 'Category codes are lowercase letters, digits and underscores (e.g. attendance)');
    return null;
  }
  return [...new Set(value)];
}

function checkDisclosedOn(value: unknown, recordedAt: Date, missing: Report, invalid: Report): string | null {
  if (isAbsent(value) || value === '') {
    missing('disclosedOn', 'Give the date of the disclosure (YYYY-MM-DD)');
    return null;
  }
  const match = typeof value === 'string' ? DATE.exec(value) : null;
  if (!match) {
    invalid('disclosedOn', 'disclosedOn must be a date, YYYY-MM-DD');
    return null;
  }
  const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  if (date.toISOString().slice(0, 10) !== value) {
    invalid('disclosedOn', 'disclosedOn is not a calendar date');
    return null;
  }
  // A local calendar date can run at most one day ahead of UTC.
  const latest = new Date(recordedAt.getTime() + DAY_MS).toISOString().slice(0, 10);
  if (value > latest || value < EARLIEST_DISCLOSURE) {
    invalid('disclosedOn', 'disclosedOn cannot be in the future or before 1974');
    return null;
  }
  return value;
}

function checkRedisclosures(value: unknown, invalid: Report, missing: Report): RedisclosureParty[] | null {
  if (isAbsent(value)) return [];
  if (!Array.isArray(value) || value.length > MAX_LIST) {
    invalid('redisclosureParties', `redisclosureParties must be a list of at most ${MAX_LIST} parties`);
    return null;
  }
  const parties: RedisclosureParty[] = [];
  let complete = true;
  value.forEach((item: unknown, index) => {
    const field = `redisclosureParties[${index}]`;
    if (!isRecord(item)) {
      invalid(field, `${field} must be an object with name and legitimateInterest`);
      complete = false;
      return;
    }
    const name = text(item['name'], `${field}.name`, MAX_NAME, missing, invalid, 'Name the party');
    const interest = text(
      item['legitimateInterest'],
      `${field}.legitimateInterest`,
      MAX_TEXT,
      missing,
      invalid,
      "State the party's legitimate interest (99.32(a)(4))",
    );
    if (name === null || interest === null) complete = false;
    else parties.push({ name, legitimateInterest: interest });
  });
  return complete ? parties : null;
}

/** `undefined` when the field is at fault; `null` when no emergency applies. */
function checkEmergency(
  value: unknown,
  basis: DisclosureBasis | null,
  missing: Report,
  invalid: Report,
): EmergencyDetails | null | undefined {
  if (basis !== 'health_safety_emergency') {
    if (isAbsent(value)) return null;
    // Only a known basis can make the field out of place; an unknown one is reported on its own.
    if (basis !== null) invalid('emergency', 'emergency applies only to the health_safety_emergency basis');
    return basis === null ? null : undefined;
  }
  const threatMessage = 'Describe the articulable and significant threat that justified the disclosure (99.32(a)(5))';
  const recipientsMessage = 'List the parties the information was disclosed to in the emergency (99.32(a)(5))';
  if (isAbsent(value)) {
    missing('emergency.threat', threatMessage);
    missing('emergency.recipients', recipientsMessage);
    return undefined;
  }
  if (!isRecord(value)) {
    invalid('emergency', 'emergency must be an object with threat and recipients');
    return undefined;
  }
  const threat = text(value['threat'], 'emergency.threat', MAX_TEXT, missing, invalid, threatMessage);
  const rawRecipients = value['recipients'];
  let recipients: string[] | null = null;
  if (isAbsent(rawRecipients) || (Array.isArray(rawRecipients) && rawRecipients.length === 0)) {
    missing('emergency.recipients', recipientsMessage);
  } else if (
    !Array.isArray(rawRecipients) ||
    rawRecipients.length > MAX_LIST ||
    !rawRecipients.every(
      (recipient): recipient is string =>
        typeof recipient === 'string' && recipient.trim() !== '' && recipient.trim().length <= MAX_NAME,
    )
  ) {
    invalid('emergency.recipients', `emergency.recipients must list 1 to ${MAX_LIST} named parties`);
  } else {
    recipients = [...new Set(rawRecipients.map((recipient) => recipient.trim()))];
  }
  return threat === null || recipients === null ? undefined : { threat, recipients };
}

/** `undefined` when the field is at fault. */
function checkNotifiedAt(value: unknown, recordedAt: Date, invalid: Report): Date | null | undefined {
  if (isAbsent(value)) return null;
  if (typeof value !== 'string' || !DATE_TIME.test(value) || Number.isNaN(Date.parse(value))) {
    invalid('parentNotifiedAt', 'parentNotifiedAt must be a date-time with a time zone (ISO 8601)');
    return undefined;
  }
  const at = new Date(value);
  if (at.getTime() > recordedAt.getTime() + FUTURE_SLACK_MS) {
    invalid('parentNotifiedAt', 'parentNotifiedAt cannot be in the future');
    return undefined;
  }
  return at;
}
