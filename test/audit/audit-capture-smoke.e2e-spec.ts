import { chainHash, entryHash, GENESIS_HASH } from '@app/audit-chain';
import pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedRoster, type SeededRoster } from '../roster/seed-roster.js';
import { bearer, login } from '../support/auth.js';
import { bootTestApp, type TestApp } from '../support/test-app.js';

describe('audit capture (smoke)', () => {
  let testApp: TestApp;
  let roster: SeededRoster;
  let token: string;

  beforeAll(async () => {
    testApp = await bootTestApp();
    roster = await seedRoster(testApp.databaseUrl, {
      orgs: [{ sourcedId: 'sch', name: 'North High' }],
      people: [{ sourcedId: 'stu-1', givenName: 'Ana', familyName: 'Lopez', role: 'student', orgs: ['sch'] }],
    });
    token = (await login(testApp.url)).accessToken;
  });
  afterAll(() => testApp?.close());

  it('stores one chained entry per read and one denied entry per refused call', async () => {
    const studentId = roster.id('people', 'stu-1');
    await request(testApp.url).get(`/api/v1/students/${studentId}`).set(bearer(token)).expect(200);
    await request(testApp.url).get(`/api/v1/students/${studentId}`).expect(401);
    const client = new pg.Client({ connectionString: testApp.databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ seq: string; entry: string; entry_hash: Buffer; prev_hash: Buffer; hash: Buffer }>(
        'SELECT e.seq, p.entry, e.entry_hash, e.prev_hash, e.hash FROM audit_events e JOIN audit_event_payloads p USING (seq) ORDER BY seq',
      );
      expect(rows.map((row) => JSON.parse(row.entry).outcome)).toEqual(['allowed', 'denied']);
      let prev = GENESIS_HASH;
      for (const row of rows) {
        expect(entryHash(row.entry).equals(row.entry_hash)).toBe(true);
        expect(row.prev_hash.equals(prev)).toBe(true);
        expect(chainHash(prev, BigInt(row.seq), row.entry_hash).equals(row.hash)).toBe(true);
        prev = row.hash;
      }
      const [read, denied] = rows.map((row) => JSON.parse(row.entry));
      expect(read).toMatchObject({ action: 'student.read', studentIds: [studentId], origin: { channel: 'http' } });
      expect(denied).toMatchObject({ action: 'student.read', reason: 'IDENTITY.TOKEN_INVALID' });
    } finally {
      await client.end();
    }
  });
});
