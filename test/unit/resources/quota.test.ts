import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyMultipliers,
  calculateBaseQuota,
  calculateQuota,
  DEFAULT_QUOTA_CONFIG,
  parseQuotaConfig,
  ResourceAllocator,
} from '../../../src/resources/index.js';

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
};

describe('quota formula (the spec ResourceAllocator)', () => {
  const config = parseQuotaConfig({ bases: { compute: 1000, storage: 100, network: 10 } });

  it('calculateBaseQuota is tier × BASE for each resource', () => {
    expect(calculateBaseQuota(1, config)).toEqual({ compute: 1000, storage: 100, network: 10 });
    expect(calculateBaseQuota(3, config)).toEqual({ compute: 3000, storage: 300, network: 30 });
    expect(calculateBaseQuota('5', config)).toEqual({ compute: 5000, storage: 500, network: 50 });
  });

  it('applyMultipliers scales compute by efficiency, storage by utilization, network by reliability', () => {
    const quota = applyMultipliers({ compute: 1000, storage: 1000, network: 1000 }, { efficiency: 1.5, utilization: 0.5, reliability: 1.25 }, config);
    expect(quota).toEqual({ compute: 1500, storage: 500, network: 1250 });
  });

  it('rounds down to whole units', () => {
    expect(applyMultipliers({ compute: 10, storage: 10, network: 10 }, { efficiency: 0.33, utilization: 0.99, reliability: 1.01 }, config)).toEqual({
      compute: 3,
      storage: 9,
      network: 10,
    });
  });

  it('clamps out-of-range metrics into their bounds by default (NaN to the lower bound)', () => {
    const base = { compute: 1000, storage: 1000, network: 1000 };
    expect(applyMultipliers(base, { efficiency: 50, utilization: -3, reliability: Number.NaN }, config)).toEqual({ compute: 2000, storage: 250, network: 250 });
    expect(applyMultipliers(base, { efficiency: Infinity, utilization: -Infinity, reliability: 1 }, config)).toEqual({ compute: 2000, storage: 250, network: 1000 });
  });

  it('rejects out-of-range metrics with VALIDATION_FAILED when configured to', () => {
    const strict = parseQuotaConfig({ outOfRange: 'reject' });
    const base = calculateBaseQuota(1, strict);
    expect(code(() => applyMultipliers(base, { efficiency: 3, utilization: 1, reliability: 1 }, strict))).toBe('VALIDATION_FAILED');
    expect(code(() => applyMultipliers(base, { efficiency: 1, utilization: Number.NaN, reliability: 1 }, strict))).toBe('VALIDATION_FAILED');
    expect(applyMultipliers(base, { efficiency: 2, utilization: 0.25, reliability: 1 }, strict).compute).toBe(2000);
  });

  it('applies the boost within its bounds', () => {
    expect(calculateQuota(1, {}, config, 1.5).compute).toBe(1500);
    expect(calculateQuota(1, {}, config, 7).compute).toBe(2000);
    expect(calculateQuota(1, {}, config, 0).compute).toBe(1000);
  });

  it('rejects unknown tiers with VALIDATION_FAILED', () => {
    expect(code(() => calculateBaseQuota(6, config))).toBe('VALIDATION_FAILED');
    expect(code(() => calculateBaseQuota('constructor', config))).toBe('VALIDATION_FAILED');
    const named = parseQuotaConfig({ tiers: { free: 1, pro: 4 } });
    expect(calculateBaseQuota('pro', named).compute).toBe(4000);
    expect(code(() => calculateBaseQuota(1, named))).toBe('VALIDATION_FAILED');
  });

  it('validates the configuration with zod and fills in defaults', () => {
    expect(parseQuotaConfig()).toEqual(DEFAULT_QUOTA_CONFIG);
    expect(parseQuotaConfig({ bases: { compute: 5 } }).bases).toEqual({ ...DEFAULT_QUOTA_CONFIG.bases, compute: 5 });
    const bad: unknown[] = [
      { bases: { compute: -1 } },
      { bases: { compute: Infinity } },
      { tiers: {} },
      { tiers: { gold: -2 } },
      { multipliers: { efficiency: { min: 2, max: 1 } } },
      { multipliers: { efficiency: { min: 0, max: 1000 } } },
      { boost: { min: 0, max: 11 } },
      { outOfRange: 'ignore' },
      { unknown: true },
      // Largest quota beyond 2^53: refused up front.
      { bases: { storage: 1e15 }, tiers: { huge: 1e6 } },
    ];
    for (const input of bad) expect(code(() => parseQuotaConfig(input as never))).toBe('VALIDATION_FAILED');
  });

  it('ResourceAllocator.allocate uses the user metrics, the metrics source, then neutral values', async () => {
    const allocator = new ResourceAllocator({ config: { bases: { compute: 1000, storage: 100, network: 10 } }, metrics: async (id) => (id === 'ada' ? { efficiency: 1.2 } : undefined) });
    expect((await allocator.allocate({ id: 'ada', tier: 2 })).compute).toBe(2400);
    expect((await allocator.allocate({ id: 'bob', tier: 2 })).compute).toBe(2000);
    expect((await allocator.allocate({ id: 'ada', tier: 2, metrics: { efficiency: 0.5 } })).compute).toBe(1000);
    await expect(allocator.allocate({ id: '', tier: 1 })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  describe('properties', () => {
    const anyNumber = fc.oneof(fc.double(), fc.constantFrom(Number.NaN, Infinity, -Infinity, 0, -0, 1e308, -1e308));
    const tier = fc.constantFrom(...Object.keys(DEFAULT_QUOTA_CONFIG.tiers));

    it('never yields a negative, fractional, NaN, infinite or unsafe quota, whatever the metrics and boost', () => {
      fc.assert(
        fc.property(tier, anyNumber, anyNumber, anyNumber, anyNumber, (t, e, u, r, b) => {
          const q = calculateQuota(t, { efficiency: e, utilization: u, reliability: r }, DEFAULT_QUOTA_CONFIG, b);
          for (const v of [q.compute, q.storage, q.network]) {
            expect(Number.isSafeInteger(v)).toBe(true);
            expect(v).toBeGreaterThanOrEqual(0);
          }
        }),
        { numRuns: 2000 },
      );
    });

    it('stays within tier × BASE × [min, max] multiplier for any metric', () => {
      fc.assert(
        fc.property(tier, anyNumber, (t, e) => {
          const q = calculateQuota(t, { efficiency: e }, DEFAULT_QUOTA_CONFIG);
          const base = calculateBaseQuota(t, DEFAULT_QUOTA_CONFIG).compute;
          const { min, max } = DEFAULT_QUOTA_CONFIG.multipliers.efficiency;
          expect(q.compute).toBeGreaterThanOrEqual(Math.floor(base * min));
          expect(q.compute).toBeLessThanOrEqual(base * max);
        }),
      );
    });

    it('is monotonic: a higher tier or a better metric never lowers a quota', () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 4 }), fc.double({ min: 0, max: 3, noNaN: true }), fc.double({ min: 0, max: 3, noNaN: true }), (t, a, b) => {
          const [lo, hi] = a <= b ? [a, b] : [b, a];
          const low = calculateQuota(t, { reliability: lo }, DEFAULT_QUOTA_CONFIG);
          const high = calculateQuota(t, { reliability: hi }, DEFAULT_QUOTA_CONFIG);
          expect(high.network).toBeGreaterThanOrEqual(low.network);
          expect(calculateQuota(t + 1, { reliability: lo }, DEFAULT_QUOTA_CONFIG).network).toBeGreaterThanOrEqual(low.network);
        }),
      );
    });

    it('is a pure function: the same inputs always give the same quota', () => {
      fc.assert(
        fc.property(tier, fc.double({ noNaN: true }), (t, e) => {
          expect(calculateQuota(t, { efficiency: e }, DEFAULT_QUOTA_CONFIG)).toEqual(calculateQuota(t, { efficiency: e }, DEFAULT_QUOTA_CONFIG));
        }),
      );
    });

    it('never exceeds 2^53 − 1 for any accepted configuration', () => {
      fc.assert(
        fc.property(
          fc.double({ min: 0, max: 1e15, noNaN: true }),
          fc.double({ min: 0, max: 1e6, noNaN: true }),
          fc.double({ min: 0, max: 100, noNaN: true }),
          (base, factor, mult) => {
            let config;
            try {
              config = parseQuotaConfig({ bases: { compute: base }, tiers: { t: factor }, multipliers: { efficiency: { min: 0, max: mult } } });
            } catch {
              return; // refused configurations are fine
            }
            const q = calculateQuota('t', { efficiency: mult }, config, config.boost.max);
            expect(Number.isSafeInteger(q.compute)).toBe(true);
          },
        ),
      );
    });
  });
});
