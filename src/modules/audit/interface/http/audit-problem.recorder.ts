import { ProblemObserver, type ProblemDetails } from '@app/http';
import { Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { AuditRouteRegistry } from './audit-route.registry.js';
import { HttpAuditCapture, type AuditableRequest } from './http-audit.capture.js';

/** Records denied (401/403) and failed calls to audited routes, with the problem's code as the reason. */
@Injectable()
export class AuditProblemRecorder extends ProblemObserver {
  constructor(
    private readonly routes: AuditRouteRegistry,
    private readonly capture: HttpAuditCapture,
  ) {
    super();
  }

  async observe(request: Request, problem: ProblemDetails): Promise<void> {
    const auditable = request as AuditableRequest;
    if (auditable.auditAttempted) return;
    const policy = this.routes.policyFor(request.method, (request.route as { path?: string } | undefined)?.path);
    if (!policy) return;
    const outcome = problem.status === 401 || problem.status === 403 ? 'denied' : 'failed';
    await this.capture.record(auditable, policy, { outcome, reason: problem.code });
  }
}
