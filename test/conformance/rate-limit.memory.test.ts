import { ManualClock } from '../../src/core/clock.js';
import { createMemoryRateLimitStore, MemoryRateLimitState } from '../../src/adapters/memory/index.js';
import { describeRateLimitContract } from '../../src/adapters/testing/index.js';

// Every open() is a new handle on one shared state, as separate connections to one server are.
const clock = new ManualClock(Date.UTC(2026, 0, 1));
const state = new MemoryRateLimitState();
describeRateLimitContract('memory', { clock, open: async () => createMemoryRateLimitStore({ state, clock, sweepIntervalMs: 0 }) });
