import { describe, expect, it } from 'vitest';
import { listeningMessage, listeningUrl } from './listening-url.js';

describe('listeningUrl', () => {
  it('gives an address a browser can open', () => {
    expect(listeningUrl('127.0.0.1', 3000)).toBe('http://127.0.0.1:3000');
    expect(listeningUrl('api.district.test', 8080)).toBe('http://api.district.test:8080');
    expect(listeningUrl('0.0.0.0', 3000)).toBe('http://localhost:3000');
    expect(listeningUrl('::', 3000)).toBe('http://localhost:3000');
    expect(listeningUrl('::1', 3000)).toBe('http://[::1]:3000');
  });
});

describe('listeningMessage', () => {
  it('names the URL and the docs', () => {
    expect(listeningMessage('127.0.0.1', 3000)).toBe(
      'Listening on http://127.0.0.1:3000; API docs at http://127.0.0.1:3000/docs, OpenAPI at http://127.0.0.1:3000/openapi.json',
    );
  });

  it('says when every interface is bound', () => {
    expect(listeningMessage('0.0.0.0', 3000)).toBe(
      'Listening on http://localhost:3000 (every interface, 0.0.0.0:3000); API docs at http://localhost:3000/docs, OpenAPI at http://localhost:3000/openapi.json',
    );
  });
});
