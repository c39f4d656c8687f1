import { InMemoryJobQueue } from '@app/testing';
import { Injectable, type LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import { JobHandler, type HandlesJob } from './job-handler.decorator.js';
import { QueueModule } from './queue.module.js';
import { JobQueue, type JobOutcome } from './job-queue.port.js';

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

/**
 * Resolves on the queue's first `outcome` for job `name`: an event to wait on instead of a sleep. Rejects
 * after `timeoutMs`, so a job that never gets there fails the test with a message rather than a test timeout.
 */
function nextOutcome(queue: JobQueue, name: string, outcome: JobOutcome, timeoutMs = 5_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`No ${outcome} outcome for ${name} in ${timeoutMs} ms`)),
      timeoutMs,
    );
    queue.onOutcome((job, happened) => {
      if (job !== name || happened !== outcome) return;
      clearTimeout(timer);
      resolve();
    });
  });
}

describe('job handler registry', () => {
  it('boots when every catalogued job has exactly one handler, and runs jobs in the worker role', async () => {
    const app = await boot([FirstHandler, SecondHandler]);
    const queue = app.get(JobQueue);
    const completed = nextOutcome(queue, 'test.first', 'completed');
    await queue.enqueue('test.first', { hello: 'world' });
    await completed;
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
    const deadLettered = nextOutcome(queue, 'test.second', 'dead_lettered');
    await queue.enqueue('test.second', {}, { jobId: 'job-7' });
    await deadLettered;
    const failures = logger.lines.filter((line) => line.startsWith('Job failed'));
    expect(failures).toEqual([
      'Job failed: name=test.second jobId=job-7 attempt=1/2 code=SIS_SYNC.SOURCE_UNREACHABLE next=retry',
      'Job failed: name=test.second jobId=job-7 attempt=2/2 code=SIS_SYNC.SOURCE_UNREACHABLE next=dead-letter',
    ]);
    await app.close();
  });

  it('does not consume jobs in the api role', async () => {
    const app = await boot([FirstHandler, SecondHandler], false);
    const queue = app.get<JobQueue, InMemoryJobQueue>(JobQueue);
    await queue.enqueue('test.first', {});
    // Settles at once when nothing consumes jobs; had this role started processing, it would wait for the run.
    await queue.whenIdle();
    expect(app.get(FirstHandler).seen).toEqual([]);
    expect((await queue.counts()).waiting).toBe(1);
    await app.close();
  });
});
