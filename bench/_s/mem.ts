import type { EnqueueRequest } from '../../src/adapters/queue.js';
import { createMemoryQueue } from '../../src/adapters/memory/index.js';
import { createWorker } from '../../src/tasks/index.js';
const n = Number(process.env.N ?? 1_000_000);
const randomPriority = (): number => Math.floor(Math.random() * 2001) - 1000;
const noop = (): void => undefined;
for (let round = 0; round < Number(process.env.ROUNDS ?? 2); round++) {
  const queue = createMemoryQueue();
  if (process.env.RET === "0") await queue.configure({ retentionMs: 0 });
  const requests: EnqueueRequest[] = Array.from({ length: n }, (_, i) => ({ type: 'noop', tenantId: `t${i % 100}`, payload: null, priority: randomPriority() }));
  (globalThis as any).gc?.();
  const started = performance.now();
  for (let i = 0; i < n; i += 10_000) await queue.enqueueMany(requests.slice(i, i + 10_000));
  const enq = performance.now();
  const worker = createWorker({ queue, concurrency: 100, handlers: { noop } });
  await worker.idle();
  const done = performance.now();
  await worker.close();
  await queue.close();
  console.log(`total ${Math.round(n / (done - started) * 1000)}/s enqueue ${Math.round(n / (enq - started) * 1000)}/s drain ${Math.round(n / (done - enq) * 1000)}/s`);
}
