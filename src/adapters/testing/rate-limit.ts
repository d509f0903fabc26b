import { afterAll, beforeAll, describe, expect } from 'vitest';
import type { GcraLimit, RateLimitStore } from '../rate-limit.js';
import { MAX_RATE_LIMITS } from '../rate-limit.js';
import type { AdapterHarness, ContractOptions } from './harness.js';
import { caught, contractTest, runConcurrently, scaled, uniqueName, waitFor, harnessSession } from './support.js';

const HOUR_US = 3_600_000_000;

/**
 * The RateLimitStore conformance suite: every backend (memory, PostgreSQL, Redis, or a
 * third-party one) must pass it. It checks exact GCRA admission (bursts, refills, weighted
 * costs), that several limits are decided atomically and that rejected requests consume nothing,
 * exact admission under concurrency from separate handles, validation, outages and close. Call
 * it at the top level of a vitest test file.
 *
 * @example
 * ```ts
 * import { ManualClock } from 'digital-fabrica';
 * import { describeRateLimitContract } from 'digital-fabrica/adapters/testing';
 * import { createMemoryRateLimitStore, MemoryRateLimitState } from 'digital-fabrica/adapters/memory';
 * const clock = new ManualClock(Date.UTC(2026, 0, 1));
 * const state = new MemoryRateLimitState();
 * describeRateLimitContract('memory', { clock, open: async () => createMemoryRateLimitStore({ state, clock, sweepIntervalMs: 0 }) });
 * ```
 */
export function describeRateLimitContract(name: string, harness: AdapterHarness<RateLimitStore>, options?: ContractOptions): void {
  const test = contractTest(options);
  const slowTest = contractTest(options, 60_000);
  const session = harnessSession(harness);
  const open = session.open;
  const passTime = session.passTime;
  let store: RateLimitStore;

  const limit = (intervalUs: number, burst: number, key = uniqueName('rl')): GcraLimit => ({ key, intervalUs, burst });
  const admitted = async (s: RateLimitStore, limits: readonly GcraLimit[], times: number, cost = 1): Promise<number> => {
    let n = 0;
    for (let i = 0; i < times; i++) if ((await s.check({ limits, cost })).allowed) n += 1;
    return n;
  };

  describe(`RateLimitStore contract: ${name}`, () => {
    beforeAll(async () => {
      store = await open();
    });
    afterAll(() => session.closeAll());

    describe('one limit', () => {
      test('admits exactly the burst from a rested key, then rejects', async () => {
        const limits = [limit(HOUR_US, 5)];
        expect(await admitted(store, limits, 8)).toBe(5);
      });

      test('reports TATs: now for a rested key, advanced by cost × interval per admission', async () => {
        const l = limit(HOUR_US, 3);
        const first = await store.check({ limits: [l], cost: 0 });
        expect(first.allowed).toBe(true);
        expect(first.tatsUs).toEqual([first.nowUs]);
        const second = await store.check({ limits: [l], cost: 2 });
        expect(second.allowed).toBe(true);
        expect(second.tatsUs[0]).toBe(second.nowUs + 2 * HOUR_US);
        expect(Number.isSafeInteger(second.nowUs)).toBe(true);
      });

      test('does not consume on rejection: the TAT stays where it was', async () => {
        const l = limit(HOUR_US, 2);
        await admitted(store, [l], 2);
        const rejected = await Promise.all([1, 2, 3].map(() => store.check({ limits: [l], cost: 1 })));
        expect(rejected.every((r) => !r.allowed)).toBe(true);
        expect(new Set(rejected.map((r) => r.tatsUs[0])).size).toBe(1);
      });

      test('takes a weighted cost from the burst, and never admits a cost above the burst', async () => {
        const l = limit(HOUR_US, 10);
        expect((await store.check({ limits: [l], cost: 7 })).allowed).toBe(true);
        expect((await store.check({ limits: [l], cost: 4 })).allowed).toBe(false);
        expect((await store.check({ limits: [l], cost: 3 })).allowed).toBe(true);
        expect((await store.check({ limits: [limit(HOUR_US, 10)], cost: 11 })).allowed).toBe(false);
      });

      test('a cost of 0 reads without writing', async () => {
        const l = limit(HOUR_US, 1);
        for (let i = 0; i < 3; i++) expect((await store.check({ limits: [l], cost: 0 })).allowed).toBe(true);
        expect(await admitted(store, [l], 2)).toBe(1);
      });

      test('refills one unit per emission interval', async () => {
        const intervalMs = harness.clock ? 1_000 : 300;
        const l = limit(intervalMs * 1000, 1);
        expect(await admitted(store, [l], 3)).toBe(1);
        await passTime(intervalMs + (harness.clock ? 0 : 100));
        expect(await admitted(store, [l], 3)).toBe(1);
      });

      test('keeps keys independent', async () => {
        const a = limit(HOUR_US, 1);
        const b = limit(HOUR_US, 1);
        expect(await admitted(store, [a], 2)).toBe(1);
        expect(await admitted(store, [b], 2)).toBe(1);
      });

      test('reset makes keys rested again', async () => {
        const l = limit(HOUR_US, 2);
        expect(await admitted(store, [l], 3)).toBe(2);
        await store.reset([l.key]);
        expect(await admitted(store, [l], 3)).toBe(2);
        await store.reset([]);
      });
    });

    describe('several limits', () => {
      test('admits up to the tightest limit and advances every TAT together', async () => {
        const wide = limit(HOUR_US, 5);
        const tight = limit(HOUR_US, 3);
        expect(await admitted(store, [wide, tight], 6)).toBe(3);
        // The wide limit was charged exactly for the three admitted requests.
        expect(await admitted(store, [wide], 6)).toBe(2);
      });

      test('a request rejected by one limit consumes from none of them', async () => {
        const open1 = limit(HOUR_US, 4);
        const full = limit(HOUR_US, 1);
        expect(await admitted(store, [full], 1)).toBe(1);
        for (let i = 0; i < 5; i++) expect((await store.check({ limits: [open1, full], cost: 1 })).allowed).toBe(false);
        expect(await admitted(store, [open1], 6)).toBe(4);
      });

      test(`checks up to ${MAX_RATE_LIMITS} limits in one call`, async () => {
        const limits = Array.from({ length: MAX_RATE_LIMITS }, (_, i) => limit(HOUR_US, i + 2));
        const outcome = await store.check({ limits, cost: 2 });
        expect(outcome.allowed).toBe(true);
        expect(outcome.tatsUs).toHaveLength(MAX_RATE_LIMITS);
        expect((await store.check({ limits, cost: 1 })).allowed).toBe(false);
      });
    });

    describe('concurrency', () => {
      test('admits exactly the burst across concurrent checks from separate handles', async () => {
        const burst = scaled(options, 50);
        const total = burst * 4;
        const handlesUsed = await Promise.all([open(), open(), open(), open()]);
        const limits = [limit(HOUR_US, burst), limit(HOUR_US, burst * 2)];
        const results = await runConcurrently(total, 64, (i) => handlesUsed[i % 4]!.check({ limits, cost: 1 }));
        expect(results.filter((r) => r.allowed)).toHaveLength(burst);
        // Every admission moved the tight TAT by one interval: no lost update.
        const after = await store.check({ limits, cost: 0 });
        expect(after.tatsUs[0]! - after.nowUs).toBeLessThanOrEqual(burst * HOUR_US);
        expect(after.tatsUs[0]! - after.nowUs).toBeGreaterThan((burst - 1) * HOUR_US);
      });

      test('admits exactly the weighted total across concurrent weighted checks', async () => {
        const l = limit(HOUR_US, 100);
        const costs = Array.from({ length: 60 }, (_, i) => 1 + (i % 5));
        const results = await runConcurrently(costs.length, 32, (i) => store.check({ limits: [l], cost: costs[i]! }));
        const taken = results.reduce((sum, r, i) => sum + (r.allowed ? costs[i]! : 0), 0);
        expect(taken).toBeLessThanOrEqual(100);
        // Whatever was rejected would not have fitted into what is left.
        const left = 100 - taken;
        results.forEach((r, i) => {
          if (!r.allowed) expect(costs[i]!).toBeGreaterThan(left);
        });
      });
    });

    describe('validation and lifecycle', () => {
      test('rejects malformed requests with VALIDATION_FAILED and touches nothing', async () => {
        const l = limit(HOUR_US, 1);
        const bad: unknown[] = [
          { limits: [], cost: 1 },
          { limits: [l, { ...l }], cost: 1 },
          { limits: [{ ...l, burst: 0 }], cost: 1 },
          { limits: [{ ...l, intervalUs: 0.5 }], cost: 1 },
          { limits: [{ ...l, key: '' }], cost: 1 },
          { limits: [{ ...l, key: 'a\u0000b' }], cost: 1 },
          { limits: [l], cost: -1 },
          { limits: [l], cost: 1.5 },
          { limits: Array.from({ length: MAX_RATE_LIMITS + 1 }, () => limit(1000, 1)), cost: 1 },
        ];
        for (const request of bad) {
          expect((await caught(() => store.check(request as never))).code).toBe('VALIDATION_FAILED');
        }
        expect((await caught(() => store.reset(['ok', '']))).code).toBe('VALIDATION_FAILED');
        expect(await admitted(store, [l], 2)).toBe(1);
      });

      const outageName = 'fails with ADAPTER_UNAVAILABLE while the backend is unreachable, and recovers';
      if (!harness.outage) {
        contractTest({ skip: [{ test: outageName, reason: 'the backend has no server to lose' }] })(outageName, async () => undefined);
      } else {
        const outage = harness.outage;
        slowTest(outageName, async () => {
          const handle = await open();
          const l = limit(HOUR_US, 10);
          expect((await handle.check({ limits: [l], cost: 1 })).allowed).toBe(true);
          await outage.interrupt();
          try {
            expect((await caught(() => handle.check({ limits: [l], cost: 1 }))).code).toBe('ADAPTER_UNAVAILABLE');
          } finally {
            await outage.restore();
          }
          const after = await waitFor(async () => handle.check({ limits: [l], cost: 0 }), { timeoutMs: 15_000, what: 'recovery' });
          expect(after.allowed).toBe(true);
        });
      }

      test('fails with ADAPTER_CLOSED after close', async () => {
        const handle = await open();
        await handle.close();
        await handle.close();
        expect((await caught(() => handle.check({ limits: [limit(HOUR_US, 1)], cost: 1 }))).code).toBe('ADAPTER_CLOSED');
      });
    });
  });
}
