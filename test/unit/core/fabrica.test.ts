import { describe, expect, it } from 'vitest';
import { createFabrica } from '../../../src/fabrica.js';
import { ManualClock } from '../../../src/core/clock.js';
import { createMemoryPubSub, MemoryPubSubHub } from '../../../src/adapters/memory/index.js';
import { waitFor } from '../../../src/adapters/testing/support.js';

describe('createFabrica', () => {
  it('composes memory backends by default', async () => {
    const clock = new ManualClock(1_000);
    const fabrica = await createFabrica({ clock });
    await fabrica.storage.put('notes', 'n1', { text: 'hi' }, { ttlMs: 10 });
    expect((await fabrica.storage.get('notes', 'n1'))!.expiresAt).toBe(1_010);
    clock.advance(10);
    expect(await fabrica.storage.get('notes', 'n1')).toBeNull();
    await fabrica.close();
    await fabrica.close();
    await expect(fabrica.storage.get('notes', 'n1')).rejects.toMatchObject({ code: 'ADAPTER_CLOSED' });
  });

  it('connects the event bus of two instances through their PubSub', async () => {
    const hub = new MemoryPubSubHub();
    const one = await createFabrica({ pubsub: createMemoryPubSub({ hub }) });
    const two = await createFabrica({ pubsub: createMemoryPubSub({ hub }) });
    const seen: string[] = [];
    two.events.on('system:alerts', (e) => seen.push(e.name));
    one.events.emit('system:alerts', { name: 'queue-depth', severity: 'warning', message: 'deep queue', at: 1 });
    await waitFor(() => seen.length === 1, { what: 'remote alert' });
    expect(seen).toEqual(['queue-depth']);
    await Promise.all([one.close(), two.close()]);
  });

  it('rejects malformed options with VALIDATION_FAILED', async () => {
    await expect(createFabrica({ storage: {} as never })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(createFabrica({ unknown: 1 } as never)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});
