import { ManualClock } from '../../src/core/clock.js';
import {
  createMemoryCache,
  createMemoryPubSub,
  createMemoryStorage,
  MemoryCacheState,
  MemoryPubSubHub,
  MemoryStorageState,
} from '../../src/adapters/memory/index.js';
import { describeCacheContract, describePubSubContract, describeStorageContract } from '../../src/adapters/testing/index.js';

// Every open() is a new handle on one shared state, as separate connections to one server are.
const storageClock = new ManualClock(Date.UTC(2026, 0, 1));
const storageState = new MemoryStorageState();
describeStorageContract('memory', {
  clock: storageClock,
  open: async () => createMemoryStorage({ state: storageState, clock: storageClock, sweepIntervalMs: 0 }),
});

const cacheClock = new ManualClock(Date.UTC(2026, 0, 1));
const cacheState = new MemoryCacheState();
describeCacheContract('memory', {
  clock: cacheClock,
  open: async () => createMemoryCache({ state: cacheState, clock: cacheClock }),
});

const hub = new MemoryPubSubHub();
describePubSubContract('memory', { open: async () => createMemoryPubSub({ hub }) });
