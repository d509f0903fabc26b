/**
 * Redis backends for storage, cache, pub/sub and the task queue. They take the host's client — an `ioredis`
 * `Redis` or `Cluster` (v5 or v6), typed structurally so this package never imports `ioredis`
 * itself — and never close it.
 *
 * ```ts
 * import Redis from 'ioredis';
 * import { createRedisStorage, createRedisCache, createRedisPubSub } from 'digital-fabrica/adapters/redis';
 * const client = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
 * const storage = createRedisStorage({ client, prefix: 'myapp' });
 * ```
 *
 * Design, in short:
 * - Every key of one adapter shares the hash tag `{<prefix>}`, so every multi-key Lua script is
 *   legal on Redis Cluster. One prefix's keyspace therefore lives in ONE slot (one shard); to
 *   spread load, use several adapters with different prefixes.
 * - Every storage operation is one Lua script (atomic); versions come from an INCR'd revision
 *   key; expiry uses the Redis server's clock (`TIME`) and native `PEXPIREAT`, so processes with
 *   skewed clocks agree and Redis frees expired memory itself.
 * - Listing reads a per-namespace sorted set in byte order (= Unicode code point order) and
 *   lazily drops entries of documents that expired.
 * - Pub/sub publishes on the host's client and subscribes on one connection per client, made with
 *   `client.duplicate()`, shared by every pub/sub adapter and queue handle made from that client,
 *   and closed when the last of them closes.
 * - The task queue (`createRedisQueue`) is a set of Lua scripts over sorted sets (per band and
 *   tenant, tenants by virtual time, delayed, leased): the claim script applies the fair policy
 *   atomically; idle workers wake on a pub/sub message published once per idle period.
 * - Driver errors never escape: connection loss and transient server states become
 *   `ADAPTER_UNAVAILABLE` (retryable), everything unexpected `INTERNAL`, each with `cause`.
 *
 * When a connection drops, ioredis resends the commands that were in flight once it reconnects
 * (`autoResendUnfulfilledCommands`, on by default), although the server may have run them.
 * Storage writes carry a request id and the server keeps each write's reply for
 * `replayWindowMs`, so a resent `put`/`delete`/`txn`/`add` is answered, never applied twice.
 * Cache writes are idempotent enough (a resent `delete` may report `false`); a resent `PUBLISH`
 * can deliver a message twice. Keep `maxRetriesPerRequest` finite so that commands fail with
 * `ADAPTER_UNAVAILABLE` during an outage instead of waiting for it to end.
 *
 * Costs to know: listing index entries of documents that expired unlisted stay (a few bytes
 * each) until a `list` passes over them; replay records live `replayWindowMs` (default 2 min).
 * Requires Redis 5 or later (scripts replicated by their effects; tested with 7.0). Works on a
 * single node, with replicas, and on Redis Cluster (not run against a cluster in this repo's tests).
 *
 * @module
 */
export { createRedisStorage, type RedisStorageOptions } from './storage.js';
export { createRedisCache, type RedisCacheOptions } from './cache.js';
export { createRedisPubSub, type RedisPubSubOptions } from './pubsub.js';
export { createRedisQueue, type RedisQueueOptions } from './queue.js';
export { createRedisRateLimitStore, type RedisRateLimitStoreOptions } from './rate-limit.js';
export { createRedisReservationStore, type RedisReservationStoreOptions } from './reservations.js';
export type { RedisCommonOptions } from './options.js';
export type {
  RedisArgument,
  RedisClient,
  RedisScriptClient,
  RedisCacheClient,
  RedisPubSubClient,
  RedisSubscriberConnection,
} from './driver.js';
