import { AUDIT_EXEMPT, AUDIT_POLICY, type AuditPolicy } from '@app/audit-capture';
import { Injectable, RequestMethod, type OnApplicationBootstrap } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { ApplicationConfig, DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';

export interface RegisteredRoute {
  method: string;
  /** Full path template as Express matches it, e.g. `/api/v1/students/:id`. */
  path: string;
  controller: string;
  handler: string;
  policy?: AuditPolicy;
  exemptReason?: string;
}

/** A registered route matched against a request path that never reached the router. */
export interface MatchedRoute {
  route: RegisteredRoute;
  params: Record<string, string>;
}

export class UnclassifiedRoutesError extends Error {
  constructor(readonly routes: RegisteredRoute[]) {
    super(
      `Every route needs @Audited(...) or @AuditExempt('why'); missing on: ${routes
        .map((route) => `${route.method} ${route.path} (${route.controller}.${route.handler})`)
        .join(', ')}`,
    );
  }
}

/**
 * Every HTTP route with its audit policy. Built when the app starts; a route with neither a policy nor a
 * stated exemption stops the start, so a new endpoint cannot forget the audit trail.
 */
@Injectable()
export class AuditRouteRegistry implements OnApplicationBootstrap {
  private byRoute = new Map<string, RegisteredRoute>();
  private patterns: { route: RegisteredRoute; pattern: RegExp; names: string[] }[] = [];

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly applicationConfig: ApplicationConfig,
  ) {}

  onApplicationBootstrap(): void {
    const routes = this.discover();
    this.byRoute = new Map(routes.map((route) => [key(route.method, route.path), route]));
    this.patterns = routes.map((route) => ({ route, ...patternOf(route.path) }));
    const unclassified = routes.filter((route) => !route.policy && route.exemptReason === undefined);
    if (unclassified.length > 0) throw new UnclassifiedRoutesError(unclassified);
  }

  routes(): RegisteredRoute[] {
    return [...this.byRoute.values()];
  }

  policyFor(method: string, path: string | undefined): AuditPolicy | undefined {
    if (!path) return undefined;
    const route = this.byRoute.get(key(method, path));
    // Express answers HEAD with the GET handler, so a HEAD call is that GET's access (and its denial too).
    if (!route && method.toUpperCase() === 'HEAD') return this.byRoute.get(key('GET', path))?.policy;
    return route?.policy;
  }

  /**
   * The route a request path would have reached, for calls refused before routing (a malformed or oversized
   * body): literal segments first, so `/students/search` is not taken for `/students/:id`.
   */
  match(method: string, path: string): MatchedRoute | undefined {
    const wanted = method.toUpperCase() === 'HEAD' ? ['HEAD', 'GET'] : [method.toUpperCase()];
    const normalised = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
    let best: MatchedRoute | undefined;
    let bestParams = Number.POSITIVE_INFINITY;
    for (const { route, pattern, names } of this.patterns) {
      if (!wanted.includes(route.method) || names.length >= bestParams) continue;
      const found = pattern.exec(normalised);
      if (!found) continue;
      const params: Record<string, string> = {};
      names.forEach((name, index) => {
        params[name] = safeDecode(found[index + 1]);
      });
      best = { route, params };
      bestParams = names.length;
    }
    return best;
  }

  private discover(): RegisteredRoute[] {
    const prefix = this.applicationConfig.getGlobalPrefix();
    const excluded = this.applicationConfig.getGlobalPrefixOptions().exclude ?? [];
    // Routes excluded from the global prefix (health probes) are served, and matched by policyFor, without it.
    const prefixFor = (method: RequestMethod, path: string): string =>
      excluded.some(
        (route) =>
          (route.requestMethod === RequestMethod.ALL || route.requestMethod === method) && route.pathRegex.test(path),
      )
        ? ''
        : prefix;
    const routes: RegisteredRoute[] = [];
    for (const wrapper of this.discovery.getControllers()) {
      const instance = wrapper.instance as object | undefined;
      const metatype = wrapper.metatype as (abstract new (...args: never[]) => unknown) | null | undefined;
      if (!instance || !metatype) continue;
      const controllerPaths = toList(Reflect.getMetadata(PATH_METADATA, metatype) as string | string[] | undefined);
      const classExempt = this.reflector.get<string | undefined>(AUDIT_EXEMPT, metatype);
      const prototype = Object.getPrototypeOf(instance) as object;
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const handler = (prototype as Record<string, unknown>)[name] as (...args: unknown[]) => unknown;
        const methodPaths = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
        if (methodPaths === undefined) continue;
        const requestMethod = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod;
        const method = RequestMethod[requestMethod];
        const policy = this.reflector.get<AuditPolicy | undefined>(AUDIT_POLICY, handler);
        const exemptReason = this.reflector.get<string | undefined>(AUDIT_EXEMPT, handler) ?? classExempt;
        for (const controllerPath of controllerPaths) {
          for (const methodPath of toList(methodPaths)) {
            const path = joinPath(controllerPath, methodPath);
            routes.push({
              method,
              path: joinPath(prefixFor(requestMethod, path), path),
              controller: metatype.name,
              handler: name,
              policy,
              exemptReason,
            });
          }
        }
      }
    }
    return routes;
  }
}

function toList(value: string | string[] | undefined): string[] {
  if (value === undefined) return [''];
  return Array.isArray(value) ? value : [value];
}

function joinPath(...parts: string[]): string {
  const segments = parts.flatMap((part) => part.split('/')).filter((segment) => segment.length > 0);
  return `/${segments.join('/')}`;
}

function patternOf(path: string): { pattern: RegExp; names: string[] } {
  const names: string[] = [];
  const source = path
    .split('/')
    .map((segment) => {
      if (!segment.startsWith(':')) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(segment.slice(1));
      return '([^/]+)';
    })
    .join('/');
  return { pattern: new RegExp(`^${source}$`), names };
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function key(method: string, path: string): string {
  const normalised = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  return `${method.toUpperCase()} ${normalised}`;
}
