import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import { createHttpHandler, type HttpHandler } from '../../../src/http/index.js';
import { createServerServices, type ServerServices } from '../../../examples/server/services.js';

/**
 * The handler is a plain Fetch-API function, so any framework that hands over a `Request` can
 * mount it. Hono is the one installed here (for the benchmark): mount, then drive it in process.
 */
describe('mounting the handler in Hono', () => {
  let composed: ServerServices;
  let handler: HttpHandler;
  let app: Hono;

  beforeAll(async () => {
    composed = await createServerServices({ secret: 'hono', worker: false });
    handler = createHttpHandler(composed.services, composed.handlerOptions);
    app = new Hono();
    app.get('/', (c) => c.text('host app'));
    app.all('/api/*', (c) => handler(c.req.raw));
    app.get('/.well-known/*', (c) => handler(c.req.raw));
  });
  afterAll(async () => {
    handler.close();
    await composed.close();
  });

  it('serves the API through the host framework, host routes untouched', async () => {
    expect(await (await app.request('/')).text()).toBe('host app');
    const created = await app.request('/api/users', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'hono@example.com', displayName: 'Hono', password: 'correct horse battery' }),
    });
    expect(created.status).toBe(201);
    const login = await app.request('/api/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'hono@example.com', password: 'correct horse battery' }),
    });
    const { accessToken } = (await login.json()) as { accessToken: string };
    const task = await app.request('/api/tasks', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` },
      body: JSON.stringify({ type: 'echo', payload: { message: 'via hono' } }),
    });
    expect(task.status).toBe(201);
    const jwks = (await (await app.request('/.well-known/jwks.json')).json()) as { keys: unknown[] };
    expect(jwks.keys.length).toBeGreaterThan(0);
    const denied = await app.request('/api/tasks/whatever');
    expect(denied.status).toBe(401);
    expect(denied.headers.get('content-type')).toContain('application/problem+json');
  });
});
