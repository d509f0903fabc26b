/**
 * Conformance suites for the adapter contracts: a factory in, vitest tests out. Every built-in
 * backend passes them; a third-party backend proves itself the same way. Requires `vitest`.
 *
 * ```ts
 * // test/my-storage.test.ts
 * import { describeStorageContract } from 'digital-fabrica/adapters/testing';
 * describeStorageContract('my-backend', { open: async () => createMyStorage() });
 * ```
 *
 * @module
 */
export type { AdapterHarness, ContractOptions, ContractSkip, OutageControl } from './harness.js';
export { describeStorageContract } from './storage.js';
export { describeCacheContract } from './cache.js';
export { describePubSubContract } from './pubsub.js';
export { waitFor } from './support.js';
export { describeQueueContract, type QueueHarness } from './queue.js';
export { describeRateLimitContract } from './rate-limit.js';
export { describeReservationContract } from './reservations.js';
