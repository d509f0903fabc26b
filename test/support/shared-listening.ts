import { expect } from 'vitest';
import type { JsonValue, PubSub, QueueAdapter } from '../../src/adapters/index.js';
import { waitFor } from '../../src/adapters/testing/support.js';

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
