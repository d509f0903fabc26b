import type { Clock } from '../../core/clock.js';
import type { StorageAdapter } from '../../adapters/storage.js';

/** Storage namespace of the optimiser's per-user boosts. */
export const BOOST_NAMESPACE = 'resources.boosts';

/**
 * Per-user boost factors. With a StorageAdapter they are shared by every process and cached for
 * `cacheMs` (a boost is advisory, so a few seconds of staleness only delays its effect);
 * without one they live in this process.
 */
export class BoostBook {
  readonly #local = new Map<string, { value: number; at: number }>();

  constructor(
    private readonly storage: StorageAdapter | undefined,
    private readonly cacheMs: number,
    private readonly clock: Clock,
  ) {}

  async get(userId: string): Promise<number> {
    const cached = this.#local.get(userId);
    if (this.storage === undefined) return cached?.value ?? 1;
    const now = this.clock.now();
    if (cached !== undefined && now - cached.at < this.cacheMs) return cached.value;
    const doc = await this.storage.get<number>(BOOST_NAMESPACE, userId);
    const value = typeof doc?.value === 'number' && Number.isFinite(doc.value) ? doc.value : 1;
    this.#remember(userId, value, now);
    return value;
  }

  async set(userId: string, value: number): Promise<void> {
    if (this.storage !== undefined) {
      if (value === 1) await this.storage.delete(BOOST_NAMESPACE, userId);
      else await this.storage.put(BOOST_NAMESPACE, userId, value);
    }
    this.#remember(userId, value, this.clock.now());
  }

  #remember(userId: string, value: number, at: number): void {
    // Bound the cache: boosts are few, but user ids come from callers.
    if (this.#local.size >= 100_000 && !this.#local.has(userId)) this.#local.delete(this.#local.keys().next().value!);
    if (value === 1 && this.storage === undefined) this.#local.delete(userId);
    else this.#local.set(userId, { value, at });
  }
}
