/**
 * Demo section: what the task scheduler does, on the memory backend (no setup). The lead's
 * examples/demo.ts calls {@link demoTasks}; `npx tsx examples/demo-tasks.ts` runs it alone.
 */
import { z } from 'zod';
import { FabricaEventBus, ManualClock, isFabricaError } from '../src/index.js';
import { createMemoryQueue, MemoryQueueState } from '../src/adapters/memory/index.js';
import { createTaskMetrics, createTaskService, createWorker, defineTaskType, dominantShare, jainIndex } from '../src/tasks/index.js';

const title = (text: string): void => console.log(`\n== ${text} ${'='.repeat(Math.max(0, 70 - text.length))}`);

/** Prints a tour of the fair scheduler: weighted shares, a flood, aging, multi-resource shares, caps, leases, a worker and alerts. */
export async function demoTasks(): Promise<void> {
  const clock = new ManualClock(Date.UTC(2026, 10, 26, 9, 0, 0));
  const state = new MemoryQueueState();
  const queue = (name: string) => createMemoryQueue({ state, queue: name, clock });

  title('Tasks: weighted fair shares (weights 1:2:4, all backlogged)');
  {
    const q = queue('shares');
    for (const [tenant, weight] of [['free', 1], ['pro', 2], ['enterprise', 4]] as const) {
      await q.setTenant(tenant, { weight });
      await q.enqueueMany(Array.from({ length: 1_000 }, (_, i) => ({ type: 'render', tenantId: tenant, payload: i })));
    }
    const first = (await q.claim('w1', 7, 60_000)).tasks;
    console.log(`first 7 claims: ${first.map((t) => t.tenantId).join(', ')}`);
    const served: Record<string, number> = { free: 0, pro: 0, enterprise: 0 };
    for (const t of [...first, ...(await q.claim('w1', 693, 60_000)).tasks]) served[t.tenantId]! += 1;
    const s = served as { free: number; pro: number; enterprise: number };
    console.log(`700 claims -> free ${s.free}, pro ${s.pro}, enterprise ${s.enterprise}; Jain's index on service/weight ${jainIndex([s.free / 1, s.pro / 2, s.enterprise / 4]).toFixed(4)}`);
  }

  title('Tasks: a flooding tenant does not starve a quiet one');
  {
    const q = queue('flood');
    for (let i = 0; i < 100_000; i += 10_000) await q.enqueueMany(Array.from({ length: 10_000 }, () => ({ type: 'scan', tenantId: 'noisy', payload: null })));
    await q.claim('w1', 500, 60_000);
    const { task } = await q.enqueue({ type: 'scan', tenantId: 'quiet', payload: null });
    const next = (await q.claim('w1', 2, 60_000)).tasks;
    console.log(`100,000 queued by 'noisy'; 'quiet' enqueues one task -> claimed at position ${next.findIndex((t) => t.id === task.taskId) + 1} of the next claim`);
  }

  title('Tasks: priority bands with aging (agingMs 60 s, one band per minute waited)');
  {
    const q = queue('bands');
    await q.configure({ agingMs: 60_000 });
    const { task: low } = await q.enqueue({ type: 'report', tenantId: 'acme', payload: 'low', band: 'low' });
    await q.enqueueMany(Array.from({ length: 300 }, () => ({ type: 'report', tenantId: 'acme', payload: 'normal' })));
    const before = (await q.claim('w1', 3, 60_000)).tasks.map((t) => t.band);
    console.log(`normal work first: ${before.join(', ')}`);
    clock.advance(3 * 60_000);
    const after = (await q.claim('w1', 1, 60_000)).tasks[0]!;
    console.log(`3 minutes later the ${after.id === low.taskId ? 'low task' : 'wrong task'} runs first: band ${after.band}, promoted to ${after.effectiveBand} (297 normal tasks still queued)`);
  }

  title('Tasks: multi-resource mode (Dominant Resource Fairness over cpu/memory)');
  {
    const q = queue('drf');
    const capacity = { cpu: 64, memoryMb: 262_144 };
    const service = createTaskService({ queue: q, types: [defineTaskType('job', z.null())], multiResource: { capacity } });
    await service.createMany(Array.from({ length: 200 }, () => ({ type: 'job', tenantId: 'renders', payload: null, resources: { cpu: 8, memoryMb: 4_096 } })));
    await service.createMany(Array.from({ length: 200 }, () => ({ type: 'job', tenantId: 'caches', payload: null, resources: { cpu: 1, memoryMb: 16_384 } })));
    const served = { renders: 0, caches: 0 };
    const share = { renders: 0, caches: 0 };
    for (const t of (await q.claim('w1', 90, 60_000)).tasks) {
      const tenant = t.tenantId as 'renders' | 'caches';
      served[tenant] += 1;
      share[tenant] += dominantShare(t.resources ?? {}, capacity);
    }
    console.log(`pool 64 cores / 256 GiB; 'renders' asks 8 cores (1/8 CPU), 'caches' 16 GiB (1/16 memory)`);
    console.log(`90 claims -> renders ${served.renders} tasks (dominant share ${share.renders.toFixed(2)} pools), caches ${served.caches} tasks (${share.caches.toFixed(2)} pools)`);
  }

  title('Tasks: caps are skipped, never blocking (work-conserving)');
  {
    const q = queue('caps');
    await q.setTenant('capped', { maxConcurrency: 2 });
    await q.enqueueMany([
      ...Array.from({ length: 10 }, () => ({ type: 'job', tenantId: 'capped', payload: null })),
      ...Array.from({ length: 10 }, () => ({ type: 'job', tenantId: 'other', payload: null })),
    ]);
    const got = (await q.claim('w1', 8, 60_000)).tasks.map((t) => t.tenantId);
    console.log(`claim 8 -> capped ${got.filter((t) => t === 'capped').length} (its cap), other ${got.filter((t) => t === 'other').length}`);
  }

  title('Tasks: leases, fencing and dead letters');
  {
    const q = queue('leases');
    const { task } = await q.enqueue({ type: 'job', tenantId: 'acme', payload: null, maxAttempts: 2 });
    const first = (await q.claim('worker-a', 1, 10_000)).tasks[0]!;
    clock.advance(10_000);
    const second = (await q.claim('worker-b', 1, 10_000)).tasks[0]!;
    console.log(`worker-a's lease expired -> redelivered to worker-b, attempt ${second.attempt}`);
    try {
      await q.complete(first.lease);
    } catch (err) {
      if (isFabricaError(err)) console.log(`worker-a completes late -> refused: ${err.code} (${String(err.details?.reason)})`);
    }
    await q.fail(second.lease, { error: { code: 'RENDER_FAILED', message: 'out of memory' } });
    const dead = await q.get(task.taskId);
    console.log(`last attempt failed -> ${dead?.state}; history: ${dead?.history.map((h) => h.state + (h.reason ? `(${h.reason})` : '')).join(' -> ')}`);
  }

  title('Tasks: a worker, the service, events and a starvation alert');
  {
    const q = queue('service');
    const events = new FabricaEventBus();
    const seen: string[] = [];
    events.on('task:completed', (e) => seen.push(e.tenantId));
    events.on('system:alerts', (a) => console.log(`system:alerts -> ${a.severity} ${a.name} ${JSON.stringify(a.details)}`));
    const email = defineTaskType('email', z.object({ to: z.string().email() }));
    const service = createTaskService({ queue: q, types: [email], events });
    try {
      await service.create({ type: 'email', tenantId: 'acme', payload: { to: 'not-an-address' } });
    } catch (err) {
      if (isFabricaError(err)) console.log(`payload rejected by the type's schema: ${err.code}`);
    }
    await service.createMany(['ada', 'grace', 'alan'].map((name) => ({ type: 'email', tenantId: 'acme', payload: { to: `${name}@example.com` } })));
    const metrics = createTaskMetrics({ queue: q, events, clock, thresholds: { starvedMs: 30_000 } });
    const worker = createWorker({ queue: q, events, metrics, concurrency: 2, handlers: { email: async () => ({ sent: true }) } });
    await worker.idle();
    await worker.close();
    console.log(`worker completed ${worker.counts.completed} emails; task:completed events for ${seen.join(', ')}`);
    await q.setTenant('blocked', { maxConcurrency: 1 });
    await q.enqueueMany([{ type: 'email', tenantId: 'blocked', payload: { to: 'a@example.com' } }, { type: 'email', tenantId: 'blocked', payload: { to: 'b@example.com' } }]);
    await q.claim('slow-worker', 5, 600_000);
    clock.advance(45_000);
    await metrics.check();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await demoTasks();
