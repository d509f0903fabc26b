/**
 * CacheAdapter: opaque bytes with a TTL. Keys follow the storage key rules (1–512 characters,
 * no control characters). A cache may forget entries early (eviction), never late: an entry is
 * never returned after its TTL.
 */

/** Options of a cache write. */
export interface CacheSetOptions {
  /** Time to live in ms (>= 1). Omitted: kept until evicted or deleted. */
  readonly ttlMs?: number;
}

/**
 * Bytes with TTL, shared by every process using the same backend.
 *
 * @example
 * ```ts
 * import { createMemoryCache } from 'digital-fabrica/adapters/memory';
 * const cache = createMemoryCache();
 * await cache.set('etag:/api/tasks', new TextEncoder().encode('W/"1"'), { ttlMs: 60_000 });
 * const bytes = await cache.get('etag:/api/tasks');
 * ```
 */
export interface CacheAdapter {
  /** Prepares the backend. Idempotent. */
  init(): Promise<void>;
  /** The entry's bytes, or `null` if absent or expired. @throws `VALIDATION_FAILED`, `ADAPTER_UNAVAILABLE` */
  get(key: string): Promise<Uint8Array | null>;
  /** Several entries at once, aligned with `keys`. */
  getMany(keys: readonly string[]): Promise<(Uint8Array | null)[]>;
  /** Stores a copy of `value` (0 bytes to the backend's limit, at least 1 MiB). */
  set(key: string, value: Uint8Array, options?: CacheSetOptions): Promise<void>;
  /** Removes one entry; true if it existed. */
  delete(key: string): Promise<boolean>;
  /** Removes every entry whose key starts with `prefix` (non-empty); returns how many. */
  deleteByPrefix(prefix: string): Promise<number>;
  /** Stops background work; never closes a pool or client the host passed in. Idempotent. */
  close(): Promise<void>;
}
