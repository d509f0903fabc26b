import { z } from 'zod';
import type { Clock } from '../../core/clock.js';
import { systemClock } from '../../core/clock.js';
import { AdapterClosedError } from '../../core/errors.js';
import { parseInput } from '../../core/validation.js';
import type { CacheAdapter, CacheSetOptions } from '../cache.js';
import { parseCacheKey, parseCacheKeys, parseCachePrefix, parseCacheSet } from '../internal/cache-requests.js';

/**
 * The entries behind one or more memory cache handles; share it to give several handles (each
 * with its own `close()`) one cache. Its byte budget is fixed when it is created.
 */
export class MemoryCacheState {
  /** @internal Map iteration order is insertion order: re-inserting on access makes the first entry the LRU one. */
  readonly entries = new Map<string, Entry>();
  /** @internal */
  bytes = 0;
  /** Upper bound on stored bytes. */
  readonly maxBytes: number;

  /** @param maxBytes byte budget; least recently used entries are evicted past it (default 64 MiB). */
  constructor(maxBytes = 64 * 1024 * 1024) {
    if (!Number.isInteger(maxBytes) || maxBytes < 1) throw new RangeError('maxBytes must be a positive integer');
    this.maxBytes = maxBytes;
  }
}

/** Options of {@link createMemoryCache}. */
export interface MemoryCacheOptions {
  /** Share entries with other handles (default: a private state sized by `maxBytes`). */
  readonly state?: MemoryCacheState;
  /** Time source for TTLs (default: system clock). */
  readonly clock?: Clock;
  /** Upper bound on stored bytes; least recently used entries are evicted past it (default 64 MiB). */
  readonly maxBytes?: number;
}

interface Entry {
  readonly bytes: Uint8Array;
  readonly expiresAt: number | null;
}

const optionsSchema = z
  .strictObject({
    state: z.instanceof(MemoryCacheState).optional(),
    clock: z.custom<Clock>((v) => typeof (v as Clock | undefined)?.now === 'function', 'clock must have now()').optional(),
    maxBytes: z.number().int().min(1).optional(),
  })
  .optional();

/**
 * In-process byte cache with TTLs and a byte budget (LRU eviction), so it cannot grow without bound.
 *
 * @throws `VALIDATION_FAILED` for bad options.
 * @example
 * ```ts
 * import { createMemoryCache } from 'digital-fabrica/adapters/memory';
 * const cache = createMemoryCache({ maxBytes: 16 * 1024 * 1024 });
 * await cache.set('k', new Uint8Array([1, 2, 3]), { ttlMs: 1_000 });
 * ```
 */
export function createMemoryCache(options?: MemoryCacheOptions): CacheAdapter {
  const opts = parseInput(optionsSchema, options, 'memory cache options') ?? {};
  return new MemoryCache(opts.state ?? new MemoryCacheState(opts.maxBytes), opts.clock ?? systemClock);
}

class MemoryCache implements CacheAdapter {
  readonly #entries: Map<string, Entry>;
  #closed = false;

  constructor(
    private readonly state: MemoryCacheState,
    private readonly clock: Clock,
  ) {
    this.#entries = state.entries;
  }

  async init(): Promise<void> {
    this.#assertOpen();
  }

  async get(key: string): Promise<Uint8Array | null> {
    this.#assertOpen();
    return this.#lookup(parseCacheKey(key));
  }

  async getMany(keys: readonly string[]): Promise<(Uint8Array | null)[]> {
    this.#assertOpen();
    return parseCacheKeys(keys).map((k) => this.#lookup(k));
  }

  async set(key: string, value: Uint8Array, options?: CacheSetOptions): Promise<void> {
    this.#assertOpen();
    const req = parseCacheSet(key, value, options);
    this.#remove(req.key);
    if (req.value.byteLength > this.state.maxBytes) return; // Larger than the whole budget: not cacheable here.
    this.#entries.set(req.key, {
      bytes: req.value.slice(),
      expiresAt: req.ttlMs === undefined ? null : this.clock.now() + req.ttlMs,
    });
    this.state.bytes += req.value.byteLength;
    for (const [oldest] of this.#entries) {
      if (this.state.bytes <= this.state.maxBytes) break;
      this.#remove(oldest);
    }
  }

  async delete(key: string): Promise<boolean> {
    this.#assertOpen();
    const k = parseCacheKey(key);
    const live = this.#lookup(k) !== null;
    this.#remove(k);
    return live;
  }

  async deleteByPrefix(prefix: string): Promise<number> {
    this.#assertOpen();
    const p = parseCachePrefix(prefix);
    const now = this.clock.now();
    let count = 0;
    for (const [key, entry] of [...this.#entries]) {
      if (!key.startsWith(p)) continue;
      if (entry.expiresAt === null || entry.expiresAt > now) count += 1;
      this.#remove(key);
    }
    return count;
  }

  async close(): Promise<void> {
    // Entries belong to the state, which other handles may share: closing one handle keeps them.
    this.#closed = true;
  }

  #assertOpen(): void {
    if (this.#closed) throw new AdapterClosedError('memory cache is closed');
  }

  #lookup(key: string): Uint8Array | null {
    const entry = this.#entries.get(key);
    if (!entry) return null;
    if (entry.expiresAt !== null && entry.expiresAt <= this.clock.now()) {
      this.#remove(key);
      return null;
    }
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.bytes.slice();
  }

  #remove(key: string): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#entries.delete(key);
    this.state.bytes -= entry.bytes.byteLength;
  }
}
