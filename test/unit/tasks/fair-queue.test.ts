import { describe, expect, it } from 'vitest';
import { FairQueue, PLACE, type FairTask } from '../../../src/tasks/policy/fair-queue.js';
import type { TenantPolicy } from '../../../src/adapters/queue.js';

interface T extends FairTask {
  readonly label: string;
}

let seq = 0;
function task(tenantId: string, o: { band?: number; priority?: number; cost?: number; readyAt?: number; label?: string } = {}): T {
  seq += 1;
  const band = o.band ?? 2;
  return {
    id: `t${seq}`,
    label: o.label ?? `${tenantId}${seq}`,
    tenantId,
    priority: o.priority ?? 0,
    seq,
    cost: o.cost ?? 1,
    originalBand: band,
    band,
    readyAt: o.readyAt ?? 0,
    promoteAt: Infinity,
    place: PLACE.none,
    qpos: -1,
  };
}

const tenant = (p: Partial<TenantPolicy>): TenantPolicy => ({ weight: 1, maxConcurrency: null, ratePerSecond: null, burst: 1, ...p });
const fresh = (o: { agingMs?: number | null; maxConcurrency?: number | null } = {}) =>
  new FairQueue<T>({ agingMs: o.agingMs ?? null, maxConcurrency: o.maxConcurrency ?? null });
const tenants = (picked: readonly T[]) => picked.map((t) => t.tenantId);

describe('FairQueue', () => {
  it('serves bands highest first, then priority, then FIFO within a tenant', () => {
    const q = fresh();
    const low = task('a', { band: 3, label: 'low' });
    const n1 = task('a', { label: 'n1' });
    const hi = task('a', { band: 1, label: 'high' });
    const n2 = task('a', { priority: 7, label: 'n2-p7' });
    const crit = task('a', { band: 0, label: 'critical' });
    const n3 = task('a', { label: 'n3' });
    for (const t of [low, n1, hi, n2, crit, n3]) q.add(t, 0);
    expect(q.claim(10, 0).map((t) => t.label)).toEqual(['critical', 'high', 'n2-p7', 'n1', 'n3', 'low']);
    expect(q.leased).toBe(6);
    expect(q.ready).toBe(0);
  });

  it('alternates between equal tenants, ties broken by tenant id', () => {
    const q = fresh();
    for (let i = 0; i < 3; i++) for (const name of ['b', 'a', 'c']) q.add(task(name), 0);
    expect(tenants(q.claim(9, 0))).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a', 'b', 'c']);
  });

  it('shares exactly by weight while tenants are backlogged (1:2:4)', () => {
    const q = fresh();
    q.setTenant('x', tenant({ weight: 1 }));
    q.setTenant('y', tenant({ weight: 2 }));
    q.setTenant('z', tenant({ weight: 4 }));
    for (let i = 0; i < 500; i++) for (const name of ['x', 'y', 'z']) q.add(task(name), 0);
    const served = { x: 0, y: 0, z: 0 };
    for (const t of q.claim(700, 0)) served[t.tenantId as 'x']++;
    expect(served).toEqual({ x: 100, y: 200, z: 400 });
  });

  it('charges cost / weight: an expensive task uses up a share', () => {
    const q = fresh();
    for (let i = 0; i < 10; i++) {
      q.add(task('heavy', { cost: 4 }), 0);
      q.add(task('light', { cost: 1 }), 0);
    }
    const picks = tenants(q.claim(10, 0));
    expect(picks.filter((p) => p === 'light').length).toBe(8);
  });

  it('lets a lone task of a quiet tenant pass a flood within one round', () => {
    const q = fresh();
    for (let i = 0; i < 100_000; i++) q.add(task('noisy'), 0);
    q.claim(1_000, 0);
    const quiet = task('quiet');
    q.add(quiet, 0);
    expect(q.claim(1, 0)).toEqual([quiet]);
  });

  it('gives a tenant returning from idle no burst: it re-enters at the band virtual time', () => {
    const q = fresh();
    for (let i = 0; i < 100; i++) q.add(task('busy'), 0);
    q.claim(50, 0);
    expect(q.virtualTime(2)).toBe(49);
    for (let i = 0; i < 20; i++) q.add(task('back'), 0);
    // 'back' starts at V = 49, the start tag busy's last task had: one task ahead, then strict alternation.
    expect(tenants(q.claim(6, 0))).toEqual(['back', 'back', 'busy', 'back', 'busy', 'back']);
    expect(q.tenantVirtualTime('back', 2)).toBe(53);
  });

  it('holds delayed tasks until their time, then serves them', () => {
    const q = fresh();
    const later = task('a', { readyAt: 1_000 });
    q.add(later, 0);
    expect(q.delayed).toBe(1);
    expect(q.claim(5, 999)).toEqual([]);
    expect(q.nextEventAt(999)).toBe(1_000);
    expect(q.claim(5, 1_000)).toEqual([later]);
  });

  it('promotes a waiting task one band per agingMs, all due steps at once', () => {
    const q = fresh({ agingMs: 100 });
    const low = task('a', { band: 3, label: 'low' });
    q.add(low, 0);
    for (let i = 0; i < 5; i++) q.add(task('b', { band: 0 }), 0);
    q.claim(0, 250);
    expect(low.band).toBe(1);
    q.claim(0, 300);
    expect(low.band).toBe(0);
    expect(low.promoteAt).toBe(400);
  });

  it('ages nothing when aging is off', () => {
    const q = fresh({ agingMs: null });
    const low = task('a', { band: 3 });
    q.add(low, 0);
    q.claim(0, 10 ** 9);
    expect(low.band).toBe(3);
  });

  it('caps leased tasks globally and frees capacity on finish', () => {
    const q = fresh({ maxConcurrency: 3 });
    for (let i = 0; i < 10; i++) q.add(task('a'), 0);
    expect(q.claim(10, 0)).toHaveLength(3);
    expect(q.claim(10, 0)).toHaveLength(0);
    q.finish('a');
    expect(q.claim(10, 0)).toHaveLength(1);
  });

  it('skips a tenant at its concurrency cap without blocking others (work-conserving)', () => {
    const q = fresh();
    q.setTenant('capped', tenant({ maxConcurrency: 2 }));
    for (let i = 0; i < 10; i++) {
      q.add(task('capped'), 0);
      q.add(task('free'), 0);
    }
    const picked = q.claim(8, 0);
    expect(tenants(picked).filter((n) => n === 'capped')).toHaveLength(2);
    expect(picked).toHaveLength(8);
    // The skipped tenant is back in line for the next claim.
    q.finish('capped');
    expect(tenants(q.claim(1, 0))).toEqual(['capped']);
  });

  it('limits claims per second with a token bucket', () => {
    const q = fresh();
    q.setTenant('metered', tenant({ ratePerSecond: 2, burst: 2 }), 0);
    for (let i = 0; i < 10; i++) q.add(task('metered'), 0);
    expect(q.claim(10, 0)).toHaveLength(2);
    expect(q.claim(10, 0)).toHaveLength(0);
    expect(q.nextEventAt(0)).toBe(500);
    expect(q.claim(10, 500)).toHaveLength(1);
    expect(q.claim(10, 5_000)).toHaveLength(2);
  });

  it('removes and takes queued tasks, and forgets idle tenants', () => {
    const q = fresh();
    const a = task('a');
    const b = task('a', { readyAt: 50 });
    q.add(a, 0);
    q.add(b, 0);
    expect(q.remove(b)).toBe(true);
    expect(q.remove(b)).toBe(false);
    expect(q.take(a)).toBe(true);
    expect(q.leased).toBe(1);
    expect(q.claim(5, 100)).toEqual([]);
    q.finish('a');
    expect(q.snapshot(100).tenants).toEqual([]);
    expect(() => q.finish('a')).toThrow(RangeError);
    expect(() => {
      const c = task('a');
      q.add(c, 0);
      q.add(c, 0);
    }).toThrow(RangeError);
  });

  it('reports ready, delayed, leased, the oldest ready task and how long tenants went unserved', () => {
    const q = fresh();
    q.add(task('a', { readyAt: 10 }), 10);
    q.add(task('a', { readyAt: 20 }), 20);
    q.add(task('b', { readyAt: 30 }), 30);
    q.add(task('c', { readyAt: 500 }), 30);
    q.claim(1, 40);
    const snap = q.snapshot(100);
    expect(snap).toMatchObject({ ready: 2, delayed: 1, leased: 1, oldestReadyAt: 20 });
    expect(snap.tenants).toEqual([
      { tenantId: 'a', ready: 1, leased: 1, unservedMs: 60 },
      { tenantId: 'b', ready: 1, leased: 0, unservedMs: 70 },
    ]);
  });
});
