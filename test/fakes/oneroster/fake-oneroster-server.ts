import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { verifyOAuth1Request } from './oauth1.js';
import {
  compareSourcedIds,
  expandTo11Users,
  sortedBySourcedId,
  type OneRoster11User,
  type OneRosterCollection,
  type OneRosterDataset,
  type OneRosterRecordOf,
  type OneRosterStatus,
  type OneRosterUser,
} from './oneroster-dataset.js';
import {
  OneRosterWireRenderer,
  WIRE_FIELDS,
  type OneRosterVersion,
  type OneRosterWireOptions,
  type WireObject,
} from './oneroster-wire.js';

export type FakeOneRosterAuth =
  | { kind: 'none' }
  | {
      kind: 'oauth2';
      clientId: string;
      clientSecret: string;
      /** Seconds. Default 3600. */
      expiresIn?: number;
      /** Send `expires_in` as a string ("3600"), as some SIS do. */
      expiresInAsString?: boolean;
      /** Default `/oauth2/token`; any query (e.g. `?appName=`) is accepted. */
      tokenPath?: string;
      scope?: string;
    }
  | {
      kind: 'oauth1';
      consumerKey: string;
      consumerSecret: string;
      /** Allowed `oauth_timestamp` skew against the real clock. Default 300. */
      maxSkewSeconds?: number;
    };

export interface FakeOneRosterServerOptions extends OneRosterWireOptions {
  /** Served and mutated in place. */
  dataset: OneRosterDataset;
  auth?: FakeOneRosterAuth;
  /** Default both. */
  versions?: readonly OneRosterVersion[];
  /** Prepended to the OneRoster base paths, e.g. `/campus/api`. */
  pathPrefix?: string;
  /** Default 100. */
  defaultPageSize?: number;
  /** Larger `limit`s are clamped to this. Default 10000. */
  maxPageSize?: number;
  /** Demographics answer 403, as when a district did not grant the roster-demographics scope. */
  forbidDemographics?: boolean;
  /** Freeze the server clock at this instant (default: real time). */
  clock?: Date | string;
}

interface FaultTarget {
  /** A RegExp tested against the request path, or a substring of it. Default: every request. */
  path?: RegExp | string;
  /** How many matching requests are affected. Default: all of them until `clearFaults()`. */
  times?: number;
  /** Let this many matching requests through first. */
  skip?: number;
}

export type FakeOneRosterFault = FaultTarget &
  (
    | { kind: 'rate-limit'; retryAfterSeconds?: number; retryAfterFormat?: 'seconds' | 'http-date' }
    | { kind: 'server-error'; status?: 500 | 502 | 503 | 504 }
    /** Responds normally after `delayMs` (pick it above the client's timeout). */
    | { kind: 'slow'; delayMs: number }
    /** 200 with the JSON body cut in half (token responses too). */
    | { kind: 'malformed-json' }
    /** 200 whose body lacks the collection key; default `{"data":[…records]}`. */
    | { kind: 'missing-envelope'; body?: unknown }
    /** After every `afterRequests` authenticated data requests, all issued tokens stop working. */
    | { kind: 'token-expiry'; afterRequests: number }
    /**
     * Fewer records than `limit` (default half) while more remain; `X-Total-Count` stays right. The next link
     * advances by `limit` (records are skipped) unless `nextOffset: 'returned'`.
     */
    | { kind: 'short-page'; returnCount?: number; nextOffset?: 'limit' | 'returned' }
    /** Omits wire sourcedIds from listings; `countInTotal` (default true) keeps them in `X-Total-Count`. */
    | { kind: 'drop-records'; sourcedIds: readonly string[]; countInTotal?: boolean }
    /** Destroys the socket without answering. */
    | { kind: 'reset' }
    /**
     * 200 whose body is `bytes` long (without Content-Length unless `announce`): the envelope with one record whose
     * `givenName` pads it out, generated as it is sent, never held whole.
     */
    | { kind: 'huge-body'; bytes: number; announce?: boolean }
  );

export type FakeOneRosterFaultKind = FakeOneRosterFault['kind'];

export interface InjectedFault {
  readonly id: number;
  readonly fault: FakeOneRosterFault;
  /** Requests it affected so far. */
  readonly hits: number;
  remove(): void;
}

export type RequestAuthKind = 'bearer' | 'oauth1' | 'basic' | 'none' | 'other';

export interface FakeOneRosterRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  filter: string | null;
  version: OneRosterVersion | null;
  /** 0 when the socket was destroyed without an answer. */
  status: number;
  authKind: RequestAuthKind;
  faults: FakeOneRosterFaultKind[];
  durationMs: number;
}

type NewRecord<C extends OneRosterCollection> = Omit<OneRosterRecordOf<C>, 'status' | 'dateLastModified'> &
  Partial<Pick<OneRosterRecordOf<C>, 'status' | 'dateLastModified'>>;

interface ActiveFault {
  id: number;
  fault: FakeOneRosterFault;
  remaining: number;
  skip: number;
  hits: number;
  requestsSinceExpiry: number;
  droppedIds?: Set<string>;
  droppedCache?: { source: readonly ViewEntry[]; result: ViewEntry[] };
}

interface ViewEntry {
  sourcedId: string;
  status: OneRosterStatus;
  dateLastModified: string;
}

interface Resource {
  collection: OneRosterCollection;
  envelope: string;
  singular: string;
  subset?: (entry: ViewEntry, version: OneRosterVersion) => boolean;
}

const hasUserRole =
  (role: 'student' | 'teacher') =>
  (entry: ViewEntry, version: OneRosterVersion): boolean =>
    version === '1.1'
      ? (entry as OneRoster11User).role === role
      : (entry as OneRosterUser).roles.some((membership) => membership.role === role);

const RESOURCES: Readonly<Record<string, Resource>> = {
  orgs: { collection: 'orgs', envelope: 'orgs', singular: 'org' },
  schools: {
    collection: 'orgs',
    envelope: 'orgs',
    singular: 'org',
    subset: (entry) => (entry as OneRosterRecordOf<'orgs'>).type === 'school',
  },
  academicSessions: { collection: 'academicSessions', envelope: 'academicSessions', singular: 'academicSession' },
  terms: {
    collection: 'academicSessions',
    envelope: 'academicSessions',
    singular: 'academicSession',
    subset: (entry) => (entry as OneRosterRecordOf<'academicSessions'>).type === 'term',
  },
  gradingPeriods: {
    collection: 'academicSessions',
    envelope: 'academicSessions',
    singular: 'academicSession',
    subset: (entry) => (entry as OneRosterRecordOf<'academicSessions'>).type === 'gradingPeriod',
  },
  courses: { collection: 'courses', envelope: 'courses', singular: 'course' },
  classes: { collection: 'classes', envelope: 'classes', singular: 'class' },
  users: { collection: 'users', envelope: 'users', singular: 'user' },
  students: { collection: 'users', envelope: 'users', singular: 'user', subset: hasUserRole('student') },
  teachers: { collection: 'users', envelope: 'users', singular: 'user', subset: hasUserRole('teacher') },
  enrollments: { collection: 'enrollments', envelope: 'enrollments', singular: 'enrollment' },
  demographics: { collection: 'demographics', envelope: 'demographics', singular: 'demographics' },
};

const BASE_PATHS: Readonly<Record<OneRosterVersion, string>> = {
  '1.1': '/ims/oneroster/v1p1',
  '1.2': '/ims/oneroster/rostering/v1p2',
};

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly codeMinor: string,
    message: string,
  ) {
    super(message);
  }
}

/** A JSON listing `bytes` long, written in 1 MiB pieces as the client reads them; stops when the client hangs up. */
async function streamHugeBody(
  response: ServerResponse,
  envelope: string,
  bytes: number,
  announce: boolean,
): Promise<void> {
  const head = Buffer.from(`{"${envelope}":[{"sourcedId":"huge","status":"active","givenName":"`);
  const tail = Buffer.from('"}]}');
  const piece = Buffer.alloc(1024 ** 2, 0x61);
  response.writeHead(200, {
    'Content-Type': 'application/json',
    ...(announce ? { 'Content-Length': String(bytes) } : {}),
  });
  let closed = false;
  response.once('close', () => (closed = true));
  let left = Math.max(0, bytes - head.length - tail.length);
  const write = async (chunk: Buffer): Promise<void> => {
    if (!response.write(chunk)) {
      await new Promise<void>((resolve) => {
        response.once('drain', resolve);
        response.once('close', resolve);
      });
    }
  };
  await write(head);
  while (left > 0 && !closed) {
    const chunk = left >= piece.length ? piece : piece.subarray(0, left);
    left -= chunk.length;
    await write(chunk);
  }
  if (!closed) response.end(tail);
}

/** The body of an OneRoster error (imsx_StatusInfo). */
export function imsxError(codeMinor: string, description: string): WireObject {
  return {
    imsx_codeMajor: 'failure',
    imsx_severity: 'error',
    imsx_description: description,
    imsx_CodeMinor: {
      imsx_codeMinorField: [{ imsx_codeMinorFieldName: 'TargetEndSystem', imsx_codeMinorFieldValue: codeMinor }],
    },
  };
}

interface Predicate {
  field: string;
  operator: '=' | '!=' | '>' | '>=' | '<' | '<=' | '~';
  value: string;
}

interface ParsedFilter {
  predicates: Predicate[];
  joins: ('AND' | 'OR')[];
}

/** `field op 'value'` predicates joined by ` AND ` / ` OR ` (OneRoster §3.4.3), evaluated left to right. */
export function parseOneRosterFilter(filter: string): ParsedFilter {
  const parts: string[] = [];
  const joins: ('AND' | 'OR')[] = [];
  let quoted = false;
  let start = 0;
  for (let index = 0; index < filter.length; index++) {
    if (filter[index] === "'") quoted = !quoted;
    if (quoted) continue;
    for (const join of ['AND', 'OR'] as const) {
      if (filter.startsWith(` ${join} `, index)) {
        parts.push(filter.slice(start, index));
        joins.push(join);
        start = index + join.length + 2;
        index = start - 1;
        break;
      }
    }
  }
  parts.push(filter.slice(start));
  const predicates = parts.map((part) => {
    const match = /^\s*([A-Za-z][A-Za-z0-9_.]*)\s*(!=|>=|<=|=|>|<|~)\s*'(.*)'\s*$/s.exec(part);
    if (!match) throw new HttpProblem(400, 'invalid_filter_field', `Cannot parse filter predicate "${part}"`);
    return { field: match[1], operator: match[2] as Predicate['operator'], value: match[3] };
  });
  return { predicates, joins };
}

/**
 * A OneRoster 1.1 + 1.2 rostering server on loopback for tests and benchmarks: real wire shapes, paging headers,
 * filters, OAuth 2 / OAuth 1.0a, fault injection, request log and dataset mutations.
 */
export class FakeOneRosterServer {
  readonly dataset: OneRosterDataset;
  private auth: FakeOneRosterAuth;
  private readonly options: FakeOneRosterServerOptions;
  private readonly versions: readonly OneRosterVersion[];
  private readonly pathPrefix: string;
  private server: Server | null = null;
  private baseUrl = '';
  private readonly sockets = new Set<Socket>();
  private readonly sleepers = new Set<{ timer: NodeJS.Timeout; wake: () => void }>();

  private frozenClockMs: number | null;
  private clockOffsetMs = 0;

  private readonly tokens = new Map<string, number>();
  private issued = 0;
  private readonly seenNonces = new Set<string>();

  private readonly log: FakeOneRosterRequest[] = [];
  private inFlight = 0;
  private maxInFlight = 0;

  private faults: ActiveFault[] = [];
  private nextFaultId = 1;

  private revision = 0;
  private readonly collectionRevisions: Record<OneRosterCollection, number> = {
    orgs: 0,
    academicSessions: 0,
    courses: 0,
    classes: 0,
    users: 0,
    enrollments: 0,
    demographics: 0,
  };
  private readonly views = new Map<string, { key: string; entries: ViewEntry[]; byId?: Map<string, ViewEntry> }>();
  private readonly filtered = new Map<string, ViewEntry[]>();
  private readonly renderers = new Map<OneRosterVersion, { revision: number; renderer: OneRosterWireRenderer }>();

  constructor(options: FakeOneRosterServerOptions) {
    this.options = options;
    this.dataset = options.dataset;
    this.auth = options.auth ?? { kind: 'none' };
    this.versions = options.versions ?? ['1.1', '1.2'];
    this.pathPrefix = (options.pathPrefix ?? '').replace(/\/$/, '');
    this.frozenClockMs = options.clock === undefined ? null : new Date(options.clock).getTime();
  }

  /** Listens on 127.0.0.1, a free port; resolves to `http://127.0.0.1:<port>`. */
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
    this.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
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

  get url(): string {
    return this.baseUrl;
  }

  baseUrlFor(version: OneRosterVersion): string {
    return `${this.baseUrl}${this.pathPrefix}${BASE_PATHS[version]}`;
  }

  get v11BaseUrl(): string {
    return this.baseUrlFor('1.1');
  }

  get v12BaseUrl(): string {
    return this.baseUrlFor('1.2');
  }

  get tokenUrl(): string {
    return `${this.baseUrl}${this.tokenPath()}`;
  }

  setAuth(auth: FakeOneRosterAuth): void {
    this.auth = auth;
  }

  revokeAllTokens(): void {
    this.tokens.clear();
  }

  // Observability ------------------------------------------------------------------------------------------

  get requests(): readonly FakeOneRosterRequest[] {
    return this.log;
  }

  /** Data requests only (not the token endpoint), optionally for one resource such as `users`. */
  dataRequests(resource?: string): FakeOneRosterRequest[] {
    return this.log.filter(
      (entry) => entry.version !== null && (resource === undefined || entry.path.split('/').includes(resource)),
    );
  }

  get maxConcurrentRequests(): number {
    return this.maxInFlight;
  }

  get tokensIssued(): number {
    return this.issued;
  }

  resetObservations(): void {
    this.log.length = 0;
    this.maxInFlight = this.inFlight;
    this.issued = 0;
  }

  // Faults -------------------------------------------------------------------------------------------------

  injectFault(fault: FakeOneRosterFault): InjectedFault {
    if (fault.kind === 'token-expiry' && this.auth.kind !== 'oauth2') {
      throw new Error('token-expiry needs an oauth2 server');
    }
    const active: ActiveFault = {
      id: this.nextFaultId++,
      fault,
      remaining: fault.times ?? Number.POSITIVE_INFINITY,
      skip: fault.skip ?? 0,
      hits: 0,
      requestsSinceExpiry: 0,
    };
    if (fault.kind === 'drop-records') active.droppedIds = new Set(fault.sourcedIds);
    this.faults.push(active);
    return {
      id: active.id,
      fault,
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

  // Clock --------------------------------------------------------------------------------------------------

  now(): Date {
    return new Date(this.nowMs());
  }

  setClock(at: Date | string): void {
    this.frozenClockMs = new Date(at).getTime();
  }

  advanceClock(milliseconds: number): void {
    if (this.frozenClockMs === null) this.clockOffsetMs += milliseconds;
    else this.frozenClockMs += milliseconds;
  }

  useRealClock(): void {
    this.frozenClockMs = null;
    this.clockOffsetMs = 0;
  }

  // Mutations (ids are dataset ids: person ids for users, not 1.1 per-role ids) ----------------------------

  updateRecords<C extends OneRosterCollection>(
    collection: C,
    sourcedIds: readonly string[],
    patch: Partial<OneRosterRecordOf<C>> | ((record: OneRosterRecordOf<C>) => void),
  ): void {
    const stamp = this.now().toISOString();
    for (const record of this.findRecords(collection, sourcedIds)) {
      if (typeof patch === 'function') patch(record);
      else Object.assign(record, patch);
      record.dateLastModified = stamp;
    }
    this.touch(collection);
  }

  /** Gone from listings without a `tobedeleted` state (what Infinite Campus does for undated links). */
  removeRecords(collection: OneRosterCollection, sourcedIds: readonly string[]): void {
    const doomed = new Set(this.findRecords(collection, sourcedIds));
    const records = this.dataset[collection] as OneRosterRecordOf<typeof collection>[];
    (this.dataset as unknown as Record<string, unknown[]>)[collection] = records.filter(
      (record) => !doomed.has(record),
    );
    this.touch(collection);
  }

  markToBeDeleted(collection: OneRosterCollection, sourcedIds: readonly string[]): void {
    this.updateRecords(collection, sourcedIds, { status: 'tobedeleted' });
  }

  addRecords<C extends OneRosterCollection>(collection: C, records: readonly NewRecord<C>[]): void {
    const stamp = this.now().toISOString();
    const target = this.dataset[collection] as OneRosterRecordOf<C>[];
    for (const record of records) {
      target.push({
        ...record,
        status: record.status ?? 'active',
        dateLastModified: record.dateLastModified ?? stamp,
      } as unknown as OneRosterRecordOf<C>);
    }
    this.touch(collection);
  }

  /**
   * Infinite Campus 1.1 → 1.2: every person gets a new sourcedId; enrollments, agents and demographics follow,
   * and `legacySourcedId` (→ `metadata.ic.legacysourceId`) keeps the first id. Returns old → new.
   */
  remapUserIds(mapId: (sourcedId: string, user: OneRosterUser) => string): Map<string, string> {
    const mapping = new Map<string, string>();
    for (const user of this.dataset.users) {
      const next = mapId(user.sourcedId, user);
      mapping.set(user.sourcedId, next);
      user.legacySourcedId ??= user.sourcedId;
      user.sourcedId = next;
    }
    const remap = (id: string): string => mapping.get(id) ?? id;
    for (const user of this.dataset.users) user.agentSourcedIds = user.agentSourcedIds.map(remap);
    for (const enrollment of this.dataset.enrollments) enrollment.userSourcedId = remap(enrollment.userSourcedId);
    for (const record of this.dataset.demographics) record.sourcedId = remap(record.sourcedId);
    this.touch('users');
    this.touch('enrollments');
    this.touch('demographics');
    return mapping;
  }

  // Internals ----------------------------------------------------------------------------------------------

  private nowMs(): number {
    return this.frozenClockMs ?? Date.now() + this.clockOffsetMs;
  }

  private tokenPath(): string {
    return this.auth.kind === 'oauth2' ? (this.auth.tokenPath ?? '/oauth2/token') : '/oauth2/token';
  }

  private touch(collection: OneRosterCollection): void {
    this.collectionRevisions[collection]++;
    this.revision++;
    this.filtered.clear();
  }

  private findRecords<C extends OneRosterCollection>(
    collection: C,
    sourcedIds: readonly string[],
  ): OneRosterRecordOf<C>[] {
    const wanted = new Set(sourcedIds);
    const found = (this.dataset[collection] as OneRosterRecordOf<C>[]).filter((record) => wanted.has(record.sourcedId));
    if (found.length !== wanted.size) {
      const present = new Set(found.map((record) => record.sourcedId));
      const missing = [...wanted].filter((id) => !present.has(id));
      throw new Error(`No ${collection} with sourcedId ${missing.join(', ')}`);
    }
    return found;
  }

  private renderer(version: OneRosterVersion): OneRosterWireRenderer {
    const cached = this.renderers.get(version);
    if (cached && cached.revision === this.revision) return cached.renderer;
    const renderer = new OneRosterWireRenderer(version, this.baseUrlFor(version), this.dataset, this.options);
    this.renderers.set(version, { revision: this.revision, renderer });
    return renderer;
  }

  private render(version: OneRosterVersion, collection: OneRosterCollection, entry: ViewEntry): WireObject {
    const renderer = this.renderer(version);
    switch (collection) {
      case 'orgs':
        return renderer.org(entry as OneRosterRecordOf<'orgs'>);
      case 'academicSessions':
        return renderer.academicSession(entry as OneRosterRecordOf<'academicSessions'>);
      case 'courses':
        return renderer.course(entry as OneRosterRecordOf<'courses'>);
      case 'classes':
        return renderer.class(entry as OneRosterRecordOf<'classes'>);
      case 'users':
        return version === '1.1' ? renderer.user11(entry as OneRoster11User) : renderer.user12(entry as OneRosterUser);
      case 'enrollments':
        return renderer.enrollment(entry as OneRosterRecordOf<'enrollments'>);
      case 'demographics':
        return version === '1.1'
          ? renderer.demographics((entry as Demographics11Entry).record, entry.sourcedId)
          : renderer.demographics(entry as OneRosterRecordOf<'demographics'>);
    }
  }

  /** Sorted entries of a resource as one version lists them. */
  private view(
    version: OneRosterVersion,
    resourceName: string,
  ): { entries: ViewEntry[]; byId?: Map<string, ViewEntry> } {
    const resource = RESOURCES[resourceName];
    const collection = resource.collection;
    const dependsOnPeople = version === '1.1' && (collection === 'users' || collection === 'demographics');
    const key = `${this.collectionRevisions[collection]}|${dependsOnPeople ? this.collectionRevisions.users : ''}`;
    const viewKey = `${version}|${resourceName}`;
    const cached = this.views.get(viewKey);
    if (cached && cached.key === key) return cached;
    let entries: ViewEntry[];
    if (collection === 'users' && version === '1.1') {
      entries = expandTo11Users(this.dataset.users, this.options).sort(compareSourcedIds);
    } else if (collection === 'demographics' && version === '1.1') {
      const renderer = this.renderer(version);
      entries = this.dataset.demographics
        .map((record): Demographics11Entry => ({
          sourcedId: renderer.demographics11Id(record),
          status: record.status,
          dateLastModified: record.dateLastModified,
          record,
        }))
        .sort(compareSourcedIds);
    } else {
      entries = sortedBySourcedId(this.dataset[collection] as ViewEntry[]);
    }
    if (resource.subset) entries = entries.filter((entry) => resource.subset!(entry, version));
    const view = { key, entries };
    this.views.set(viewKey, view);
    return view;
  }

  private filteredEntries(version: OneRosterVersion, resourceName: string, filter: string | null): ViewEntry[] {
    const { entries } = this.view(version, resourceName);
    if (filter === null || filter === '') return entries;
    const cacheKey = `${version}|${resourceName}|${filter}`;
    const cached = this.filtered.get(cacheKey);
    if (cached) return cached;
    const collection = RESOURCES[resourceName].collection;
    const parsed = parseOneRosterFilter(filter);
    const { fields, references } = WIRE_FIELDS[version][collection];
    for (const predicate of parsed.predicates) {
      if (!fields.includes(predicate.field) || references.includes(predicate.field)) {
        throw new HttpProblem(400, 'invalid_filter_field', `Filtering on "${predicate.field}" is not supported`);
      }
      if (predicate.field === 'dateLastModified' && Number.isNaN(Date.parse(predicate.value))) {
        throw new HttpProblem(400, 'invalid_filter_field', `"${predicate.value}" is not a date-time`);
      }
    }
    const needsRender = parsed.predicates.some(
      (predicate) => !['sourcedId', 'status', 'dateLastModified'].includes(predicate.field),
    );
    const result = entries.filter((entry) => {
      const wire = needsRender ? this.render(version, collection, entry) : null;
      let verdict = matches(predicateValue(entry, wire, parsed.predicates[0].field), parsed.predicates[0]);
      for (let index = 1; index < parsed.predicates.length; index++) {
        const predicate = parsed.predicates[index];
        const outcome = matches(predicateValue(entry, wire, predicate.field), predicate);
        verdict = parsed.joins[index - 1] === 'AND' ? verdict && outcome : verdict || outcome;
      }
      return verdict;
    });
    if (this.filtered.size > 32) this.filtered.clear();
    this.filtered.set(cacheKey, result);
    return result;
  }

  private takeFault(kind: FakeOneRosterFaultKind, path: string, applied: FakeOneRosterFaultKind[]): ActiveFault | null {
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
    const started = performance.now();
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const url = requestUrl(request);
    const entry: FakeOneRosterRequest = {
      method: request.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      filter: url.searchParams.get('filter'),
      version: this.versionOf(url.pathname),
      status: 0,
      authKind: authKindOf(request, url),
      faults: [],
      durationMs: 0,
    };
    response.once('close', () => {
      this.inFlight--;
      entry.status = response.headersSent ? response.statusCode : 0;
      entry.durationMs = performance.now() - started;
      this.log.push(entry);
    });
    try {
      await this.respond(request, response, url, entry);
    } catch (error) {
      if (response.headersSent || response.destroyed) return;
      if (error instanceof HttpProblem) {
        sendJson(response, error.status, imsxError(error.codeMinor, error.message));
      } else {
        sendJson(response, 500, imsxError('internal_server_error', String(error)));
      }
    }
  }

  private async respond(
    request: IncomingMessage,
    response: ServerResponse,
    url: URL,
    entry: FakeOneRosterRequest,
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
      const seconds = rateLimit.fault.retryAfterSeconds ?? 1;
      const retryAfter =
        rateLimit.fault.retryAfterFormat === 'http-date'
          ? new Date(Date.now() + seconds * 1000).toUTCString()
          : String(seconds);
      sendJson(response, 429, imsxError('server_busy', 'Too many requests; retry at a later time'), {
        'Retry-After': retryAfter,
      });
      return;
    }
    const serverError = this.takeFault('server-error', path, entry.faults);
    if (serverError && serverError.fault.kind === 'server-error') {
      sendJson(response, serverError.fault.status ?? 500, imsxError('internal_server_error', 'Injected server error'));
      return;
    }

    if (this.auth.kind === 'oauth2' && path === this.tokenPath()) {
      await this.issueToken(request, response, entry);
      return;
    }
    if (entry.version === null) {
      sendJson(response, 404, imsxError('unknownobject', `No such endpoint ${path}`));
      return;
    }
    if (request.method !== 'GET') {
      sendJson(response, 405, imsxError('unsupported', 'Only GET is supported'), { Allow: 'GET' });
      return;
    }
    if (!this.authorised(request, response, url)) return;
    this.countTowardsTokenExpiry(path, entry);
    this.serveData(response, url, entry.version, entry);
  }

  private versionOf(path: string): OneRosterVersion | null {
    for (const version of this.versions) {
      if (path.startsWith(`${this.pathPrefix}${BASE_PATHS[version]}/`)) return version;
    }
    return null;
  }

  private authorised(request: IncomingMessage, response: ServerResponse, url: URL): boolean {
    const auth = this.auth;
    switch (auth.kind) {
      case 'none':
        return true;
      case 'oauth2': {
        const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
        const expiresAt = match ? this.tokens.get(match[1]) : undefined;
        if (expiresAt !== undefined && expiresAt > this.nowMs()) return true;
        sendJson(
          response,
          401,
          imsxError('unauthorisedrequest', match ? 'Invalid or expired token' : 'Bearer token required'),
          {
            'WWW-Authenticate': `Bearer realm="oneroster"${match ? ', error="invalid_token"' : ''}`,
          },
        );
        return false;
      }
      case 'oauth1': {
        const verdict = verifyOAuth1Request(request.method ?? 'GET', url, request.headers.authorization, {
          consumerKey: auth.consumerKey,
          consumerSecret: auth.consumerSecret,
          maxSkewSeconds: auth.maxSkewSeconds ?? 300,
          seenNonces: this.seenNonces,
          nowSeconds: Math.floor(Date.now() / 1000),
        });
        if (verdict.ok) return true;
        sendJson(response, 401, imsxError('unauthorisedrequest', `OAuth 1.0a: ${verdict.reason}`), {
          'WWW-Authenticate': 'OAuth realm="oneroster"',
        });
        return false;
      }
    }
  }

  private countTowardsTokenExpiry(path: string, entry: FakeOneRosterRequest): void {
    for (const active of this.faults) {
      const fault = active.fault;
      if (fault.kind !== 'token-expiry' || active.remaining <= 0 || !pathMatches(fault.path, path)) continue;
      if (active.skip > 0) {
        active.skip--;
        continue;
      }
      if (++active.requestsSinceExpiry < fault.afterRequests) continue;
      active.requestsSinceExpiry = 0;
      active.remaining--;
      active.hits++;
      entry.faults.push('token-expiry');
      this.tokens.clear();
    }
  }

  private async issueToken(
    request: IncomingMessage,
    response: ServerResponse,
    entry: FakeOneRosterRequest,
  ): Promise<void> {
    const auth = this.auth;
    if (auth.kind !== 'oauth2') return;
    if (request.method !== 'POST') {
      sendJson(response, 405, { error: 'invalid_request', error_description: 'POST required' }, { Allow: 'POST' });
      return;
    }
    const body = new URLSearchParams(await readBody(request));
    let clientId = body.get('client_id');
    let clientSecret = body.get('client_secret');
    const basic = /^Basic\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    if (basic) {
      const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      clientId = safeDecode(decoded.slice(0, colon));
      clientSecret = safeDecode(decoded.slice(colon + 1));
    }
    if (clientId !== auth.clientId || clientSecret !== auth.clientSecret) {
      sendJson(response, 401, { error: 'invalid_client' }, { 'WWW-Authenticate': 'Basic realm="oneroster"' });
      return;
    }
    if (body.get('grant_type') !== 'client_credentials') {
      sendJson(response, 400, { error: 'unsupported_grant_type' });
      return;
    }
    const token = randomBytes(24).toString('base64url');
    const expiresIn = auth.expiresIn ?? 3600;
    this.tokens.set(token, this.nowMs() + expiresIn * 1000);
    this.issued++;
    const payload = {
      access_token: token,
      token_type: 'Bearer',
      expires_in: auth.expiresInAsString ? String(expiresIn) : expiresIn,
      scope: body.get('scope') ?? auth.scope ?? 'https://purl.imsglobal.org/spec/or/v1p2/scope/roster.readonly',
    };
    const malformed = this.takeFault('malformed-json', entry.path, entry.faults);
    sendJson(response, 200, payload, { 'Cache-Control': 'no-store' }, Boolean(malformed));
  }

  private serveData(response: ServerResponse, url: URL, version: OneRosterVersion, entry: FakeOneRosterRequest): void {
    const segments = url.pathname
      .slice(`${this.pathPrefix}${BASE_PATHS[version]}/`.length)
      .split('/')
      .filter((segment) => segment !== '')
      .map(safeDecode);
    const resourceName = segments[0];
    const resource = RESOURCES[resourceName];
    if (!resource || segments.length > 2) {
      sendJson(response, 404, imsxError('unknownobject', `No such endpoint ${url.pathname}`));
      return;
    }
    if (resource.collection === 'demographics' && this.options.forbidDemographics) {
      sendJson(response, 403, imsxError('forbidden', 'The roster-demographics scope was not granted'));
      return;
    }
    const fields = this.selectedFields(version, resource.collection, url.searchParams.get('fields'));
    const renderOne = (viewEntry: ViewEntry): WireObject =>
      pick(this.render(version, resource.collection, viewEntry), fields);

    if (segments.length === 2) {
      const view = this.view(version, resourceName);
      view.byId ??= new Map(view.entries.map((candidate) => [candidate.sourcedId, candidate]));
      const found = view.byId.get(segments[1]);
      if (!found) {
        sendJson(response, 404, imsxError('unknownobject', `No ${resource.singular} ${segments[1]}`));
        return;
      }
      this.sendEnvelope(response, entry, resource.singular, renderOne(found), {});
      return;
    }

    const pageSize = parseCount(url.searchParams.get('limit'), 'limit') ?? this.options.defaultPageSize ?? 100;
    const limit = Math.min(pageSize, this.options.maxPageSize ?? 10_000);
    const offset = parseCount(url.searchParams.get('offset'), 'offset') ?? 0;
    let listed = this.filteredEntries(version, resourceName, url.searchParams.get('filter'));
    let total = listed.length;
    let page: ViewEntry[];
    const drop = this.takeFault('drop-records', url.pathname, entry.faults);
    if (drop && drop.fault.kind === 'drop-records' && drop.fault.countInTotal === false) {
      if (drop.droppedCache?.source !== listed) {
        const source = listed;
        drop.droppedCache = {
          source,
          result: source.filter((candidate) => !drop.droppedIds!.has(candidate.sourcedId)),
        };
      }
      listed = drop.droppedCache.result;
      total = listed.length;
      page = listed.slice(offset, offset + limit);
    } else {
      page = listed.slice(offset, offset + limit);
      if (drop) page = page.filter((candidate) => !drop.droppedIds!.has(candidate.sourcedId));
    }
    let nextOffset = offset + limit;
    if (offset + limit < total) {
      const short = this.takeFault('short-page', url.pathname, entry.faults);
      if (short && short.fault.kind === 'short-page') {
        page = page.slice(0, short.fault.returnCount ?? Math.floor(limit / 2));
        if (short.fault.nextOffset === 'returned') nextOffset = offset + page.length;
      }
    }
    const headers: Record<string, string> = {
      'X-Total-Count': String(total),
      Link: this.linkHeader(url, limit, offset, nextOffset, total),
    };
    this.sendEnvelope(response, entry, resource.envelope, page.map(renderOne), headers);
  }

  private sendEnvelope(
    response: ServerResponse,
    entry: FakeOneRosterRequest,
    envelope: string,
    content: unknown,
    headers: Record<string, string>,
  ): void {
    const huge = this.takeFault('huge-body', entry.path, entry.faults);
    if (huge && huge.fault.kind === 'huge-body') {
      void streamHugeBody(response, envelope, huge.fault.bytes, huge.fault.announce ?? false);
      return;
    }
    const missing = this.takeFault('missing-envelope', entry.path, entry.faults);
    const body =
      missing && missing.fault.kind === 'missing-envelope'
        ? (missing.fault.body ?? { data: content })
        : { [envelope]: content };
    const malformed = this.takeFault('malformed-json', entry.path, entry.faults);
    sendJson(response, 200, body, headers, Boolean(malformed));
  }

  private selectedFields(
    version: OneRosterVersion,
    collection: OneRosterCollection,
    fields: string | null,
  ): string[] | null {
    if (fields === null || fields.trim() === '') return null;
    const selected = fields.split(',').map((field) => field.trim());
    const known = WIRE_FIELDS[version][collection].fields;
    const unknown = selected.filter((field) => !known.includes(field));
    if (unknown.length > 0) {
      throw new HttpProblem(400, 'invalid_selection_field', `Unknown field(s): ${unknown.join(', ')}`);
    }
    return selected;
  }

  private linkHeader(url: URL, limit: number, offset: number, nextOffset: number, total: number): string {
    const link = (at: number, rel: string): string => {
      const target = new URL(`${this.baseUrl}${url.pathname}`);
      for (const [name, value] of url.searchParams)
        if (!name.startsWith('oauth_')) target.searchParams.append(name, value);
      target.searchParams.set('limit', String(limit));
      target.searchParams.set('offset', String(at));
      return `<${target.toString()}>; rel="${rel}"`;
    };
    const links: string[] = [];
    if (limit > 0 && nextOffset < total) links.push(link(nextOffset, 'next'));
    if (limit > 0 && total > 0) links.push(link(Math.floor((total - 1) / limit) * limit, 'last'));
    links.push(link(0, 'first'));
    if (offset > 0 && limit > 0) links.push(link(Math.max(0, offset - limit), 'prev'));
    return links.join(', ');
  }
}

interface Demographics11Entry extends ViewEntry {
  record: OneRosterRecordOf<'demographics'>;
}

function requestUrl(request: IncomingMessage): URL {
  try {
    return new URL(request.url ?? '/', `http://${request.headers.host ?? '127.0.0.1'}`);
  } catch {
    return new URL('http://127.0.0.1/');
  }
}

function pathMatches(pattern: RegExp | string | undefined, path: string): boolean {
  if (pattern === undefined) return true;
  if (typeof pattern === 'string') return path.includes(pattern);
  pattern.lastIndex = 0;
  return pattern.test(path);
}

function authKindOf(request: IncomingMessage, url: URL): RequestAuthKind {
  const header = request.headers.authorization;
  if (!header) return url.searchParams.has('oauth_signature') ? 'oauth1' : 'none';
  if (/^Bearer\s/i.test(header)) return 'bearer';
  if (/^OAuth\s/i.test(header)) return 'oauth1';
  if (/^Basic\s/i.test(header)) return 'basic';
  return 'other';
}

function predicateValue(entry: ViewEntry, wire: WireObject | null, field: string): unknown {
  if (field === 'sourcedId' || field === 'status' || field === 'dateLastModified') return entry[field];
  return wire?.[field];
}

function matches(actual: unknown, predicate: Predicate): boolean {
  if (actual === undefined || actual === null) {
    return predicate.operator === '!=' ? predicate.value !== '' : predicate.value === '';
  }
  const text = typeof actual === 'string' ? actual : JSON.stringify(actual);
  const order =
    predicate.field === 'dateLastModified'
      ? Date.parse(text) - Date.parse(predicate.value)
      : text < predicate.value
        ? -1
        : text > predicate.value
          ? 1
          : 0;
  return compare(order, predicate.operator, text, predicate.value);
}

function compare(order: number, operator: Predicate['operator'], actual: string, expected: string): boolean {
  switch (operator) {
    case '=':
      return order === 0;
    case '!=':
      return order !== 0;
    case '>':
      return order > 0;
    case '>=':
      return order >= 0;
    case '<':
      return order < 0;
    case '<=':
      return order <= 0;
    case '~':
      return actual.toLowerCase().includes(expected.toLowerCase());
  }
}

function parseCount(value: string | null, name: string): number | null {
  if (value === null || value === '') return null;
  if (!/^\d+$/.test(value))
    throw new HttpProblem(400, 'invalid_selection_field', `${name} must be a non-negative integer`);
  return Number(value);
}

function pick(wire: WireObject, fields: string[] | null): WireObject {
  if (!fields) return wire;
  const picked: WireObject = {};
  for (const field of fields) if (field in wire) picked[field] = wire[field];
  return picked;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > 65_536) request.destroy(new Error('body too large'));
      else chunks.push(chunk);
    });
    request.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.once('error', reject);
  });
}

function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
  truncate = false,
): void {
  let text = JSON.stringify(body);
  if (truncate) text = text.slice(0, Math.max(1, Math.floor(text.length / 2)));
  const payload = Buffer.from(text, 'utf8');
  response.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(payload.length),
    ...headers,
  });
  response.end(payload);
}
