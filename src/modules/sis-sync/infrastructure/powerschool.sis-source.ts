import {
  ROSTER_ENTITIES,
  type AcademicSessionRecord,
  type ClassRecord,
  type CourseRecord,
  type DemographicsRecord,
  type EnrollmentRecord,
  type OrgRecord,
  type PersonRecord,
  type RosterEntity,
  type RosterRecord,
} from '@app/contracts';
import {
  POWERSCHOOL_MAPPING_VERSION,
  POWERSCHOOL_PATHS,
  PowerSchoolClient,
  PowerSchoolError,
  STAFF_EXPANSIONS,
  STUDENT_EXPANSIONS,
  DEMOGRAPHICS_EXPANSIONS,
  compareIds,
  course,
  districtOrg,
  idOf,
  inOrderBounded,
  powerQueryEnrollment,
  schoolOrg,
  schoolTerms,
  sectionClass,
  sectionEnrollment,
  staffPerson,
  studentDemographics,
  studentPerson,
  teacherEnrollment,
  textOf,
  type JsonObject,
  type PowerSchoolClientOptions,
  type PowerSchoolListResource,
  type PowerSchoolNormaliseResult,
  type SectionRef,
  type StaffIndex,
  type StaffListing,
} from '@app/powerschool';
import {
  SisSource,
  SisSourceError,
  type SisCheckResult,
  type SisEntityPull,
  type SisPullOptions,
  type SisTrafficObserver,
} from '../application/ports/sis-source.port.js';
import type { SisConnectionSettings } from '../domain/sis-connection.js';
import { concurrencyAt } from './oneroster-rest.sis-source.js';

export { POWERSCHOOL_MAPPING_VERSION };

export interface PowerSchoolSisSourceOptions {
  settings: SisConnectionSettings;
  /** The decrypted client secret. */
  secret: string | null;
  observer?: SisTrafficObserver;
  /** Decides whether peak hours apply when a pull starts. */
  now?: () => Date;
  /** Transport tuning and test seams (fetch, sleep, random, retry limits). */
  client?: Partial<
    Omit<PowerSchoolClientOptions, 'baseUrl' | 'clientId' | 'clientSecret' | 'tokenUrl' | 'onRequest' | 'onToken'>
  >;
}

/** Records per yielded page when the source assembles pages itself (courses, staff, enrolments). */
const PAGE = 1_000;

interface Directory {
  district: OrgRecord | null;
  /** The schools of the connection's scope (all of them without a scope), by DCID. */
  schools: JsonObject[];
  /** Every school listed, scope or not, for the orgs pull. */
  allSchools: JsonObject[];
}

type Listed<T> = PowerSchoolNormaliseResult<T>;

/**
 * A district's PowerSchool SIS (the `/ws/v1` plugin API) as a `SisSource`. Reads the district and its schools,
 * then per school its terms, courses, sections, students (with their expansions) and staff; student enrolments per
 * section (with bounded concurrency) or from a named PowerQuery, and the lead teacher of each section. Every record
 * is keyed on its DCID (see `powerSchoolIds` for the prefixed ones); `local_id` becomes the identifier and the
 * other numbers go to `metadata.powerschool`. /ws/v1 has no changed-since query, so every pull is a complete
 * snapshot and `supportsDelta()` is false. Failures are `SisSourceError`s; a 403 names the resource.
 */
export class PowerSchoolSisSource extends SisSource {
  private readonly client: PowerSchoolClient;
  private readonly settings: SisConnectionSettings;
  private readonly options: PowerSchoolSisSourceOptions;
  private readonly now: () => Date;
  private readonly powerQuery: string | null;
  private directoryCache?: Promise<Directory>;
  /** Filled by the courses pull; the classes pull titles sections with them. */
  private courseTitles?: Map<string, string>;
  /** Filled by the classes pull; enrolments are listed per section. */
  private sectionRefs?: SectionRef[];
  /** Filled by the people pull; teacher enrolments resolve `section.staff_id` through it. */
  private staffIndex?: StaffIndex;
  /** Filled by the people pull (the students carry their demographics expansions). */
  private demographics?: Listed<DemographicsRecord>[];

  constructor(options: PowerSchoolSisSourceOptions) {
    super();
    const { settings } = options;
    if (!settings.baseUrl) {
      throw new SisSourceError('SIS_SYNC.SOURCE_PROTOCOL_ERROR', 'The connection has no PowerSchool base URL');
    }
    if (settings.auth.type !== 'oauth2') {
      throw new SisSourceError('SIS_SYNC.SOURCE_AUTH_FAILED', 'A PowerSchool connection needs a client ID and secret');
    }
    if (!options.secret) throw new SisSourceError('SIS_SYNC.SOURCE_AUTH_FAILED', 'The connection has no client secret');
    this.settings = settings;
    this.options = options;
    this.now = options.now ?? (() => new Date());
    this.powerQuery = settings.enrollmentPowerQuery ?? null;
    try {
      this.client = this.newClient();
    } catch (error) {
      throw toSisSourceError(error);
    }
  }

  entities(): readonly RosterEntity[] {
    return ROSTER_ENTITIES;
  }

  /** /ws/v1 has no changed-since filter: a delta run pulls everything and diffs it against the mirror. */
  override supportsDelta(): boolean {
    return false;
  }

  describe(): string {
    const enrollments = this.powerQuery ? `enrollments from PowerQuery ${this.powerQuery}` : 'enrollments per section';
    return `PowerSchool /ws/v1 ${this.client.baseUrl} (mapping ${POWERSCHOOL_MAPPING_VERSION}; ${enrollments})`;
  }

  async close(): Promise<void> {}

  /** Every pull is a full listing of the connection's schools, so it is always a snapshot. */
  async pull<E extends RosterEntity>(entity: E, options: SisPullOptions): Promise<SisEntityPull<E>> {
    return { snapshot: true, pages: this.pages(entity, options) as AsyncIterable<RosterRecord<E>[]> };
  }

  private async *pages(entity: RosterEntity, options: SisPullOptions): AsyncGenerator<RosterRecord[]> {
    try {
      switch (entity) {
        case 'orgs':
          yield* this.orgPages(options);
          return;
        case 'academicSessions':
          yield* this.sessionPages(options);
          return;
        case 'courses':
          yield* this.coursePages(options);
          return;
        case 'classes':
          yield* this.classPages(options);
          return;
        case 'people':
          yield* this.peoplePages(options);
          return;
        case 'demographics':
          yield* this.demographicsPages(options);
          return;
        case 'enrollments':
          yield* this.enrollmentPages(options);
          return;
      }
    } catch (error) {
      throw toSisSourceError(error, entity);
    }
  }

  // Entities ---------------------------------------------------------------------------------------------------

  private async *orgPages(options: SisPullOptions): AsyncGenerator<OrgRecord[]> {
    const directory = await this.directory(options.signal);
    const schoolIds = new Set(this.settings.schoolScope);
    const records: OrgRecord[] = directory.district ? [directory.district] : [];
    const inScope = directory.allSchools.filter(
      (school) => schoolIds.size === 0 || schoolIds.has(idOf(school.id) ?? ''),
    );
    records.push(
      ...accept(
        inScope.map((raw) => schoolOrg(raw, directory.district?.sourcedId ?? null)),
        options,
      ),
    );
    if (records.length > 0) yield records;
  }

  private async *sessionPages(options: SisPullOptions): AsyncGenerator<AcademicSessionRecord[]> {
    for (const school of await this.schools(options.signal)) {
      const schoolId = idOf(school.id)!;
      const raws = await this.client.listAll(this.listing('terms', POWERSCHOOL_PATHS.schoolTerms(schoolId), options));
      const records = accept(schoolTerms(raws, schoolId), options);
      if (records.length > 0) yield records;
    }
  }

  private async *coursePages(options: SisPullOptions): AsyncGenerator<CourseRecord[]> {
    const directory = await this.directory(options.signal);
    const offered = new Map<string, { raw: JsonObject; schools: string[] }>();
    for (const school of directory.schools) {
      const schoolId = idOf(school.id)!;
      const path = POWERSCHOOL_PATHS.schoolCourses(schoolId);
      for await (const page of this.client.listPages(this.listing('courses', path, options))) {
        for (const raw of page) {
          const id = idOf(raw.id) ?? '';
          const seen = offered.get(id);
          if (seen) seen.schools.push(schoolId);
          else offered.set(id, { raw, schools: [schoolId] });
        }
      }
    }
    const titles = new Map<string, string>();
    const records = accept(
      [...offered.values()].map(({ raw, schools }) => course(raw, schools, directory.district?.sourcedId ?? null)),
      options,
    );
    for (const record of records) titles.set(record.sourcedId, record.title);
    this.courseTitles = titles;
    yield* chunks(records.sort((a, b) => compareIds(a.sourcedId, b.sourcedId)));
  }

  private async *classPages(options: SisPullOptions): AsyncGenerator<ClassRecord[]> {
    const titles = this.courseTitles ?? (await this.readCourseTitles(options));
    const refs: SectionRef[] = [];
    for (const school of await this.schools(options.signal)) {
      const schoolId = idOf(school.id)!;
      const path = POWERSCHOOL_PATHS.schoolSections(schoolId);
      for await (const page of this.client.listPages(this.listing('sections', path, options))) {
        const records = accept(
          page.map((raw) => sectionClass(raw, schoolId, titles.get(idOf(raw.course_id) ?? '') ?? null)),
          options,
        );
        for (const record of records) refs.push(sectionRefOf(record));
        if (records.length > 0) yield records;
      }
    }
    this.sectionRefs = refs;
  }

  /**
   * Students of each school (with their expansions), then staff: a staff member listed by several schools becomes
   * one person with a role per school.
   */
  private async *peoplePages(options: SisPullOptions): AsyncGenerator<PersonRecord[]> {
    const schools = await this.schools(options.signal);
    const seen = new Set<string>();
    const demographics: Listed<DemographicsRecord>[] = [];
    for (const school of schools) {
      const schoolId = idOf(school.id)!;
      const listing = this.listing('students', POWERSCHOOL_PATHS.schoolStudents(schoolId), options, {
        expansions: STUDENT_EXPANSIONS.join(','),
      });
      for await (const page of this.client.listPages(listing)) {
        const fresh = page.filter((raw) => {
          const id = idOf(raw.id);
          if (!id) return true;
          if (seen.has(id)) return false;
          seen.add(id);
          return true;
        });
        for (const raw of fresh) demographics.push(studentDemographics(raw));
        const records = accept(
          fresh.map((raw) => studentPerson(raw, schoolId)),
          options,
        );
        if (records.length > 0) yield records;
      }
    }
    this.demographics = demographics;
    const { records, index } = await this.readStaff(options);
    this.staffIndex = index;
    yield* chunks(accept(records, options));
  }

  private async *demographicsPages(options: SisPullOptions): AsyncGenerator<DemographicsRecord[]> {
    if (this.demographics) {
      yield* chunks(accept(this.demographics, options));
      this.demographics = undefined;
      return;
    }
    const seen = new Set<string>();
    for (const school of await this.schools(options.signal)) {
      const schoolId = idOf(school.id)!;
      const listing = this.listing('students', POWERSCHOOL_PATHS.schoolStudents(schoolId), options, {
        expansions: DEMOGRAPHICS_EXPANSIONS.join(','),
      });
      for await (const page of this.client.listPages(listing)) {
        const fresh = page.filter((raw) => {
          const id = idOf(raw.id) ?? '';
          if (seen.has(id)) return false;
          seen.add(id);
          return true;
        });
        const records = accept(fresh.map(studentDemographics), options);
        if (records.length > 0) yield records;
      }
    }
  }

  /**
   * Student enrolments (per section with bounded concurrency, or from the configured PowerQuery), then the lead
   * teacher of every section.
   */
  private async *enrollmentPages(options: SisPullOptions): AsyncGenerator<EnrollmentRecord[]> {
    const sections = this.sectionRefs ?? (await this.readSectionRefs(options));
    const staff = this.staffIndex ?? (await this.readStaff(options)).index;
    let batch: EnrollmentRecord[] = [];
    if (this.powerQuery) {
      const byId = new Map(sections.map((section) => [section.sourcedId, section]));
      const listing = this.listing('powerquery', POWERSCHOOL_PATHS.powerQuery(this.powerQuery), options);
      for await (const page of this.client.listPages({ ...listing, body: {} })) {
        const results = page
          .map((raw) => powerQueryEnrollment(raw, byId))
          .filter((result): result is Listed<EnrollmentRecord> => result !== null);
        const records = accept(results, options);
        if (records.length > 0) yield records;
      }
    } else {
      const concurrency = concurrencyAt(this.settings, this.now());
      const perSection = inOrderBounded(
        sections,
        concurrency,
        async (section, signal) => {
          const path = POWERSCHOOL_PATHS.sectionEnrollments(section.sourcedId);
          const raws = await this.client.listAll({ resource: 'section_enrollment', path, signal });
          return raws.map((raw) => sectionEnrollment(raw, section));
        },
        options.signal,
      );
      for await (const results of perSection) {
        batch.push(...accept(results, options));
        if (batch.length >= PAGE) {
          yield batch;
          batch = [];
        }
      }
    }
    for (const section of sections) {
      const result = teacherEnrollment(section, staff);
      if (result) batch.push(...accept([result], options));
    }
    yield* chunks(batch);
  }

  // Shared listings --------------------------------------------------------------------------------------------

  /** The district and its schools, read once per source (one run). */
  private directory(signal: AbortSignal | undefined): Promise<Directory> {
    if (!this.directoryCache) {
      const pending = this.readDirectory(signal);
      this.directoryCache = pending;
      pending.catch(() => {
        if (this.directoryCache === pending) this.directoryCache = undefined;
      });
    }
    return this.directoryCache;
  }

  private async readDirectory(signal: AbortSignal | undefined): Promise<Directory> {
    const districtBody = await this.client.getObject(POWERSCHOOL_PATHS.district, 'district', { signal });
    const district = districtOrg(districtBody);
    const allSchools = (
      await this.client.listAll({ resource: 'schools', path: POWERSCHOOL_PATHS.schools, signal })
    ).filter((school) => idOf(school.id));
    allSchools.sort((a, b) => compareIds(idOf(a.id)!, idOf(b.id)!));
    const scope = new Set(this.settings.schoolScope);
    return {
      district: district.ok ? district.record : null,
      allSchools,
      schools: allSchools.filter((school) => scope.size === 0 || scope.has(idOf(school.id)!)),
    };
  }

  private async schools(signal: AbortSignal | undefined): Promise<JsonObject[]> {
    return (await this.directory(signal)).schools;
  }

  private async readCourseTitles(options: SisPullOptions): Promise<Map<string, string>> {
    const titles = new Map<string, string>();
    for (const school of await this.schools(options.signal)) {
      const path = POWERSCHOOL_PATHS.schoolCourses(idOf(school.id)!);
      for (const raw of await this.client.listAll(this.listing('courses', path, options))) {
        const id = idOf(raw.id);
        const title = textOf(raw.course_name);
        if (id && title) titles.set(id, title);
      }
    }
    this.courseTitles = titles;
    return titles;
  }

  private async readSectionRefs(options: SisPullOptions): Promise<SectionRef[]> {
    const refs: SectionRef[] = [];
    for (const school of await this.schools(options.signal)) {
      const schoolId = idOf(school.id)!;
      const path = POWERSCHOOL_PATHS.schoolSections(schoolId);
      for (const raw of await this.client.listAll(this.listing('sections', path, options))) {
        const result = sectionClass(raw, schoolId, null);
        if (result.ok) refs.push(sectionRefOf(result.record));
      }
    }
    this.sectionRefs = refs;
    return refs;
  }

  /** Every school's active staff, folded into one person per `Users` row. */
  private async readStaff(options: SisPullOptions): Promise<{ records: Listed<PersonRecord>[]; index: StaffIndex }> {
    const byUser = new Map<string, StaffListing[]>();
    for (const school of await this.schools(options.signal)) {
      const schoolId = idOf(school.id)!;
      const listing = this.listing('staff', POWERSCHOOL_PATHS.schoolStaff(schoolId), options, {
        expansions: STAFF_EXPANSIONS.join(','),
      });
      for await (const page of this.client.listPages(listing)) {
        for (const raw of page) {
          const key = idOf(raw.users_dcid) ?? idOf(raw.id) ?? '';
          const listings = byUser.get(key);
          if (listings) listings.push({ raw, schoolSourcedId: schoolId });
          else byUser.set(key, [{ raw, schoolSourcedId: schoolId }]);
        }
      }
    }
    const index: StaffIndex = { personBySchoolStaffId: new Map() };
    const keys = [...byUser.keys()].sort(compareIds);
    const records = keys.map((key) => staffPerson(byUser.get(key)!, index));
    return { records, index };
  }

  // Access check -----------------------------------------------------------------------------------------------

  /**
   * No retries: the first answer decides. `/ws/v1/time` (no token) for reachability; a token and `/ws/v1/metadata`
   * for the credentials; then one small request per resource the sync reads (`/count`, or the district itself),
   * against the first school of the scope and its first section.
   */
  async checkAccess(signal?: AbortSignal): Promise<SisCheckResult[]> {
    const probe = this.newClient({ maxAttempts: 1 });
    const results: SisCheckResult[] = [];
    const timed = async (check: SisCheckResult['check'], run: () => Promise<string>): Promise<boolean> => {
      const started = Date.now();
      try {
        const detail = await run();
        results.push({ check, ok: true, detail, durationMs: Date.now() - started });
        return true;
      } catch (error) {
        if (signal?.aborted) throw error;
        results.push({ check, ok: false, detail: messageOf(error), durationMs: Date.now() - started });
        return false;
      }
    };

    const reachable = await timed('reachability', async () => {
      await probe.serverTime(signal);
      return `${probe.baseUrl} answered ${POWERSCHOOL_PATHS.time}`;
    });
    if (!reachable) return results;
    const authorised = await timed('credentials', async () => {
      await probe.authenticate(signal);
      const metadata = await probe.metadata(signal);
      return `The client credentials were accepted${metadata.powerSchoolVersion ? ` (PowerSchool ${metadata.powerSchoolVersion})` : ''}`;
    });
    if (!authorised) return results;

    await timed('permission:district', async () => {
      await probe.getObject(POWERSCHOOL_PATHS.district, 'district', { signal });
      return `${POWERSCHOOL_PATHS.district} can be read`;
    });
    let schoolIds: string[] = [];
    await timed('permission:schools', async () => {
      const count = await probe.count({ resource: 'schools', path: POWERSCHOOL_PATHS.schools, signal });
      const page = await probe.firstPage({ resource: 'schools', path: POWERSCHOOL_PATHS.schools, signal }, 1_000);
      const scope = new Set(this.settings.schoolScope);
      schoolIds = page
        .map((school) => idOf(school.id))
        .filter((id): id is string => Boolean(id) && (scope.size === 0 || scope.has(id!)))
        .sort(compareIds);
      return `${POWERSCHOOL_PATHS.schools} can be read (${count} schools)`;
    });
    const school = schoolIds[0];
    const perSchool: [PowerSchoolListResource, (id: string) => string][] = [
      ['students', POWERSCHOOL_PATHS.schoolStudents],
      ['staff', POWERSCHOOL_PATHS.schoolStaff],
      ['terms', POWERSCHOOL_PATHS.schoolTerms],
      ['courses', POWERSCHOOL_PATHS.schoolCourses],
      ['sections', POWERSCHOOL_PATHS.schoolSections],
    ];
    for (const [resource, pathOf] of perSchool) {
      await timed(`permission:${resource}`, async () => {
        if (!school) return `Not checked: no school to read ${resource} from`;
        await probe.count({ resource, path: pathOf(school), signal });
        return `${pathOf('{id}')} can be read`;
      });
    }
    await timed('permission:section_enrollment', async () => {
      const section = await firstSection(probe, schoolIds.slice(0, 5), signal);
      if (!section) return 'Not checked: no section to read enrollments from';
      await probe.count({
        resource: 'section_enrollment',
        path: POWERSCHOOL_PATHS.sectionEnrollments(section),
        signal,
      });
      return `${POWERSCHOOL_PATHS.sectionEnrollments('{id}')} can be read`;
    });
    if (this.powerQuery) {
      const name = this.powerQuery;
      await timed('permission:powerquery', async () => {
        await probe.count({ resource: 'powerquery', path: POWERSCHOOL_PATHS.powerQuery(name), body: {}, signal });
        return `The PowerQuery ${name} can be run`;
      });
    }
    return results;
  }

  // Plumbing ---------------------------------------------------------------------------------------------------

  private newClient(overrides: Partial<PowerSchoolClientOptions> = {}): PowerSchoolClient {
    const { settings, observer } = this.options;
    const auth = settings.auth.type === 'oauth2' ? settings.auth : null;
    return new PowerSchoolClient({
      ...this.options.client,
      baseUrl: settings.baseUrl ?? '',
      clientId: auth?.clientId ?? '',
      clientSecret: this.options.secret ?? '',
      tokenUrl: auth?.tokenUrl || undefined,
      pageSizeCap: settings.pageSize,
      requestTimeoutMs: settings.requestTimeoutMs,
      onRequest: observer
        ? (event) => observer.onRequest({ status: event.status, durationMs: event.durationMs, retry: event.willRetry })
        : undefined,
      onToken: observer?.onToken ? (event) => observer.onToken?.(event) : undefined,
      ...overrides,
    });
  }

  private listing(
    resource: PowerSchoolListResource,
    path: string,
    options: SisPullOptions,
    query?: Record<string, string>,
  ): { resource: PowerSchoolListResource; path: string; query?: Record<string, string>; signal?: AbortSignal } {
    return { resource, path, query, signal: options.signal };
  }
}

async function firstSection(
  probe: PowerSchoolClient,
  schoolIds: readonly string[],
  signal: AbortSignal | undefined,
): Promise<string | null> {
  for (const school of schoolIds) {
    const page = await probe.firstPage(
      { resource: 'sections', path: POWERSCHOOL_PATHS.schoolSections(school), signal },
      1,
    );
    const id = page.map((section) => idOf(section.id)).find((value): value is string => Boolean(value));
    if (id) return id;
  }
  return null;
}

function sectionRefOf(record: ClassRecord): SectionRef {
  const powerschool = (record.metadata.powerschool ?? {}) as Record<string, unknown>;
  return {
    sourcedId: record.sourcedId,
    schoolSourcedId: record.schoolSourcedId ?? '',
    staffId: idOf(powerschool.staffId) ?? null,
  };
}

/** The records that normalised; the others are reported as issues and skipped. */
function accept<T>(results: readonly Listed<T>[], options: SisPullOptions): T[] {
  const records: T[] = [];
  for (const result of results) {
    if (result.ok) records.push(result.record);
    else options.onIssue?.(result.issue);
  }
  return records;
}

function* chunks<T>(records: readonly T[]): Generator<T[]> {
  for (let start = 0; start < records.length; start += PAGE) yield records.slice(start, start + PAGE);
}

function messageOf(error: unknown): string {
  const translated = toSisSourceError(error);
  return translated instanceof Error ? translated.message : 'The check failed';
}

function toSisSourceError(error: unknown, entity?: RosterEntity): unknown {
  if (!(error instanceof PowerSchoolError)) return error;
  const translated = new SisSourceError(error.code, error.message, entity, error.field);
  translated.cause = error;
  return translated;
}
