import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { z } from 'zod';
import { ManualClock } from '../../../src/core/clock.js';
import { createMemoryQueue } from '../../../src/adapters/memory/index.js';
import { caught } from '../../../src/adapters/testing/support.js';
import { createTaskService, defineTaskType, dominantShare, dominantShareCost, FULL_SHARE_COST, jainIndex, parseResourceCapacity } from '../../../src/tasks/index.js';

const job = defineTaskType('job', z.null());

describe('dominant shares', () => {
  it('takes the largest fraction of any resource the capacity names', () => {
    const capacity = { cpu: 16, memoryMb: 65_536 };
    expect(dominantShare({ cpu: 4, memoryMb: 1_024 }, capacity)).toBe(0.25);
    expect(dominantShare({ cpu: 1, memoryMb: 32_768 }, capacity)).toBe(0.5);
    expect(dominantShare({ memoryMb: 32_768 }, { cpu: 16 })).toBe(0); // memory is not in this pool
    expect(dominantShare({}, capacity)).toBe(0);
    expect(dominantShareCost({ cpu: 16 }, capacity)).toBe(FULL_SHARE_COST);
    expect(dominantShareCost({ memoryMb: 8_192 }, { cpu: 16, memoryMb: 32_768 })).toBe(250);
    expect(dominantShareCost(undefined, capacity)).toBeUndefined();
    expect(dominantShareCost({ memoryMb: 1 }, { cpu: 4 })).toBeUndefined();
  });

  it('is monotone: asking for more of any resource never lowers the cost', () => {
    const capacity = { cpu: 64, memoryMb: 262_144 };
    fc.assert(
      fc.property(fc.double({ min: 0.01, max: 64, noNaN: true }), fc.double({ min: 1, max: 262_144, noNaN: true }), fc.double({ min: 0, max: 10, noNaN: true }), (cpu, memoryMb, extra) => {
        const base = dominantShareCost({ cpu, memoryMb }, capacity)!;
        expect(dominantShareCost({ cpu: cpu + extra, memoryMb }, capacity)!).toBeGreaterThanOrEqual(base);
        expect(dominantShareCost({ cpu, memoryMb: memoryMb + extra }, capacity)!).toBeGreaterThanOrEqual(base);
        expect(base).toBeGreaterThan(0);
      }),
    );
  });

  it('refuses bad capacities and requests past the cost bound with VALIDATION_FAILED', async () => {
    for (const bad of [undefined, {}, { cpu: 0 }, { cpu: -1 }, { memoryMb: Number.POSITIVE_INFINITY }, { cpu: 4, gpu: 1 }, { cpu: '4' }]) {
      expect((await caught(() => parseResourceCapacity(bad))).code).toBe('VALIDATION_FAILED');
      expect((await caught(() => createTaskService({ queue: createMemoryQueue(), multiResource: { capacity: bad as never } }))).code).toBe('VALIDATION_FAILED');
    }
    expect((await caught(() => dominantShareCost({ cpu: 2_000_000 }, { cpu: 1 }))).code).toBe('VALIDATION_FAILED');
  });
});

describe('task service in multi-resource mode', () => {
  const setup = () => {
    const queue = createMemoryQueue({ clock: new ManualClock(Date.UTC(2026, 0, 1)) });
    const service = createTaskService({ queue, types: [job], multiResource: { capacity: { cpu: 64, memoryMb: 262_144 } } });
    return { queue, service };
  };

  it('charges a task with resources its dominant share, and leaves explicit costs and resource-less tasks alone', async () => {
    const { service } = setup();
    const heavy = await service.create({ type: 'job', tenantId: 'acme', payload: null, resources: { cpu: 16, memoryMb: 1_024 } });
    const explicit = await service.create({ type: 'job', tenantId: 'acme', payload: null, resources: { cpu: 16 }, cost: 7 });
    const plain = await service.create({ type: 'job', tenantId: 'acme', payload: null });
    expect((await service.get(heavy.task.taskId)).cost).toBe(250);
    expect((await service.get(explicit.task.taskId)).cost).toBe(7);
    expect((await service.get(plain.task.taskId)).cost).toBe(1);
  });

  it('still lets the queue refuse bad resources, and stores nothing', async () => {
    const { queue, service } = setup();
    for (const resources of [{ cpu: -1 }, { cpu: 'x' }, { memoryMb: Number.NaN }]) {
      expect((await caught(() => service.create({ type: 'job', tenantId: 'acme', payload: null, resources: resources as never }))).code).toBe('VALIDATION_FAILED');
    }
    expect((await queue.stats()).counts.queued).toBe(0);
  });

  it('serves three tenants with different bottlenecks and weights 1:2:4 in equal weighted dominant shares (Jain >= 0.99)', async () => {
    const { queue, service } = setup();
    const capacity = { cpu: 64, memoryMb: 262_144 };
    const tenants = {
      cpuBound: { weight: 1, resources: { cpu: 8, memoryMb: 2_048 } }, // 1/8 CPU
      memoryBound: { weight: 2, resources: { cpu: 1, memoryMb: 65_536 } }, // 1/4 memory
      balanced: { weight: 4, resources: { cpu: 2, memoryMb: 8_192 } }, // 1/32 of both
    };
    for (const [tenantId, t] of Object.entries(tenants)) {
      await service.setTenant(tenantId, { weight: t.weight });
      await service.createMany(Array.from({ length: 1_000 }, () => ({ type: 'job', tenantId, payload: null, resources: t.resources })));
    }
    const share: Record<string, number> = { cpuBound: 0, memoryBound: 0, balanced: 0 };
    // 600 tasks: all three stay backlogged (balanced tasks are cheap: it gets ~16 per cpuBound task).
    for (let round = 0; round < 30; round++) {
      const { tasks } = await queue.claim('w', 20, 60_000);
      for (const t of tasks) share[t.tenantId]! += dominantShare(t.resources ?? {}, capacity);
      for (const t of tasks) await queue.complete(t.lease);
    }
    const normalised = Object.entries(tenants).map(([name, t]) => share[name]! / t.weight);
    expect(jainIndex(normalised)).toBeGreaterThanOrEqual(0.99);
    const mean = normalised.reduce((a, b) => a + b, 0) / normalised.length;
    for (const n of normalised) expect(Math.abs(n / mean - 1)).toBeLessThanOrEqual(0.05);
  });
});
