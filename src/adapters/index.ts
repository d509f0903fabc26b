/**
 * The adapter contracts: the interfaces every backend (memory, PostgreSQL, Redis, or your own)
 * implements. Types only, plus the validation rules every backend shares.
 *
 * ```ts
 * import type { StorageAdapter, CacheAdapter, PubSub, QueueAdapter } from 'digital-fabrica/adapters';
 * ```
 *
 * @module
 */
export type {
  JsonValue,
  DocumentRef,
  StoredDocument,
  PutOptions,
  TxnCompare,
  TxnOp,
  TxnRequest,
  TxnOpResult,
  TxnResult,
  ListOptions,
  ListPage,
  CounterOptions,
  CounterResult,
  StorageAdapter,
} from './storage.js';
export type { CacheAdapter, CacheSetOptions } from './cache.js';
export type { PubSub, MessageHandler, Unsubscribe } from './pubsub.js';
export type { GcraLimit, RateLimitRequest, RateLimitOutcome, RateLimitStore } from './rate-limit.js';
export { MAX_RATE_LIMITS, MAX_RATE_INTERVAL_US, MAX_RATE_TOLERANCE_US } from './rate-limit.js';
export type {
  ResourceAmounts,
  ResourceLimits,
  ReservationRecord,
  ReserveRequest,
  ReserveOutcome,
  ReleaseOutcome,
  RenewOutcome,
  ReservationSnapshot,
  ReservationStore,
} from './reservations.js';
export { MAX_RESERVATION_ID_LENGTH, MAX_LEASE_MS, MAX_SNAPSHOT_LIMIT } from './reservations.js';
export type {
  QueueAdapter,
  TaskBand,
  TaskState,
  TaskBackoff,
  TaskResources,
  EnqueueRequest,
  EnqueueResult,
  TaskError,
  TaskHistoryEntry,
  TaskUpdateReason,
  Task,
  TaskLease,
  ClaimedTask,
  TaskUpdate,
  ClaimResult,
  FailOptions,
  QueuePolicy,
  TenantPolicy,
  TaskCounts,
  TaskGroupCounts,
  TenantQueueState,
  QueueStats,
  TaskListQuery,
  TaskListPage,
} from './queue.js';
export { TASK_BANDS, TASK_STATES, MAX_TASK_PAYLOAD_LENGTH, MAX_ENQUEUE_BATCH, MAX_CLAIM_LIMIT, MAX_TASK_LIST_LIMIT } from './queue.js';
export {
  MAX_NAMESPACE_LENGTH,
  MAX_KEY_LENGTH,
  MAX_CHANNEL_LENGTH,
  namespaceSchema,
  keySchema,
  channelSchema,
} from './internal/names.js';
export { MAX_TXN_DOCUMENTS, MAX_GET_MANY, MAX_LIST_LIMIT } from './internal/requests.js';
export { MAX_JSON_LENGTH } from './internal/json.js';
export { MAX_CACHE_VALUE_BYTES } from './internal/cache-requests.js';
export { compareKeys } from './internal/order.js';
