import { testRedisUrl } from '@app/testing';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventBus } from '@nestjs/cqrs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Socket } from 'socket.io-client';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AppModule } from '../../src/app.module.js';
import { AuditProjector, AuditVerificationFailedEvent } from '../../src/modules/audit/index.js';
import { prepareRuntimeEnvironment, type RuntimeEnvironment } from '../../src/runtime-environment.js';
import { seedRoster, type SeededRoster } from '../roster/seed-roster.js';
import { AUDIT_DISTRICT } from './audit-district.js';
import { bearer, login } from '../support/auth.js';
import { connectSocket, nextEvent } from '../support/sockets.js';
import { ADMIN_EMAIL, ADMIN_PASSWORD, bootTestApp, TEST_JWT_SECRET, type TestApp } from '../support/test-app.js';

const PASSWORD = 'a-long-enough-password';

type Caller = 'admin' | 'compliance' | 'teacher' | 'schoolAdmin' | 'sisOperator';

interface AccessDenied {
  seq: string | null;
  occurredAt: string;
  action: string;
  actor: { id: string | null; roles: string[] };
  studentIds: string[];
  reason: string | null;
  route: string | null;
}

/** Every event a socket hears, in order. */
function recorder(socket: Socket): { events: [string, unknown][] } {
  const log = { events: [] as [string, unknown][] };
  socket.onAny((event: string, payload: unknown) => log.events.push([event, payload]));
  return log;
}

/**
 * The `compliance` room: compliance officers and district administrators hear denied accesses and failed
 * verifications as they happen. The API serves sockets on Redis; a separate worker process publishes through the
 * Redis emitter, as a scheduled verification would.
 */
describe('the compliance socket room', () => {
  let api: TestApp;
  let worker: INestApplicationContext;
  let workerRuntime: RuntimeEnvironment;
  let workerDataDir: string;
  let roster: SeededRoster;
  let db: pg.Client;
  const tokens = {} as Record<Caller, string>;
  const ids = {} as Record<Caller, string>;
  const sockets: Socket[] = [];

  async function socketFor(caller: Caller): Promise<Socket> {
    const socket = await connectSocket(api.url, { token: tokens[caller] });
    sockets.push(socket);
    return socket;
  }

  async function officerInRoom(caller: Caller = 'compliance'): Promise<Socket> {
    const socket = await socketFor(caller);
    expect(await socket.emitWithAck('room.join', { room: 'compliance' })).toEqual({ ok: true, room: 'compliance' });
    return socket;
  }

  beforeAll(async () => {
    api = await bootTestApp({ role: 'api', redis: true, env: { AUTH_RATE_LIMIT_PER_MINUTE: '1000' } });
    workerDataDir = mkdtempSync(join(tmpdir(), 'homeroom-worker-'));
    workerRuntime = await prepareRuntimeEnvironment({
      NODE_ENV: 'test',
      LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
      JWT_SECRET: TEST_JWT_SECRET,
      DATABASE_URL: api.databaseUrl,
      DATABASE_POOL_MAX: '3',
      METRICS_PORT: '0',
      METRICS_HOST: '127.0.0.1',
      HOMEROOM_DATA_DIR: workerDataDir,
      HOMEROOM_ADMIN_EMAIL: ADMIN_EMAIL,
      HOMEROOM_ADMIN_PASSWORD: ADMIN_PASSWORD,
      REDIS_URL: testRedisUrl(),
      REDIS_PREFIX: api.redisPrefix!,
    });
    worker = await NestFactory.createApplicationContext(
      AppModule.forRole({
        role: 'worker',
        configuration: workerRuntime.configuration,
        databaseUrl: workerRuntime.databaseUrl,
      }),
      { logger: false, abortOnError: false },
    );
    await worker.init();

    roster = await seedRoster(api.databaseUrl, AUDIT_DISTRICT);
    db = new pg.Client({ connectionString: api.databaseUrl });
    await db.connect();

    tokens.admin = (await login(api.url)).accessToken;
    const users: [Caller, string, string[], string[]][] = [
      ['compliance', 'compliance@district.test', ['compliance_officer'], []],
      ['teacher', 'ms.rivera@district.test', ['teacher'], []],
      ['schoolAdmin', 'north.admin@district.test', ['school_admin'], [roster.id('orgs', 'sch-north')]],
      ['sisOperator', 'sis@district.test', ['sis_operator'], []],
    ];
    for (const [caller, email, roles, schoolIds] of users) {
      await request(api.url)
        .post('/api/v1/users')
        .set(bearer(tokens.admin))
        .send({ email, displayName: email, password: PASSWORD, roles, schoolIds })
        .expect(201);
      tokens[caller] = (await login(api.url, email, PASSWORD)).accessToken;
    }
    for (const caller of Object.keys(tokens) as Caller[]) {
      ids[caller] = (await request(api.url).get('/api/v1/auth/me').set(bearer(tokens[caller])).expect(200)).body
        .id as string;
    }
  });

  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.close();
  });

  afterAll(async () => {
    await db?.end();
    await worker?.close();
    await workerRuntime?.stop();
    if (workerDataDir) rmSync(workerDataDir, { recursive: true, force: true });
    await api?.close();
  });

  it('admits compliance officers and district administrators, and refuses everyone else explicitly', async () => {
    await officerInRoom('compliance');
    await officerInRoom('admin');
    for (const caller of ['teacher', 'schoolAdmin', 'sisOperator'] as const) {
      const socket = await socketFor(caller);
      expect(await socket.emitWithAck('room.join', { room: 'compliance' }), caller).toEqual({
        ok: false,
        room: 'compliance',
        code: 'REALTIME.ROOM_FORBIDDEN',
        message: 'You may not join this room',
      });
    }
    const officer = await socketFor('compliance');
    expect(await officer.emitWithAck('room.join', { room: 'compliance:north' })).toMatchObject({
      ok: false,
      code: 'REALTIME.ROOM_FORBIDDEN',
    });
  });

  it('tells the room when a teacher is refused a student, with ids only, and tells no one else', async () => {
    const officer = await officerInRoom();
    const admin = await officerInRoom('admin');
    const teacher = await socketFor('teacher');
    await teacher.emitWithAck('room.join', { room: 'compliance' });
    const teacherHeard = recorder(teacher);
    const officerHeard = recorder(officer);

    // An allowed read says nothing; the refused one after it is the first thing the room hears.
    await request(api.url)
      .get(`/api/v1/students/${roster.id('people', 'stu-jose')}`)
      .set(bearer(tokens.teacher))
      .expect(200);
    const heard = nextEvent<AccessDenied>(officer, 'audit.access-denied');
    const adminHeard = nextEvent<AccessDenied>(admin, 'audit.access-denied');
    const refused = await request(api.url)
      .get(`/api/v1/students/${roster.id('people', 'stu-ana')}`)
      .set(bearer(tokens.teacher))
      .expect(403);
    const payload = await heard;

    const { rows } = await db.query<{ seq: string; entry: string }>(
      `SELECT seq::text AS seq, entry FROM audit_event_payloads WHERE entry::jsonb #>> '{origin,requestId}' = $1`,
      [refused.headers['x-request-id']],
    );
    expect(rows).toHaveLength(1);
    const entry = JSON.parse(rows[0].entry) as { occurredAt: string };
    expect(payload).toEqual({
      seq: rows[0].seq,
      occurredAt: entry.occurredAt,
      action: 'student.read',
      actor: { id: ids.teacher, roles: ['teacher'] },
      studentIds: [roster.id('people', 'stu-ana')],
      reason: 'ROSTER.ACCESS_DENIED',
      route: 'GET /api/v1/students/:id',
    });
    expect(await adminHeard).toEqual(payload);
    for (const name of ['Ana', 'López', 'Rivera', 'ms.rivera']) expect(JSON.stringify(payload)).not.toContain(name);

    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(officerHeard.events.map(([event]) => event)).toEqual(['audit.access-denied']);
    expect(teacherHeard.events).toEqual([]);
  });

  it('tells the room about a refusal without a token, with no actor', async () => {
    const officer = await officerInRoom();
    const heard = nextEvent<AccessDenied>(officer, 'audit.access-denied');
    await request(api.url).get('/api/v1/students').expect(401);
    expect(await heard).toMatchObject({
      actor: { id: null, roles: [] },
      action: 'student.list',
      studentIds: [],
      reason: 'IDENTITY.TOKEN_INVALID',
      route: 'GET /api/v1/students',
    });
  });

  it('hears a failed verification published by a worker process, through Redis', async () => {
    const officer = await officerInRoom();
    const teacher = await socketFor('teacher');
    const teacherHeard = recorder(teacher);
    const heard = nextEvent(officer, 'audit.verification-failed');
    worker
      .get(EventBus)
      .publish(new AuditVerificationFailedEvent('42', 'AUDIT.CHAIN_BROKEN', new Date('2026-11-25T04:00:00.000Z')));
    expect(await heard).toEqual({
      firstBadSeq: '42',
      problem: 'AUDIT.CHAIN_BROKEN',
      verifiedAt: '2026-11-25T04:00:00.000Z',
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(teacherHeard.events).toEqual([]);
  });

  it('hears a failed verification found in the API process itself', async () => {
    const officer = await officerInRoom();
    const heard = nextEvent(officer, 'audit.verification-failed');
    api.app.get(EventBus).publish(new AuditVerificationFailedEvent(null, 'AUDIT.CHECKPOINT_MISSING', new Date(0)));
    expect(await heard).toEqual({
      firstBadSeq: null,
      problem: 'AUDIT.CHECKPOINT_MISSING',
      verifiedAt: '1970-01-01T00:00:00.000Z',
    });
  });

  it('hears from a worker that a read model skipped an entry it could not apply, and the trail still answers', async () => {
    const officer = await officerInRoom();
    const heard = nextEvent(officer, 'audit.projection-failed');
    // A read model that refuses one entry (NOT VALID: the rows already projected are not checked).
    await db.query(
      `ALTER TABLE audit_denied_access ADD CONSTRAINT test_poison CHECK (action <> 'student.list') NOT VALID`,
    );
    try {
      await request(api.url).get('/api/v1/students').expect(401);
      await worker.get(AuditProjector).catchUp();
    } finally {
      await db.query('ALTER TABLE audit_denied_access DROP CONSTRAINT test_poison');
    }
    expect(await heard).toEqual({
      projection: 'audit_denied_access@v1',
      seq: expect.stringMatching(/^\d+$/) as string,
      code: '23514',
      failedAt: expect.any(String) as string,
    });
    const trail = await request(api.url).get('/api/v1/audit/events').set(bearer(tokens.compliance)).expect(200);
    expect(trail.body.items.length).toBeGreaterThan(0);
  });
});
