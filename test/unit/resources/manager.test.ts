import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/core/clock.js';
import { FabricaEventBus, type ResourceOptimizeEvent, type ResourceUpdateEvent } from '../../../src/core/events.js';
import { createMemoryRateLimitStore, createMemoryReservationStore, createMemoryStorage } from '../../../src/adapters/memory/index.js';
import { waitFor } from '../../../src/adapters/testing/support.js';
import { createResourceManager, QuotaExceededError, type QuotaExceededDetails } from '../../../src/resources/index.js';

const T0 = Date.UTC(2026, 0, 1);
const quota = { bases: { compute: 1000, storage: 1000, network: 10 * 1024 } };

function setup(extra: Partial<Parameters<typeof createResourceManager>[0]> = {}) {
  const clock = new ManualClock(T0);
  const events = new FabricaEventBus();
  const updates: ResourceUpdateEvent[] = [];
  const optimizations: ResourceOptimizeEvent[] = [];
  events.on('resource:update', (e) => updates.push(e));
  events.on('resource:optimize', (e) => optimizations.push(e));
  const manager = createResourceManager({ reservations: createMemoryReservationStore({ clock }), quota, events, clock, ...extra });
  return { clock, events, updates, optimizations, manager };
}
const ada = { id: 'ada', tier: 1, tenantId: 'acme' };

describe('ResourceManager', () => {
  it('allocates against the quota and reports usage and remaining', async () => {
    const { manager } = setup();
    const r = await manager.allocate(ada, { compute: 600, storage: 10, leaseMs: 10_000 });
    expect(r).toMatchObject({ userId: 'ada', amounts: { compute: 600, storage: 10, network: 0 }, createdAt: T0, expiresAt: T0 + 10_000 });
    const report = await manager.usage(ada);
    expect(report).toMatchObject({
      quota: { compute: 1000, storage: 1000, network: 10 * 1024 },
      usage: { compute: 600, storage: 10, network: 0 },
      remaining: { compute: 400, storage: 990, network: 10 * 1024 },
      count: 1,
    });
    expect(report.reservations).toEqual([r]);
  });

  it('refuses over-quota requests with QUOTA_EXCEEDED stating what is left, and reserves nothing', async () => {
    const { manager } = setup();
    await manager.allocate(ada, { compute: 700, storage: 900 });
    const err = await manager.allocate(ada, { compute: 400, storage: 50 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QuotaExceededError);
    const details = (err as QuotaExceededError).details as unknown as QuotaExceededDetails;
    expect((err as QuotaExceededError).code).toBe('QUOTA_EXCEEDED');
    expect(details.remaining).toEqual({ compute: 300, storage: 100, network: 10 * 1024 });
    expect(details.exceeded).toEqual(['compute']);
    expect(details.requested).toEqual({ compute: 400, storage: 50, network: 0 });
    expect((await manager.usage(ada)).usage).toEqual({ compute: 700, storage: 900, network: 0 });
  });

  it('is idempotent per idempotency key; other amounts under the same key are a CONFLICT', async () => {
    const { manager } = setup();
    const a = await manager.allocate(ada, { compute: 100, idempotencyKey: 'job-7' });
    const b = await manager.allocate(ada, { compute: 100, idempotencyKey: 'job-7' });
    expect(b).toEqual(a);
    expect(a.id).toBe('job-7');
    expect((await manager.usage(ada)).usage.compute).toBe(100);
    await expect(manager.allocate(ada, { compute: 200, idempotencyKey: 'job-7' })).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('returns a dead holder’s quota when its lease ends, and renew keeps a live one', async () => {
    const { manager, clock } = setup();
    const dead = await manager.allocate(ada, { compute: 800, leaseMs: 5_000 });
    const live = await manager.allocate(ada, { compute: 100, leaseMs: 5_000 });
    clock.advance(4_000);
    await manager.renew('ada', live.id, 5_000);
    clock.advance(1_000);
    expect((await manager.usage(ada)).usage.compute).toBe(100);
    await expect(manager.renew('ada', dead.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await manager.allocate(ada, { compute: 900 })).amounts.compute).toBe(900);
  });

  it('emits resource:update with the allocated amounts on every change it makes or observes', async () => {
    const { manager, updates, clock } = setup();
    const r = await manager.allocate(ada, { compute: 300, leaseMs: 1_000 });
    await manager.allocate(ada, { compute: 300, idempotencyKey: 'x' });
    await manager.allocate(ada, { compute: 300, idempotencyKey: 'x' }); // replay: no change, no event
    await manager.release('ada', 'x');
    await manager.release('ada', 'x'); // nothing released: no event
    clock.advance(1_000);
    await manager.usage(ada); // observes r expiring
    expect(updates.map((u) => u.allocation.compute)).toEqual([300, 600, 300, 0]);
    expect(updates[0]).toMatchObject({ userId: 'ada', tenantId: 'acme', at: T0 });
    expect(r.expiresAt).toBe(T0 + 1_000);
  });

  it('keepAlive renews until stopped and reports a lost reservation', async () => {
    const clock = new ManualClock(T0);
    const store = createMemoryReservationStore({ clock });
    const manager = createResourceManager({ reservations: store, quota });
    const r = await manager.allocate(ada, { compute: 10, leaseMs: 60 });
    let lost = 0;
    const beat = manager.keepAlive(r, { intervalMs: 5, onLost: () => (lost += 1) });
    // Real timers drive the beat; the manual clock decides expiry. Each step moves time half a
    // lease and waits for a renewal at the new time: ten steps span five leases.
    for (let i = 0; i < 10; i++) {
      clock.advance(30);
      const target = clock.now() + 60;
      await waitFor(async () => (await store.snapshot('ada')).reservations[0]?.expiresAt === target, { what: 'a renewal' });
    }
    expect((await manager.usage(ada)).count).toBe(1);
    beat.stop();
    await manager.release('ada', r.id);
    const gone = manager.keepAlive(r, { intervalMs: 5, onLost: () => (lost += 1) });
    await waitFor(() => lost === 1, { what: 'onLost' });
    gone.stop();
  });

  it('validates users, requests and options with VALIDATION_FAILED', async () => {
    const { manager } = setup();
    await expect(manager.allocate({ id: '', tier: 1 }, { compute: 1 })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(manager.allocate({ id: 'x', tier: 9 }, { compute: 1 })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(manager.allocate(ada, { compute: -1 })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(manager.allocate(ada, { compute: 1.5 })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(manager.allocate(ada, { cpu: 1 } as never)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(() => createResourceManager({} as never)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    // A bandwidth store needs an explicit failure mode.
    expect(() => createResourceManager({ reservations: createMemoryReservationStore(), bandwidth: createMemoryRateLimitStore() })).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
  });

  it('spec groups: storage quota and usage, network bandwidth and latency', async () => {
    const { manager } = setup();
    await manager.allocate(ada, { storage: 250 });
    expect(await manager.storage.quota(ada)).toEqual({ limit: 1000 });
    expect(await manager.storage.usage(ada)).toEqual({ used: 250, limit: 1000, remaining: 750 });
    expect(await manager.network.bandwidth(ada)).toEqual({ bytesPerSecond: 10 * 1024, burstBytes: 10 * 1024 });
    for (const ms of [5, 7, 6, 40]) manager.network.recordLatency('ada', ms);
    expect(manager.network.latency('ada')).toMatchObject({ count: 4, min: 5, p50: 6, max: 40 });
    expect(manager.network.latency('nobody').p50).toBe('unavailable');
    const r = await manager.compute.allocation(ada, { compute: 1 });
    expect(r.amounts.compute).toBe(1);
  });

  it('limits bandwidth by GCRA over the network quota (bytes per second, KiB granularity)', async () => {
    const clock = new ManualClock(T0);
    const manager = createResourceManager({
      reservations: createMemoryReservationStore({ clock }),
      quota,
      bandwidth: createMemoryRateLimitStore({ clock, sweepIntervalMs: 0 }),
      bandwidthOnStoreUnavailable: 'fail-open',
      clock,
    });
    // 10 KiB/s with a one-second burst: 10 KiB pass at once, the 11th KiB waits 100 ms.
    expect((await manager.network.consume(ada, 6 * 1024)).allowed).toBe(true);
    expect((await manager.network.consume(ada, 4 * 1024)).allowed).toBe(true);
    const refused = await manager.network.consume(ada, 1024);
    expect(refused).toMatchObject({ allowed: false, retryAfterMs: 100 });
    clock.advance(100);
    expect((await manager.network.consume(ada, 1000)).allowed).toBe(true);
    await expect(manager.network.consume(ada, 11 * 1024)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    const none = createResourceManager({ reservations: createMemoryReservationStore() });
    await expect(none.network.consume(ada, 1)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('optimize raises a reliable busy user’s quota within bounds, applies it and emits resource:optimize', async () => {
    const { manager, optimizations } = setup();
    const input = { users: [{ userId: 'ada', reliability: 0.999, utilization: 0.95 }] };
    expect((await manager.quota(ada)).compute).toBe(1000);
    for (let i = 0; i < 6; i++) await manager.optimize(input);
    expect(await manager.boost('ada')).toBe(2);
    expect((await manager.quota(ada)).compute).toBe(2000);
    expect(optimizations.map((o) => o.adjustments[0]!.to)).toEqual([1.25, 1.5, 1.75, 2]);
    // Pressure takes it back down step by step; apply: false only proposes.
    const proposed = await manager.optimize({ system: { cpuUsage: 0.97 }, users: [{ userId: 'ada', reliability: 0.999, utilization: 0.95 }] }, { apply: false });
    expect(proposed[0]).toMatchObject({ from: 2, to: 1.75 });
    expect(await manager.boost('ada')).toBe(2);
  });

  it('shares boosts through a StorageAdapter between managers', async () => {
    const storage = createMemoryStorage();
    const a = createResourceManager({ reservations: createMemoryReservationStore(), storage, boostCacheMs: 0 });
    const b = createResourceManager({ reservations: createMemoryReservationStore(), storage, boostCacheMs: 0 });
    expect(await a.setBoost('ada', 9)).toBe(2); // clamped to the bounds
    expect(await b.boost('ada')).toBe(2);
    await a.setBoost('ada', 1);
    expect(await b.boost('ada')).toBe(1);
  });
});
