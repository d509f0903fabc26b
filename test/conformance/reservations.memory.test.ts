import { ManualClock } from '../../src/core/clock.js';
import { createMemoryReservationStore, MemoryReservationState } from '../../src/adapters/memory/index.js';
import { describeReservationContract } from '../../src/adapters/testing/index.js';

// Every open() is a new handle on one shared state, as separate connections to one server are.
const clock = new ManualClock(Date.UTC(2026, 0, 1));
const state = new MemoryReservationState();
describeReservationContract('memory', { clock, open: async () => createMemoryReservationStore({ state, clock }) });
