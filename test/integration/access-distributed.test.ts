/**
 * Two SDK instances (two access control services, as two processes would run them) on one
 * backend: memory always, PostgreSQL and Redis with the servers the global setup provides.
 *
 * The bound under test (stated in docs/guides/access-control.md): a change committed by one
 * instance is enforced by every other instance
 * - by `checkPermission` for calls starting more than `revalidateIntervalMs` after the commit,
 *   whether or not the announcement arrives;
 * - by `can()` after pub/sub delivery + reload, or, if the announcement is lost, within
 *   `pollIntervalMs` + one reload.
 * The deadlines below are those bounds plus a generous margin for slow CI machines; nothing sleeps.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import pg from 'pg';
import type { Redis } from 'ioredis';
import { createAccessControl, type AccessControl, type AccessControlOptions } from '../../src/security/access/index.js';
import { createMemoryPubSub, createMemoryStorage, MemoryPubSubHub, MemoryStorageState } from '../../src/adapters/memory/index.js';
import { createPostgresPubSub, createPostgresStorage, migratePostgres } from '../../src/adapters/postgres/index.js';
import { createRedisPubSub, createRedisStorage } from '../../src/adapters/redis/index.js';
import type { PubSub } from '../../src/adapters/pubsub.js';
import type { StorageAdapter } from '../../src/adapters/storage.js';
import { waitFor } from '../../src/adapters/testing/support.js';
import { createTestPool, dropSchema, randomSchema } from '../support/postgres-harness.js';
import { closeRedis, connectRedis, deletePrefixKeys, randomPrefix } from '../support/redis-harness.js';
import { skipWithoutServer } from '../support/missing-server.js';

const POLL_MS = 100;
const REVALIDATE_MS = 100;
// Bound + margin: a loaded CI machine may stall the event loop for a while.
const DEADLINE_MS = POLL_MS + 5_000;

/** What one "process" needs: its own storage and pubsub handles on the shared backend. */
interface Backend {
  open(): Promise<{ storage: StorageAdapter; pubsub: PubSub }>;
  teardown(): Promise<void>;
}

/** A pubsub whose deliveries can be dropped, as a lost at-most-once message would be. */
function droppable(inner: PubSub): PubSub & { dropping: boolean } {
  const wrapper = {
    dropping: false,
    init: () => inner.init(),
    publish: (channel: string, message: Parameters<PubSub['publish']>[1]) => inner.publish(channel, message),
    subscribe: (channel: string, handler: Parameters<PubSub['subscribe']>[1]) =>
      inner.subscribe(channel, (message, ch) => (wrapper.dropping ? undefined : handler(message, ch))),
    close: () => inner.close(),
  };
  return wrapper;
}

function memoryBackend(): Backend {
  const state = new MemoryStorageState();
  const hub = new MemoryPubSubHub();
  return {
    open: async () => ({ storage: createMemoryStorage({ state, sweepIntervalMs: 0 }), pubsub: createMemoryPubSub({ hub }) }),
    teardown: async () => undefined,
  };
}

function postgresBackend(url: string): Backend {
  const schema = randomSchema('dfaccess');
  const pools: pg.Pool[] = [];
  const closers: (() => Promise<void>)[] = [];
  let migrated: Promise<unknown> | undefined;
  return {
    async open() {
      const pool = createTestPool(url);
      pools.push(pool);
      await (migrated ??= migratePostgres({ pool, schema }));
      const storage = createPostgresStorage({ pool, schema });
      const pubsub = createPostgresPubSub({ pool, schema });
      closers.push(() => pubsub.close(), () => storage.close());
      return { storage, pubsub };
    },
    async teardown() {
      for (const close of closers.splice(0)) await close().catch(() => undefined);
      await Promise.all(pools.splice(0).map((p) => p.end()));
      await dropSchema(url, schema);
    },
  };
}

function redisBackend(url: string): Backend {
  const prefix = randomPrefix('dfaccess');
  const clients: Redis[] = [];
  const closers: (() => Promise<void>)[] = [];
  return {
    async open() {
      const client = connectRedis(url);
      clients.push(client);
      const storage = createRedisStorage({ client, prefix });
      const pubsub = createRedisPubSub({ client, prefix });
      closers.push(() => pubsub.close(), () => storage.close());
      return { storage, pubsub };
    },
    async teardown() {
      for (const close of closers.splice(0)) await close().catch(() => undefined);
      await Promise.all(clients.splice(0).map(closeRedis));
      await deletePrefixKeys(url, prefix);
    },
  };
}

function describeDistributed(name: string, makeBackend: () => Backend): void {
  describe(`access control across two instances: ${name}`, () => {
    let backend: Backend;
    const services: AccessControl[] = [];
    beforeAll(() => {
      backend = makeBackend();
    });
    afterAll(async () => {
      await Promise.all(services.splice(0).map((s) => s.close()));
      await backend.teardown();
    });

    async function instance(over: Partial<AccessControlOptions> = {}, namespace = 'rbac'): Promise<{ ac: AccessControl; pubsub: PubSub & { dropping: boolean } }> {
      const { storage, pubsub } = await backend.open();
      const wrapped = droppable(pubsub);
      const ac = await createAccessControl({ storage, pubsub: wrapped, namespace, channel: `rbac.${namespace}`, revalidateIntervalMs: REVALIDATE_MS, pollIntervalMs: POLL_MS, ...over });
      services.push(ac);
      return { ac, pubsub: wrapped };
    }

    it('enforces a revoke made in one instance in the other within the bound', async () => {
      const ns = 'revoke';
      const { ac: a } = await instance({}, ns);
      const { ac: b } = await instance({}, ns);
      await a.defineRole({ name: 'viewer' });
      const { ruleId } = await a.grant({ role: 'viewer', action: 'read', resource: 'tasks' });
      await a.bindUser({ tenant: 'acme', user: 'ada', role: 'viewer' });
      await waitFor(() => b.can('ada', 'tenants/acme/tasks/1', 'read'), { timeoutMs: DEADLINE_MS, what: 'b to see the grant' });
      const { revision } = await a.revoke({ role: 'viewer', id: ruleId! });
      await waitFor(() => !b.can('ada', 'tenants/acme/tasks/1', 'read'), { timeoutMs: DEADLINE_MS, what: 'b to enforce the revoke' });
      expect(b.loadedRevision).toBe(revision);
      expect(b.explain('ada', 'tenants/acme/tasks/1', 'read').reason).toBe('no-matching-rule');
    });

    it('detects a stale index when the announcement is lost, and the revision check repairs it', async () => {
      const ns = 'lost';
      const { ac: a } = await instance({}, ns);
      // b: no background poll, and it will lose the announcement.
      const { ac: b, pubsub } = await instance({ pollIntervalMs: 0 }, ns);
      await a.defineRole({ name: 'viewer' });
      const { ruleId } = await a.grant({ role: 'viewer', action: 'read', resource: 'tasks' });
      await a.bindUser({ tenant: 'acme', user: 'ada', role: 'viewer' });
      await waitFor(() => b.checkPermission('ada', 'tenants/acme/tasks/1', 'read'), { timeoutMs: DEADLINE_MS, what: 'b to see the grant' });
      pubsub.dropping = true;
      const { revision } = await a.revoke({ role: 'viewer', id: ruleId! });
      // The synchronous path still answers from the old snapshot: stale, and visibly so by revision.
      expect(b.can('ada', 'tenants/acme/tasks/1', 'read')).toBe(true);
      expect(b.loadedRevision).toBeLessThan(revision);
      // The revision check catches it: checkPermission re-verifies once the snapshot is older than revalidateIntervalMs.
      await waitFor(async () => !(await b.checkPermission('ada', 'tenants/acme/tasks/1', 'read')), { timeoutMs: REVALIDATE_MS + DEADLINE_MS, what: 'checkPermission to re-verify' });
      expect(b.loadedRevision).toBe(revision);
      expect(b.can('ada', 'tenants/acme/tasks/1', 'read')).toBe(false);
    });

    it('background polling repairs a lost announcement for can() within pollIntervalMs', async () => {
      const ns = 'poll';
      const { ac: a } = await instance({}, ns);
      const { ac: b, pubsub } = await instance({}, ns);
      await a.defineRole({ name: 'viewer' });
      await a.bindUser({ tenant: 'acme', user: 'ada', role: 'viewer' });
      const { ruleId } = await a.grant({ role: 'viewer', action: 'read', resource: 'tasks' });
      await waitFor(() => b.can('ada', 'tenants/acme/tasks/1', 'read'), { timeoutMs: DEADLINE_MS, what: 'b to see the grant' });
      pubsub.dropping = true;
      await a.revoke({ role: 'viewer', id: ruleId! });
      await waitFor(() => !b.can('ada', 'tenants/acme/tasks/1', 'read'), { timeoutMs: DEADLINE_MS, what: 'the background poll to catch the revoke' });
    });

    it('serialises concurrent administrators: no lost update, no cycle', async () => {
      const ns = 'concurrent';
      const { ac: a } = await instance({}, ns);
      const { ac: b } = await instance({}, ns);
      await a.defineRole({ name: 'x' });
      await a.defineRole({ name: 'y' });
      await b.revalidate();
      const grants = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).grant({ role: 'x', action: 'read', resource: `tasks/${i}` })));
      expect(new Set(grants.map((g) => g.revision)).size).toBe(12);
      const outcomes = await Promise.allSettled([a.defineRole({ name: 'x', inherits: ['y'] }), b.defineRole({ name: 'y', inherits: ['x'] })]);
      const rejected = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
      expect(rejected.map((r) => (r.reason as { code?: string }).code)).toEqual(['ACCESS_ROLE_CYCLE']);
      await a.revalidate();
      expect(a.listGrants({ role: 'x' })).toHaveLength(12);
    });

    it('deletes a role holding more rules than one transaction carries; the other instance drops it', async () => {
      const ns = 'delete';
      const { ac: a } = await instance({}, ns);
      const { ac: b } = await instance({}, ns);
      await a.defineRole({ name: 'big' });
      for (let i = 0; i < 130; i++) await a.grant({ role: 'big', action: 'read', resource: `tasks/${i}` });
      await a.bindUser({ tenant: 'acme', user: 'ada', role: 'big' });
      await waitFor(() => b.can('ada', 'tenants/acme/tasks/129', 'read'), { timeoutMs: DEADLINE_MS, what: 'b to see the grants' });
      await a.deleteRole({ name: 'big' });
      await waitFor(() => !b.can('ada', 'tenants/acme/tasks/129', 'read') && !b.can('ada', 'tenants/acme/tasks/0', 'read'), { timeoutMs: DEADLINE_MS, what: 'b to drop the role' });
      // Defined again, the role starts empty everywhere, even though some of its old documents were collected after the delete.
      await b.defineRole({ name: 'big' });
      await waitFor(() => a.listRoles().some((r) => r.name === 'big'), { timeoutMs: DEADLINE_MS, what: 'a to see the new role' });
      expect(a.listGrants({ role: 'big' })).toEqual([]);
      expect(a.listBindings({ tenant: 'acme' })).toEqual([]);
    });

    it('shares templates: a template defined in one instance is bindable and enforced in the other', async () => {
      const ns = 'templates';
      const { ac: a } = await instance({}, ns);
      const { ac: b } = await instance({}, ns);
      await a.defineRole({ name: 'editor' });
      await a.grant({ role: 'editor', action: 'update', resource: 'projects/42/**' });
      await b.bindUser({ tenant: 'globex', user: 'bob', role: 'editor' });
      // Another instance's write is visible here within the bound, not instantly (see revalidateIntervalMs: 0 for that).
      await waitFor(() => a.checkPermission('bob', 'tenants/globex/projects/42/tasks/7', 'update'), { timeoutMs: DEADLINE_MS, what: 'a to see the binding' });
      expect(await a.checkPermission('bob', 'tenants/acme/projects/42/tasks/7', 'update')).toBe(false);
      expect(await a.checkPermission('bob', 'tenants/globex/projects/420/tasks/7', 'update')).toBe(false);
    });
  });
}

describeDistributed('memory', memoryBackend);

const databaseUrl = inject('databaseUrl');
if (databaseUrl === '') {
  skipWithoutServer('access control across two instances: postgres', 'PostgreSQL server');
} else {
  describeDistributed('postgres', () => postgresBackend(databaseUrl));
}

const redisUrl = inject('redisUrl');
if (redisUrl === '') {
  skipWithoutServer('access control across two instances: redis', 'Redis server');
} else {
  describeDistributed('redis', () => redisBackend(redisUrl));
}
