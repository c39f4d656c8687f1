import { Injectable, type ExecutionContext } from '@nestjs/common';
import { ThrottlerException, ThrottlerGuard, type ThrottlerLimitDetail } from '@nestjs/throttler';
import type { Request, Response } from 'express';
import type { AuthenticatedUser } from '../../application/authenticated-user.js';

/** The named limits: per client address (all routes, and credential routes) and per signed-in user. */
export const ADDRESS_THROTTLER = 'address';
export const CREDENTIALS_THROTTLER = 'credentials';
export const USER_THROTTLER = 'user';

/** HTTP only, answering 429 with a standard `Retry-After` whichever limit tripped. */
abstract class HttpOnlyThrottlerGuard extends ThrottlerGuard {
  protected abstract readonly handles: readonly string[];

  override async onModuleInit(): Promise<void> {
    await super.onModuleInit();
    this.throttlers = this.throttlers.filter((throttler) => this.handles.includes(throttler.name ?? 'default'));
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    return super.canActivate(context);
  }

  protected override throwThrottlingException(context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    const response = context.switchToHttp().getResponse<Response>();
    response.setHeader('Retry-After', String(Math.max(1, detail.timeToBlockExpire)));
    throw new ThrottlerException('Too many requests: slow down and retry later');
  }
}

/** Runs first: the per-address limits (the client address honours only the trusted proxies). */
@Injectable()
export class AddressThrottlerGuard extends HttpOnlyThrottlerGuard {
  protected readonly handles = [ADDRESS_THROTTLER, CREDENTIALS_THROTTLER];
}

/** Runs after authentication: the per-user limit of authenticated routes (public routes are skipped). */
@Injectable()
export class UserThrottlerGuard extends HttpOnlyThrottlerGuard {
  protected readonly handles = [USER_THROTTLER];

  protected override shouldSkip(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<Request & { user?: AuthenticatedUser }>();
    return Promise.resolve(!request.user);
  }
}
