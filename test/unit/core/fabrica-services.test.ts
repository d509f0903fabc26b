import { describe, expect, it } from 'vitest';
import { createFabrica } from '../../../src/fabrica.js';
import { defineTaskType } from '../../../src/tasks/index.js';
import { z } from 'zod';

describe('createFabrica composes every service on its adapters', () => {
  it('wires identity, access, tasks and resources to the same storage and event bus', async () => {
    const render = defineTaskType('render', z.object({ frame: z.number().int() }));
    const fabrica = await createFabrica({ tasks: { types: [render] } });
    const seen: string[] = [];
    fabrica.events.on('task:created', (e) => seen.push(e.type));
    const user = await fabrica.identity.users.create({ email: 'ada@example.com', displayName: 'Ada', password: 'correct horse battery' });
    const { task } = await fabrica.tasks.create({ type: 'render', tenantId: 'acme', ownerId: user.id, payload: { frame: 1 } });
    expect((await fabrica.tasks.get(task.taskId)).state).toBe('queued');
    expect(seen).toEqual(['render']);
    const reservation = await fabrica.resources.allocate({ id: user.id, tier: 1 }, { compute: 100 });
    expect(reservation.amounts.compute).toBe(100);
    await fabrica.access.defineRole({ name: 'viewer' });
    expect(await fabrica.access.checkPermission(user.id, 'tenants/acme/tasks/1', 'read')).toBe(false);
    expect((await fabrica.rateLimiter.check('k')).allowed).toBe(true);
    await fabrica.close();
    await fabrica.close();
    await expect(fabrica.storage.get('users', 'x')).rejects.toMatchObject({ code: 'ADAPTER_CLOSED' });
  });
});
