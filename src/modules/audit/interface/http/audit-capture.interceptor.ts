import { AUDIT_POLICY, type AuditPolicy } from '@app/audit-capture';
import { TransactionRunner } from '@app/persistence';
import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { concatMap, from, lastValueFrom, type Observable } from 'rxjs';
import { HttpAuditCapture, type AuditableRequest } from './http-audit.capture.js';

/**
 * Records successful calls to audited routes. Writes run in one transaction with their entry; reads store
 * their entry before the response is sent; streamed responses store it when the handler starts (after the
 * pipes, before it writes). Failed and denied calls are recorded by `AuditProblemRecorder`, because guards
 * refuse a request before interceptors run.
 */
@Injectable()
export class AuditCaptureInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly capture: HttpAuditCapture,
    private readonly transactions: TransactionRunner,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const policy = this.reflector.get<AuditPolicy | undefined>(AUDIT_POLICY, context.getHandler());
    if (!policy) return next.handle();
    const request = context.switchToHttp().getRequest<AuditableRequest>();
    if (policy.mode === 'stream') {
      // Pipes run after interceptors: the handler starts the entry once its input has passed them.
      request.auditBegin = (studentIds?: readonly string[]) =>
        this.capture.record(request, policy, { outcome: 'allowed', studentIds });
      return next.handle().pipe(
        concatMap(async (result: unknown) => {
          await this.capture.record(request, policy, { outcome: 'allowed' });
          return result;
        }),
      );
    }
    if (policy.mode === 'write') {
      return from(
        this.transactions.run(async () => {
          const result: unknown = await lastValueFrom(next.handle() as Observable<unknown>, {
            defaultValue: undefined,
          });
          await this.capture.record(request, policy, { outcome: 'allowed', result });
          return result;
        }),
      );
    }
    return next.handle().pipe(
      concatMap(async (result: unknown) => {
        await this.capture.record(request, policy, { outcome: 'allowed', result });
        return result;
      }),
    );
  }
}
