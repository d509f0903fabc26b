/**
 * The end-to-end suite of the HTTP API and the WebSocket stream, run once per deployment: a
 * memory server, and two PostgreSQL + Redis servers sharing their backends (requests alternate
 * between `a` and `b`, so every cross-process path — tokens, cache invalidation, events — is hit).
 */
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Wallet } from 'ethers';
import { buildSiweMessage, totp, base32Decode } from '../../src/identity/index.js';
import { call, connectWs, login, newUser } from './support.js';

/** What a deployment under test offers. */
export interface Deployment {
  /** Base URL of the first server. */
  readonly a: string;
  /** Base URL of the second server (the same as `a` for a single process). */
  readonly b: string;
  /** The platform administrator. */
  readonly admin: { readonly email: string; readonly password: string };
  stop(): Promise<void>;
}

/** Settings every deployment starts its servers with. */
export const SUITE_ENV = {
  FABRICA_RATE_LIMIT: '100000/1000',
  FABRICA_MAX_BODY_BYTES: '65536',
  FABRICA_CORS_ORIGINS: 'https://app.example',
  FABRICA_ADMIN_EMAIL: 'root@example.com',
  FABRICA_ADMIN_PASSWORD: 'root password for tests',
  FABRICA_SECRET: 'e2e-secret',
} as const;

const SPEC_PATHS = [
  'post /api/users',
  'get /api/users/{id}',
  'put /api/users/{id}',
  'delete /api/users/{id}',
  'post /api/resources/allocate',
  'get /api/resources/monitor',
  'put /api/resources/optimize',
  'post /api/tasks',
  'put /api/tasks/{id}/assign',
  'put /api/tasks/{id}/complete',
  'delete /api/tasks/{id}',
  'get /api/tasks/{id}',
  'get /api/tasks',
];

/** Registers the suite for one deployment. */
export function describeApi(name: string, deploy: () => Promise<Deployment>): void {
  describe(`HTTP API end to end (${name})`, () => {
    let d: Deployment;
    let adminToken: string;
    beforeAll(async () => {
      d = await deploy();
      adminToken = await login(d.a, d.admin.email, d.admin.password);
    }, 60_000);
    afterAll(async () => {
      await d?.stop();
    });

    describe('system routes', () => {
      it('answers health, the JWKS and an OpenAPI 3.1 document naming every spec endpoint', async () => {
        expect((await call(d.a, 'GET', '/api/health')).body.status).toBe('ok');
        const jwks = await call(d.b, 'GET', '/.well-known/jwks.json');
        expect(jwks.status).toBe(200);
        expect(jwks.body.keys.length).toBeGreaterThan(0);
        expect(JSON.stringify(jwks.body)).not.toMatch(/"d"\s*:/); // public keys only
        const doc = await call(d.a, 'GET', '/api/openapi.json');
        expect(doc.body.openapi).toBe('3.1.0');
        const ops = Object.entries(doc.body.paths as Record<string, Record<string, unknown>>).flatMap(([p, m]) => Object.keys(m).map((k) => `${k} ${p}`));
        for (const op of SPEC_PATHS) expect(ops).toContain(op);
        expect(doc.body.paths['/api/tasks'].post.requestBody.content['application/json'].schema.properties.type).toBeDefined();
      });
    });

    describe('errors', () => {
      it('renders problem+json with the code and no stack for unknown routes, wrong methods and missing tokens', async () => {
        const unknown = await call(d.a, 'GET', '/api/nope');
        expect(unknown.status).toBe(404);
        expect(unknown.headers.get('content-type')).toBe('application/problem+json');
        expect(unknown.body).toMatchObject({ code: 'NOT_FOUND', status: 404, type: 'urn:digital-fabrica:error:NOT_FOUND' });
        expect(JSON.stringify(unknown.body)).not.toMatch(/at .*\.ts|stack/);
        const method = await call(d.a, 'PATCH', '/api/tasks');
        expect(method.status).toBe(405);
        expect(method.headers.get('allow')).toContain('POST');
        const anonymous = await call(d.a, 'GET', '/api/tasks/x');
        expect(anonymous.status).toBe(401);
        expect(anonymous.body.code).toBe('AUTH_REQUIRED');
        expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
      });

      it('refuses forged, malformed and wrongly-scheme tokens with 401 AUTH_TOKEN_INVALID', async () => {
        for (const header of ['Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.', 'Bearer not-a-token', 'Basic dXNlcjpwdw==']) {
          const res = await call(d.a, 'GET', '/api/resources/monitor', { headers: { authorization: header } });
          expect(res.status, header).toBe(401);
          expect(res.body.code).toBe('AUTH_TOKEN_INVALID');
        }
      });

      it('answers malformed JSON with 400, wrong content types with 415 and oversized bodies with 413', async () => {
        const user = await newUser(d.a, 'errors');
        const malformed = await call(d.a, 'POST', '/api/tasks', { token: user.token, raw: '{"type": "job",', headers: { 'content-type': 'application/json' } });
        expect(malformed.status).toBe(400);
        expect(malformed.body.code).toBe('VALIDATION_FAILED');
        const text = await call(d.a, 'POST', '/api/tasks', { token: user.token, raw: 'type=job', headers: { 'content-type': 'text/plain' } });
        expect(text.status).toBe(415);
        expect(text.body.code).toBe('UNSUPPORTED_MEDIA_TYPE');
        const big = JSON.stringify({ type: 'job', payload: 'x'.repeat(70_000) });
        const tooLarge = await call(d.a, 'POST', '/api/tasks', { token: user.token, raw: big, headers: { 'content-type': 'application/json' } });
        expect(tooLarge.status).toBe(413);
        expect(tooLarge.body.code).toBe('PAYLOAD_TOO_LARGE');
        const invalid = await call(d.a, 'POST', '/api/tasks', { token: user.token, body: { type: 'job', payload: 1, priority: 'high' } });
        expect(invalid.status).toBe(400);
        expect(invalid.body.issues[0].path).toEqual(['priority']);
        const unknownField = await call(d.a, 'POST', '/api/users', { body: { email: 'x@example.com', displayName: 'X', password: 'long enough pw', admin: true } });
        expect(unknownField.status).toBe(400);
      });

      it('answers CORS preflights for allowed origins only', async () => {
        const ok = await call(d.a, 'OPTIONS', '/api/tasks', { headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } });
        expect(ok.status).toBe(204);
        expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example');
        expect(ok.headers.get('access-control-allow-methods')).toContain('POST');
        const other = await call(d.a, 'OPTIONS', '/api/tasks', { headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
        expect(other.headers.get('access-control-allow-origin')).toBeNull();
        const actual = await call(d.a, 'GET', '/api/health', { headers: { origin: 'https://app.example' } });
        expect(actual.headers.get('access-control-allow-origin')).toBe('https://app.example');
        expect(actual.headers.get('access-control-expose-headers')).toContain('ratelimit');
      });
    });

    describe('users and authentication', () => {
      it('creates, reads (ETag, 304, cache), updates (invalidating) and deletes a user, across both servers', async () => {
        const ada = await newUser(d.a, 'ada', d.b);
        const first = await call(d.b, 'GET', `/api/users/${ada.id}`, { token: ada.token });
        expect(first.status).toBe(200);
        expect(first.body).toMatchObject({ id: ada.id, email: ada.email, tier: 1 });
        expect(first.body.passwordHash).toBeUndefined();
        const etag = first.headers.get('etag')!;
        expect(etag).toMatch(/^W\/"/);
        const again = await call(d.a, 'GET', `/api/users/${ada.id}`, { token: ada.token });
        expect(again.headers.get('cache-status')).toBe('fabrica; hit');
        const notModified = await call(d.a, 'GET', `/api/users/${ada.id}`, { token: ada.token, headers: { 'if-none-match': etag } });
        expect(notModified.status).toBe(304);
        const renamed = await call(d.a, 'PUT', `/api/users/${ada.id}`, { token: ada.token, body: { displayName: 'Ada L.' } });
        expect(renamed.body.displayName).toBe('Ada L.');
        const fresh = await call(d.b, 'GET', `/api/users/${ada.id}`, { token: ada.token, headers: { 'if-none-match': etag } });
        expect(fresh.status).toBe(200);
        expect(fresh.body.displayName).toBe('Ada L.');
        const promote = await call(d.a, 'PUT', `/api/users/${ada.id}`, { token: ada.token, body: { tier: 5 } });
        expect(promote.status).toBe(403);
        expect(promote.body.code).toBe('ACCESS_DENIED');
        expect(promote.body.details).toBeUndefined(); // no policy internals for clients
        const byAdmin = await call(d.b, 'PUT', `/api/users/${ada.id}`, { token: adminToken, body: { tier: 3 } });
        expect(byAdmin.body.tier).toBe(3);
        const deleted = await call(d.a, 'DELETE', `/api/users/${ada.id}`, { token: ada.token });
        expect(deleted.status).toBe(204);
        const after = await call(d.b, 'GET', `/api/users/${ada.id}`, { token: ada.token });
        expect(after.status).toBe(401); // the user is gone, so are its sessions
      });

      it("forbids reading another user's profile", async () => {
        const [bob, eve] = await Promise.all([newUser(d.a, 'bob'), newUser(d.a, 'eve')]);
        const res = await call(d.a, 'GET', `/api/users/${bob.id}`, { token: eve.token });
        expect(res.status).toBe(403);
        expect(res.body.code).toBe('ACCESS_DENIED');
        const signupWithTier = await call(d.a, 'POST', '/api/users', { body: { email: 'tier@example.com', displayName: 'T', password: 'long enough pw', tier: 9 } });
        expect(signupWithTier.status).toBe(401);
      });

      it('logs in, refuses wrong passwords, rotates refresh tokens, detects reuse and logs out', async () => {
        const carol = await newUser(d.a, 'carol');
        const wrong = await call(d.a, 'POST', '/api/auth/login', { body: { email: carol.email, password: 'wrong password!' } });
        expect(wrong.status).toBe(401);
        expect(wrong.body.code).toBe('AUTH_INVALID_CREDENTIALS');
        const refreshed = await call(d.b, 'POST', '/api/auth/refresh', { body: { refreshToken: carol.refreshToken } });
        expect(refreshed.status).toBe(200);
        expect(refreshed.headers.get('cache-control')).toBe('no-store');
        expect(refreshed.body.refreshToken).not.toBe(carol.refreshToken);
        const reused = await call(d.a, 'POST', '/api/auth/refresh', { body: { refreshToken: carol.refreshToken } });
        expect(reused.status).toBe(401);
        expect(reused.body.code).toBe('AUTH_TOKEN_REUSED');
        const token = await login(d.a, carol.email, carol.password);
        expect((await call(d.a, 'POST', '/api/auth/logout', { token })).status).toBe(204);
        const afterLogout = await call(d.b, 'GET', `/api/users/${carol.id}`, { token });
        expect(afterLogout.status).toBe(401);
      });

      it('enrols TOTP and then requires the second step at login', async () => {
        const dan = await newUser(d.a, 'dan');
        const enroll = await call(d.a, 'POST', '/api/auth/mfa/enroll', { token: dan.token });
        expect(enroll.status).toBe(200);
        const code = totp(base32Decode(enroll.body.secret)!, Date.now());
        const confirm = await call(d.b, 'POST', '/api/auth/mfa/confirm', { token: dan.token, body: { code } });
        expect(confirm.status).toBe(200);
        expect(confirm.body.recoveryCodes.length).toBeGreaterThan(0);
        const first = await call(d.a, 'POST', '/api/auth/login', { body: { email: dan.email, password: dan.password } });
        expect(first.body.status).toBe('mfa_required');
        expect(first.body.accessToken).toBeUndefined();
        const bad = await call(d.b, 'POST', '/api/auth/mfa', { body: { mfaToken: first.body.mfaToken, recoveryCode: 'not-a-code' } });
        expect(bad.status).toBe(401);
        const second = await call(d.b, 'POST', '/api/auth/mfa', { body: { mfaToken: first.body.mfaToken, recoveryCode: confirm.body.recoveryCodes[0] } });
        expect(second.status).toBe(200);
        expect(second.body.status).toBe('authenticated');
        expect((await call(d.a, 'GET', `/api/users/${dan.id}`, { token: second.body.accessToken })).status).toBe(200);
      });

      it('signs in with Ethereum: nonce, then a signed EIP-4361 message', async () => {
        const nonce = await call(d.a, 'GET', '/api/auth/siwe/nonce');
        expect(nonce.status).toBe(200);
        const wallet = Wallet.createRandom();
        const message = buildSiweMessage({
          scheme: 'https',
          domain: 'fabrica.example',
          address: wallet.address,
          statement: 'Sign in to Fabrica',
          uri: 'https://fabrica.example',
          version: '1',
          chainId: 1,
          nonce: nonce.body.nonce,
          issuedAt: new Date().toISOString(),
        });
        const signature = await wallet.signMessage(message);
        const forged = await call(d.b, 'POST', '/api/auth/siwe/verify', { body: { message: message.replace('Sign in', 'Sign In'), signature } });
        expect(forged.status).toBe(401);
        expect(forged.body.code).toBe('AUTH_SIWE_INVALID');
        const nonce2 = await call(d.a, 'GET', '/api/auth/siwe/nonce');
        const message2 = message.replace(nonce.body.nonce, nonce2.body.nonce);
        const ok = await call(d.b, 'POST', '/api/auth/siwe/verify', { body: { message: message2, signature: await wallet.signMessage(message2) } });
        expect(ok.status).toBe(200);
        expect(ok.body.status).toBe('authenticated');
      });
    });

    describe('tasks', () => {
      it('creates, reads, assigns, completes and deletes a task; the owner only, others are told it does not exist', async () => {
        const [owner, other] = await Promise.all([newUser(d.a, 'owner'), newUser(d.a, 'other')]);
        const created = await call(d.a, 'POST', '/api/tasks', { token: owner.token, body: { type: 'job', payload: { n: 1 }, band: 'high' } });
        expect(created.status).toBe(201);
        const id = created.body.task.taskId as string;
        expect(created.headers.get('location')).toBe(`/api/tasks/${id}`);
        const read = await call(d.b, 'GET', `/api/tasks/${id}`, { token: owner.token });
        expect(read.body).toMatchObject({ id, state: 'queued', ownerId: owner.id, band: 'high' });
        expect((await call(d.a, 'GET', `/api/tasks/${id}`, { token: owner.token })).headers.get('cache-status')).toBe('fabrica; hit');
        // Another user may not read it: answered exactly like an unknown id (re-authorised although cached).
        const hidden = await call(d.b, 'GET', `/api/tasks/${id}`, { token: other.token, headers: { 'x-request-id': 'probe' } });
        const unknownId = '01890000-0000-7000-8000-000000000000';
        const unknown = await call(d.b, 'GET', `/api/tasks/${unknownId}`, { token: other.token, headers: { 'x-request-id': 'probe' } });
        expect(hidden.status).toBe(404);
        expect(hidden.headers.get('cache-status')).toBe(unknown.headers.get('cache-status'));
        expect(JSON.stringify(hidden.body).replaceAll(id, '<id>')).toBe(JSON.stringify(unknown.body).replaceAll(unknownId, '<id>'));
        expect((await call(d.a, 'PUT', `/api/tasks/${id}/assign`, { token: other.token, body: { workerId: 'w-evil' } })).status).toBe(404);
        const assigned = await call(d.a, 'PUT', `/api/tasks/${id}/assign`, { token: owner.token, body: { workerId: 'w-1', leaseMs: 60_000 } });
        expect(assigned.status).toBe(200);
        expect(assigned.body.update.state).toBe('assigned');
        const stale = { ...assigned.body.lease, token: 'not-the-token' };
        expect((await call(d.b, 'PUT', `/api/tasks/${id}/complete`, { token: owner.token, body: { lease: stale } })).body.code).toBe('TASK_LEASE_LOST');
        const done = await call(d.b, 'PUT', `/api/tasks/${id}/complete`, { token: owner.token, body: { lease: assigned.body.lease, result: { ok: true } } });
        expect(done.status).toBe(200);
        expect(done.body.state).toBe('completed');
        const after = await call(d.a, 'GET', `/api/tasks/${id}`, { token: owner.token });
        expect(after.body).toMatchObject({ state: 'completed', result: { ok: true } });
        expect((await call(d.a, 'DELETE', `/api/tasks/${id}`, { token: other.token })).status).toBe(404);
        expect((await call(d.a, 'DELETE', `/api/tasks/${id}`, { token: owner.token })).status).toBe(204);
        expect((await call(d.b, 'GET', `/api/tasks/${id}`, { token: owner.token })).status).toBe(404);
      });

      it('deduplicates by idempotency key and rejects unknown task types', async () => {
        const user = await newUser(d.a, 'idem');
        const body = { type: 'job', payload: {}, idempotencyKey: 'once' };
        const first = await call(d.a, 'POST', '/api/tasks', { token: user.token, body });
        const second = await call(d.b, 'POST', '/api/tasks', { token: user.token, body });
        expect([first.status, second.status]).toEqual([201, 200]);
        expect(second.body).toMatchObject({ created: false, task: { taskId: first.body.task.taskId } });
        const unknown = await call(d.a, 'POST', '/api/tasks', { token: user.token, body: { type: 'nope', payload: {} } });
        expect(unknown.status).toBe(400);
        const otherTenant = await call(d.a, 'POST', '/api/tasks', { token: user.token, body: { type: 'job', payload: {}, tenantId: 'globex' } });
        expect(otherTenant.status).toBe(403);
      });

      it('lists only readable tasks, with filters and cursor pagination', async () => {
        const [lister, stranger] = await Promise.all([newUser(d.a, 'lister'), newUser(d.a, 'stranger')]);
        const ids: string[] = [];
        for (let i = 0; i < 3; i++) ids.push((await call(d.a, 'POST', '/api/tasks', { token: lister.token, body: { type: 'job', payload: { i } } })).body.task.taskId);
        await call(d.a, 'POST', '/api/tasks', { token: stranger.token, body: { type: 'job', payload: {} } });
        const assigned = await call(d.a, 'PUT', `/api/tasks/${ids[1]}/assign`, { token: lister.token, body: { workerId: 'w' } });
        expect(assigned.status).toBe(200);
        const seen: string[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const q: string = `/api/tasks?owner=${lister.id}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
          const page: any = await call(d.b, 'GET', q, { token: lister.token });
          expect(page.status).toBe(200);
          seen.push(...page.body.items.map((t: { id: string }) => t.id));
          cursor = page.body.nextCursor;
          pages++;
        } while (cursor !== null && pages < 20);
        expect(seen).toEqual(ids);
        const mine = await call(d.a, 'GET', '/api/tasks?limit=100', { token: lister.token });
        expect(mine.body.items.every((t: { ownerId: string }) => t.ownerId === lister.id)).toBe(true);
        const byState = await call(d.a, 'GET', `/api/tasks?state=assigned&owner=${lister.id}`, { token: lister.token });
        expect(byState.body.items.map((t: { id: string }) => t.id)).toEqual([ids[1]]);
        expect((await call(d.a, 'GET', '/api/tasks?limit=0', { token: lister.token })).status).toBe(400);
        expect((await call(d.a, 'GET', '/api/tasks?state=x&state=y', { token: lister.token })).status).toBe(400);
      });
    });

    describe('resources', () => {
      it("allocates against the caller's quota, monitors usage, and lets only admins optimise", async () => {
        const user = await newUser(d.a, 'res');
        const reservation = await call(d.a, 'POST', '/api/resources/allocate', { token: user.token, body: { compute: 400, storage: 1024, leaseMs: 60_000 } });
        expect(reservation.status).toBe(201);
        expect(reservation.body.amounts).toEqual({ compute: 400, storage: 1024, network: 0 });
        const monitor = await call(d.b, 'GET', '/api/resources/monitor', { token: user.token });
        expect(monitor.body.usage.compute).toBe(400);
        expect(monitor.body.system).toBeUndefined();
        const tooMuch = await call(d.a, 'POST', '/api/resources/allocate', { token: user.token, body: { compute: 10_000_000 } });
        expect(tooMuch.status).toBe(429);
        expect(tooMuch.body.code).toBe('QUOTA_EXCEEDED');
        const spy = await call(d.a, 'GET', `/api/resources/monitor?userId=${user.id}`, { token: (await newUser(d.a, 'spy')).token });
        expect(spy.status).toBe(403);
        const adminView = await call(d.a, 'GET', `/api/resources/monitor?userId=${user.id}`, { token: adminToken });
        expect(adminView.status).toBe(200);
        expect(adminView.body.system).toBeDefined();
        const input = { system: { cpuUsage: 0.95 }, users: [{ userId: user.id, reliability: 0.999, utilization: 0.95 }] };
        expect((await call(d.a, 'PUT', '/api/resources/optimize', { token: user.token, body: input })).status).toBe(403);
        const optimised = await call(d.b, 'PUT', '/api/resources/optimize', { token: adminToken, body: input });
        expect(optimised.status).toBe(200);
        expect(optimised.body.applied).toBe(false);
        expect(Array.isArray(optimised.body.adjustments)).toBe(true);
      });
    });

    describe('compression', () => {
      it('compresses large responses with br or gzip by Accept-Encoding, and leaves small ones alone', async () => {
        const br = await fetch(`${d.a}/api/openapi.json`, { headers: { 'accept-encoding': 'br' } });
        expect(br.headers.get('content-encoding')).toBe('br');
        expect(br.headers.get('vary')).toContain('Accept-Encoding');
        // fetch decodes transparently; decode the raw bytes ourselves through node:http instead.
        const raw = async (encoding: string): Promise<{ headers: Record<string, string | string[] | undefined>; body: Buffer }> => {
          const { request } = await import('node:http');
          return new Promise((resolve, reject) => {
            request(`${d.a}/api/openapi.json`, { headers: { 'accept-encoding': encoding } }, (res) => {
              const chunks: Buffer[] = [];
              res.on('data', (c: Buffer) => chunks.push(c));
              res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
            })
              .on('error', reject)
              .end();
          });
        };
        const gz = await raw('gzip;q=1, br;q=0.5');
        expect(gz.headers['content-encoding']).toBe('gzip');
        const plain = JSON.parse(gunzipSync(gz.body).toString());
        expect(plain.openapi).toBe('3.1.0');
        const b = await raw('br');
        expect(JSON.parse(brotliDecompressSync(b.body).toString())).toEqual(plain);
        const none = await raw('identity');
        expect(none.headers['content-encoding']).toBeUndefined();
        const small = await raw('gzip');
        expect(small.headers['content-encoding']).toBe('gzip');
        const health = await fetch(`${d.a}/api/health`, { headers: { 'accept-encoding': 'gzip' } });
        expect(health.headers.get('content-encoding')).toBeNull();
      });
    });

    describe('WebSocket events', () => {
      it('refuses connections without a valid token', async () => {
        await expect(connectWs(d.b, undefined)).rejects.toMatchObject({ status: 401 });
        await expect(connectWs(d.b, 'forged.token.value')).rejects.toMatchObject({ status: 401 });
      });

      it("streams a task's lifecycle to its owner (on the other server) and nothing of it to others", async () => {
        const [alice, mallory] = await Promise.all([newUser(d.a, 'alice'), newUser(d.a, 'mallory')]);
        const aliceWs = await connectWs(d.b, alice.token);
        const malloryWs = await connectWs(d.b, mallory.token);
        try {
          aliceWs.send({ type: 'subscribe', id: 'tasks', events: ['task:*'] });
          malloryWs.send({ type: 'subscribe', id: 'everything', events: ['*'] });
          await aliceWs.next((m) => m.type === 'subscribed');
          await malloryWs.next((m) => m.type === 'subscribed');
          const id = (await call(d.a, 'POST', '/api/tasks', { token: alice.token, body: { type: 'job', payload: { secret: 'alice' } } })).body.task.taskId;
          const lease = (await call(d.a, 'PUT', `/api/tasks/${id}/assign`, { token: alice.token, body: { workerId: 'w' } })).body.lease;
          await call(d.a, 'PUT', `/api/tasks/${id}/complete`, { token: alice.token, body: { lease } });
          const done = await aliceWs.next((m) => m.type === 'event' && m.event === 'task:completed' && m.data.taskId === id);
          expect(done).toMatchObject({ subscription: 'tasks', resource: `tenants/default/tasks/${id}` });
          const created = aliceWs.messages.find((m) => m.event === 'task:created' && m.data.taskId === id);
          expect(created).toBeDefined();
          // Events reach each client in order: once Mallory sees her own task, Alice's would have come first.
          const own = (await call(d.a, 'POST', '/api/tasks', { token: mallory.token, body: { type: 'job', payload: {} } })).body.task.taskId;
          await malloryWs.next((m) => m.type === 'event' && m.data.taskId === own);
          expect(malloryWs.messages.some((m) => m.type === 'event' && m.data.taskId === id)).toBe(false);
        } finally {
          aliceWs.close();
          malloryWs.close();
        }
      });

      it('filters subscriptions by resource and answers malformed messages with an error', async () => {
        const user = await newUser(d.a, 'filter');
        const ws = await connectWs(d.a, user.token);
        try {
          const first = (await call(d.b, 'POST', '/api/tasks', { token: user.token, body: { type: 'job', payload: {} } })).body.task.taskId;
          ws.send({ type: 'subscribe', id: 'one', events: ['task:updated', 'task:completed'], resource: `tenants/default/tasks/${first}` });
          ws.send({ type: 'subscribe', bad: true });
          await ws.next((m) => m.type === 'error' && m.code === 'VALIDATION_FAILED');
          await ws.next((m) => m.type === 'subscribed' && m.id === 'one');
          const second = (await call(d.b, 'POST', '/api/tasks', { token: user.token, body: { type: 'job', payload: {} } })).body.task.taskId;
          await call(d.b, 'PUT', `/api/tasks/${second}/assign`, { token: user.token, body: { workerId: 'w' } });
          await call(d.b, 'PUT', `/api/tasks/${first}/assign`, { token: user.token, body: { workerId: 'w' } });
          await ws.next((m) => m.type === 'event' && m.data.taskId === first && m.event === 'task:updated');
          expect(ws.messages.some((m) => m.type === 'event' && m.data.taskId === second)).toBe(false);
          ws.send({ type: 'ping' });
          await ws.next((m) => m.type === 'pong');
        } finally {
          ws.close();
        }
      });
    });
  });
}
