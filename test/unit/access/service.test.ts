import { afterEach, describe, expect, it } from 'vitest';
import { createAccessControl, type AccessControl, type AccessControlOptions } from '../../../src/security/access/index.js';
import { createMemoryPubSub, createMemoryStorage, MemoryPubSubHub, MemoryStorageState } from '../../../src/adapters/memory/index.js';
import type { StorageAdapter } from '../../../src/adapters/storage.js';
import { ManualClock } from '../../../src/core/clock.js';
import { AdapterUnavailableError } from '../../../src/core/errors.js';
import { FabricaEventBus, type SystemAlertEvent } from '../../../src/core/events.js';
import { caught, waitFor } from '../../../src/adapters/testing/support.js';

const open: AccessControl[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((a) => a.close()));
});

/** Storage that can be made unreachable, as a network partition would. */
function flaky(inner: StorageAdapter): StorageAdapter & { down: boolean } {
  const target = { down: false };
  return new Proxy(inner as StorageAdapter & { down: boolean }, {
    get(obj, prop, receiver) {
      if (prop === 'down') return target.down;
      const value = Reflect.get(obj, prop, receiver) as unknown;
      if (typeof value !== 'function' || prop === 'close') return value;
      return (...args: unknown[]) => {
        if (target.down) return Promise.reject(new AdapterUnavailableError('partitioned'));
        return (value as (...a: unknown[]) => unknown).apply(obj, args);
      };
    },
    set(_obj, prop, value) {
      if (prop !== 'down') return false;
      target.down = value as boolean;
      return true;
    },
  });
}

function cluster(clock = new ManualClock(1_000_000)) {
  const state = new MemoryStorageState();
  const hub = new MemoryPubSubHub();
  const make = async (over: Partial<AccessControlOptions> = {}) => {
    const ac = await createAccessControl({
      storage: createMemoryStorage({ state, sweepIntervalMs: 0 }),
      pubsub: createMemoryPubSub({ hub }),
      clock,
      pollIntervalMs: 0,
      ...over,
    });
    open.push(ac);
    return ac;
  };
  return { state, hub, clock, make };
}

async function seed(ac: AccessControl): Promise<string> {
  await ac.defineRole({ name: 'viewer' });
  const { ruleId } = await ac.grant({ role: 'viewer', action: 'read', resource: 'tasks' });
  await ac.bindUser({ tenant: 'acme', user: 'ada', role: 'viewer' });
  return ruleId!;
}

describe('createAccessControl (memory backend)', () => {
  it('loads the stored policy on start and answers checks', async () => {
    const c = cluster();
    const a = await c.make();
    await seed(a);
    const b = await c.make();
    expect(b.loadedRevision).toBe(a.loadedRevision);
    expect(await b.checkPermission('ada', 'tenants/acme/tasks/1', 'read')).toBe(true);
    expect(b.can('ada', 'tenants/acme/tasks/1', 'update')).toBe(false);
    expect(b.listRoles()).toEqual([{ tenant: null, name: 'viewer', inherits: [] }]);
  });

  it('checkPermission with revalidateIntervalMs 0 enforces a revoke made elsewhere, without any announcement', async () => {
    const c = cluster();
    const a = await c.make();
    const ruleId = await seed(a);
    // b hears nothing: its pubsub is on a hub of its own.
    const b = await c.make({ pubsub: createMemoryPubSub(), revalidateIntervalMs: 0 });
    expect(await b.checkPermission('ada', 'tenants/acme/tasks/1', 'read')).toBe(true);
    const { revision } = await a.revoke({ role: 'viewer', id: ruleId });
    expect(b.can('ada', 'tenants/acme/tasks/1', 'read')).toBe(true); // sync path: still the old snapshot
    expect(await b.checkPermission('ada', 'tenants/acme/tasks/1', 'read')).toBe(false);
    expect(b.loadedRevision).toBe(revision);
  });

  it('checkPermission re-verifies once its snapshot is older than revalidateIntervalMs', async () => {
    const c = cluster();
    const a = await c.make();
    const ruleId = await seed(a);
    const b = await c.make({ pubsub: createMemoryPubSub(), revalidateIntervalMs: 500 });
    await a.revoke({ role: 'viewer', id: ruleId });
    expect(await b.checkPermission('ada', 'tenants/acme/tasks/1', 'read')).toBe(true); // within the bound
    c.clock.advance(500);
    expect(await b.checkPermission('ada', 'tenants/acme/tasks/1', 'read')).toBe(false);
  });

  it('fails closed once the policy cannot be verified for maxStalenessMs, and recovers', async () => {
    const c = cluster();
    const a = await c.make();
    await seed(a);
    const storage = flaky(createMemoryStorage({ state: c.state, sweepIntervalMs: 0 }));
    const events = new FabricaEventBus();
    const alerts: SystemAlertEvent[] = [];
    events.on('system:alerts', (e) => alerts.push(e));
    const b = await c.make({ storage, events, revalidateIntervalMs: 100, maxStalenessMs: 1_000 });
    storage.down = true;
    c.clock.advance(500);
    // Within maxStalenessMs: the verified snapshot still answers, even though re-verification fails.
    expect(await b.checkPermission('ada', 'tenants/acme/tasks/1', 'read')).toBe(true);
    expect(b.isStale).toBe(false);
    c.clock.advance(600);
    expect(b.isStale).toBe(true);
    expect(b.can('ada', 'tenants/acme/tasks/1', 'read')).toBe(false);
    expect(b.explain('ada', 'tenants/acme/tasks/1', 'read')).toMatchObject({ allowed: false, reason: 'stale-policy' });
    expect(b.listPermitted('ada', 'read', 'tenants/acme/tasks')).toMatchObject({ all: false, ids: [], exact: true });
    expect(await caught(() => b.checkPermission('ada', 'tenants/acme/tasks/1', 'read'))).toMatchObject({ code: 'ADAPTER_UNAVAILABLE' });
    expect(alerts.map((e) => [e.name, e.severity])).toEqual([['access.policy-stale', 'critical']]);
    // Malformed input is still rejected while stale.
    expect(() => b.can('ada', 'tenants/acme/tasks/1/', 'read')).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    storage.down = false;
    expect(await b.checkPermission('ada', 'tenants/acme/tasks/1', 'read')).toBe(true);
    expect(b.isStale).toBe(false);
    expect(alerts.map((e) => e.name)).toEqual(['access.policy-stale', 'access.policy-verified']);
  });

  it('never loses an update when two instances write concurrently', async () => {
    const c = cluster();
    const a = await c.make();
    const b = await c.make();
    await a.defineRole({ name: 'shared' });
    await b.revalidate();
    const writes = Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? a : b).grant({ role: 'shared', action: 'read', resource: `tasks/${i}` }));
    const results = await Promise.all(writes);
    expect(results.every((r) => r.changed)).toBe(true);
    expect(new Set(results.map((r) => r.revision)).size).toBe(40);
    await a.revalidate();
    await b.revalidate();
    expect(a.listGrants({ role: 'shared' })).toHaveLength(40);
    expect(b.listGrants({ role: 'shared' })).toHaveLength(40);
  });

  it('rejects the second of two concurrent definitions that together would form a cycle', async () => {
    const c = cluster();
    const a = await c.make();
    await a.defineRole({ name: 'x' });
    await a.defineRole({ name: 'y' });
    const b = await c.make();
    const outcomes = await Promise.allSettled([a.defineRole({ name: 'x', inherits: ['y'] }), b.defineRole({ name: 'y', inherits: ['x'] })]);
    const rejected = outcomes.filter((o) => o.status === 'rejected');
    expect(rejected).toHaveLength(1);
    expect((rejected[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'ACCESS_ROLE_CYCLE' });
    await b.revalidate();
    const edges = b.listRoles().flatMap((r) => r.inherits.map((p) => `${r.name}->${p}`));
    expect(edges).toHaveLength(1);
  });

  it('deletes a role with hundreds of rules and bindings; leftovers are collected and a new role starts empty', async () => {
    const c = cluster();
    const a = await c.make();
    await a.defineRole({ name: 'big' });
    for (let i = 0; i < 150; i++) await a.grant({ role: 'big', action: 'read', resource: `tasks/${i}` });
    for (let i = 0; i < 60; i++) await a.bindUser({ tenant: 'acme', user: `user-${i}`, role: 'big' });
    const b = await c.make();
    expect(b.can('user-7', 'tenants/acme/tasks/149', 'read')).toBe(true);
    await a.deleteRole({ name: 'big' });
    await waitFor(() => !b.can('user-7', 'tenants/acme/tasks/149', 'read'), { timeoutMs: 2_000, what: 'b to drop the deleted role' });
    const keys = [...(c.state.namespaces.get('rbac')?.entries.keys() ?? [])];
    expect(keys.filter((k) => k.startsWith('p/'))).toEqual([]);
    await b.defineRole({ name: 'big' });
    await a.revalidate();
    expect(a.listGrants({ role: 'big' })).toEqual([]);
    expect(a.can('user-7', 'tenants/acme/tasks/149', 'read')).toBe(false);
  });

  it('refuses to load a malformed policy document instead of skipping it', async () => {
    const c = cluster();
    const a = await c.make();
    await seed(a);
    const raw = createMemoryStorage({ state: c.state, sweepIntervalMs: 0 });
    await raw.put('rbac', 'p/acme/g/viewer/xxxxxxxxxxxxxxxxxxxxxx', { kind: 'grant', effect: 'deny', action: 'read', resource: 'tasks/../x' });
    await raw.put('rbac', 'rev', { revision: 99 });
    await raw.put('rbac', 'rev/acme', { revision: 99 });
    expect(await caught(() => c.make())).toMatchObject({ code: 'INTERNAL' });
  });

  it('ignores malformed and forged announcements', async () => {
    const c = cluster();
    const warnings: string[] = [];
    const logger = { debug: () => undefined, info: () => undefined, warn: (m: string) => void warnings.push(m), error: () => undefined };
    const a = await c.make({ logger });
    await seed(a);
    const rogue = createMemoryPubSub({ hub: c.hub });
    await rogue.publish('fabrica.rbac', { revision: 'lots' });
    await rogue.publish('fabrica.rbac', { origin: 'someone', revision: 1e9, scopes: ['acme'] });
    // A forged revision makes the instance look for it, never trust it: once storage shows no such
    // revision the instance is current again.
    await waitFor(() => warnings.some((w) => w.includes('storage does not have')), { timeoutMs: 1_000, what: 'a to check the forged announcement' });
    expect(a.loadedRevision).toBe(3);
    expect(a.isStale).toBe(false);
    expect(a.can('ada', 'tenants/acme/tasks/1', 'read')).toBe(true);
    expect(warnings.some((w) => w.includes('malformed'))).toBe(true);
  });

  it('validates options and refuses use after close', async () => {
    const c = cluster();
    expect(await caught(() => createAccessControl({} as AccessControlOptions))).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(await caught(() => c.make({ pollIntervalMs: 1000, maxStalenessMs: 500 }))).toMatchObject({ code: 'VALIDATION_FAILED' });
    const a = await c.make();
    await a.close();
    await a.close();
    expect(await caught(() => a.checkPermission('ada', 'tenants/acme/tasks/1', 'read'))).toMatchObject({ code: 'ADAPTER_CLOSED' });
    expect(await caught(() => a.grant({ tenant: 'acme', user: 'ada', action: 'read', resource: 'tasks' }))).toMatchObject({ code: 'ADAPTER_CLOSED' });
  });

  it('authorize throws ACCESS_DENIED with the explanation', async () => {
    const c = cluster();
    const a = await c.make();
    await seed(a);
    await expect(a.authorize('ada', 'tenants/acme/tasks/1', 'read')).resolves.toBeUndefined();
    expect(await caught(() => a.authorize('ada', 'tenants/acme/tasks/1', 'delete'))).toMatchObject({
      code: 'ACCESS_DENIED',
      details: { reason: 'no-matching-rule', action: 'delete' },
    });
  });
});
