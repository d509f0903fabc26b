import type { Logger } from '../../core/logger.js';
import { AdapterClosedError, FabricaError } from '../../core/errors.js';
import type { CacheAdapter, CacheSetOptions } from '../cache.js';
import { parseCacheKey, parseCacheKeys, parseCachePrefix, parseCacheSet } from '../internal/cache-requests.js';
import type { RedisCacheClient } from './driver.js';
import { mapRedisError } from './errors.js';
import { escapeGlob, redisKeyLayout, type RedisKeyLayout } from './keys.js';
import { runScript } from './lua.js';
import { parseRedisOptions, type RedisCommonOptions } from './options.js';
import { deleteByPrefixScript } from './scripts/delete-by-prefix.js';

/** Options of {@link createRedisCache}. */
export interface RedisCacheOptions extends RedisCommonOptions {
  /** The host's client (e.g. an `ioredis` `Redis` or `Cluster`). The adapter never closes it. */
  readonly client: RedisCacheClient;
}

// SCAN COUNT per deleteByPrefix step: large enough to sweep big keyspaces in few round trips,
// small enough that one step (one script) stays well under a millisecond per thousand keys.
const SCAN_COUNT = 1000;

/**
 * A byte cache on Redis: one string key per entry (`{<prefix>}:c:<key>`) written with `SET PX`,
 * so Redis expires and evicts entries itself (its `maxmemory-policy` decides eviction). Expiry
 * has Redis' millisecond resolution: an entry may still be read during the millisecond its TTL
 * ends, never after.
 *
 * @throws `VALIDATION_FAILED` for bad options.
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import { createRedisCache } from 'digital-fabrica/adapters/redis';
 * const client = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
 * const cache = createRedisCache({ client });
 * await cache.set('etag:/api/tasks', new TextEncoder().encode('W/"1"'), { ttlMs: 60_000 });
 * const bytes = await cache.get('etag:/api/tasks');
 * ```
 */
export function createRedisCache(options: RedisCacheOptions): CacheAdapter {
  const opts = parseRedisOptions<RedisCacheClient>(options, ['getBuffer', 'mgetBuffer', 'set', 'unlink', 'evalsha', 'eval'], 'redis cache options');
  return new RedisCache(opts.client, redisKeyLayout(opts.prefix), opts.logger);
}

class RedisCache implements CacheAdapter {
  #closed = false;

  constructor(
    private readonly client: RedisCacheClient,
    private readonly keys: RedisKeyLayout,
    private readonly logger: Logger,
  ) {}

  async init(): Promise<void> {
    this.#assertOpen();
  }

  async get(key: string): Promise<Uint8Array | null> {
    this.#assertOpen();
    const k = parseCacheKey(key);
    const value = await this.#call('cache.get', () => this.client.getBuffer(this.keys.cache(k)));
    return copyOf(value);
  }

  async getMany(keys: readonly string[]): Promise<(Uint8Array | null)[]> {
    this.#assertOpen();
    const ks = parseCacheKeys(keys);
    if (ks.length === 0) return [];
    // One MGET: legal on a cluster because every cache key shares the adapter's hash tag.
    const values = await this.#call('cache.getMany', () => this.client.mgetBuffer(...ks.map((k) => this.keys.cache(k))));
    if (!Array.isArray(values) || values.length !== ks.length) throw new FabricaError('INTERNAL', 'redis cache.getMany: unexpected reply');
    return values.map(copyOf);
  }

  async set(key: string, value: Uint8Array, options?: CacheSetOptions): Promise<void> {
    this.#assertOpen();
    const req = parseCacheSet(key, value, options);
    // A copy, not a view: ioredis may hold the command in its offline queue, and the caller may
    // change the array meanwhile; the contract stores the value as it was at the call.
    // (It also must be a Buffer: ioredis sends any other Uint8Array as the text "1,2,3".)
    const bytes = Buffer.from(req.value);
    const redisKey = this.keys.cache(req.key);
    await this.#call('cache.set', () =>
      req.ttlMs === undefined ? this.client.set(redisKey, bytes) : this.client.set(redisKey, bytes, 'PX', req.ttlMs),
    );
  }

  async delete(key: string): Promise<boolean> {
    this.#assertOpen();
    const k = parseCacheKey(key);
    // UNLINK frees large values off the main thread; expired keys count as absent (0).
    const removed = await this.#call('cache.delete', () => this.client.unlink(this.keys.cache(k)));
    return Number(removed) > 0;
  }

  async deleteByPrefix(prefix: string): Promise<number> {
    this.#assertOpen();
    const p = parseCachePrefix(prefix);
    const pattern = `${escapeGlob(this.keys.cache(p))}*`;
    let cursor = '0';
    let deleted = 0;
    // SCAN guarantees every key present for the whole iteration is returned (maybe twice; UNLINK
    // of an already deleted key counts 0, so the total stays exact). Entries written during the
    // sweep may survive it, as with any prefix delete that does not lock the cache.
    do {
      const reply = await this.#call('cache.deleteByPrefix', () =>
        runScript(this.client, deleteByPrefixScript, [this.keys.cachePrefix], [cursor, pattern, SCAN_COUNT], this.logger),
      );
      if (!Array.isArray(reply) || reply.length !== 2) throw new FabricaError('INTERNAL', 'redis cache.deleteByPrefix: unexpected reply');
      cursor = String(reply[0]);
      deleted += Number(reply[1]);
    } while (cursor !== '0');
    return deleted;
  }

  async close(): Promise<void> {
    // The client is the host's: closing the adapter only stops it from being used.
    this.#closed = true;
  }

  #assertOpen(): void {
    if (this.#closed) throw new AdapterClosedError('redis cache is closed');
  }

  async #call<R>(operation: string, fn: () => Promise<R>): Promise<R> {
    try {
      return await fn();
    } catch (err) {
      throw mapRedisError(err, operation);
    }
  }
}

// ioredis may hand out slices of its socket buffer: a plain copy detaches the caller's bytes
// from it (and from any later reuse), and is a Uint8Array rather than a Node Buffer.
function copyOf(value: Uint8Array | null | undefined): Uint8Array | null {
  return value === null || value === undefined ? null : new Uint8Array(value);
}
