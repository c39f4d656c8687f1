import { ProblemObserver, type ProblemDetails } from '@app/http';
import { Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { AuditRouteRegistry } from './audit-route.registry.js';
import { HttpAuditCapture, type AuditableRequest } from './http-audit.capture.js';

/**
 * Records denied (401/403) and failed calls to audited routes, with the problem's code as the reason. A call
 * refused before routing (a malformed or oversized body) is matched to the route its path names; no one was
 * authenticated yet, so its actor is anonymous.
 */
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
    const routed = (request.route as { path?: string } | undefined)?.path;
    let policy = this.routes.policyFor(request.method, routed);
    if (!routed) {
      const matched = this.routes.match(request.method, request.path);
      if (!matched) return;
      policy = matched.route.policy;
      request.params = matched.params;
      request.route = { path: matched.route.path };
    }
    if (!policy) return;
    const outcome = problem.status === 401 || problem.status === 403 ? 'denied' : 'failed';
    await this.capture.record(auditable, policy, { outcome, reason: problem.code });
  }
}
