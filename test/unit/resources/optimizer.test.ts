import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseOptimizationPolicy, planAdjustments } from '../../../src/resources/index.js';

const policy = parseOptimizationPolicy();

describe('optimiser (planAdjustments)', () => {
  it('lowers a noisy tenant’s concurrency under cpu pressure, and leaves quiet ones alone', () => {
    const out = planAdjustments(
      {
        system: { cpuUsage: 0.93, memoryUsage: 0.4 },
        tenants: [
          { tenantId: 'quiet', concurrency: 4, baseline: 4, share: 0.1 },
          { tenantId: 'noisy', concurrency: 9, baseline: 9, share: 0.8 },
        ],
      },
      policy,
    );
    expect(out).toEqual([{ target: 'tenant:noisy', kind: 'concurrency', from: 9, to: 4, reason: expect.stringMatching(/noisy tenant: 80%/) }]);
  });

  it('never lowers below the minimum, and restores toward the baseline once pressure is gone', () => {
    expect(planAdjustments({ system: { memoryUsage: 0.95 }, tenants: [{ tenantId: 't', concurrency: 1, baseline: 8, share: 1 }] }, policy)).toEqual([]);
    const steps: number[] = [];
    let concurrency = 1;
    for (let i = 0; i < 5; i++) {
      const [a] = planAdjustments({ system: { cpuUsage: 0.2 }, tenants: [{ tenantId: 't', concurrency, baseline: 8, share: 1 }] }, policy);
      if (!a) break;
      concurrency = a.to;
      steps.push(a.to);
    }
    expect(steps).toEqual([2, 4, 8]);
  });

  it('raises reliable busy users’ boosts within bounds, and withdraws boosts of unreliable ones', () => {
    const out = planAdjustments(
      {
        users: [
          { userId: 'b-busy', reliability: 0.995, utilization: 0.9, boost: 1.75 },
          { userId: 'a-refused', reliability: 0.999, utilization: 0.2, quotaRejections: 3 },
          { userId: 'c-idle', reliability: 1, utilization: 0.1 },
          { userId: 'd-flaky', reliability: 0.5, utilization: 1, boost: 1.5 },
          { userId: 'e-max', reliability: 1, utilization: 1, boost: 2 },
        ],
      },
      policy,
    );
    expect(out.map((a) => [a.target, a.from, a.to])).toEqual([
      ['user:a-refused', 1, 1.25],
      ['user:b-busy', 1.75, 2],
      ['user:d-flaky', 1.5, 1],
    ]);
  });

  it('grants no boosts under pressure and steps existing ones back', () => {
    const out = planAdjustments({ system: { cpuUsage: 0.9 }, users: [{ userId: 'u', reliability: 1, utilization: 1, boost: 1.5 }] }, policy);
    expect(out).toEqual([{ target: 'user:u', kind: 'quota.boost', from: 1.5, to: 1.25, reason: expect.stringMatching(/pressure/) }]);
  });

  it('validates its input and policy', () => {
    expect(() => planAdjustments({ system: { cpuUsage: 2 } }, policy)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    expect(() => planAdjustments({ tenants: [{ tenantId: 't', concurrency: 0, baseline: 1, share: 0 }] }, policy)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    expect(() => parseOptimizationPolicy({ concurrencyFactor: 1 })).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });

  it('property: caps stay within [min, baseline-or-current], boosts within bounds, and every adjustment changes something', () => {
    const tenant = fc.record({
      tenantId: fc.string({ minLength: 1, maxLength: 5 }),
      concurrency: fc.integer({ min: 1, max: 64 }),
      baseline: fc.integer({ min: 1, max: 64 }),
      share: fc.double({ min: 0, max: 1, noNaN: true }),
    });
    const user = fc.record({
      userId: fc.string({ minLength: 1, maxLength: 5 }),
      reliability: fc.double({ min: 0, max: 1, noNaN: true }),
      utilization: fc.double({ min: 0, max: 1, noNaN: true }),
      boost: fc.double({ min: 1, max: 2, noNaN: true }),
    });
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), fc.array(tenant, { maxLength: 10 }), fc.array(user, { maxLength: 10 }), (cpu, tenants, users) => {
        const out = planAdjustments({ system: { cpuUsage: cpu }, tenants, users }, policy);
        for (const a of out) {
          expect(a.to).not.toBe(a.from);
          if (a.kind === 'concurrency') {
            expect(a.to).toBeGreaterThanOrEqual(policy.minConcurrency);
            expect(Number.isInteger(a.to)).toBe(true);
          } else {
            expect(a.to).toBeGreaterThanOrEqual(policy.boost.min);
            expect(a.to).toBeLessThanOrEqual(policy.boost.max);
          }
        }
        expect(planAdjustments({ system: { cpuUsage: cpu }, tenants, users }, policy)).toEqual(out);
      }),
    );
  });
});
