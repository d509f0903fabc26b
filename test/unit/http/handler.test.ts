import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CacheAdapter, LogFields, Logger } from '../../../src/index.js';
import { createHttpHandler, type HttpHandler } from '../../../src/http/index.js';
import { createServerServices, type ServerServices } from '../../../examples/server/services.js';

const lines: { level: string; message: string; fields: LogFields | undefined }[] = [];
const logger: Logger = {
  debug: () => undefined,
  info: (message, fields) => void lines.push({ level: 'info', message, fields }),
  warn: (message, fields) => void lines.push({ level: 'warn', message, fields }),
  error: (message, fields) => void lines.push({ level: 'error', message, fields }),
};

describe('HTTP handler in process (Fetch API, no server)', () => {
  let composed: ServerServices;
  let handler: HttpHandler;
  let token: string;
  let userId: string;
  const json = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    handler(new Request(`http://app.test${path}`, { method, headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }));

  beforeAll(async () => {
    composed = await createServerServices({ secret: 'unit', worker: false, logger });
    handler = createHttpHandler(composed.services, composed.handlerOptions);
    const created = await (await json('POST', '/api/users', { email: 'unit@example.com', displayName: 'Unit', password: 'correct horse battery' })).json();
    userId = created.id;
    token = (await (await json('POST', '/api/auth/login', { email: 'unit@example.com', password: 'correct horse battery' })).json()).accessToken;
  });
  afterAll(async () => {
    handler.close();
    await composed.close();
  });

  it('logs one structured line per request with id, route, status and latency, never tokens or bodies', async () => {
    lines.length = 0;
    const res = await json('GET', `/api/users/${userId}?x=secret-query`, undefined, { authorization: `Bearer ${token}`, 'x-request-id': 'req-123' });
    expect(res.headers.get('x-request-id')).toBe('req-123');
    const line = lines.find((l) => l.message === 'http request')!;
    expect(line.fields).toMatchObject({ requestId: 'req-123', method: 'GET', route: 'GET /api/users/:id', userId });
    expect(typeof line.fields!.latencyMs).toBe('number');
    await json('POST', '/api/auth/login', { email: 'unit@example.com', password: 'correct horse battery' });
    const all = JSON.stringify(lines);
    expect(all).not.toContain(token);
    expect(all).not.toContain('secret-query');
    expect(all).not.toContain('correct horse');
  });

  it('replaces a malformed incoming request id', async () => {
    const res = await json('GET', '/api/health', undefined, { 'x-request-id': 'bad id\twith spaces' });
    expect(res.headers.get('x-request-id')).not.toContain(' ');
  });

  it('answers HEAD like GET without a body', async () => {
    const res = await handler(new Request('http://app.test/api/health', { method: 'HEAD' }));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
  });

  it('serves from the origin when the cache fails (the cache is an optimisation, not a dependency)', async () => {
    const broken: CacheAdapter = {
      ...composed.services.cache!,
      get: async () => {
        throw new Error('cache down');
      },
      set: async () => {
        throw new Error('cache down');
      },
    };
    const degraded = createHttpHandler({ ...composed.services, cache: broken }, composed.handlerOptions);
    const res = await degraded(new Request(`http://app.test/api/users/${userId}`, { headers: { authorization: `Bearer ${token}` } }));
    expect(res.status).toBe(200);
    expect(lines.some((l) => l.message === 'http cache: read failed')).toBe(true);
    degraded.close();
  });

  it('rejects malformed handler options with VALIDATION_FAILED', () => {
    expect(() => createHttpHandler(composed.services, { maxBodyBytes: -1 })).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });

  it('exposes its OpenAPI document with bearer security on protected operations', () => {
    const doc = handler.openapi();
    const get = doc.paths['/api/tasks/{id}']!.get as { security: unknown; 'x-authorization': string; responses: Record<string, unknown> };
    expect(get.security).toEqual([{ bearerAuth: [] }]);
    expect(get['x-authorization']).toContain('tenants/<t>/tasks/<id>');
    expect(Object.keys(get.responses)).toEqual(expect.arrayContaining(['200', '401', '404']));
    expect(Object.keys(get.responses)).not.toContain('403'); // a task the caller may not read is "not found"
    expect(Object.keys((doc.paths['/api/tasks/{id}']!.delete as { responses: Record<string, unknown> }).responses)).toContain('403');
  });
});
