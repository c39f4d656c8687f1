import { InMemoryJobQueue } from '@app/testing';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import { JobHandler, type HandlesJob } from './job-handler.decorator.js';
import { QueueModule } from './queue.module.js';
import { JobQueue } from './job-queue.port.js';

const definitions = {
  'test.first': { attempts: 1, backoffMs: 10 },
  'test.second': { attempts: 1, backoffMs: 10 },
};

@Injectable()
@JobHandler('test.first')
class FirstHandler implements HandlesJob {
  readonly seen: unknown[] = [];
  handle(payload: unknown): Promise<void> {
    this.seen.push(payload);
    return Promise.resolve();
  }
}

@Injectable()
@JobHandler('test.second')
class SecondHandler implements HandlesJob {
  handle(): Promise<void> {
    return Promise.resolve();
  }
}

@Injectable()
@JobHandler('test.second')
class AnotherSecondHandler implements HandlesJob {
  handle(): Promise<void> {
    return Promise.resolve();
  }
}

@Injectable()
@JobHandler('test.unlisted')
class UnlistedHandler implements HandlesJob {
  handle(): Promise<void> {
    return Promise.resolve();
  }
}

async function boot(providers: (new () => HandlesJob)[], process = true) {
  const moduleRef = await Test.createTestingModule({
    imports: [
      QueueModule.forRoot({
        // Never connected: the queue is the in-memory fake below.
        databaseUrl: 'postgres://unused.invalid/none',
        prefix: 'test',
        definitions,
        useFactory: () => ({ process, concurrency: 1 }),
      }),
    ],
    providers,
  })
    .overrideProvider(JobQueue)
    .useFactory({ factory: () => new InMemoryJobQueue(definitions) })
    .compile();
  const app = moduleRef.createNestApplication();
  await app.init();
  return app;
}

describe('job handler registry', () => {
  it('boots when every catalogued job has exactly one handler, and runs jobs in the worker role', async () => {
    const app = await boot([FirstHandler, SecondHandler]);
    await app.get(JobQueue).enqueue('test.first', { hello: 'world' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(app.get(FirstHandler).seen).toEqual([{ hello: 'world' }]);
    await app.close();
  });

  it('refuses to boot when a catalogued job has no handler', async () => {
    await expect(boot([FirstHandler])).rejects.toThrow('Jobs without a handler: test.second');
  });

  it('refuses to boot when a job has two handlers', async () => {
    await expect(boot([FirstHandler, SecondHandler, AnotherSecondHandler])).rejects.toThrow(
      'Job "test.second" has two handlers',
    );
  });

  it('refuses to boot when a handler names a job outside the catalogue', async () => {
    await expect(boot([FirstHandler, SecondHandler, UnlistedHandler])).rejects.toThrow('not in the job catalogue');
  });

  it('does not consume jobs in the api role', async () => {
    const app = await boot([FirstHandler, SecondHandler], false);
    await app.get(JobQueue).enqueue('test.first', {});
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(app.get(FirstHandler).seen).toEqual([]);
    expect((await app.get(JobQueue).counts()).waiting).toBe(1);
    await app.close();
  });
});
