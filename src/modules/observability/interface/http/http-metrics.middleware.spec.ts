import { describe, expect, it } from 'vitest';
import { methodLabel, routeLabel } from './http-metrics.middleware.js';

describe('HTTP metric labels', () => {
  it('uses the route template, never the raw path', () => {
    expect(routeLabel({ baseUrl: '', route: { path: '/api/v1/users/:id' } } as never)).toBe('/api/v1/users/:id');
  });

  it('collapses requests that matched no route into one label', () => {
    expect(routeLabel({ baseUrl: '', route: undefined } as never)).toBe('unmatched');
  });

  it('bounds the method label', () => {
    expect(methodLabel('get')).toBe('GET');
    expect(methodLabel('PROPFIND')).toBe('OTHER');
  });
});
