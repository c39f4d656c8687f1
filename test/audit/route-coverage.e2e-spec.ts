import type { Express } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditRouteRegistry, type RegisteredRoute } from '../../src/modules/audit/index.js';
import { bootTestApp, type TestApp } from '../support/test-app.js';

/** Student-scoped routes that must be audited, with the action each records. */
const STUDENT_SCOPED: Record<string, string> = {
  'GET /api/v1/students': 'student.list',
  'GET /api/v1/students/:id': 'student.read',
  'PATCH /api/v1/students/:id': 'student.update',
  'DELETE /api/v1/students/:id/local-edits/:field': 'student.local_edit.clear',
  'GET /api/v1/classes/:id/roster': 'class_roster.read',
  'POST /api/v1/sis/connections/:id/sync': 'roster_sync.start',
  'POST /api/v1/sis/imports': 'roster_sync.import',
  'GET /api/v1/sis/runs/:id': 'sync_run.read',
  'GET /api/v1/sis/runs/:id/issues': 'sync_run_issues.read',
  'POST /api/v1/sis/runs/:id/approve': 'sync_run.approve',
  'POST /api/v1/sis/runs/:id/discard': 'sync_run.discard',
  'POST /api/v1/sis/runs/:id/restore': 'sync_run.restore',
  'POST /api/v1/sis/runs/:id/cancel': 'sync_run.cancel',
};

/** Audit-trail routes that may be exempt: they publish what verifies the trail, never entries. */
const AUDIT_ROUTES_WITHOUT_ENTRIES = new Set(['GET /api/v1/audit/public-key']);

/** Served by Express outside Nest's controllers (the OpenAPI document and its viewer): no student data. */
const OUTSIDE_NEST = /^\/(docs|openapi\.(json|yaml))(\/|$)/;

function table(routes: RegisteredRoute[]): string {
  const rows = routes
    .map((route) => [
      `${route.method} ${route.path}`,
      route.policy ? `@Audited ${route.policy.action} (${route.policy.mode}, ${route.policy.subjects.from})` : '',
      route.exemptReason !== undefined ? `@AuditExempt ${JSON.stringify(route.exemptReason)}` : '',
      `${route.controller}.${route.handler}`,
    ])
    .sort(([left], [right]) => left.localeCompare(right));
  const width = Math.max(...rows.map(([route]) => route.length));
  return [
    '',
    ...rows.map(([route, policy, exempt, where]) => `${route.padEnd(width)}  ${policy}${exempt}  ← ${where}`),
  ].join('\n');
}

/** Every METHOD path the Express router actually serves. */
function expressRoutes(express: Express): string[] {
  const stack = (express as unknown as { router: { stack: { route?: { path: string; methods: object } }[] } }).router
    .stack;
  return stack.flatMap((layer) => {
    const methods = layer.route ? Object.keys(layer.route.methods) : [];
    // Nest's not-found handlers answer every method on a prefix; they serve no controller.
    if (methods.length > 10) return [];
    return methods.map((method) => `${method.toUpperCase()} ${layer.route!.path}`);
  });
}

describe('audit coverage of the HTTP routes', () => {
  let testApp: TestApp;
  let routes: RegisteredRoute[];
  let listing: string;

  beforeAll(async () => {
    testApp = await bootTestApp();
    routes = testApp.app.get(AuditRouteRegistry).routes();
    listing = table(routes);
  });
  afterAll(() => testApp?.close());

  it('classifies every route: a policy or a stated exemption, never both, never neither', () => {
    expect(routes.length).toBeGreaterThan(30);
    const unclassified = routes.filter((route) => !route.policy && route.exemptReason === undefined);
    const both = routes.filter((route) => route.policy && route.exemptReason !== undefined);
    const vague = routes.filter((route) => route.exemptReason !== undefined && route.exemptReason.trim().length < 5);
    expect(unclassified, `routes without a classification:${listing}`).toEqual([]);
    expect(both, `routes both audited and exempt:${listing}`).toEqual([]);
    expect(vague, `exemptions must say why:${listing}`).toEqual([]);
  });

  it('knows every route the HTTP server serves, under the path Express matches', () => {
    const known = new Set(routes.map((route) => `${route.method} ${route.path}`));
    const served = expressRoutes(testApp.app.getHttpAdapter().getInstance() as Express).filter(
      (route) => !OUTSIDE_NEST.test(route.split(' ')[1]),
    );
    expect(served.length).toBeGreaterThan(30);
    expect(
      served.filter((route) => !known.has(route)),
      `served but unknown to the registry:${listing}`,
    ).toEqual([]);
  });

  it('audits the student-scoped routes with the expected actions', () => {
    const byRoute = new Map(routes.map((route) => [`${route.method} ${route.path}`, route]));
    for (const [route, action] of Object.entries(STUDENT_SCOPED)) {
      const registered = byRoute.get(route);
      expect(registered, `${route} is not registered:${listing}`).toBeDefined();
      expect(registered!.policy?.action, `${route} must be @Audited(${action}):${listing}`).toBe(action);
      expect(registered!.policy!.dataCategories.length, route).toBeGreaterThan(0);
    }
  });

  it('audits every route that names a student or reads the audit trail itself', () => {
    const mustAudit = routes.filter(
      (route) =>
        !AUDIT_ROUTES_WITHOUT_ENTRIES.has(`${route.method} ${route.path}`) &&
        (/\/students(\/|$)/.test(route.path) ||
          /\/roster(\/|$)/.test(route.path) ||
          route.path.startsWith('/api/v1/audit/') ||
          route.path === '/api/v1/audit' ||
          /\/sis\/runs\/:id(\/|$)/.test(route.path)),
    );
    expect(mustAudit.length).toBeGreaterThanOrEqual(11);
    expect(
      mustAudit.some((route) => route.path.startsWith('/api/v1/audit/')),
      listing,
    ).toBe(true);
    expect(
      mustAudit.filter((route) => !route.policy).map((route) => `${route.method} ${route.path}`),
      `student-scoped or audit-trail routes without @Audited:${listing}`,
    ).toEqual([]);
  });

  it('audits writes in the same transaction as the change', () => {
    for (const route of ['PATCH /api/v1/students/:id', 'DELETE /api/v1/students/:id/local-edits/:field']) {
      const registered = routes.find((candidate) => `${candidate.method} ${candidate.path}` === route);
      expect(registered?.policy?.mode, route).toBe('write');
    }
  });
});
