import {
  EXTENSION_VOCABULARY_VALUES,
  type ExtensionMappings,
  type ExtensionValue,
  type ExtensionVocabulary,
  type RosterEntity,
} from '@app/contracts';

/** Something normalising met that a run mentions once (a warning), not once per record. Never carries student data. */
export interface OneRosterNotice {
  entity: RosterEntity;
  field: string;
  /** How many records (or roles) it concerned. */
  count: number;
  message: string;
}

/** What the product does with an extension value no mapping gives a core meaning, by vocabulary. */
const UNMAPPED_MEANS: Readonly<Record<ExtensionVocabulary, string>> = {
  orgType: 'no core org type (not a school, not district-level)',
  sessionType: 'no core session type',
  classType: 'no core class type',
  role: 'no core role (grants nothing: not a student, teacher, administrator or guardian)',
  enrollmentRole: 'no core enrollment role (neither a student nor a teacher of the class)',
};

/**
 * A connection's OneRoster 1.2 extension vocabulary for one run: maps an extension value to the core value the
 * connection configured (`extensionMappings`), and tallies what the run must say once per entity: extension values
 * left unmapped (the safe reading: no core meaning) and OneRoster 1.0 `inactive` statuses (taken as `tobedeleted`,
 * as the 1.1/1.2 specifications say). `drain(entity)` hands the tally over as notices and clears it.
 */
export class OneRosterVocabulary {
  private readonly unmapped = new Map<
    string,
    { entity: RosterEntity; field: string; vocabulary: ExtensionVocabulary; value: string; count: number }
  >();
  private readonly inactive = new Map<RosterEntity, number>();

  constructor(
    private readonly mappings: ExtensionMappings = {},
    private readonly tallying = true,
  ) {}

  /** The same mappings without a tally: for reads a run makes twice (learning orgs for the school scope). */
  silent(): OneRosterVocabulary {
    return new OneRosterVocabulary(this.mappings, false);
  }

  /** The meaning of an extension value: the mapped core value, or the value itself when the connection maps none. */
  meaning(vocabulary: ExtensionVocabulary, value: ExtensionValue): string {
    const mapped = this.mappings[vocabulary]?.[value];
    return mapped !== undefined && EXTENSION_VOCABULARY_VALUES[vocabulary].includes(mapped) ? mapped : value;
  }

  /** One record of `entity` read with an extension value `meaning` left as itself. */
  noteUnmapped(vocabulary: ExtensionVocabulary, entity: RosterEntity, field: string, value: ExtensionValue): void {
    if (this.tallying) {
      const key = `${entity}\u0000${field}\u0000${value}`;
      const entry = this.unmapped.get(key);
      if (entry) entry.count += 1;
      else this.unmapped.set(key, { entity, field, vocabulary, value, count: 1 });
    }
  }

  noteInactive(entity: RosterEntity): void {
    if (this.tallying) this.inactive.set(entity, (this.inactive.get(entity) ?? 0) + 1);
  }

  /** The notices gathered for `entity` since the last drain, then forgotten. */
  drain(entity: RosterEntity): OneRosterNotice[] {
    const notices: OneRosterNotice[] = [];
    const inactive = this.inactive.get(entity) ?? 0;
    if (inactive > 0) {
      this.inactive.delete(entity);
      notices.push({
        entity,
        field: 'status',
        count: inactive,
        message:
          `${plural(inactive, `${entity} record`)} had status "inactive", a OneRoster 1.0 value removed in 1.1: ` +
          'taken as "tobedeleted" (deactivated), as the OneRoster 1.1 and 1.2 specifications direct',
      });
    }
    for (const [key, entry] of this.unmapped) {
      if (entry.entity !== entity) continue;
      this.unmapped.delete(key);
      notices.push({
        entity,
        field: entry.field,
        count: entry.count,
        message:
          `${plural(entry.count, `${entity} record`)} carried the extension value "${entry.value}" in ${entry.field}, ` +
          `which this connection does not map: stored as given and taken as ${UNMAPPED_MEANS[entry.vocabulary]}; ` +
          `map it to a core value in the connection's extensionMappings.${entry.vocabulary} if it has one`,
      });
    }
    return notices;
  }
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
