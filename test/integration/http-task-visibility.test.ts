/**
 * The task routes on `/api/tasks/:id` must not tell a caller who may not read a task that it
 * exists: such a caller gets the very answer an unknown id gets (status, problem body, headers),
 * on a cache miss and on a cache hit. A caller who may read the task but not act on it still gets
 * 403. Runs the example server's composition in process (memory backends, memory cache).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUuidV7Generator } from '../../src/core/ids.js';
import { createHttpHandler, type HttpHandler } from '../../src/http/index.js';
import { createServerServices, type ServerServices } from '../../examples/server/services.js';

const ADMIN = { email: 'root@example.com', password: 'root password for tests' };
// Headers that vary per request whatever the task: the remaining rate-limit budget.
const PER_REQUEST_HEADERS = new Set(['ratelimit']);

interface Answer {
  readonly status: number;
  readonly text: string;
  readonly headers: Record<string, string>;
}

describe('task routes hide tasks from callers who may not read them', () => {
  let composed: ServerServices;
  let handler: HttpHandler;
  const ids = createUuidV7Generator();

  async function send(method: string, path: string, token: string, body?: unknown): Promise<Answer> {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, 'x-request-id': 'probe' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await handler(new Request(`http://app.test${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }));
    const out: Record<string, string> = {};
    res.headers.forEach((value, name) => {
      if (!PER_REQUEST_HEADERS.has(name)) out[name] = value;
    });
    return { status: res.status, text: await res.text(), headers: out };
  }

  async function signUp(name: string): Promise<{ id: string; token: string }> {
    const email = `${name}@example.com`;
    const password = 'correct horse battery staple';
    const res = await anonymous('POST', '/api/users', { email, displayName: name, password });
    expect(res.status).toBe(201);
    return { id: JSON.parse(res.text).id, token: await logIn(email, password) };
  }

  async function anonymous(method: string, path: string, body: unknown): Promise<Answer> {
    const res = await handler(new Request(`http://app.test${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }));
    return { status: res.status, text: await res.text(), headers: {} };
  }

  async function logIn(email: string, password: string): Promise<string> {
    const res = await anonymous('POST', '/api/auth/login', { email, password });
    expect(res.status).toBe(200);
    return JSON.parse(res.text).accessToken as string;
  }

  async function createTask(token: string, tenantId?: string): Promise<string> {
    const res = await send('POST', '/api/tasks', token, { type: 'job', payload: { n: 1 }, ...(tenantId === undefined ? {} : { tenantId }) });
    expect(res.status).toBe(201);
    return JSON.parse(res.text).task.taskId as string;
  }

  const fakeLease = (taskId: string) => ({ taskId, token: 'not-a-lease', workerId: 'w-probe', attempt: 1, expiresAt: Date.now() + 60_000 });

  // The four routes, each as (task id) => request, so one probe runs against a real and an unknown id.
  const ROUTES: readonly [string, (id: string, token: string) => Promise<Answer>][] = [
    ['GET /api/tasks/:id', (id, token) => send('GET', `/api/tasks/${id}`, token)],
    ['PUT /api/tasks/:id/assign', (id, token) => send('PUT', `/api/tasks/${id}/assign`, token, { workerId: 'w-probe' })],
    ['PUT /api/tasks/:id/complete', (id, token) => send('PUT', `/api/tasks/${id}/complete`, token, { lease: fakeLease(id) })],
    ['DELETE /api/tasks/:id', (id, token) => send('DELETE', `/api/tasks/${id}`, token)],
  ];

  /** The answer with the requested id replaced, so answers for two ids compare byte for byte. */
  const normalised = (answer: Answer, id: string): Answer => ({ ...answer, text: answer.text.replaceAll(id, '<id>') });

  let owner: { id: string; token: string };
  let stranger: { id: string; token: string };
  let auditor: { id: string; token: string };
  let dispatcher: { id: string; token: string };
  let globexOwner: { id: string; token: string };

  beforeAll(async () => {
    composed = await createServerServices({ secret: 'visibility', worker: false, admin: ADMIN, rateLimit: { limit: 100_000, periodMs: 1000 } });
    handler = createHttpHandler(composed.services, composed.handlerOptions);
    const { access } = composed;
    // auditor: may read every task of the default tenant, and do nothing else with them.
    await access.defineRole({ name: 'auditor' });
    await access.grant({ role: 'auditor', action: 'read', resource: 'tasks/*' });
    // dispatcher: may assign any task without being allowed to read it.
    await access.defineRole({ name: 'dispatcher' });
    await access.grant({ role: 'dispatcher', action: 'tasks:assign', resource: 'tasks/*' });
    [owner, stranger, auditor, dispatcher, globexOwner] = await Promise.all([signUp('owner'), signUp('stranger'), signUp('auditor'), signUp('dispatcher'), signUp('globex')]);
    await access.bindUser({ tenant: 'default', user: auditor.id, role: 'auditor' });
    await access.bindUser({ tenant: 'default', user: dispatcher.id, role: 'dispatcher' });
    await access.bindUser({ tenant: 'globex', user: globexOwner.id, role: 'member' });
  });
  afterAll(async () => {
    handler?.close();
    await composed?.close();
  });

  for (const [route, request] of ROUTES) {
    it(`${route}: a user without grants on the task gets the 404 an unknown id gets, byte for byte`, async () => {
      const id = await createTask(owner.token);
      const unknown = ids.next();
      const hidden = await request(id, stranger.token);
      const missing = await request(unknown, stranger.token);
      expect(missing.status).toBe(404);
      expect(JSON.parse(missing.text)).toMatchObject({ code: 'NOT_FOUND', status: 404, type: 'urn:digital-fabrica:error:NOT_FOUND', requestId: 'probe' });
      expect(normalised(hidden, id)).toEqual(normalised(missing, unknown));
      expect((await send('GET', `/api/tasks/${id}`, owner.token)).status).toBe(200); // it does exist
    });

    it(`${route}: a user of another tenant gets the 404 an unknown id gets, byte for byte`, async () => {
      const id = await createTask(globexOwner.token, 'globex');
      const unknown = ids.next();
      expect(normalised(await request(id, owner.token), id)).toEqual(normalised(await request(unknown, owner.token), unknown));
      expect((await request(id, owner.token)).status).toBe(404);
    });
  }

  it('hides a task served from the cache the same way, Cache-Status included', async () => {
    const id = await createTask(owner.token);
    expect((await send('GET', `/api/tasks/${id}`, owner.token)).headers['cache-status']).toBe('fabrica; fwd=miss');
    expect((await send('GET', `/api/tasks/${id}`, owner.token)).headers['cache-status']).toBe('fabrica; hit');
    const unknown = ids.next();
    const hidden = await send('GET', `/api/tasks/${id}`, stranger.token);
    const missing = await send('GET', `/api/tasks/${unknown}`, stranger.token);
    expect(hidden.status).toBe(404);
    expect(hidden.headers['cache-status']).toBe('fabrica; fwd=miss');
    expect(normalised(hidden, id)).toEqual(normalised(missing, unknown));
    // The auditor may read it: served from the cache.
    const audited = await send('GET', `/api/tasks/${id}`, auditor.token);
    expect([audited.status, audited.headers['cache-status']]).toEqual([200, 'fabrica; hit']);
  });

  it('answers 403 ACCESS_DENIED to a user who may read the task but not delete, assign or complete it', async () => {
    const id = await createTask(owner.token);
    expect((await send('GET', `/api/tasks/${id}`, auditor.token)).status).toBe(200);
    for (const [route, request] of ROUTES.slice(1)) {
      const denied = await request(id, auditor.token);
      expect(denied.status, route).toBe(403);
      expect(JSON.parse(denied.text).code, route).toBe('ACCESS_DENIED');
    }
    expect((await send('GET', `/api/tasks/${id}`, owner.token)).status).toBe(200); // nothing was done to it
  });

  it('lets a user allowed the action act without read, while a GET still answers 404', async () => {
    const id = await createTask(owner.token);
    expect((await send('GET', `/api/tasks/${id}`, dispatcher.token)).status).toBe(404);
    const assigned = await send('PUT', `/api/tasks/${id}/assign`, dispatcher.token, { workerId: 'w-1' });
    expect(assigned.status).toBe(200);
    expect((await send('DELETE', `/api/tasks/${id}`, dispatcher.token)).status).toBe(404);
  });

  it('lets the owner read, assign, complete and delete its task, and then answers 404', async () => {
    const id = await createTask(owner.token);
    expect((await send('GET', `/api/tasks/${id}`, owner.token)).status).toBe(200);
    const assigned = await send('PUT', `/api/tasks/${id}/assign`, owner.token, { workerId: 'w-1' });
    expect(assigned.status).toBe(200);
    const completed = await send('PUT', `/api/tasks/${id}/complete`, owner.token, { lease: JSON.parse(assigned.text).lease, result: { ok: true } });
    expect(completed.status).toBe(200);
    expect((await send('DELETE', `/api/tasks/${id}`, owner.token)).status).toBe(204);
    const gone = await send('GET', `/api/tasks/${id}`, owner.token);
    expect(gone.status).toBe(404);
    expect(JSON.parse(gone.text).code).toBe('NOT_FOUND');
  });

  it('documents the rule in the OpenAPI document: GET lists no 403, the actions keep it', () => {
    const doc = handler.openapi();
    const ops = doc.paths['/api/tasks/{id}'] as Record<string, { responses: Record<string, unknown>; 'x-authorization': string }>;
    expect(Object.keys(ops.get!.responses)).not.toContain('403');
    expect(ops.get!.responses).toHaveProperty('404');
    expect(ops.delete!.responses).toHaveProperty('403');
    for (const op of [ops.get!, ops.delete!]) expect(op['x-authorization']).toContain('404 NOT_FOUND');
  });
});
