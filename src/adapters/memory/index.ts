/**
 * In-memory backends: the zero-setup default. Exact contract semantics within one process.
 *
 * ```ts
 * import { createMemoryStorage, createMemoryCache, createMemoryPubSub, createMemoryQueue } from 'digital-fabrica/adapters/memory';
 * ```
 *
 * @module
 */
export { createMemoryStorage, MemoryStorageState, type MemoryStorageOptions } from './storage.js';
export { createMemoryCache, MemoryCacheState, type MemoryCacheOptions } from './cache.js';
export { createMemoryPubSub, MemoryPubSubHub, type MemoryPubSubOptions } from './pubsub.js';
export { createMemoryQueue, MemoryQueueState, type MemoryQueueOptions } from './queue.js';
export { createMemoryRateLimitStore, MemoryRateLimitState, type MemoryRateLimitStoreOptions } from './rate-limit.js';
export { createMemoryReservationStore, MemoryReservationState, type MemoryReservationStoreOptions } from './reservations.js';
