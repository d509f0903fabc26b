import { ManualClock } from '../../src/core/clock.js';
import { createMemoryQueue, MemoryQueueState } from '../../src/adapters/memory/index.js';
import { describeQueueContract } from '../../src/adapters/testing/index.js';

// Every open() is a new handle on one shared state, as separate connections to one server are.
const clock = new ManualClock(Date.UTC(2026, 0, 1));
const state = new MemoryQueueState();
describeQueueContract('memory', { clock, open: async (queue) => createMemoryQueue({ state, queue, clock }) });
