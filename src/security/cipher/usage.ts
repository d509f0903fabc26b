/**
 * Per-key message counters for random-nonce GCM. NIST SP 800-38D §8.3: with 96-bit random nonces
 * the total number of invocations of the authenticated encryption function under one key shall
 * not exceed 2^32, which keeps the nonce-collision probability below 2^-32.
 *
 * Counting is conservative: a message is counted when its slot is reserved, before sealing, so a
 * crash or a failed encryption can only waste budget, never exceed it. With a StorageAdapter the
 * count is shared by every process using the same keyring name, through the adapter's atomic,
 * bounded `add` (one SQL statement on PostgreSQL, one Lua script on Redis); reservations may be
 * taken in blocks to save round trips, and a block left unused when a process exits is lost budget.
 * @internal
 */
import type { StorageAdapter } from '../../adapters/storage.js';

/** Where counts live: atomically adds `delta` unless the result would exceed `max`. @internal */
export interface CounterSource {
  add(keyId: string, delta: number, max: number): Promise<{ applied: boolean; value: number }>;
}

/** Counts in this process only (no storage given). @internal */
export function localCounters(): CounterSource {
  const counts = new Map<string, number>();
  return {
    async add(keyId, delta, max) {
      const value = counts.get(keyId) ?? 0;
      if (delta > 0 && value + delta > max) return { applied: false, value };
      counts.set(keyId, value + delta);
      return { applied: true, value: value + delta };
    },
  };
}

/** Counts in a StorageAdapter, one counter document per key: `namespace` / `<prefix><keyId>`. @internal */
export function storageCounters(storage: StorageAdapter, namespace: string, prefix: string): CounterSource {
  return {
    async add(keyId, delta, max) {
      const result = await storage.add(namespace, `${prefix}${keyId}`, delta, { max });
      return { applied: result.applied, value: result.value };
    },
  };
}

interface Slot {
  available: number;
  exhausted: boolean;
  refill: Promise<void> | undefined;
}

/** Hands out message slots per key, up to `limit`, reserving `batch` at a time from the source. @internal */
export class UsageLedger {
  readonly #source: CounterSource;
  readonly #limit: number;
  readonly #batch: number;
  readonly #slots = new Map<string, Slot>();

  constructor(source: CounterSource, limit: number, batch: number) {
    this.#source = source;
    this.#limit = limit;
    this.#batch = batch;
  }

  /** The configured per-key limit. */
  get limit(): number {
    return this.#limit;
  }

  /** Takes one slot for `keyId`; false once the key's budget is spent. */
  async reserve(keyId: string): Promise<boolean> {
    let slot = this.#slots.get(keyId);
    if (!slot) {
      slot = { available: 0, exhausted: false, refill: undefined };
      this.#slots.set(keyId, slot);
    }
    for (;;) {
      if (slot.available > 0) {
        slot.available -= 1;
        return true;
      }
      if (slot.exhausted) return false;
      // One refill at a time per key: concurrent callers wait for it instead of each reserving a block.
      const current = slot;
      slot.refill ??= this.#refill(keyId, current).finally(() => {
        current.refill = undefined;
      });
      await slot.refill;
    }
  }

  async #refill(keyId: string, slot: Slot): Promise<void> {
    let want = this.#batch;
    for (;;) {
      const result = await this.#source.add(keyId, want, this.#limit);
      if (result.applied) {
        slot.available += want;
        return;
      }
      // Less than a block left (or none): take exactly what remains. Another process may take it
      // first, hence the loop; the count only grows, so this ends.
      const left = this.#limit - result.value;
      if (left <= 0) {
        slot.exhausted = true;
        return;
      }
      want = Math.min(want, left);
    }
  }

  /** Messages counted so far for `keyId` across every process sharing the source. */
  async used(keyId: string): Promise<number> {
    return (await this.#source.add(keyId, 0, this.#limit)).value;
  }

  /** Forgets local state of a removed key. */
  forget(keyId: string): void {
    this.#slots.delete(keyId);
  }
}
