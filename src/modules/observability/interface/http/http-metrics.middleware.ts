import type { INestApplication } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { MetricsRegistry } from '../../infrastructure/metrics-registry.js';

const KNOWN_METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);

/** Route label: the matched route's template, or one fixed value for requests that matched no route. */
export function routeLabel(request: Pick<Request, 'baseUrl' | 'route'>): string {
  const route = request.route as { path?: unknown } | undefined;
  if (!route || typeof route.path !== 'string') return 'unmatched';
  return `${request.baseUrl ?? ''}${route.path}`;
}

export function methodLabel(method: string): string {
  const upper = method.toUpperCase();
  return KNOWN_METHODS.has(upper) ? upper : 'OTHER';
}

/** Times every HTTP request, including the 404s that never reach a controller. */
export function installHttpMetrics(app: INestApplication): void {
  const metrics = app.get(MetricsRegistry);
  app.use((request: Request, response: Response, next: NextFunction) => {
    const stop = metrics.httpRequestDuration.startTimer();
    response.once('finish', () => {
      stop({
        method: methodLabel(request.method),
        route: routeLabel(request),
        status_code: String(response.statusCode),
      });
    });
    next();
  });
}
