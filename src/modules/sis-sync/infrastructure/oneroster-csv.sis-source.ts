import { basename } from 'node:path';
import {
  ROSTER_ENTITIES,
  type ExtensionMappings,
  type PersonRoleMembership,
  type RosterEntity,
  type RosterRecord,
} from '@app/contracts';
import {
  IgnoredValueTally,
  ONEROSTER_CSV_FILES_BY_ENTITY,
  OneRosterError,
  OneRosterSchoolScope,
  OneRosterVocabulary,
  normaliseCsvRole,
  normaliseCsvRow,
  openOneRosterCsvZip,
  type OneRosterCsvLimits,
  type OneRosterCsvPackage,
  type OneRosterCsvRowIssue,
} from '@app/oneroster';
import {
  SisSource,
  SisSourceError,
  type SisCheckResult,
  type SisEntityPull,
  type SisPullOptions,
  type SisRecordIssue,
} from '../application/ports/sis-source.port.js';
import { noticeIssue } from './oneroster-notices.js';

export interface OneRosterCsvSisSourceOptions {
  zipPath: string;
  /** The name the package was uploaded under, for `describe()`; default: the zip's own file name. */
  displayName?: string | null;
  limits?: Partial<OneRosterCsvLimits>;
  /** Org sourcedIds of the schools to keep; empty or absent keeps the whole package. */
  schoolScope?: readonly string[];
  /** Records per page. */
  batchSize?: number;
  /** The connection's OneRoster 1.2 extension mappings (`ext:…` → core value per vocabulary). */
  extensionMappings?: ExtensionMappings;
}

/**
 * A OneRoster 1.1/1.2 CSV package (zip) as a `SisSource`. The package's structure (manifest, headers, limits) is
 * checked when it is opened; rows that cannot be used are reported through `onIssue` and skipped. An entity's
 * listing is a snapshot exactly when its file is `bulk`.
 *
 * For 1.2, people are users.csv rows with their memberships joined from roles.csv; the roles are held in memory
 * (userSourcedId → memberships) for the life of the source.
 */
export class OneRosterCsvSisSource extends SisSource {
  private readonly scope: OneRosterSchoolScope;
  private readonly batchSize: number;
  /** The connection's extension mappings and this run's tally of unmapped values and `inactive` statuses. */
  private readonly vocabulary: OneRosterVocabulary;
  private rolesByUser?: Promise<RolesByUser>;
  private orgsSeen = false;

  private constructor(
    private readonly csvPackage: OneRosterCsvPackage,
    private readonly zipPath: string,
    private readonly options: OneRosterCsvSisSourceOptions,
  ) {
    super();
    this.scope = new OneRosterSchoolScope(options.schoolScope ?? []);
    this.batchSize = options.batchSize ?? 500;
    this.vocabulary = new OneRosterVocabulary(options.extensionMappings);
  }

  /** Opens and validates the package; fails with `SIS_SYNC.CSV_INVALID` when its structure is wrong. */
  static async open(options: OneRosterCsvSisSourceOptions): Promise<OneRosterCsvSisSource> {
    try {
      const csvPackage = await openOneRosterCsvZip(options.zipPath, { limits: options.limits });
      return new OneRosterCsvSisSource(csvPackage, options.zipPath, options);
    } catch (error) {
      throw toSisSourceError(error);
    }
  }

  entities(): readonly RosterEntity[] {
    return ROSTER_ENTITIES.filter(
      (entity) => this.csvPackage.files[ONEROSTER_CSV_FILES_BY_ENTITY[entity]] !== 'absent',
    );
  }

  async pull<E extends RosterEntity>(entity: E, options: SisPullOptions): Promise<SisEntityPull<E>> {
    const file = ONEROSTER_CSV_FILES_BY_ENTITY[entity];
    const mode = this.csvPackage.files[file];
    if (mode === 'absent') {
      throw new SisSourceError('SIS_SYNC.CSV_INVALID', `${file}.csv is not in this package`, entity);
    }
    return { snapshot: mode === 'bulk', pages: this.pages(entity, options) };
  }

  /** Delta files only: a delta run; any bulk file: a full one (each bulk file a snapshot of its entity). */
  override fixedMode(): 'full' | 'delta' {
    const modes = Object.values(this.csvPackage.files);
    return modes.includes('delta') && !modes.includes('bulk') ? 'delta' : 'full';
  }

  /** The package as uploaded; a package mixing bulk and delta files says which were which. */
  describe(): string {
    const name = this.options.displayName || basename(this.zipPath);
    const filesIn = (mode: 'bulk' | 'delta'): string[] =>
      Object.entries(this.csvPackage.files)
        .filter(([, fileMode]) => fileMode === mode)
        .map(([file]) => file);
    const [bulk, delta] = [filesIn('bulk'), filesIn('delta')];
    const mixed = bulk.length > 0 && delta.length > 0 ? ` (bulk: ${bulk.join(', ')}; delta: ${delta.join(', ')})` : '';
    return `OneRoster ${this.csvPackage.version} CSV ${name}${mixed}`;
  }

  async close(): Promise<void> {
    await this.csvPackage.close();
  }

  /** An uploaded package needs no network: it opened (manifest and headers valid), so every file can be read. */
  checkAccess(): Promise<SisCheckResult[]> {
    return Promise.resolve(
      this.entities().map((entity) => ({
        check: `permission:${ONEROSTER_CSV_FILES_BY_ENTITY[entity]}.csv` as const,
        ok: true,
        detail: `${ONEROSTER_CSV_FILES_BY_ENTITY[entity]}.csv is in the package (${this.csvPackage.files[ONEROSTER_CSV_FILES_BY_ENTITY[entity]]})`,
        durationMs: 0,
      })),
    );
  }

  private async *pages<E extends RosterEntity>(entity: E, options: SisPullOptions): AsyncGenerator<RosterRecord<E>[]> {
    const file = ONEROSTER_CSV_FILES_BY_ENTITY[entity];
    const report = (issue: SisRecordIssue) => options.onIssue?.(issue);
    try {
      const version = this.csvPackage.version;
      const rolesByUser = entity === 'people' && version === '1.2' ? await this.roles(report) : undefined;
      if (entity === 'courses' && this.scope.active && !this.orgsSeen) await this.learnOrgs();
      const rows = this.csvPackage.rows(file, {
        batchSize: this.batchSize,
        onIssue: (issue) => report(rowIssue(entity, issue)),
      });
      const ignored = new IgnoredValueTally();
      for await (const batch of rows) {
        options.signal?.throwIfAborted();
        const records: RosterRecord<E>[] = [];
        for (const row of batch) {
          const userSourcedId = row.values.sourcedId.trim();
          let memberships = rolesByUser?.active.get(userSourcedId);
          // A user deleted together with its roles: the deletion needs the user, not an active role.
          if (!memberships && row.values.status?.trim() === 'tobedeleted') {
            memberships = rolesByUser?.deleted.get(userSourcedId);
          }
          const result = normaliseCsvRow(entity, row.values, { version, memberships, vocabulary: this.vocabulary });
          if (!result.ok) {
            const reason =
              result.issue.field === 'roles' ? 'no active role for this user in roles.csv' : result.issue.message;
            report({ ...result.issue, message: `${file}.csv line ${row.line}: ${reason}` });
            continue;
          }
          ignored.add(result.ignored);
          if (this.scope.includes(entity, result.record)) records.push(result.record);
        }
        if (records.length > 0) yield records;
      }
      // Once per entity and run: the records were kept, only the bad values were dropped.
      for (const { field, message } of ignored.summaries([`${file}.csv row`, `${file}.csv rows`])) {
        report({ entity, sourcedId: null, field, message, severity: 'warning' });
      }
      for (const notice of this.vocabulary.drain(entity)) report(noticeIssue(notice));
      if (entity === 'orgs') this.orgsSeen = true;
    } catch (error) {
      throw toSisSourceError(error, entity);
    }
  }

  private roles(report: (issue: SisRecordIssue) => void): Promise<RolesByUser> {
    this.rolesByUser ??= this.readRoles(report);
    return this.rolesByUser;
  }

  /**
   * roles.csv rows by user, active and `tobedeleted` apart. A package without roles.csv yields users without roles,
   * which are reported.
   */
  private async readRoles(report: (issue: SisRecordIssue) => void): Promise<RolesByUser> {
    const byUser: RolesByUser = { active: new Map(), deleted: new Map() };
    if (this.csvPackage.files.roles === 'absent') return byUser;
    // A roles.csv row is a detail of a user, not a people record: its sourcedId is the role's.
    const rows = this.csvPackage.rows('roles', {
      batchSize: this.batchSize,
      onIssue: (issue) => report({ ...rowIssue('people', issue), subject: 'detail' }),
    });
    for await (const batch of rows) {
      for (const row of batch) {
        const result = normaliseCsvRole(row.values, this.vocabulary);
        if (!result.ok) {
          report({
            ...result.issue,
            message: `roles.csv line ${row.line}: ${result.issue.message}`,
            subject: 'detail',
          });
          continue;
        }
        const into = result.record.status === 'active' ? byUser.active : byUser.deleted;
        const memberships = into.get(result.record.userSourcedId);
        if (memberships) memberships.push(result.record.membership);
        else into.set(result.record.userSourcedId, [result.record.membership]);
      }
    }
    return byUser;
  }

  /** Reads orgs.csv once so the scope knows which orgs are district-level (courses often belong to the district). */
  private async learnOrgs(): Promise<void> {
    if (this.csvPackage.files.orgs !== 'absent') {
      const vocabulary = this.vocabulary.silent();
      for await (const batch of this.csvPackage.rows('orgs', { batchSize: this.batchSize })) {
        for (const row of batch) {
          const result = normaliseCsvRow('orgs', row.values, { version: this.csvPackage.version, vocabulary });
          if (result.ok) this.scope.rememberOrg(result.record);
        }
      }
    }
    this.orgsSeen = true;
  }
}

interface RolesByUser {
  active: Map<string, PersonRoleMembership[]>;
  deleted: Map<string, PersonRoleMembership[]>;
}

function rowIssue(entity: RosterEntity, issue: OneRosterCsvRowIssue): SisRecordIssue {
  return {
    entity,
    sourcedId: issue.sourcedId,
    field: issue.field,
    // A warning counts rows of the whole file and names the first line itself.
    message:
      issue.severity === 'warning'
        ? `${issue.file}: ${issue.message}`
        : `${issue.file} line ${issue.line}: ${issue.message}`,
    ...(issue.severity === undefined ? {} : { severity: issue.severity }),
  };
}

function toSisSourceError(error: unknown, entity?: RosterEntity): unknown {
  if (!(error instanceof OneRosterError)) return error;
  const problems =
    error.problems.length > 1
      ? error.problems.map((problem) => ({ field: problem.field ?? null, message: problem.message }))
      : [];
  const translated = new SisSourceError(error.code, error.message, entity, error.field, problems);
  translated.cause = error;
  return translated;
}
