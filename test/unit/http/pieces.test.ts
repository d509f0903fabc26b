import { describe, expect, it } from 'vitest';
import { FabricaError, NotFoundError, ValidationError } from '../../../src/core/errors.js';
import { Router } from '../../../src/http/internal/router.js';
import { hasBody, isJsonMediaType, readJsonBody } from '../../../src/http/internal/body.js';
import { compress, negotiate } from '../../../src/http/internal/compression.js';
import { etagOf, ifNoneMatch } from '../../../src/http/internal/etag.js';
import { problemResponse, toProblem } from '../../../src/http/problem.js';

describe('router', () => {
  const router = new Router<string>();
  router.add('GET', '/api/tasks', 'list');
  router.add('POST', '/api/tasks', 'create');
  router.add('GET', '/api/tasks/:id', 'get');
  router.add('PUT', '/api/tasks/:id/assign', 'assign');

  it('matches static and parameterised paths and decodes parameters', () => {
    expect(router.match('GET', '/api/tasks')).toMatchObject({ kind: 'found', route: 'list' });
    expect(router.match('GET', '/api/tasks/a%20b')).toMatchObject({ kind: 'found', route: 'get', params: { id: 'a b' }, pattern: '/api/tasks/:id' });
    expect(router.match('PUT', '/api/tasks/7/assign')).toMatchObject({ kind: 'found', route: 'assign', params: { id: '7' } });
  });

  it('tells a wrong method (with the allowed ones, HEAD for GET) from an unknown path', () => {
    expect(router.match('DELETE', '/api/tasks')).toEqual({ kind: 'method-not-allowed', allow: ['GET', 'POST', 'HEAD'] });
    expect(router.match('GET', '/api/tasks/7/nope')).toEqual({ kind: 'not-found' });
    expect(router.match('GET', '/api/tasks/')).toEqual({ kind: 'not-found' }); // empty segment is no id
    expect(router.match('GET', '/api/tasks/%E0%A4%A')).toEqual({ kind: 'not-found' }); // malformed escape
    expect(router.match('HEAD', '/api/tasks/1')).toMatchObject({ kind: 'found', route: 'get' });
  });
});

describe('request bodies', () => {
  const post = (body: BodyInit | null, headers: Record<string, string>) => new Request('http://x/', { method: 'POST', body, headers, duplex: 'half' } as RequestInit);

  it('accepts only application/json, with at most charset=utf-8', () => {
    expect(isJsonMediaType('application/json')).toBe(true);
    expect(isJsonMediaType('Application/JSON; charset="UTF-8"')).toBe(true);
    expect(isJsonMediaType('application/json; charset=latin1')).toBe(false);
    expect(isJsonMediaType('text/json')).toBe(false);
    expect(isJsonMediaType(null)).toBe(false);
  });

  it('parses JSON, and reports malformed JSON and invalid UTF-8 as VALIDATION_FAILED', async () => {
    expect(await readJsonBody(post('{"a":1}', { 'content-type': 'application/json' }), 100)).toEqual({ a: 1 });
    await expect(readJsonBody(post('{"a":', { 'content-type': 'application/json' }), 100)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(readJsonBody(post(new Uint8Array([0x22, 0xff, 0x22]), { 'content-type': 'application/json' }), 100)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(readJsonBody(post('{}', { 'content-type': 'text/plain' }), 100)).rejects.toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
  });

  it('stops reading at the limit even when Content-Length is absent (streamed body)', async () => {
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new Uint8Array(1024));
        if (pulled > 1000) controller.close();
      },
    });
    const request = new Request('http://x/', { method: 'POST', body: stream, headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, duplex: 'half' } as RequestInit);
    expect(hasBody(request)).toBe(true);
    await expect(readJsonBody(request, 4096)).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE', status: 413 });
    expect(pulled).toBeLessThan(10);
  });

  it('refuses a declared Content-Length above the limit before reading', async () => {
    await expect(readJsonBody(post('x'.repeat(200), { 'content-type': 'application/json', 'content-length': '200' }), 100)).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
  });
});

describe('compression negotiation', () => {
  const all = ['br', 'gzip', 'deflate'] as const;
  it('follows q-values, prefers br then gzip on ties, honours * and q=0', () => {
    expect(negotiate('gzip, br', all)).toBe('br');
    expect(negotiate('gzip;q=1, br;q=0.5', all)).toBe('gzip');
    expect(negotiate('br;q=0, *', all)).toBe('gzip');
    expect(negotiate('identity', all)).toBeNull();
    expect(negotiate('*;q=0', all)).toBeNull();
    expect(negotiate('x-gzip', all)).toBe('gzip');
    expect(negotiate(null, all)).toBeNull();
    expect(negotiate('br', ['gzip', 'deflate'])).toBeNull();
  });

  it('produces bytes the codings decode', async () => {
    const { gunzipSync, brotliDecompressSync, inflateSync } = await import('node:zlib');
    const input = new TextEncoder().encode('hello '.repeat(500));
    expect(Buffer.from(gunzipSync(await compress(input, 'gzip'))).toString()).toBe('hello '.repeat(500));
    expect(Buffer.from(brotliDecompressSync(await compress(input, 'br'))).toString()).toBe('hello '.repeat(500));
    expect(Buffer.from(inflateSync(await compress(input, 'deflate'))).toString()).toBe('hello '.repeat(500));
  });
});

describe('ETags', () => {
  it('are weak, change with the body and match If-None-Match by weak comparison', () => {
    const a = etagOf('{"a":1}');
    expect(a).toMatch(/^W\/"[0-9a-z]+-[0-9a-z]+"$/);
    expect(etagOf('{"a":2}')).not.toBe(a);
    expect(ifNoneMatch(a, a)).toBe(true);
    expect(ifNoneMatch(a.slice(2), a)).toBe(true);
    expect(ifNoneMatch(`W/"x", ${a}`, a)).toBe(true);
    expect(ifNoneMatch('*', a)).toBe(true);
    expect(ifNoneMatch('W/"other"', a)).toBe(false);
    expect(ifNoneMatch(null, a)).toBe(false);
  });
});

describe('problem details', () => {
  it('keep the code and status and allow-listed details only', () => {
    const denied = toProblem(new FabricaError('ACCESS_DENIED', 'no', { details: { matchedRule: 'secret rule', path: ['admin'] } }), 'r1');
    expect(denied).toMatchObject({ code: 'ACCESS_DENIED', status: 403, title: 'Forbidden', requestId: 'r1' });
    expect(denied).not.toHaveProperty('matchedRule');
    const invalid = toProblem(new ValidationError('bad', [{ path: ['a'], message: 'm', code: 'c' }]), 'r2');
    expect(invalid.issues).toEqual([{ path: ['a'], message: 'm', code: 'c' }]);
  });

  it('turn unknown errors into INTERNAL without their message', () => {
    const p = toProblem(new Error('connection string postgres://user:pw@db'), 'r3');
    expect(p).toMatchObject({ code: 'INTERNAL', status: 500, detail: 'internal error' });
    expect(JSON.stringify(p)).not.toContain('postgres://');
  });

  it('carry Retry-After, WWW-Authenticate and Allow where they apply', async () => {
    const limited = problemResponse(new FabricaError('RATE_LIMITED', 'slow down', { details: { retryAfterMs: 1500 } }), 'r');
    expect(limited.headers.get('retry-after')).toBe('2');
    expect(limited.headers.get('content-type')).toBe('application/problem+json');
    expect(problemResponse(new FabricaError('AUTH_TOKEN_EXPIRED', 'x'), 'r').headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    expect(problemResponse(new FabricaError('METHOD_NOT_ALLOWED', 'x', { details: { allow: ['GET', 'HEAD'] } }), 'r').headers.get('allow')).toBe('GET, HEAD');
    expect((await problemResponse(new NotFoundError('gone'), 'r').json()).code).toBe('NOT_FOUND');
  });
});
