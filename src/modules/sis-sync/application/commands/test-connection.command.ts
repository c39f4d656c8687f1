import { Clock } from '@app/ddd';
import { Logger } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { SisConnection } from '../../domain/sis-connection.js';
import { ConnectionNotFoundError } from '../../domain/sis-sync.errors.js';
import { ConnectionHealthRepository } from '../ports/connection-health.repository.js';
import { SisConnectionRepository } from '../ports/sis-connection.repository.js';
import { SisSourceFactory } from '../ports/sis-source.factory.js';
import {
  SisSourceError,
  type SisCheckResult,
  type SisSource,
  type SisTrafficObserver,
} from '../ports/sis-source.port.js';

export interface ConnectionTestResult {
  /** True when every check passed. */
  ok: boolean;
  checks: SisCheckResult[];
  durationMs: number;
}

/** Opens the connection's source and asks it what it can reach, within the connection's request timeout. */
export class TestConnectionCommand extends Command<ConnectionTestResult> {
  constructor(readonly connectionId: string) {
    super();
  }
}

/** The reason the test's signal aborts with: adapters that rethrow it report this text on the unfinished check. */
class TestDeadlineExceeded extends Error {
  constructor(budgetMs: number) {
    super(`Timed out: no answer within the connection's request timeout (${budgetMs} ms)`);
    this.name = 'TestDeadlineExceeded';
  }
}

type Within<T> = { kind: 'value'; value: T } | { kind: 'error'; error: unknown } | { kind: 'late' };

/**
 * Answers within the connection's `requestTimeoutMs`, whatever the SIS does: the checks get an AbortSignal that
 * fires shortly before the deadline (a check cut short is a failed verdict "Timed out: …"), and a source that
 * ignores the signal is left to finish in the background (closed when it does) while the test answers with a
 * timed-out reachability verdict. The secret is never in a verdict.
 */
@CommandHandler(TestConnectionCommand)
export class TestConnectionHandler implements ICommandHandler<TestConnectionCommand, ConnectionTestResult> {
  private readonly logger = new Logger('SisSync');

  constructor(
    private readonly connections: SisConnectionRepository,
    private readonly sources: SisSourceFactory,
    private readonly health: ConnectionHealthRepository,
    private readonly clock: Clock,
  ) {}

  async execute({ connectionId }: TestConnectionCommand): Promise<ConnectionTestResult> {
    const found = await this.connections.findWithSecret(connectionId);
    if (!found) throw new ConnectionNotFoundError(connectionId);
    const { connection, secret } = found;
    if (connection.provider === 'oneroster-csv') return csvConnectionVerdict(connection);

    const started = Date.now();
    const tokens: { expiresAt: Date | null; observedAt: Date }[] = [];
    const observer: SisTrafficObserver = {
      onRequest: () => undefined,
      onToken: (event) => tokens.push({ expiresAt: event.expiresAt, observedAt: this.clock.now() }),
    };
    const raw = await this.check(connection, secret, observer, started);
    for (const token of tokens) {
      await this.health
        .recordToken(connection.id, token.expiresAt, token.observedAt)
        .catch((error: Error) => this.logger.warn(`Could not record the token expiry: ${error.message}`));
    }
    const checks = raw.map((check) => ({ ...check, detail: redact(check.detail, secret) }));
    return { ok: checks.length > 0 && checks.every((check) => check.ok), checks, durationMs: Date.now() - started };
  }

  private async check(
    connection: SisConnection,
    secret: string | null,
    observer: SisTrafficObserver,
    started: number,
  ): Promise<SisCheckResult[]> {
    const budgetMs = connection.settings.requestTimeoutMs;
    const deadline = started + budgetMs;
    const reason = new TestDeadlineExceeded(budgetMs);
    const controller = new AbortController();
    // Early enough that an adapter honouring the signal can still report what it finished.
    const abortAfter = Math.max(budgetMs - 250, Math.floor(budgetMs * 0.8));
    const abortTimer = setTimeout(() => controller.abort(reason), abortAfter);
    const timedOut = (check: SisCheckResult['check']): SisCheckResult => ({
      check,
      ok: false,
      detail: reason.message,
      durationMs: Date.now() - started,
    });
    try {
      const opening = this.sources.open(connection, secret, { importFile: null, observer });
      const opened = await within(opening, deadline - Date.now());
      if (opened.kind === 'late') {
        void opening.then((source) => source.close()).catch(() => undefined);
        return [timedOut('reachability')];
      }
      if (opened.kind === 'error') return [openFailure(opened.error, Date.now() - started)];
      const source: SisSource = opened.value;
      const close = () => source.close().catch(() => undefined);
      const checking = source.checkAccess(controller.signal);
      const outcome = await within(checking, deadline - Date.now());
      if (outcome.kind === 'late') {
        void checking.catch(() => undefined).finally(close);
        return [timedOut('reachability')];
      }
      await close();
      if (outcome.kind === 'error') {
        if (controller.signal.aborted) return [timedOut('reachability')];
        const message = outcome.error instanceof Error ? outcome.error.message : String(outcome.error);
        return [{ check: 'reachability', ok: false, detail: message, durationMs: Date.now() - started }];
      }
      if (!controller.signal.aborted) return outcome.value;
      // Cut short: whatever failed because of the abort says so in the same words.
      return outcome.value.map((check) =>
        !check.ok && /abort/i.test(check.detail) ? { ...check, detail: reason.message } : check,
      );
    } finally {
      clearTimeout(abortTimer);
    }
  }
}

/**
 * A CSV connection has no SIS to reach: the verdict says so, whether uploads into it are taken, and how its
 * packages are checked (a dry-run upload validates a package and previews its changes without applying them).
 */
function csvConnectionVerdict(connection: SisConnection): ConnectionTestResult {
  const upload = `POST /api/v1/sis/imports with connectionId=${connection.id}`;
  const check: SisCheckResult = connection.enabled
    ? {
        check: 'upload',
        ok: true,
        detail:
          'No SIS to reach: this connection is fed by OneRoster CSV packages. Check a package by uploading it with ' +
          `dryRun=true (${upload}, or homeroom sync import <zip> --connection ${connection.id} --dry-run): ` +
          'the run validates the manifest, headers and rows and previews the changes without applying them.',
        durationMs: 0,
      }
    : {
        check: 'upload',
        ok: false,
        detail: 'This connection is disabled: uploads into it are refused until it is enabled again.',
        durationMs: 0,
      };
  return { ok: check.ok, checks: [check], durationMs: 0 };
}

/** A source that could not even be opened: missing settings or credentials, an unsupported provider. */
function openFailure(error: unknown, durationMs: number): SisCheckResult {
  if (!(error instanceof SisSourceError)) throw error;
  return {
    check: error.code === 'SIS_SYNC.SOURCE_AUTH_FAILED' ? 'credentials' : 'reachability',
    ok: false,
    detail: error.message,
    durationMs,
  };
}

function within<T>(promise: Promise<T>, ms: number): Promise<Within<T>> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ kind: 'late' }), Math.max(0, ms));
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve({ kind: 'value', value });
      },
      (error: unknown) => {
        clearTimeout(timer);
        resolve({ kind: 'error', error });
      },
    );
  });
}

function redact(detail: string, secret: string | null): string {
  return secret && secret.length >= 4 ? detail.split(secret).join('[redacted]') : detail;
}
