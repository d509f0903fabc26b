import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FairQueue, PLACE, type FairTask } from '../../../src/tasks/policy/fair-queue.js';
import type { TenantPolicy } from '../../../src/adapters/queue.js';

let seq = 0;
function task(tenantId: string, band: number, priority: number, cost: number, readyAt: number): FairTask {
  seq += 1;
  return { id: `t${seq}`, tenantId, priority, seq, cost, originalBand: band, band, readyAt, promoteAt: Infinity, place: PLACE.none, qpos: -1 };
}
const policy = (p: Partial<TenantPolicy>): TenantPolicy => ({ weight: 1, maxConcurrency: null, ratePerSecond: null, burst: 1, ...p });

const TENANTS = ['a', 'b', 'c', 'd'] as const;

const opArb = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('add' as const), tenant: fc.constantFrom(...TENANTS), band: fc.integer({ min: 0, max: 3 }), priority: fc.integer({ min: -3, max: 3 }), cost: fc.constantFrom(1, 2, 0.5), delay: fc.constantFrom(0, 0, 0, 5, 20) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('claim' as const), limit: fc.integer({ min: 1, max: 6 }), advance: fc.integer({ min: 0, max: 10 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('finish' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('take' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('requeue' as const), pick: fc.nat(), delay: fc.constantFrom(0, 0, 7) }) },
);

const setupArb = fc.record({
  maxConcurrency: fc.option(fc.integer({ min: 1, max: 8 }), { nil: null }),
  agingMs: fc.option(fc.integer({ min: 1, max: 30 }), { nil: null }),
  caps: fc.dictionary(fc.constantFrom(...TENANTS), fc.record({ maxConcurrency: fc.option(fc.integer({ min: 1, max: 3 }), { nil: null }), weight: fc.constantFrom(1, 2, 3) })),
});

describe('FairQueue properties', () => {
  it('never hands out a task twice at once, within the caps, work-conserving, in band and priority/FIFO order (with aging, assignments, re-queues)', () => {
    fc.assert(
      fc.property(setupArb, fc.array(opArb, { maxLength: 120, size: 'max' }), (setup, ops) => {
        const q = new FairQueue<FairTask>({ agingMs: setup.agingMs, maxConcurrency: setup.maxConcurrency });
        for (const [name, cap] of Object.entries(setup.caps)) q.setTenant(name, policy(cap));
        const capOf = (name: string) => setup.caps[name as 'a']?.maxConcurrency ?? null;
        let now = 0;
        const queued = new Set<FairTask>();
        const leased: FairTask[] = [];
        const leasedOf = (name: string) => leased.filter((t) => t.tenantId === name).length;
        for (const op of ops) {
          if (op.kind === 'add') {
            const t = task(op.tenant, op.band, op.priority, op.cost, now + op.delay);
            q.add(t, now);
            queued.add(t);
          } else if (op.kind === 'finish') {
            if (leased.length === 0) continue;
            const [t] = leased.splice(op.pick % leased.length, 1);
            q.finish(t!.tenantId);
          } else if (op.kind === 'take') {
            const all = [...queued];
            if (all.length === 0) continue;
            const t = all[op.pick % all.length]!;
            expect(q.take(t)).toBe(true);
            queued.delete(t);
            leased.push(t);
          } else if (op.kind === 'requeue') {
            // A retry or hand-back: the delivery ends and the same task returns, at its original band.
            if (leased.length === 0) continue;
            const [t] = leased.splice(op.pick % leased.length, 1);
            q.finish(t!.tenantId);
            (t as { band: number }).band = t!.originalBand;
            (t as { readyAt: number }).readyAt = now + op.delay;
            q.add(t!, now);
            queued.add(t!);
          } else if (op.kind === 'remove') {
            const all = [...queued];
            if (all.length === 0) continue;
            const t = all[op.pick % all.length]!;
            expect(q.remove(t)).toBe(true);
            queued.delete(t);
          } else {
            now += op.advance;
            // Explicit assignments (take) may exceed the caps by design; a claim never adds past them.
            const leasedBefore = leased.length;
            const tenantBefore = new Map(TENANTS.map((name) => [name, leasedOf(name)]));
            const picked = q.claim(op.limit, now);
            expect(picked.length).toBeLessThanOrEqual(op.limit);
            for (const t of picked) {
              // Never twice at once: it was queued (not leased) and ready.
              expect(leased.includes(t)).toBe(false);
              expect(queued.has(t)).toBe(true);
              expect(t.readyAt).toBeLessThanOrEqual(now);
              queued.delete(t);
              leased.push(t);
            }
            expect(new Set(picked).size).toBe(picked.length);
            // Caps hold.
            if (setup.maxConcurrency !== null) expect(leased.length).toBeLessThanOrEqual(Math.max(setup.maxConcurrency, leasedBefore));
            for (const name of TENANTS) {
              const cap = capOf(name);
              if (cap !== null) expect(leasedOf(name)).toBeLessThanOrEqual(Math.max(cap, tenantBefore.get(name)!));
            }
            // Ready tasks of tenants still eligible after the call: they were eligible throughout it.
            const globalRoom = setup.maxConcurrency === null || leased.length < setup.maxConcurrency;
            const eligibleReady = [...queued].filter((t) => t.readyAt <= now && (capOf(t.tenantId) === null || leasedOf(t.tenantId) < capOf(t.tenantId)!));
            // Work-conserving: a short claim leaves nothing eligible behind.
            if (picked.length < op.limit && globalRoom) expect(eligibleReady).toEqual([]);
            for (const x of picked) {
              for (const y of eligibleReady) {
                // Band order: nothing eligible of a higher band was passed over.
                expect(y.band).toBeGreaterThanOrEqual(x.band);
                // Within a tenant and band: priority, then FIFO.
                if (y.tenantId === x.tenantId && y.band === x.band) {
                  expect(y.priority < x.priority || (y.priority === x.priority && y.seq > x.seq)).toBe(true);
                }
              }
            }
          }
          expect(q.ready + q.delayed).toBe(queued.size);
          expect(q.leased).toBe(leased.length);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('picks, every time, the eligible tenant with the smallest start tag max(vtime, V_band), ties by id (idle, capped and forgotten tenants included)', () => {
    // An outside model of the virtual times: it sees only picks, costs and weights. 'd' keeps the
    // default policy, so the queue forgets its state whenever it goes idle; that must not show.
    const weights: Record<string, number> = { a: 1, b: 2, c: 0.5, d: 1 };
    const caps: Record<string, number | null> = { a: null, b: 2, c: 1, d: null };
    const ops = fc.array(
      fc.oneof(
        { weight: 4, arbitrary: fc.record({ kind: fc.constant('add' as const), tenant: fc.constantFrom(...TENANTS), band: fc.integer({ min: 1, max: 2 }), cost: fc.constantFrom(1, 2, 0.5) }) },
        { weight: 3, arbitrary: fc.record({ kind: fc.constant('claim' as const), limit: fc.integer({ min: 1, max: 5 }) }) },
        { weight: 3, arbitrary: fc.record({ kind: fc.constant('finish' as const), pick: fc.nat() }) },
        { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }) },
        { weight: 1, arbitrary: fc.record({ kind: fc.constant('take' as const), pick: fc.nat() }) },
      ),
      // Long runs: a tie needs tenants served, idle and back, with the band's clock moved on.
      { maxLength: 150, size: 'max' },
    );
    fc.assert(
      fc.property(ops, (steps) => {
        const q = new FairQueue<FairTask>({ agingMs: null, maxConcurrency: null });
        for (const name of ['a', 'b', 'c']) q.setTenant(name, policy({ weight: weights[name]!, maxConcurrency: caps[name]! }));
        const vt = new Map<string, number>();
        const V = [0, 0, 0, 0];
        const queued = new Set<FairTask>();
        const leased: FairTask[] = [];
        const startTag = (tenant: string, band: number): number => Math.max(vt.get(`${tenant}/${band}`) ?? 0, V[band]!);
        for (const op of steps) {
          if (op.kind === 'add') {
            const t = task(op.tenant, op.band, 0, op.cost, 0);
            q.add(t, 0);
            queued.add(t);
          } else if (op.kind === 'finish' || op.kind === 'remove' || op.kind === 'take') {
            const from = op.kind === 'finish' ? leased : [...queued];
            if (from.length === 0) continue;
            const t = from[op.pick % from.length]!;
            if (op.kind === 'finish') {
              leased.splice(leased.indexOf(t), 1);
              q.finish(t.tenantId);
            } else {
              queued.delete(t);
              if (op.kind === 'take') {
                q.take(t);
                leased.push(t);
              } else q.remove(t);
            }
          } else {
            for (const t of q.claim(op.limit, 0)) {
              const leasedOf = (name: string) => leased.filter((x) => x.tenantId === name).length;
              const eligible = new Set([...queued].filter((x) => x.band === t.band && (caps[x.tenantId] == null || leasedOf(x.tenantId) < caps[x.tenantId]!)).map((x) => x.tenantId));
              expect(eligible.has(t.tenantId)).toBe(true);
              const s = startTag(t.tenantId, t.band);
              for (const other of eligible) {
                const so = startTag(other, t.band);
                expect(so > s || (so === s && other >= t.tenantId), `${other} (start ${so}) before ${t.tenantId} (start ${s})`).toBe(true);
              }
              V[t.band] = s;
              vt.set(`${t.tenantId}/${t.band}`, s + t.cost / weights[t.tenantId]!);
              queued.delete(t);
              leased.push(t);
            }
          }
        }
      }),
      { numRuns: 400 },
    );
  });

  it('keeps the weighted service of backlogged tenants within one task cost / weight of each other (SFQ bound)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ weight: fc.constantFrom(1, 2, 3, 4, 0.5), costs: fc.array(fc.constantFrom(1, 2, 3, 0.5), { minLength: 1, maxLength: 3 }) }), { minLength: 2, maxLength: 4 }),
        fc.integer({ min: 1, max: 150 }),
        (specs, steps) => {
          const q = new FairQueue<FairTask>({ agingMs: null, maxConcurrency: null });
          const names = specs.map((_, i) => `t${i}`);
          specs.forEach((s, i) => q.setTenant(names[i]!, policy({ weight: s.weight })));
          // Enough tasks that every tenant stays backlogged for the whole run.
          specs.forEach((s, i) => {
            for (let k = 0; k < steps + 1; k++) q.add(task(names[i]!, 2, 0, s.costs[k % s.costs.length]!, 0), 0);
          });
          const service = specs.map(() => 0);
          const maxCost = specs.map((s) => Math.max(...s.costs));
          for (let k = 0; k < steps; k++) {
            const [t] = q.claim(1, 0);
            const i = names.indexOf(t!.tenantId);
            service[i]! += t!.cost;
            for (let a = 0; a < specs.length; a++) {
              for (let b = a + 1; b < specs.length; b++) {
                const gap = Math.abs(service[a]! / specs[a]!.weight - service[b]! / specs[b]!.weight);
                expect(gap).toBeLessThanOrEqual(maxCost[a]! / specs[a]!.weight + maxCost[b]! / specs[b]!.weight + 1e-9);
              }
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('serves an aged low-band task within 3 x agingMs plus one round, whatever floods the higher bands', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 2 }), (agingMs, arrivals, floodBand) => {
        const q = new FairQueue<FairTask>({ agingMs, maxConcurrency: null });
        const low = task('quiet', 3, 0, 1, 0);
        q.add(low, 0);
        for (let now = 0; now <= 3 * agingMs + 2; now++) {
          for (let i = 0; i < arrivals; i++) q.add(task('flood', floodBand, 1000, 1, now), now);
          if (q.claim(1, now).includes(low)) return;
        }
        throw new Error('the low-band task waited longer than 3 x agingMs + 2 steps');
      }),
      { numRuns: 200 },
    );
  });

  it('never lets a rate-capped tenant claim more than burst + rate x elapsed', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.record({ advance: fc.integer({ min: 0, max: 400 }), limit: fc.integer({ min: 1, max: 5 }) }), { maxLength: 60 }),
        (rate, burst, steps) => {
          const q = new FairQueue<FairTask>({ agingMs: null, maxConcurrency: null });
          q.setTenant('m', policy({ ratePerSecond: rate, burst }), 0);
          for (let i = 0; i < 500; i++) q.add(task('m', 2, 0, 1, 0), 0);
          let now = 0;
          let claimed = 0;
          for (const s of steps) {
            now += s.advance;
            claimed += q.claim(s.limit, now).length;
            expect(claimed).toBeLessThanOrEqual(burst + (rate * now) / 1000 + 1e-9);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
