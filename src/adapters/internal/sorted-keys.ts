import { compareKeys } from './order.js';

/** A sorted set of keys (code point order) with binary-search insert/delete and range scans. */
export class SortedKeys {
  readonly #keys: string[] = [];

  /** Number of keys. */
  get size(): number {
    return this.#keys.length;
  }

  /** Index of the first key >= `key` (or > `key` when `exclusive`). */
  #lowerBound(key: string, exclusive: boolean): number {
    let lo = 0;
    let hi = this.#keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = compareKeys(this.#keys[mid]!, key);
      if (c < 0 || (exclusive && c === 0)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Adds `key` if absent. */
  add(key: string): void {
    const i = this.#lowerBound(key, false);
    if (this.#keys[i] !== key) this.#keys.splice(i, 0, key);
  }

  /** Removes `key` if present. */
  delete(key: string): void {
    const i = this.#lowerBound(key, false);
    if (this.#keys[i] === key) this.#keys.splice(i, 1);
  }

  /** Keys starting with `prefix`, strictly after `after` (if given), in order. */
  *scan(prefix: string, after: string | null): Generator<string> {
    const start = after !== null && compareKeys(after, prefix) >= 0 ? this.#lowerBound(after, true) : this.#lowerBound(prefix, false);
    for (let i = start; i < this.#keys.length; i++) {
      const key = this.#keys[i]!;
      if (!key.startsWith(prefix)) return;
      yield key;
    }
  }
}
