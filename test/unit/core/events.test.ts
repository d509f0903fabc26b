import { describe, expect, it, vi } from 'vitest';
import { FabricaEventBus, FABRICA_EVENT_NAMES, type TaskEvent } from '../../../src/core/events.js';
import { createMemoryPubSub, MemoryPubSubHub } from '../../../src/adapters/memory/index.js';
import { waitFor } from '../../../src/adapters/testing/support.js';

const taskEvent = (taskId: string): TaskEvent => ({ taskId, tenantId: 'acme', type: 'render', state: 'completed', at: 1 });

describe('FabricaEventBus', () => {
  it('uses the spec event names', () => {
    expect(FABRICA_EVENT_NAMES).toEqual([
      'resource:update',
      'resource:alert',
      'resource:optimize',
      'task:created',
      'task:updated',
      'task:completed',
      'system:metrics',
      'system:alerts',
      'system:maintenance',
      'task:failed',
      'task:dead',
    ]);
  });

  it('delivers typed payloads to listeners until they are removed', () => {
    const bus = new FabricaEventBus();
    const seen: string[] = [];
    const off = bus.on('task:completed', (e) => seen.push(e.taskId));
    bus.emit('task:completed', taskEvent('t1'));
    off();
    bus.emit('task:completed', taskEvent('t2'));
    expect(seen).toEqual(['t1']);
    expect(bus.listenerCount('task:completed')).toBe(0);
  });

  it('isolates a failing listener and logs it without the payload', () => {
    const error = vi.fn();
    const bus = new FabricaEventBus({ logger: { debug() {}, info() {}, warn() {}, error } });
    const seen: string[] = [];
    bus.on('task:created', () => {
      throw new Error('listener bug');
    });
    bus.on('task:created', (e) => seen.push(e.taskId));
    expect(() => bus.emit('task:created', taskEvent('t1'))).not.toThrow();
    expect(seen).toEqual(['t1']);
    expect(error).toHaveBeenCalledWith('event listener failed', { event: 'task:created', error: 'Error' });
  });

  it('rejects unknown event names with VALIDATION_FAILED', () => {
    const bus = new FabricaEventBus();
    expect(() => bus.on('task:exploded' as 'task:created', () => undefined)).toThrowError(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    expect(() => bus.emit('nope' as 'task:created', taskEvent('x'))).toThrowError(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });

  it('once resolves with the next payload', async () => {
    const bus = new FabricaEventBus();
    const next = bus.once('system:maintenance');
    bus.emit('system:maintenance', { phase: 'started', message: 'db upgrade', at: 5 });
    expect(await next).toEqual({ phase: 'started', message: 'db upgrade', at: 5 });
  });

  it('spans processes through PubSub, without echoing a bus its own events', async () => {
    const hub = new MemoryPubSubHub();
    const a = new FabricaEventBus();
    const b = new FabricaEventBus();
    await a.connect(createMemoryPubSub({ hub }));
    await b.connect(createMemoryPubSub({ hub }));
    const seenByA: string[] = [];
    const seenByB: string[] = [];
    a.on('task:updated', (e) => seenByA.push(e.taskId));
    b.on('task:updated', (e) => seenByB.push(e.taskId));
    a.emit('task:updated', taskEvent('from-a'));
    b.emit('task:updated', taskEvent('from-b'));
    await waitFor(() => seenByA.length === 2 && seenByB.length === 2, { what: 'cross-process events' });
    expect(seenByA).toEqual(['from-a', 'from-b']);
    expect(seenByB).toEqual(['from-b', 'from-a']);
    await b.disconnect();
    a.emit('task:updated', taskEvent('after-disconnect'));
    b.emit('task:updated', taskEvent('local-only'));
    await waitFor(() => seenByB.length === 3, { what: 'local event' });
    expect(seenByB).toEqual(['from-b', 'from-a', 'local-only']);
  });
});
