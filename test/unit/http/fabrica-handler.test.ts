import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFabrica, type Fabrica } from '../../../src/index.js';
import { createHttpHandler, type HttpHandler } from '../../../src/http/index.js';

/** The shape: `createHttpHandler(fabrica, options)` with the composition root's result. */
describe('createHttpHandler(fabrica)', () => {
  let fabrica: Fabrica;
  let handler: HttpHandler;
  const call = (method: string, path: string, body?: unknown, token?: string) =>
    handler(
      new Request(`http://app.test${path}`, {
        method,
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }),
    );

  beforeAll(async () => {
    fabrica = await createFabrica({ identity: { issuer: 'https://fabrica.test', audience: 'https://fabrica.test/api' } });
    handler = createHttpHandler(fabrica);
  });
  afterAll(async () => {
    handler.close();
    await fabrica.close();
  });

  it('serves sign-up, login and a user read through the composed services', async () => {
    const created = await call('POST', '/api/users', { email: 'root@example.com', displayName: 'Root', password: 'correct horse battery' });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const login = await call('POST', '/api/auth/login', { email: 'root@example.com', password: 'correct horse battery' });
    expect(login.status).toBe(200);
    const { accessToken } = (await login.json()) as { accessToken: string };
    // No policy yet: authenticated, but access control denies by default.
    const read = await call('GET', `/api/users/${id}`, undefined, accessToken);
    expect(read.status).toBe(403);
    await fabrica.access.defineRole({ name: 'self' });
    await fabrica.access.grant({ role: 'self', action: 'read', resource: 'users/*', condition: { op: 'owner' } });
    await fabrica.access.bindUser({ tenant: 'platform', user: id, role: 'self' });
    const allowed = await call('GET', `/api/users/${id}`, undefined, accessToken);
    expect(allowed.status).toBe(200);
    expect(((await allowed.json()) as { email: string }).email).toBe('root@example.com');
    expect((await call('GET', '/.well-known/jwks.json')).status).toBe(200);
  });
});
