import { z } from 'zod';
import type { Clock } from '../../core/clock.js';
import { systemClock } from '../../core/clock.js';
import { AdapterClosedError } from '../../core/errors.js';
import { parseInput } from '../../core/validation.js';
import type { CacheAdapter, CacheSetOptions } from '../cache.js';
import { parseCacheKey, parseCacheKeys, parseCachePrefix, parseCacheSet } from '../internal/cache-requests.js';

/** Options of {@link createMemoryCache}. */
export interface MemoryCacheOptions {
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
  return new MemoryCache(opts.clock ?? systemClock, opts.maxBytes ?? 64 * 1024 * 1024);
}

class MemoryCache implements CacheAdapter {
  // Map iteration order is insertion order: re-inserting on access makes the first entry the LRU one.
  readonly #entries = new Map<string, Entry>();
  #bytes = 0;
  #closed = false;

  constructor(
    private readonly clock: Clock,
    private readonly maxBytes: number,
  ) {}

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
    if (req.value.byteLength > this.maxBytes) return; // Larger than the whole budget: not cacheable here.
    this.#entries.set(req.key, {
      bytes: req.value.slice(),
      expiresAt: req.ttlMs === undefined ? null : this.clock.now() + req.ttlMs,
    });
    this.#bytes += req.value.byteLength;
    for (const [oldest] of this.#entries) {
      if (this.#bytes <= this.maxBytes) break;
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
    this.#closed = true;
    this.#entries.clear();
    this.#bytes = 0;
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
    this.#bytes -= entry.bytes.byteLength;
  }
}
