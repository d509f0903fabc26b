import { afterAll, describe, expect } from 'vitest';
import type { JsonValue } from '../storage.js';
import type { PubSub } from '../pubsub.js';
import type { AdapterHarness, ContractOptions } from './harness.js';
import { caught, contractTest, uniqueName, waitFor } from './support.js';

/**
 * The PubSub conformance suite. Each `open()` must be a separate connection, so delivery
 * "to another connection" is really tested. Call it at the top level of a vitest test file.
 *
 * @example
 * ```ts
 * import { describePubSubContract } from 'digital-fabrica/adapters/testing';
 * import { createMemoryPubSub, MemoryPubSubHub } from 'digital-fabrica/adapters/memory';
 * const hub = new MemoryPubSubHub();
 * describePubSubContract('memory', { open: async () => createMemoryPubSub({ hub }) });
 * ```
 */
export function describePubSubContract(name: string, harness: AdapterHarness<PubSub>, options?: ContractOptions): void {
  const test = contractTest(options);
  const slowTest = contractTest(options, 120_000);
  const handles = new Set<PubSub>();
  const open = async (): Promise<PubSub> => {
    const handle = await harness.open();
    await handle.init();
    handles.add(handle);
    return handle;
  };
  const collector = () => {
    const received: { message: JsonValue; channel: string }[] = [];
    return { received, handler: (message: JsonValue, channel: string) => void received.push({ message, channel }) };
  };

  describe(`PubSub contract: ${name}`, () => {
    afterAll(async () => {
      for (const handle of handles) await handle.close();
      handles.clear();
      await harness.teardown?.();
    });

    test('pub/sub delivers to every subscriber in another connection, once each', async () => {
      const [publisher, b, c] = await Promise.all([open(), open(), open()]);
      const channel = uniqueName('ch.');
      const [one, two, three] = [collector(), collector(), collector()];
      await b.subscribe(channel, one.handler);
      await b.subscribe(channel, two.handler);
      await c.subscribe(channel, three.handler);
      const message = { event: 'task:created', id: 'é🙂', nested: { list: [1, null, true] } };
      await publisher.publish(channel, message);
      for (const sink of [one, two, three]) {
        await waitFor(() => sink.received.length >= 1, { what: 'delivery' });
      }
      // A marker published after the message proves nothing more is on its way.
      await publisher.publish(channel, 'marker');
      for (const sink of [one, two, three]) {
        await waitFor(() => sink.received.length >= 2, { what: 'marker' });
        expect(sink.received).toEqual([
          { message, channel },
          { message: 'marker', channel },
        ]);
      }
    });

    test('a publisher also delivers to its own subscribers', async () => {
      const handle = await open();
      const channel = uniqueName('ch.');
      const sink = collector();
      await handle.subscribe(channel, sink.handler);
      await handle.publish(channel, 42);
      await waitFor(() => sink.received.length === 1, { what: 'self delivery' });
      expect(sink.received[0]!.message).toBe(42);
    });

    test('keeps the publish order of one publisher', async () => {
      const [publisher, subscriber] = await Promise.all([open(), open()]);
      const channel = uniqueName('ch.');
      const sink = collector();
      await subscriber.subscribe(channel, sink.handler);
      for (let i = 0; i < 100; i++) await publisher.publish(channel, i);
      await waitFor(() => sink.received.length === 100, { what: '100 messages' });
      expect(sink.received.map((r) => r.message)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    });

    test('channels are isolated from each other', async () => {
      const [publisher, subscriber] = await Promise.all([open(), open()]);
      const a = uniqueName('ch.');
      const sinkA = collector();
      const sinkB = collector();
      await subscriber.subscribe(a, sinkA.handler);
      await subscriber.subscribe(`${a}.b`, sinkB.handler);
      await publisher.publish(`${a}.b`, 'for b');
      await publisher.publish(a, 'for a');
      await waitFor(() => sinkA.received.length === 1 && sinkB.received.length === 1, { what: 'both channels' });
      expect(sinkA.received[0]!.message).toBe('for a');
      expect(sinkB.received[0]!.message).toBe('for b');
    });

    test('stops delivering after unsubscribe, to that handler only', async () => {
      const [publisher, subscriber] = await Promise.all([open(), open()]);
      const channel = uniqueName('ch.');
      const leaving = collector();
      const staying = collector();
      const unsubscribe = await subscriber.subscribe(channel, leaving.handler);
      await subscriber.subscribe(channel, staying.handler);
      await publisher.publish(channel, 'first');
      await waitFor(() => leaving.received.length === 1 && staying.received.length === 1, { what: 'first' });
      await unsubscribe();
      await unsubscribe(); // idempotent
      await publisher.publish(channel, 'second');
      await waitFor(() => staying.received.length === 2, { what: 'second' });
      expect(leaving.received.map((r) => r.message)).toEqual(['first']);
    });

    test('stops delivering after the last handler of a channel unsubscribes', async () => {
      const [publisher, subscriber] = await Promise.all([open(), open()]);
      const channel = uniqueName('ch.');
      const control = uniqueName('ctl.');
      const gone = collector();
      const marker = collector();
      const unsubscribe = await subscriber.subscribe(channel, gone.handler);
      await subscriber.subscribe(control, marker.handler);
      await unsubscribe();
      await publisher.publish(channel, 'lost');
      await publisher.publish(control, 'marker');
      await waitFor(() => marker.received.length === 1, { what: 'marker' });
      expect(gone.received).toEqual([]);
    });

    test('a failing handler does not stop delivery to the others', async () => {
      const [publisher, subscriber] = await Promise.all([open(), open()]);
      const channel = uniqueName('ch.');
      const sink = collector();
      await subscriber.subscribe(channel, () => {
        throw new Error('handler bug');
      });
      await subscriber.subscribe(channel, async () => Promise.reject(new Error('async handler bug')));
      await subscriber.subscribe(channel, sink.handler);
      await publisher.publish(channel, 1);
      await publisher.publish(channel, 2);
      await waitFor(() => sink.received.length === 2, { what: 'delivery past failing handlers' });
    });

    test('carries messages of 64 KiB intact', async () => {
      const [publisher, subscriber] = await Promise.all([open(), open()]);
      const channel = uniqueName('ch.');
      const sink = collector();
      await subscriber.subscribe(channel, sink.handler);
      const big = { blob: 'ü'.repeat(32 * 1024), tail: '🙂'.repeat(1000) };
      await publisher.publish(channel, big);
      await waitFor(() => sink.received.length === 1, { timeoutMs: 10_000, what: 'large message' });
      expect(sink.received[0]!.message).toEqual(big);
    });

    test('rejects invalid channels and non-JSON messages with VALIDATION_FAILED', async () => {
      const handle = await open();
      for (const channel of ['', 'c'.repeat(201), 'with space', 'nul\u0000', 'ünï']) {
        expect((await caught(() => handle.publish(channel, 1))).code, JSON.stringify(channel)).toBe('VALIDATION_FAILED');
        expect((await caught(() => handle.subscribe(channel, () => undefined))).code, JSON.stringify(channel)).toBe('VALIDATION_FAILED');
      }
      for (const message of [Number.NaN, undefined, { at: new Date(0) }]) {
        expect((await caught(() => handle.publish('ok', message as JsonValue))).code).toBe('VALIDATION_FAILED');
      }
    });

    test('fails with ADAPTER_CLOSED after close, and close ends its subscriptions', async () => {
      const [publisher, handle] = await Promise.all([open(), open()]);
      const channel = uniqueName('ch.');
      const control = uniqueName('ctl.');
      const sink = collector();
      const marker = collector();
      await handle.subscribe(channel, sink.handler);
      const watcher = await open();
      await watcher.subscribe(control, marker.handler);
      await handle.close();
      await handle.close();
      handles.delete(handle);
      await publisher.publish(channel, 'after close');
      await publisher.publish(control, 'marker');
      await waitFor(() => marker.received.length === 1, { what: 'marker' });
      expect(sink.received).toEqual([]);
      expect((await caught(() => handle.publish(channel, 1))).code).toBe('ADAPTER_CLOSED');
    });

    const outageName = 'the server going away mid-operation surfaces ADAPTER_UNAVAILABLE, and the adapter recovers when it returns';
    if (!harness.outage) {
      contractTest({ skip: [{ test: outageName, reason: 'the backend has no server to lose' }] })(outageName, async () => undefined);
    } else {
      const outage = harness.outage;
      slowTest(outageName, async () => {
        const [publisher, subscriber] = await Promise.all([open(), open()]);
        const channel = uniqueName('ch.');
        const sink = collector();
        await subscriber.subscribe(channel, sink.handler);
        await outage.interrupt();
        expect((await caught(() => publisher.publish(channel, 'during'))).code).toBe('ADAPTER_UNAVAILABLE');
        await outage.restore();
        // Subscriptions come back by themselves; publish until one message gets through.
        await waitFor(
          async () => {
            await publisher.publish(channel, 'after').catch(() => undefined);
            return sink.received.some((r) => r.message === 'after');
          },
          { timeoutMs: 20_000, intervalMs: 200, what: 'delivery after recovery' },
        );
      });
    }
  });
}
