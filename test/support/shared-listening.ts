import { expect } from 'vitest';
import type { JsonValue, PubSub, QueueAdapter } from '../../src/adapters/index.js';
import { waitFor } from '../../src/adapters/testing/support.js';
import { createWorker } from '../../src/tasks/index.js';

/** How long the churn tests run (ms): short by default, `SHARED_CHURN_MS` for a soak. */
export const CHURN_MS = Number(process.env.SHARED_CHURN_MS ?? 1_500);

/**
 * Whether `queue.waitForWork(timeoutMs)` returned well before its timeout once `trigger` ran
 * (e.g. an enqueue): a wake-up reached the waiting handle instead of the timer ending the wait.
 */
export async function wokenWithin(queue: QueueAdapter, timeoutMs: number, trigger: () => Promise<unknown>): Promise<boolean> {
  const started = Date.now();
  const waiting = queue.waitForWork(timeoutMs);
  await trigger();
  await waiting;
  return Date.now() - started < timeoutMs - 500;
}

/**
 * Every queue handle claims nothing, is woken by an enqueue on its own queue, then claims and
 * completes that task; every pub/sub adapter (subscribed to `news` first) receives one message.
 * The scenario of the shared LISTEN / SUBSCRIBE connection tests, run on any backend.
 */
export async function wakeAndDeliverThroughEach(queues: readonly QueueAdapter[], pubsubs: readonly PubSub[]): Promise<void> {
  const received: JsonValue[][] = pubsubs.map(() => []);
  for (const [i, pubsub] of pubsubs.entries()) await pubsub.subscribe('news', (message) => void received[i]!.push(message));
  for (const [i, queue] of queues.entries()) {
    // A first claim subscribes the handle to its wake-ups.
    expect((await queue.claim('w', 1, 10_000)).tasks).toEqual([]);
    // An enqueue on this queue wakes a worker waiting on it long before the wait would end.
    expect(await wokenWithin(queue, 20_000, () => queue.enqueue({ type: 'job', tenantId: 'acme', payload: { i } }))).toBe(true);
    const { tasks } = await queue.claim('w', 1, 10_000);
    expect(tasks.map((t) => t.payload)).toEqual([{ i }]);
    await queue.complete(tasks[0]!.lease);
  }
  await pubsubs[0]!.publish('news', 'one message');
  await waitFor(() => received.every((r) => r.length === 1), { what: 'every subscriber' });
  expect(received).toEqual(pubsubs.map(() => ['one message']));
}

/**
 * Chaos for a shared LISTEN / SUBSCRIBE connection: for `ms`, rounds of 20 random subscribes,
 * unsubscribes and (when `reopen` is given) adapter closes and replacements over 5 channels,
 * with `kill` (cutting the shared connection) called in about one round in ten. Returns the
 * adapters left open, each subscribed to `final` and counting what it receives there, and the
 * number of subscribes that failed with anything but ADAPTER_CLOSED.
 */
export async function churnSubscriptions(
  adapters: PubSub[],
  ms: number,
  kill: () => Promise<unknown>,
  reopen?: () => PubSub,
): Promise<{ readonly adapters: readonly PubSub[]; readonly received: number[]; readonly failures: number }> {
  const random = (n: number): number => Math.floor(Math.random() * n);
  const subscriptions: (() => Promise<void>)[][] = adapters.map(() => []);
  let failures = 0;
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const ops: Promise<unknown>[] = [];
    for (let k = 0; k < 20; k++) {
      const i = random(adapters.length);
      const roll = Math.random();
      if (reopen !== undefined && roll < 0.02) {
        const old = adapters[i]!;
        adapters[i] = reopen();
        subscriptions[i] = [];
        ops.push(old.close());
      } else if (subscriptions[i]!.length > 0 && roll < 0.5) {
        ops.push(subscriptions[i]!.splice(random(subscriptions[i]!.length), 1)[0]!());
      } else {
        const adapter = adapters[i]!;
        ops.push(
          adapter.subscribe(`churn.${random(5)}`, () => undefined).then(
            (unsubscribe) => {
              if (adapters[i] === adapter) subscriptions[i]!.push(unsubscribe);
            },
            (err: unknown) => {
              if ((err as { code?: unknown }).code !== 'ADAPTER_CLOSED') failures += 1;
            },
          ),
        );
      }
    }
    if (Math.random() < 0.1) ops.push(kill().catch(() => undefined));
    await Promise.all(ops);
  }
  const received = adapters.map(() => 0);
  // A subscribe racing a reconnect may fail once; the contract lets the caller retry.
  for (const [i, adapter] of adapters.entries()) {
    await waitFor(
      () =>
        adapter.subscribe('final', () => void (received[i]! += 1)).then(
          () => true,
          () => false,
        ),
      { timeoutMs: 10_000, what: 'a subscription after the churn' },
    );
  }
  return { adapters, received, failures };
}

/**
 * A worker on `queue` (connected through `outage`) that polls only every 120 s idles; a task is
 * enqueued through `direct` while `outage` cuts the worker's connections, so its wake-up is lost;
 * once they are back the task must run within 15 s, long before the worker's next poll.
 */
export async function runsTaskEnqueuedDuringOutage(direct: QueueAdapter, queue: QueueAdapter, outage: { interrupt(): Promise<void>; restore(): Promise<void> }): Promise<void> {
  let ran = 0;
  const worker = createWorker({ queue, idlePollMs: 120_000, handlers: { job: () => void (ran += 1) } });
  try {
    await direct.enqueue({ type: 'job', tenantId: 'acme', payload: null });
    await waitFor(() => ran === 1, { what: 'the first task' });
    await worker.idle(); // waiting for work, for up to 120 s
    await outage.interrupt();
    // Published while the worker's connection is down: this wake-up is lost.
    await direct.enqueue({ type: 'job', tenantId: 'acme', payload: null });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await outage.restore();
    await waitFor(() => ran === 2, { timeoutMs: 15_000, what: 'the task enqueued during the outage' });
  } finally {
    await worker.close({ drain: false });
  }
}
