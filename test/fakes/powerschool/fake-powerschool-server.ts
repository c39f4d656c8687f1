import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  LISTED_ENROLL_STATUSES,
  type PowerSchoolDataset,
  type PsCourse,
  type PsSchool,
  type PsSection,
  type PsSectionEnrollment,
  type PsStaff,
  type PsStudent,
  type PsTerm,
} from './powerschool-dataset.js';

/** What a plugin's data access can grant or withhold; each answers 403 when withheld. */
export type FakePowerSchoolResource =
  | 'metadata'
  | 'district'
  | 'schools'
  | 'students'
  | 'staff'
  | 'terms'
  | 'courses'
  | 'sections'
  | 'section_enrollment'
  | 'powerquery';

type ListResource = Exclude<FakePowerSchoolResource, 'metadata' | 'district'>;

export interface FakePowerSchoolServerOptions {
  /** Served and mutated in place. */
  dataset: PowerSchoolDataset;
  /** Default `homeroom`. */
  clientId?: string;
  /** Default `fake-secret`. */
  clientSecret?: string;
  /** Token lifetime in seconds. Default 30 days, as PowerSchool's `OauthAccessToken.ExpiresInSeconds`. */
  tokenLifetimeSeconds?: number;
  /** The plugin's maximum page size per resource (`/ws/v1/metadata`). Default 100 each. */
  maxPageSizes?: Partial<Record<ListResource, number>>;
  /** The named PowerQuery that lists section enrolments. Default `com.homeroom.roster.section_enrollments`. */
  powerQueryName?: string;
  /** Prepended to every path, e.g. `/powerschool`. */
  pathPrefix?: string;
}

interface FaultTarget {
  /** A RegExp tested against the request path, or a substring of it. Default: every request. */
  path?: RegExp | string;
  /** How many matching requests are affected. Default: all of them until `clearFaults()`. */
  times?: number;
  /** Let this many matching requests through first. */
  skip?: number;
}

export type FakePowerSchoolFault = FaultTarget &
  (
    | { kind: 'rate-limit'; retryAfterSeconds?: number }
    | { kind: 'server-error'; status?: 500 | 502 | 503 | 504 }
    /** After every `afterRequests` authenticated requests every token is revoked: the next request gets a 401. */
    | { kind: 'revoke-tokens'; afterRequests: number }
    /** `/count` answers off by `delta` (default +1). */
    | { kind: 'wrong-count'; delta?: number }
    /** Responds normally after `delayMs`. */
    | { kind: 'slow'; delayMs: number }
    /** 200 with the JSON body cut in half. */
    | { kind: 'malformed-json' }
    /** Destroys the socket without answering. */
    | { kind: 'reset' }
  );

export type FakePowerSchoolFaultKind = FakePowerSchoolFault['kind'];

export interface FakePowerSchoolRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** 0 when the socket was destroyed without an answer. */
  status: number;
  authKind: 'bearer' | 'basic' | 'none' | 'other';
  faults: FakePowerSchoolFaultKind[];
}

interface ActiveFault {
  fault: FakePowerSchoolFault;
  remaining: number;
  skip: number;
  hits: number;
  requestsSinceRevoke: number;
}

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

type Wire = Record<string, unknown>;

const LIST_RESOURCES: readonly ListResource[] = [
  'schools',
  'students',
  'staff',
  'terms',
  'courses',
  'sections',
  'section_enrollment',
  'powerquery',
];
const MAX_PAGE_SIZE_FIELDS: Readonly<Record<ListResource, string>> = {
  schools: 'school_max_page_size',
  students: 'student_max_page_size',
  staff: 'staff_max_page_size',
  terms: 'term_max_page_size',
  courses: 'course_max_page_size',
  sections: 'section_max_page_size',
  section_enrollment: 'section_enrollment_max_page_size',
  powerquery: 'schema_table_query_max_page_size',
};
const ENVELOPES: Readonly<Record<Exclude<ListResource, 'powerquery'>, [string, string]>> = {
  schools: ['schools', 'school'],
  students: ['students', 'student'],
  staff: ['staffs', 'staff'],
  terms: ['terms', 'term'],
  courses: ['courses', 'course'],
  sections: ['sections', 'section'],
  section_enrollment: ['section_enrollments', 'section_enrollment'],
};
const SCHOOL_CHILDREN: Readonly<
  Record<string, Exclude<ListResource, 'powerquery' | 'schools' | 'section_enrollment'>>
> = {
  student: 'students',
  staff: 'staff',
  term: 'terms',
  course: 'courses',
  section: 'sections',
};
const AVAILABLE_EXPANSIONS: Readonly<Record<string, string>> = {
  schools: 'school_boundary, full_time_equivalencies, school_fees_setup',
  students:
    'demographics, addresses, alerts, phones, school_enrollment, ethnicity_race, contact, contact_info, initial_enrollment, schedule_setup, fees, lunch',
  staff: 'addresses, emails, phones, school_affiliations',
  terms: '',
  courses: '',
  sections: 'term',
  section_enrollment: '',
};
const ENROLL_STATUS: Readonly<Record<string, { code: number; description: string }>> = {
  A: { code: 0, description: 'Active' },
  P: { code: -1, description: 'Pre-Registered' },
  T: { code: 2, description: 'Transferred-Out' },
  G: { code: 3, description: 'Graduated' },
  H: { code: 4, description: 'Historical' },
  I: { code: 5, description: 'Inactive' },
};

interface Indexes {
  revision: number;
  schoolsByDcid: Map<number, PsSchool>;
  studentsBySchool: Map<number, PsStudent[]>;
  staffBySchool: Map<number, { member: PsStaff; schoolStaffDcid: number }[]>;
  termsBySchool: Map<number, PsTerm[]>;
  coursesBySchool: Map<number, PsCourse[]>;
  sectionsBySchool: Map<number, PsSection[]>;
  sectionsByDcid: Map<number, PsSection>;
  enrollmentsBySection: Map<number, PsSectionEnrollment[]>;
  studentsByDcid: Map<number, PsStudent>;
  powerQueryRows: PsSectionEnrollment[];
}

/**
 * A PowerSchool SIS (`/ws/v1` + named PowerQueries) on loopback, for tests and benchmarks. Faithful to the
 * quirks a client must survive: a collection of one record is a bare object, empty expansions are `""`, numbers
 * and booleans often arrive as strings, DCID ≠ local number ≠ table id, exit dates are exclusive, the token comes
 * back unchanged until it expires (`expires_in` as a string), and every listing has a `/count`. Permissions can be
 * withheld per resource (403) and faults injected (token revocation, 429 with Retry-After, 5xx, wrong counts).
 */
export class FakePowerSchoolServer {
  readonly dataset: PowerSchoolDataset;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly powerQueryName: string;
  private readonly options: FakePowerSchoolServerOptions;
  private readonly pathPrefix: string;
  private server: Server | null = null;
  private baseUrl = '';
  private readonly sockets = new Set<Socket>();
  private readonly sleepers = new Set<{ timer: NodeJS.Timeout; wake: () => void }>();
  private readonly tokens = new Map<string, number>();
  private issued = 0;
  private readonly log: FakePowerSchoolRequest[] = [];
  private inFlight = 0;
  private maxInFlight = 0;
  private faults: ActiveFault[] = [];
  private readonly forbidden = new Set<FakePowerSchoolResource>();
  private revision = 0;
  private indexes: Indexes | null = null;

  constructor(options: FakePowerSchoolServerOptions) {
    this.options = options;
    this.dataset = options.dataset;
    this.clientId = options.clientId ?? 'homeroom';
    this.clientSecret = options.clientSecret ?? 'fake-secret';
    this.powerQueryName = options.powerQueryName ?? 'com.homeroom.roster.section_enrollments';
    this.pathPrefix = (options.pathPrefix ?? '').replace(/\/$/, '');
  }

  /** Listens on 127.0.0.1, a free port; resolves to the server's base URL. */
  async start(): Promise<string> {
    const server = createServer((request, response) => void this.handle(request, response));
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}${this.pathPrefix}`;
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    for (const sleeper of this.sleepers) {
      clearTimeout(sleeper.timer);
      sleeper.wake();
    }
    this.sleepers.clear();
    const server = this.server;
    if (!server) return;
    this.server = null;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The PowerSchool server URL a connection is configured with. */
  get url(): string {
    return this.baseUrl;
  }

  get tokenUrl(): string {
    return `${this.baseUrl}/oauth/access_token`;
  }

  // Observability ------------------------------------------------------------------------------------------

  get requests(): readonly FakePowerSchoolRequest[] {
    return this.log;
  }

  /** Authenticated data requests (not the token endpoint or `/ws/v1/time`), optionally for paths containing `part`. */
  dataRequests(part?: string): FakePowerSchoolRequest[] {
    return this.log.filter(
      (entry) =>
        entry.path.includes('/ws/') &&
        !entry.path.endsWith('/ws/v1/time') &&
        (part === undefined || entry.path.includes(part)),
    );
  }

  get tokensIssued(): number {
    return this.issued;
  }

  get maxConcurrentRequests(): number {
    return this.maxInFlight;
  }

  resetObservations(): void {
    this.log.length = 0;
    this.maxInFlight = this.inFlight;
    this.issued = 0;
  }

  // Permissions, tokens and faults -------------------------------------------------------------------------

  /** Withholds a resource from the plugin: its endpoints answer 403. */
  forbid(resource: FakePowerSchoolResource): void {
    this.forbidden.add(resource);
  }

  allow(resource: FakePowerSchoolResource): void {
    this.forbidden.delete(resource);
  }

  /** Every issued token stops working (a regenerated client secret does this). */
  revokeTokens(): void {
    this.tokens.clear();
  }

  injectFault(fault: FakePowerSchoolFault): { readonly hits: number; remove(): void } {
    const active: ActiveFault = {
      fault,
      remaining: fault.times ?? Number.POSITIVE_INFINITY,
      skip: fault.skip ?? 0,
      hits: 0,
      requestsSinceRevoke: 0,
    };
    this.faults.push(active);
    return {
      get hits() {
        return active.hits;
      },
      remove: () => {
        this.faults = this.faults.filter((candidate) => candidate !== active);
      },
    };
  }

  clearFaults(): void {
    this.faults = [];
  }

  // Mutations ----------------------------------------------------------------------------------------------

  updateStudent(dcid: number, patch: Partial<PsStudent> | ((student: PsStudent) => void)): void {
    const student = this.dataset.students.find((candidate) => candidate.dcid === dcid);
    if (!student) throw new Error(`No student with DCID ${dcid}`);
    if (typeof patch === 'function') patch(student);
    else Object.assign(student, patch);
    this.touch();
  }

  /** Deletes a student (and, by default, their section enrolments, as a transfer out of the district would). */
  removeStudent(dcid: number, options: { withEnrollments?: boolean } = {}): void {
    const before = this.dataset.students.length;
    this.dataset.students = this.dataset.students.filter((student) => student.dcid !== dcid);
    if (this.dataset.students.length === before) throw new Error(`No student with DCID ${dcid}`);
    if (options.withEnrollments !== false) {
      this.dataset.sectionEnrollments = this.dataset.sectionEnrollments.filter(
        (enrollment) => enrollment.studentDcid !== dcid,
      );
    }
    this.touch();
  }

  /** Marks a section enrolment dropped (`dropped: true`); it stays in the listing, as CC rows do. */
  dropSectionEnrollment(dcid: number): void {
    const enrollment = this.dataset.sectionEnrollments.find((candidate) => candidate.dcid === dcid);
    if (!enrollment) throw new Error(`No section enrollment with DCID ${dcid}`);
    enrollment.dropped = true;
    this.touch();
  }

  updateSection(dcid: number, patch: Partial<PsSection>): void {
    const section = this.dataset.sections.find((candidate) => candidate.dcid === dcid);
    if (!section) throw new Error(`No section with DCID ${dcid}`);
    Object.assign(section, patch);
    this.touch();
  }

  /** Call after changing `dataset` directly. */
  touch(): void {
    this.revision++;
  }

  // Internals ----------------------------------------------------------------------------------------------

  private index(): Indexes {
    if (this.indexes && this.indexes.revision === this.revision) return this.indexes;
    const byDcid = <T extends { dcid: number }>(items: readonly T[]): T[] => [...items].sort((a, b) => a.dcid - b.dcid);
    const group = <T>(items: readonly T[], key: (item: T) => number): Map<number, T[]> => {
      const map = new Map<number, T[]>();
      for (const item of items) {
        const list = map.get(key(item));
        if (list) list.push(item);
        else map.set(key(item), [item]);
      }
      return map;
    };
    const staffBySchool = new Map<number, { member: PsStaff; schoolStaffDcid: number }[]>();
    for (const member of this.dataset.staff) {
      for (const affiliation of member.affiliations) {
        if (affiliation.status !== 1) continue;
        const list = staffBySchool.get(affiliation.schoolDcid) ?? [];
        list.push({ member, schoolStaffDcid: affiliation.schoolStaffDcid });
        staffBySchool.set(affiliation.schoolDcid, list);
      }
    }
    for (const list of staffBySchool.values()) list.sort((a, b) => a.schoolStaffDcid - b.schoolStaffDcid);
    const coursesBySchool = new Map<number, PsCourse[]>();
    for (const course of byDcid(this.dataset.courses)) {
      for (const school of course.schoolDcids) {
        const list = coursesBySchool.get(school) ?? [];
        list.push(course);
        coursesBySchool.set(school, list);
      }
    }
    const sections = byDcid(this.dataset.sections);
    const listed = byDcid(this.dataset.students).filter((student) => LISTED_ENROLL_STATUSES.has(student.enrollStatus));
    const enrollments = [...this.dataset.sectionEnrollments].sort(
      (a, b) => a.studentDcid - b.studentDcid || a.entryDate.localeCompare(b.entryDate) || a.dcid - b.dcid,
    );
    this.indexes = {
      revision: this.revision,
      schoolsByDcid: new Map(this.dataset.schools.map((school) => [school.dcid, school])),
      studentsBySchool: group(listed, (student) => student.schoolDcid),
      staffBySchool,
      termsBySchool: group(
        [...this.dataset.terms].sort((a, b) => a.portion - b.portion || a.startDate.localeCompare(b.startDate)),
        (term) => term.schoolDcid,
      ),
      coursesBySchool,
      sectionsBySchool: group(sections, (section) => section.schoolDcid),
      sectionsByDcid: new Map(sections.map((section) => [section.dcid, section])),
      enrollmentsBySection: group(enrollments, (enrollment) => enrollment.sectionDcid),
      studentsByDcid: new Map(this.dataset.students.map((student) => [student.dcid, student])),
      powerQueryRows: byDcid(this.dataset.sectionEnrollments),
    };
    return this.indexes;
  }

  private takeFault(
    kind: FakePowerSchoolFaultKind,
    path: string,
    applied: FakePowerSchoolFaultKind[],
  ): ActiveFault | null {
    for (const active of this.faults) {
      if (active.fault.kind !== kind || active.remaining <= 0 || !pathMatches(active.fault.path, path)) continue;
      if (active.skip > 0) {
        active.skip--;
        continue;
      }
      active.remaining--;
      active.hits++;
      applied.push(kind);
      return active;
    }
    return null;
  }

  private sleep(milliseconds: number): Promise<void> {
    return new Promise((resolve) => {
      const sleeper = {
        timer: setTimeout(() => {
          this.sleepers.delete(sleeper);
          resolve();
        }, milliseconds),
        wake: resolve,
      };
      this.sleepers.add(sleeper);
    });
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const entry: FakePowerSchoolRequest = {
      method: request.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      status: 0,
      authKind: authKindOf(request),
      faults: [],
    };
    response.once('close', () => {
      this.inFlight--;
      entry.status = response.headersSent ? response.statusCode : 0;
      this.log.push(entry);
    });
    try {
      await this.respond(request, response, url, entry);
    } catch (error) {
      if (response.headersSent || response.destroyed) return;
      if (error instanceof HttpProblem) sendJson(response, error.status, { message: error.message });
      else sendJson(response, 500, { message: 'Internal server error' });
    }
  }

  private async respond(
    request: IncomingMessage,
    response: ServerResponse,
    url: URL,
    entry: FakePowerSchoolRequest,
  ): Promise<void> {
    const path = url.pathname;
    if (this.takeFault('reset', path, entry.faults)) {
      request.socket.destroy();
      return;
    }
    const slow = this.takeFault('slow', path, entry.faults);
    if (slow && slow.fault.kind === 'slow') {
      await this.sleep(slow.fault.delayMs);
      if (response.destroyed || !this.server) return;
    }
    const rateLimit = this.takeFault('rate-limit', path, entry.faults);
    if (rateLimit && rateLimit.fault.kind === 'rate-limit') {
      sendJson(
        response,
        429,
        { message: 'Too many requests' },
        { 'Retry-After': String(rateLimit.fault.retryAfterSeconds ?? 1) },
      );
      return;
    }
    const serverError = this.takeFault('server-error', path, entry.faults);
    if (serverError && serverError.fault.kind === 'server-error') {
      sendJson(response, serverError.fault.status ?? 500, { message: 'Injected server error' });
      return;
    }
    if (!path.startsWith(`${this.pathPrefix}/`)) throw new HttpProblem(404, `No such endpoint ${path}`);
    const local = path.slice(this.pathPrefix.length);

    if (local === '/oauth/access_token' || local === '/oauth/access_token/') {
      await this.issueToken(request, response);
      return;
    }
    if (local === '/ws/v1/time') {
      if (request.method !== 'GET') throw new HttpProblem(405, 'GET only');
      sendJson(response, 200, { time: { current_time: new Date().toISOString() } });
      return;
    }
    if (!local.startsWith('/ws/')) throw new HttpProblem(404, `No such endpoint ${path}`);
    if (!this.authorised(request, response)) return;
    this.countTowardsRevocation(path, entry);
    const body = request.method === 'POST' ? await readBody(request) : '';
    const payload = this.route(request.method ?? 'GET', local, url.searchParams, body, entry);
    const malformed = this.takeFault('malformed-json', path, entry.faults);
    sendJson(response, 200, payload, {}, Boolean(malformed));
  }

  private authorised(request: IncomingMessage, response: ServerResponse): boolean {
    const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    const expiresAt = match ? this.tokens.get(match[1]) : undefined;
    if (expiresAt !== undefined && expiresAt > Date.now()) return true;
    sendJson(
      response,
      401,
      { message: match ? 'Invalid or expired access token' : 'Authorization required' },
      {
        'WWW-Authenticate': 'Bearer realm="PowerSchool"',
      },
    );
    return false;
  }

  private countTowardsRevocation(path: string, entry: FakePowerSchoolRequest): void {
    for (const active of this.faults) {
      const fault = active.fault;
      if (fault.kind !== 'revoke-tokens' || active.remaining <= 0 || !pathMatches(fault.path, path)) continue;
      if (active.skip > 0) {
        active.skip--;
        continue;
      }
      if (++active.requestsSinceRevoke < fault.afterRequests) continue;
      active.requestsSinceRevoke = 0;
      active.remaining--;
      active.hits++;
      entry.faults.push('revoke-tokens');
      // Revoked after this request is answered: the next one meets a 401.
      setImmediate(() => this.tokens.clear());
    }
  }

  private async issueToken(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.method !== 'POST') {
      sendJson(response, 405, { error: 'invalid_request', error_description: 'POST required' }, { Allow: 'POST' });
      return;
    }
    const form = new URLSearchParams(await readBody(request));
    const basic = /^Basic\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    const decoded = basic ? Buffer.from(basic[1], 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    if (!basic || decoded.slice(0, colon) !== this.clientId || decoded.slice(colon + 1) !== this.clientSecret) {
      sendJson(response, 401, { error: 'invalid_client' });
      return;
    }
    if (form.get('grant_type') !== 'client_credentials') {
      sendJson(response, 400, { error: 'unsupported_grant_type' });
      return;
    }
    // PowerSchool hands back the same token until it expires, with `expires_in` counting down.
    const now = Date.now();
    let token = [...this.tokens.entries()].find(([, expiresAt]) => expiresAt > now);
    if (!token) {
      const lifetime = this.options.tokenLifetimeSeconds ?? 30 * 24 * 3600;
      token = [randomBytes(16).toString('hex'), now + lifetime * 1000];
      this.tokens.set(token[0], token[1]);
      this.issued++;
    }
    sendJson(
      response,
      200,
      { access_token: token[0], token_type: 'Bearer', expires_in: String(Math.floor((token[1] - now) / 1000)) },
      { 'Cache-Control': 'no-store' },
    );
  }

  private guard(resource: FakePowerSchoolResource): void {
    if (this.forbidden.has(resource)) {
      throw new HttpProblem(403, 'Request is for a resource the user is not allowed to access');
    }
  }

  private route(
    method: string,
    path: string,
    query: URLSearchParams,
    body: string,
    entry: FakePowerSchoolRequest,
  ): Wire {
    const segments = path.split('/').filter(Boolean);
    const isCount = segments[segments.length - 1] === 'count';
    const parts = isCount ? segments.slice(0, -1) : segments;
    const index = this.index();

    if (parts[0] === 'ws' && parts[1] === 'schema' && parts[2] === 'query' && parts.length === 4) {
      if (method !== 'POST') throw new HttpProblem(405, 'PowerQueries are POSTed');
      this.guard('powerquery');
      if (decodeURIComponent(parts[3]) !== this.powerQueryName) throw new HttpProblem(404, 'Named query not found');
      if (body.trim() !== '') {
        try {
          JSON.parse(body);
        } catch {
          throw new HttpProblem(400, 'Invalid JSON body');
        }
      }
      const rows = index.powerQueryRows;
      if (isCount) return { count: this.count(rows.length, path, entry) };
      const pageSize = this.pageSize(query, 'powerquery', true);
      const page = this.page(query);
      const slice = pageSize === 0 ? rows : rows.slice((page - 1) * pageSize, page * pageSize);
      return {
        name: this.powerQueryName,
        record: slice.map((row) => this.powerQueryRow(row, index)),
        '@extensions': '',
      };
    }

    if (method !== 'GET') throw new HttpProblem(405, 'GET only');
    if (parts[0] !== 'ws' || parts[1] !== 'v1') throw new HttpProblem(404, `No such endpoint ${path}`);
    const rest = parts.slice(2);
    if (rest.length === 1 && rest[0] === 'metadata' && !isCount) {
      this.guard('metadata');
      return { metadata: this.metadata() };
    }
    if (rest.length === 1 && rest[0] === 'district' && !isCount) {
      this.guard('district');
      const district = this.dataset.district;
      return {
        district: {
          uuid: district.uuid,
          name: district.name,
          district_number: district.districtNumber,
          addresses: {
            physical: { street: '1 District Way', city: 'Springfield', state_province: 'IL', postal_code: '62701' },
          },
          '@expansions': 'districts_of_residence, district_race_codes, entry_codes, exit_codes',
        },
      };
    }
    if (rest.length === 2 && rest[0] === 'district' && rest[1] === 'school') {
      this.guard('schools');
      const schools = [...this.dataset.schools].sort((a, b) => a.dcid - b.dcid);
      return this.listing('schools', schools, query, isCount, path, entry, (school) => renderSchool(school));
    }
    if (rest.length === 3 && rest[0] === 'school' && SCHOOL_CHILDREN[rest[2]]) {
      const resource = SCHOOL_CHILDREN[rest[2]];
      this.guard(resource);
      const schoolDcid = Number(rest[1]);
      const school = index.schoolsByDcid.get(schoolDcid);
      if (!school) throw new HttpProblem(404, `No school with id ${rest[1]}`);
      const expansions = expansionsOf(query);
      switch (resource) {
        case 'students':
          return this.listing(
            resource,
            index.studentsBySchool.get(schoolDcid) ?? [],
            query,
            isCount,
            path,
            entry,
            (student) => renderStudent(student, school, expansions),
          );
        case 'staff':
          return this.listing(
            resource,
            index.staffBySchool.get(schoolDcid) ?? [],
            query,
            isCount,
            path,
            entry,
            (item) => renderStaff(item.member, item.schoolStaffDcid, expansions),
          );
        case 'terms':
          return this.listing(
            resource,
            index.termsBySchool.get(schoolDcid) ?? [],
            query,
            isCount,
            path,
            entry,
            renderTerm,
          );
        case 'courses':
          return this.listing(
            resource,
            index.coursesBySchool.get(schoolDcid) ?? [],
            query,
            isCount,
            path,
            entry,
            renderCourse,
          );
        case 'sections':
          return this.listing(
            resource,
            index.sectionsBySchool.get(schoolDcid) ?? [],
            query,
            isCount,
            path,
            entry,
            renderSection,
          );
      }
    }
    if (rest.length === 3 && rest[0] === 'section' && rest[2] === 'section_enrollment') {
      this.guard('section_enrollment');
      const sectionDcid = Number(rest[1]);
      if (!index.sectionsByDcid.has(sectionDcid)) throw new HttpProblem(404, `No section with id ${rest[1]}`);
      return this.listing(
        'section_enrollment',
        index.enrollmentsBySection.get(sectionDcid) ?? [],
        query,
        isCount,
        path,
        entry,
        renderSectionEnrollment,
      );
    }
    throw new HttpProblem(404, `No such endpoint ${path}`);
  }

  private metadata(): Wire {
    const sizes = Object.fromEntries(
      LIST_RESOURCES.map((resource) => [MAX_PAGE_SIZE_FIELDS[resource], this.maxPageSize(resource)]),
    );
    return {
      plugin_id: 4711,
      powerschool_version: '25.2.0.0',
      state: 'IL',
      district_timezone: 'America/Chicago',
      district_uuid: this.dataset.district.uuid,
      ...sizes,
    };
  }

  private maxPageSize(resource: ListResource): number {
    return this.options.maxPageSizes?.[resource] ?? 100;
  }

  private pageSize(query: URLSearchParams, resource: ListResource, allowZero = false): number {
    const max = this.maxPageSize(resource);
    const given = query.get('pagesize');
    if (given === null) return max;
    if (!/^\d+$/.test(given)) throw new HttpProblem(400, 'pagesize must be a number');
    const size = Number(given);
    if (size === 0) {
      if (allowZero) return 0;
      throw new HttpProblem(400, 'pagesize must be at least 1');
    }
    return Math.min(size, max);
  }

  private page(query: URLSearchParams): number {
    const given = query.get('page');
    if (given === null) return 1;
    if (!/^\d+$/.test(given) || Number(given) < 1) throw new HttpProblem(400, 'page must be a number from 1');
    return Number(given);
  }

  private count(actual: number, path: string, entry: FakePowerSchoolRequest): number {
    const wrong = this.takeFault('wrong-count', path, entry.faults);
    return wrong && wrong.fault.kind === 'wrong-count' ? Math.max(0, actual + (wrong.fault.delta ?? 1)) : actual;
  }

  private listing<T>(
    resource: Exclude<ListResource, 'powerquery'>,
    items: readonly T[],
    query: URLSearchParams,
    isCount: boolean,
    path: string,
    entry: FakePowerSchoolRequest,
    render: (item: T) => Wire,
  ): Wire {
    if (isCount) return { resource: { count: this.count(items.length, path, entry) } };
    const pageSize = this.pageSize(query, resource);
    const page = this.page(query);
    const slice = items.slice((page - 1) * pageSize, page * pageSize).map(render);
    const [outer, inner] = ENVELOPES[resource];
    const wrapper: Wire = { '@expansions': AVAILABLE_EXPANSIONS[resource], '@extensions': '' };
    // One record is sent as a bare object, none as an envelope without the record key.
    if (slice.length === 1) wrapper[inner] = slice[0];
    else if (slice.length > 1) wrapper[inner] = slice;
    return { [outer]: wrapper };
  }

  private powerQueryRow(enrollment: PsSectionEnrollment, index: Indexes): Wire {
    const section = index.sectionsByDcid.get(enrollment.sectionDcid);
    const student = index.studentsByDcid.get(enrollment.studentDcid);
    // Every PowerQuery value is a string; `cc.studentid` and `cc.sectionid` are table ids, not DCIDs.
    return {
      'cc.dcid': String(enrollment.dcid),
      'cc.studentid': String(student?.tableId ?? ''),
      'cc.sectionid': String(section ? (enrollment.dropped ? -section.tableId : section.tableId) : ''),
      'students.dcid': String(enrollment.studentDcid),
      'sections.dcid': String(enrollment.sectionDcid),
      'cc.dateenrolled': enrollment.entryDate,
      'cc.dateleft': enrollment.exitDate,
      dropped: enrollment.dropped ? '1' : '0',
    };
  }
}

function renderSchool(school: PsSchool): Wire {
  return {
    id: school.dcid,
    name: school.name,
    school_number: String(school.schoolNumber),
    state_province_id: school.stateProvinceId,
    low_grade: school.lowGrade,
    high_grade: school.highGrade,
    alternate_school_number: 0,
    addresses: { physical: { street: '1 School Rd', city: 'Springfield', state_province: 'IL', postal_code: '62701' } },
    phones: { main: { number: '555-0100' } },
  };
}

function renderTerm(term: PsTerm): Wire {
  return {
    id: term.dcid,
    school_id: term.schoolDcid,
    start_year: String(term.startYear),
    portion: String(term.portion),
    start_date: term.startDate,
    end_date: term.endDate,
    abbreviation: term.abbreviation,
    name: term.name,
  };
}

function renderCourse(course: PsCourse): Wire {
  return { id: course.dcid, course_number: course.courseNumber, course_name: course.courseName };
}

function renderSection(section: PsSection): Wire {
  return {
    id: section.dcid,
    school_id: section.schoolDcid,
    course_id: section.courseDcid,
    term_id: String(section.termDcid),
    staff_id: section.staffSchoolStaffDcid,
    section_number: section.sectionNumber,
    expression: section.expression,
    external_expression: section.expression.replace('(A)', '(M-F)'),
    room: section.room,
    gradebooktype: '2',
  };
}

function renderSectionEnrollment(enrollment: PsSectionEnrollment): Wire {
  return {
    id: enrollment.dcid,
    section_id: enrollment.sectionDcid,
    student_id: enrollment.studentDcid,
    entry_date: enrollment.entryDate,
    exit_date: enrollment.exitDate,
    dropped: String(enrollment.dropped),
  };
}

function renderStaff(member: PsStaff, schoolStaffDcid: number, expansions: ReadonlySet<string>): Wire {
  const wire: Wire = {
    id: schoolStaffDcid,
    users_dcid: member.usersDcid,
    local_id: member.localId,
    admin_username: member.adminUsername ?? '',
    teacher_username: member.teacherUsername ?? '',
    name: { first_name: member.firstName, middle_name: member.middleName ?? '', last_name: member.lastName },
  };
  if (expansions.has('emails')) wire.emails = member.email ? { work_email: member.email } : '';
  if (expansions.has('school_affiliations')) {
    const affiliations = member.affiliations.map((affiliation) => ({
      school_id: affiliation.schoolDcid,
      type: String(affiliation.type),
      status: affiliation.status,
    }));
    wire.school_affiliations = { school_affiliation: affiliations.length === 1 ? affiliations[0] : affiliations };
  }
  for (const name of ['addresses', 'phones']) if (expansions.has(name)) wire[name] = '';
  return wire;
}

function renderStudent(student: PsStudent, school: PsSchool, expansions: ReadonlySet<string>): Wire {
  const wire: Wire = {
    id: student.dcid,
    local_id: student.localId,
    student_username: student.username,
    state_province_id: student.stateProvinceId,
    name: { first_name: student.firstName, middle_name: student.middleName ?? '', last_name: student.lastName },
  };
  const status = ENROLL_STATUS[student.enrollStatus];
  const expansion: Record<string, () => unknown> = {
    demographics: () => ({
      gender: student.gender,
      birth_date: student.birthDate,
      district_entry_date: student.entryDate,
      projected_graduation_year: String(Number(student.exitDate.slice(0, 4)) + 12 - Math.max(0, student.gradeLevel)),
    }),
    addresses: () =>
      student.street
        ? { physical: { street: student.street, city: student.city ?? '', state_province: 'IL', postal_code: '62701' } }
        : '',
    phones: () => (student.phone ? { main: { number: student.phone } } : ''),
    school_enrollment: () => ({
      status_code: status.code,
      enroll_status: student.enrollStatus,
      enroll_status_description: status.description,
      grade_level: String(student.gradeLevel),
      entry_date: student.entryDate,
      exit_date: student.exitDate,
      school_number: school.schoolNumber,
      school_id: String(school.dcid),
      entry_code: 'E1',
      exit_code: '',
      district_of_residence: '',
      track: 'A',
      full_time_equivalency: { fteid: '1', name: 'Full Time' },
    }),
    contact_info: () => (student.email ? { email: student.email } : ''),
    ethnicity_race: () => {
      if (student.races.length === 0 && student.hispanic === null) return '';
      const races = student.races.map((code) => ({ federal_race_code_category: code, district_race_code: code }));
      return {
        scheduling_reporting_ethnicity: student.races[0] ?? '',
        federal_ethnicity: student.hispanic === null ? '' : student.hispanic ? 'YES' : 'NO',
        races: races.length === 0 ? '' : races.length === 1 ? races[0] : races,
      };
    },
  };
  for (const name of expansions) wire[name] = expansion[name] ? expansion[name]() : '';
  return wire;
}

function expansionsOf(query: URLSearchParams): Set<string> {
  return new Set(
    (query.get('expansions') ?? '')
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name !== ''),
  );
}

function pathMatches(target: RegExp | string | undefined, path: string): boolean {
  if (target === undefined) return true;
  return typeof target === 'string' ? path.includes(target) : target.test(path);
}

function authKindOf(request: IncomingMessage): FakePowerSchoolRequest['authKind'] {
  const header = request.headers.authorization;
  if (!header) return 'none';
  if (/^Bearer\s/i.test(header)) return 'bearer';
  if (/^Basic\s/i.test(header)) return 'basic';
  return 'other';
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
  malformed = false,
): void {
  let text = JSON.stringify(body);
  if (malformed) text = text.slice(0, Math.floor(text.length / 2));
  response.writeHead(status, {
    'Content-Type': 'application/json;charset=UTF-8',
    'Content-Length': String(Buffer.byteLength(text)),
    ...headers,
  });
  response.end(text);
}
