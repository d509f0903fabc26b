import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/core/clock.js';
import { createMemoryReservationStore } from '../../../src/adapters/memory/index.js';
import { createResourceManager, createTaskReservations, type TaskLike } from '../../../src/resources/index.js';

function setup() {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const manager = createResourceManager({ reservations: createMemoryReservationStore({ clock }), quota: { bases: { compute: 1000 } } });
  const guard = createTaskReservations(manager, { subject: async (task) => ({ id: task.ownerId ?? '', tier: 1 }), leaseMs: 10_000 });
  return { clock, manager, guard };
}
const task = (id: string, cpu: number | undefined, ownerId: string | null = 'ada'): TaskLike => ({
  id,
  ownerId,
  tenantId: 'acme',
  resources: cpu === undefined ? null : { cpu },
});
const ada = { id: 'ada', tier: 1 };

describe('task reservations (the tasks hook)', () => {
  it('reserves a task’s cpu on claim and releases it on completion, so the quota bounds what runs at once', async () => {
    const { manager, guard } = setup();
    await guard.reserve(task('t1', 0.5));
    await guard.reserve(task('t2', 0.5));
    await expect(guard.reserve(task('t3', 0.25))).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED' });
    expect((await manager.usage(ada)).usage.compute).toBe(1000);
    expect(await guard.release(task('t1', 0.5))).toBe(true);
    expect((await guard.reserve(task('t3', 0.25)))?.id).toBe('task:t3');
    expect((await manager.usage(ada)).usage.compute).toBe(750);
  });

  it('is idempotent per task: a redelivered task reuses its reservation', async () => {
    const { manager, guard } = setup();
    const a = await guard.reserve(task('t1', 0.6));
    const b = await guard.reserve(task('t1', 0.6));
    expect(b).toEqual(a);
    expect((await manager.usage(ada)).usage.compute).toBe(600);
  });

  it('run reserves, renews while the handler runs, and releases however it ends', async () => {
    const { manager, guard } = setup();
    expect(await guard.run(task('ok', 1), async () => 'done')).toBe('done');
    await expect(guard.run(task('boom', 1), async () => Promise.reject(new Error('handler failed')))).rejects.toThrow('handler failed');
    expect((await manager.usage(ada)).count).toBe(0);
    await guard.reserve(task('holder', 1));
    let ran = false;
    await expect(
      guard.run(task('over', 0.1), async () => {
        ran = true;
      }),
    ).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED' });
    expect(ran).toBe(false);
  });

  it('returns a crashed worker’s task reservation after the lease', async () => {
    const { manager, guard, clock } = setup();
    await guard.reserve(task('t1', 1));
    clock.advance(10_000);
    expect((await manager.usage(ada)).usage.compute).toBe(0);
    await expect(guard.renew(task('t1', 1))).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('reserves nothing for tasks without owner or without a request', async () => {
    const { guard } = setup();
    expect(await guard.reserve(task('t1', 1, null))).toBeNull();
    expect(await guard.reserve(task('t2', undefined))).toBeNull();
    expect(await guard.release(task('t1', 1, null))).toBe(false);
    await expect(guard.renew(task('t1', 1, null))).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(await guard.run(task('t3', undefined), async () => 1)).toBe(1);
  });

  it('maps resources with a custom toAmounts', async () => {
    const manager = createResourceManager({ reservations: createMemoryReservationStore() });
    const guard = createTaskReservations(manager, {
      subject: () => ({ id: 'ignored', tier: 1 }),
      toAmounts: (t) => ({ compute: 0, storage: (t.resources?.memoryMb ?? 0) * 1024 * 1024, network: 0 }),
    });
    const r = await guard.reserve({ id: 'm', ownerId: 'ada', tenantId: 'acme', resources: { memoryMb: 512 } });
    expect(r).toMatchObject({ userId: 'ada', amounts: { storage: 512 * 1024 * 1024 } });
    expect(() => createTaskReservations(manager, {} as never)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });
});
