import { InMemoryJobQueue } from '@app/testing';
import { Injectable, type LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import { JobHandler, type HandlesJob } from './job-handler.decorator.js';
import { QueueModule } from './queue.module.js';
import { JobQueue } from './job-queue.port.js';

const definitions = {
  'test.first': { attempts: 1, backoffMs: 10 },
  'test.second': { attempts: 2, backoffMs: 10 },
};

class SisUnreachableError extends Error {
  readonly code = 'SIS_SYNC.SOURCE_UNREACHABLE';
}

/** Keeps what the app logged, to assert on failure lines. */
class RecordingLogger implements LoggerService {
  readonly lines: string[] = [];
  log(message: unknown): void {
    this.lines.push(String(message));
  }
  warn(message: unknown): void {
    this.lines.push(String(message));
  }
  error(message: unknown): void {
    this.lines.push(String(message));
  }
}

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
class FailingSecondHandler implements HandlesJob {
  handle(): Promise<void> {
    return Promise.reject(new SisUnreachableError('connection refused'));
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

async function boot(providers: (new () => HandlesJob)[], process = true, logger?: LoggerService) {
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
  if (logger) app.useLogger(logger);
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

  it('logs each failed attempt with the job name, attempt and error code', async () => {
    const logger = new RecordingLogger();
    const app = await boot([FirstHandler, FailingSecondHandler], true, logger);
    const queue = app.get(JobQueue);
    await queue.enqueue('test.second', {}, { jobId: 'job-7' });
    const deadline = Date.now() + 5_000;
    while ((await queue.counts()).failed === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const failures = logger.lines.filter((line) => line.startsWith('Job failed'));
    expect(failures).toEqual([
      'Job failed: name=test.second jobId=job-7 attempt=1/2 code=SIS_SYNC.SOURCE_UNREACHABLE next=retry',
      'Job failed: name=test.second jobId=job-7 attempt=2/2 code=SIS_SYNC.SOURCE_UNREACHABLE next=dead-letter',
    ]);
    await app.close();
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
