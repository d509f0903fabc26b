import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/core/clock.js';
import { AdapterUnavailableError } from '../../../src/core/errors.js';
import { createMemoryRateLimitStore } from '../../../src/adapters/memory/index.js';
import type { RateLimitStore } from '../../../src/adapters/rate-limit.js';
import { compileRateLimits, createRateLimiter, type RateLimitRule } from '../../../src/resources/index.js';

const T0 = Date.UTC(2026, 0, 1);
const setup = (limits: RateLimitRule[], clock = new ManualClock(T0)) => ({
  clock,
  limiter: createRateLimiter({ store: createMemoryRateLimitStore({ clock, sweepIntervalMs: 0 }), limits, onStoreUnavailable: 'fail-closed' }),
});
const admitted = async (check: () => Promise<{ allowed: boolean }>, n: number): Promise<number> => {
  const results = await Promise.all(Array.from({ length: n }, check));
  return results.filter((r) => r.allowed).length;
};

describe('GCRA rate limiter', () => {
  it('derives T = ⌈period / limit⌉ µs and burst = limit by default', () => {
    expect(compileRateLimits([{ name: 's', limit: 10, periodMs: 1000 }])[0]).toMatchObject({ intervalUs: 100_000, burst: 10 });
    expect(compileRateLimits([{ name: 's', limit: 3, periodMs: 1000, burst: 1 }])[0]).toMatchObject({ intervalUs: 333_334, burst: 1 });
  });

  it('admits exactly burst + one per emission interval, counted per window under concurrency', async () => {
    const { clock, limiter } = setup([{ name: 'second', limit: 10, periodMs: 1000 }]);
    // Window 0: a burst of 10 from a rested key, whatever the concurrency.
    expect(await admitted(() => limiter.check('k'), 50)).toBe(10);
    // Then exactly the sustained rate: 10 per second, per window, for 20 windows.
    for (let window = 1; window <= 20; window++) {
      let inWindow = 0;
      for (let step = 0; step < 10; step++) {
        clock.advance(100);
        inWindow += await admitted(() => limiter.check('k'), 5);
      }
      expect(inWindow).toBe(10);
    }
  });

  it('over any span D admits at most burst + ⌈D / T⌉ − 1 (no boundary doubling)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 250 }), { minLength: 1, maxLength: 200 }), async (gaps) => {
        const { clock, limiter } = setup([{ name: 's', limit: 4, periodMs: 1000 }]);
        const times: number[] = [];
        for (const gap of gaps) {
          clock.advance(gap);
          if ((await limiter.check('k')).allowed) times.push(clock.now());
        }
        // Sliding windows of one period starting at each admission.
        for (let i = 0; i < times.length; i++) {
          const inWindow = times.filter((t) => t >= times[i]! && t < times[i]! + 1000).length;
          expect(inWindow).toBeLessThanOrEqual(4 + Math.ceil(1000 / 250) - 1);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('checks several limits atomically: the tightest decides, and a refusal consumes none of them', async () => {
    const { clock, limiter } = setup([
      { name: 'second', limit: 5, periodMs: 1000 },
      { name: 'minute', limit: 8, periodMs: 60_000 },
    ]);
    expect(await admitted(() => limiter.check('k'), 20)).toBe(5);
    clock.advance(1000);
    // The per-minute limit has 3 left; the per-second one 5: exactly 3 pass.
    expect(await admitted(() => limiter.check('k'), 20)).toBe(3);
    const refused = await limiter.check('k');
    expect(refused.allowed).toBe(false);
    expect(refused.limits.map((l) => l.name)).toEqual(['second', 'minute']);
    // Refusals did not move the per-second limit: after a second, it is rested, but the minute is not.
    clock.advance(1000);
    const d = await limiter.check('k', { cost: 0 });
    expect(d.limits[0]!.remaining).toBe(5);
    expect(d.limits[1]!.remaining).toBe(0);
  });

  it('reports remaining, reset and retry-after that hold exactly', async () => {
    const { clock, limiter } = setup([{ name: 'second', limit: 4, periodMs: 1000 }]);
    const first = await limiter.check('k');
    expect(first).toMatchObject({ allowed: true, degraded: false, remaining: 3, resetMs: 250, retryAfterMs: 0 });
    await limiter.check('k', { cost: 3 });
    const refused = await limiter.check('k', { cost: 2 });
    expect(refused).toMatchObject({ allowed: false, remaining: 0, resetMs: 1000, retryAfterMs: 500 });
    clock.advance(refused.retryAfterMs - 1);
    expect((await limiter.check('k', { cost: 2 })).allowed).toBe(false);
    clock.advance(1);
    expect((await limiter.check('k', { cost: 2 })).allowed).toBe(true);
  });

  it('serialises every figure of a decision (they are computed on first access)', async () => {
    const { limiter } = setup([{ name: 'second', limit: 4, periodMs: 1000 }]);
    const decision = await limiter.check('k');
    expect(JSON.parse(JSON.stringify(decision))).toEqual({
      allowed: true,
      degraded: false,
      remaining: 3,
      resetMs: 250,
      retryAfterMs: 0,
      limits: [{ name: 'second', remaining: 3, resetMs: 250, retryAfterMs: 0 }],
    });
  });

  it('consume throws RATE_LIMITED with retryAfterMs, and reset forgets a key', async () => {
    const { limiter } = setup([{ name: 'minute', limit: 1, periodMs: 60_000 }]);
    await limiter.consume('k');
    await expect(limiter.consume('k')).rejects.toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 60_000, status: 429 });
    await limiter.reset('k');
    await expect(limiter.consume('k')).resolves.toMatchObject({ allowed: true });
  });

  it('validates keys, costs, limits and options with VALIDATION_FAILED', async () => {
    const { limiter } = setup([{ name: 's', limit: 5, periodMs: 1000 }]);
    await expect(limiter.check('')).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(limiter.check('a\nb')).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(limiter.check('k', { cost: 6 })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(limiter.check('k', { cost: -1 })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    const store = createMemoryRateLimitStore();
    const bad: unknown[] = [
      { store, limits: [{ name: 's', limit: 1, periodMs: 1000 }] }, // no failure mode: it must be explicit
      { store, limits: [], onStoreUnavailable: 'fail-open' },
      { store, limits: [{ name: 's', limit: 0, periodMs: 1000 }], onStoreUnavailable: 'fail-open' },
      { store, limits: [{ name: 's', limit: 1, periodMs: 1000 }, { name: 's', limit: 2, periodMs: 1000 }], onStoreUnavailable: 'fail-open' },
      { store, limits: [{ name: 'y', limit: 1, periodMs: 366 * 86_400_000 }], onStoreUnavailable: 'fail-open' },
      { store, limits: [{ name: 's', limit: 1, periodMs: 1000 }], onStoreUnavailable: 'maybe' },
    ];
    for (const options of bad) expect(() => createRateLimiter(options as never)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });

  describe('when the store is unavailable', () => {
    const down: RateLimitStore = {
      init: async () => undefined,
      check: async () => {
        throw new AdapterUnavailableError('down');
      },
      reset: async () => undefined,
      close: async () => undefined,
    };
    const limits = [{ name: 's', limit: 1, periodMs: 1000 }];

    it('fail-open admits and marks the decision degraded', async () => {
      const limiter = createRateLimiter({ store: down, limits, onStoreUnavailable: 'fail-open' });
      expect(await limiter.check('k')).toMatchObject({ allowed: true, degraded: true });
      expect(await limiter.consume('k')).toMatchObject({ allowed: true, degraded: true });
    });

    it('fail-closed refuses, and consume throws ADAPTER_UNAVAILABLE — not a false RATE_LIMITED', async () => {
      const limiter = createRateLimiter({ store: down, limits, onStoreUnavailable: 'fail-closed' });
      expect(await limiter.check('k')).toMatchObject({ allowed: false, degraded: true });
      await expect(limiter.consume('k')).rejects.toMatchObject({ code: 'ADAPTER_UNAVAILABLE', status: 503 });
    });

    it('treats a store that does not answer within timeoutMs as unavailable', async () => {
      const hanging: RateLimitStore = { ...down, check: () => new Promise(() => undefined) };
      const limiter = createRateLimiter({ store: hanging, limits, onStoreUnavailable: 'fail-open', timeoutMs: 5 });
      expect(await limiter.check('k')).toMatchObject({ allowed: true, degraded: true });
    });

    it('passes other errors through (a bug is not an outage)', async () => {
      const broken: RateLimitStore = {
        ...down,
        check: async () => {
          throw Object.assign(new Error('x'), { code: 'INTERNAL' });
        },
      };
      const limiter = createRateLimiter({ store: broken, limits, onStoreUnavailable: 'fail-open' });
      await expect(limiter.check('k')).rejects.toThrow('x');
    });
  });
});
