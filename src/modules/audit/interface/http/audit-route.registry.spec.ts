import { Audited, AuditExempt, type AuditPolicy } from '@app/audit-capture';
import { Controller, Delete, Get, Patch, type INestApplication, type Type } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditRouteRegistry, UnclassifiedRoutesError } from './audit-route.registry.js';

const readPupil: AuditPolicy = {
  action: 'pupil.read',
  resource: 'pupil',
  dataCategories: ['directory'],
  subjects: { from: 'param', name: 'id' },
  mode: 'read',
};

@Controller('pupils')
class PupilsController {
  @Get(':id')
  @Audited(readPupil)
  read(): string {
    return 'pupil';
  }

  @Get()
  @AuditExempt('Counts only')
  count(): number {
    return 0;
  }
}

@AuditExempt('Probes')
@Controller('health')
class ProbesController {
  @Get('live')
  live(): string {
    return 'ok';
  }

  @Get('ready')
  ready(): string {
    return 'ok';
  }
}

@Controller('pupils')
class ForgetfulController {
  @Patch(':id')
  edit(): string {
    return 'edited';
  }

  @Delete(':id/notes/:note')
  @AuditExempt('Notes are not education records')
  forget(): string {
    return 'forgotten';
  }

  @Get('export')
  exportAll(): string {
    return 'everything';
  }
}

let app: INestApplication | undefined;
afterEach(async () => {
  await app?.close().catch(() => undefined);
  app = undefined;
});

async function boot(...controllers: Type[]): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [DiscoveryModule],
    controllers,
    providers: [AuditRouteRegistry],
  }).compile();
  app = moduleRef.createNestApplication({ logger: false });
  app.setGlobalPrefix('api/v1', { exclude: ['health/live'] });
  await app.init();
  return app;
}

describe('AuditRouteRegistry', () => {
  it('refuses to start when a route has neither @Audited nor @AuditExempt, naming each such route', async () => {
    const failure = await boot(PupilsController, ForgetfulController).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(UnclassifiedRoutesError);
    const unclassified = (failure as UnclassifiedRoutesError).routes.map(
      (route) => `${route.method} ${route.path} ${route.controller}.${route.handler}`,
    );
    expect(unclassified.sort()).toEqual([
      'GET /api/v1/pupils/export ForgetfulController.exportAll',
      'PATCH /api/v1/pupils/:id ForgetfulController.edit',
    ]);
    expect((failure as Error).message).toContain('PATCH /api/v1/pupils/:id (ForgetfulController.edit)');
  });

  it('starts when every route is classified, and knows each route’s policy by the path Express matches', async () => {
    const started = await boot(PupilsController, ProbesController);
    const registry = started.get(AuditRouteRegistry);
    expect(
      registry
        .routes()
        .map((route) => [route.method, route.path, route.policy?.action ?? null, route.exemptReason ?? null])
        .sort(),
    ).toEqual([
      ['GET', '/api/v1/health/ready', null, 'Probes'],
      ['GET', '/api/v1/pupils', null, 'Counts only'],
      ['GET', '/api/v1/pupils/:id', 'pupil.read', null],
      // Excluded from the global prefix, so served (and looked up) without it.
      ['GET', '/health/live', null, 'Probes'],
    ]);
    expect(registry.policyFor('GET', '/api/v1/pupils/:id')).toBe(readPupil);
    expect(registry.policyFor('get', '/api/v1/pupils/:id/')).toBe(readPupil);
    expect(registry.policyFor('HEAD', '/api/v1/pupils/:id')).toBe(readPupil);
    expect(registry.policyFor('PATCH', '/api/v1/pupils/:id')).toBeUndefined();
    expect(registry.policyFor('GET', '/api/v1/pupils')).toBeUndefined();
    expect(registry.policyFor('GET', undefined)).toBeUndefined();
  });

  it('applies a controller-wide exemption to every handler of the controller', async () => {
    const started = await boot(ProbesController);
    const routes = started.get(AuditRouteRegistry).routes();
    expect(routes.length).toBeGreaterThan(0);
    expect(routes.every((route) => route.exemptReason === 'Probes')).toBe(true);
  });
});
