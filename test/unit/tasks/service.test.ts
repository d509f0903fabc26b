import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FabricaEventBus, type TaskEvent } from '../../../src/core/events.js';
import { ManualClock } from '../../../src/core/clock.js';
import { createMemoryQueue } from '../../../src/adapters/memory/index.js';
import { caught } from '../../../src/adapters/testing/support.js';
import { createTaskService, defineTaskType } from '../../../src/tasks/index.js';

const render = defineTaskType('render', z.object({ scene: z.string().min(1), frames: z.number().int().positive().default(24) }), {
  band: 'high',
  maxAttempts: 2,
  backoff: { delayMs: 1_000, jitter: 0 },
});

function setup() {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const queue = createMemoryQueue({ clock });
  const events = new FabricaEventBus();
  const seen: string[] = [];
  for (const name of ['task:created', 'task:updated', 'task:completed', 'task:failed', 'task:dead'] as const) {
    events.on(name, (e: TaskEvent) => seen.push(`${name}:${e.state}`));
  }
  const service = createTaskService({ queue, types: [render], events, random: () => 0 });
  return { clock, queue, events, seen, service };
}

describe('createTaskService', () => {
  it('validates the payload with the type schema, applies the type defaults and announces task:created', async () => {
    const { service, seen } = setup();
    const { task, created } = await service.create({ type: 'render', tenantId: 'acme', payload: { scene: 'intro' } });
    expect(created).toBe(true);
    const stored = await service.get(task.taskId);
    expect(stored).toMatchObject({ band: 'high', maxAttempts: 2, payload: { scene: 'intro', frames: 24 } });
    expect(seen).toEqual(['task:created:queued']);
    // The request's own fields win over the defaults.
    const low = await service.create({ type: 'render', tenantId: 'acme', payload: { scene: 'x' }, band: 'low' });
    expect((await service.get(low.task.taskId)).band).toBe('low');
  });

  it('refuses unknown types and rejected payloads with VALIDATION_FAILED, and announces no duplicate', async () => {
    const { service, seen } = setup();
    expect((await caught(() => service.create({ type: 'other', tenantId: 'acme', payload: {} }))).code).toBe('VALIDATION_FAILED');
    expect((await caught(() => service.create({ type: 'render', tenantId: 'acme', payload: { scene: '' } }))).code).toBe('VALIDATION_FAILED');
    expect((await caught(() => service.createMany([{ type: 'render', tenantId: 'acme', payload: { scene: 'a' } }, { type: 'render', tenantId: 'acme', payload: 1 }]))).code).toBe('VALIDATION_FAILED');
    expect(seen).toEqual([]);
    await service.createMany([
      { type: 'render', tenantId: 'acme', payload: { scene: 'a' }, idempotencyKey: 'k' },
      { type: 'render', tenantId: 'acme', payload: { scene: 'a' }, idempotencyKey: 'k' },
    ]);
    expect(seen).toEqual(['task:created:queued']);
    service.registerType(defineTaskType('other', z.object({})));
    expect((await service.create({ type: 'other', tenantId: 'acme', payload: {} })).created).toBe(true);
  });

  it('assigns (PUT /assign) and completes with the lease (PUT /complete), with events', async () => {
    const { service, seen } = setup();
    const { task } = await service.create({ type: 'render', tenantId: 'acme', payload: { scene: 'a' } });
    const { lease } = await service.assign(task.taskId, 'render-node-1');
    await service.complete(JSON.parse(JSON.stringify(lease)), { frames: 24 });
    expect(await service.get(task.taskId)).toMatchObject({ state: 'completed', result: { frames: 24 } });
    expect(seen).toEqual(['task:created:queued', 'task:updated:assigned', 'task:completed:completed']);
  });

  it('fails with the task backoff, then dead-letters; a final failure ends it failed', async () => {
    const { service, queue, clock, seen } = setup();
    const { task } = await service.create({ type: 'render', tenantId: 'acme', payload: { scene: 'a' } });
    const first = (await queue.claim('w', 1, 60_000)).tasks[0]!;
    const retry = await service.fail(first.lease, { code: 'E', message: 'x' });
    expect(retry).toMatchObject({ state: 'queued', readyAt: retry.at + 1_000 });
    clock.advance(1_000);
    const second = (await queue.claim('w', 1, 60_000)).tasks[0]!;
    expect((await service.fail(second.lease, { code: 'E', message: 'y' })).state).toBe('dead');
    const other = await service.create({ type: 'render', tenantId: 'acme', payload: { scene: 'b' } });
    const claimed = (await queue.claim('w', 1, 60_000)).tasks[0]!;
    expect(claimed.id).toBe(other.task.taskId);
    expect((await service.fail(claimed.lease, { code: 'BAD', message: 'no' }, { final: true })).state).toBe('failed');
    expect(seen.filter((s) => !s.startsWith('task:created'))).toEqual(['task:updated:queued', 'task:dead:dead', 'task:failed:failed']);
  });

  it('cancels and deletes (DELETE /tasks/:id), NOT_FOUND for an unknown task', async () => {
    const { service, seen } = setup();
    const a = await service.create({ type: 'render', tenantId: 'acme', payload: { scene: 'a' } });
    const b = await service.create({ type: 'render', tenantId: 'acme', payload: { scene: 'b' } });
    expect((await service.cancel(a.task.taskId)).state).toBe('cancelled');
    await service.delete(b.task.taskId);
    expect((await caught(() => service.get(b.task.taskId))).code).toBe('NOT_FOUND');
    expect((await caught(() => service.delete(b.task.taskId))).code).toBe('NOT_FOUND');
    expect(seen.slice(2)).toEqual(['task:updated:cancelled', 'task:updated:cancelled']);
  });

  it('derives a tenant weight from its tier', async () => {
    const { service, queue } = setup();
    expect(await service.setTenant('gold', { tier: 3, maxConcurrency: 5 })).toMatchObject({ weight: 3, maxConcurrency: 5 });
    expect(await service.setTenant('gold', { tier: 9, weight: 2 })).toMatchObject({ weight: 2 });
    const custom = createTaskService({ queue, weightForTier: (tier) => tier * 10 });
    expect((await custom.setTenant('silver', { tier: 2 })).weight).toBe(20);
    expect((await caught(() => custom.setTenant('silver', { tier: -1 }))).code).toBe('VALIDATION_FAILED');
    expect((await caught(() => createTaskService({ queue, weightForTier: () => 0 }).setTenant('x', { tier: 1 }))).code).toBe('VALIDATION_FAILED');
  });

  it('maintain() reaps expired leases and announces them', async () => {
    const { service, queue, clock, seen } = setup();
    await service.create({ type: 'render', tenantId: 'acme', payload: { scene: 'a' } });
    await queue.claim('w', 1, 1_000);
    clock.advance(1_000);
    expect(await service.maintain()).toEqual({ reaped: 1, purged: 0 });
    expect(seen.at(-1)).toBe('task:updated:queued');
    expect((await service.stats()).counts.queued).toBe(1);
    expect((await service.configure({ maxConcurrency: 4 })).maxConcurrency).toBe(4);
  });

  it('requires a queue', () => {
    expect(() => createTaskService({} as never)).toThrowError(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });
});
