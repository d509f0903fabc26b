import { z } from 'zod';
import { parseInput } from '../../core/validation.js';

const optionsSchema = z.strictObject({
  window: z.number().int().min(1).max(100_000).optional(),
  maxKeys: z.number().int().min(1).max(1_000_000).optional(),
});

/** Latency statistics over the recent samples of one key (the spec's `LatencyMetrics`), in ms. */
export interface LatencyStats {
  /** Samples considered (at most the tracker's window). */
  readonly count: number;
  /** Smallest sample, or 'unavailable' without samples. */
  readonly min: number | 'unavailable';
  /** Mean. */
  readonly mean: number | 'unavailable';
  /** Median (nearest rank). */
  readonly p50: number | 'unavailable';
  /** 95th percentile (nearest rank). */
  readonly p95: number | 'unavailable';
  /** 99th percentile (nearest rank). */
  readonly p99: number | 'unavailable';
  /** Largest sample. */
  readonly max: number | 'unavailable';
}

/**
 * Keeps the last `window` latency samples per key (e.g. per user or per upstream) in a ring, and
 * at most `maxKeys` keys (the least recently recorded key is dropped first), so memory stays
 * bounded whatever the traffic.
 *
 * @throws `VALIDATION_FAILED` from the constructor for bad options.
 * @example
 * ```ts
 * import { LatencyTracker } from 'digital-fabrica/resources';
 * const latency = new LatencyTracker({ window: 100 });
 * for (const ms of [12, 15, 11, 80]) latency.record('ada', ms);
 * console.log(latency.stats('ada').p50); // 12
 * ```
 */
export class LatencyTracker {
  readonly #window: number;
  readonly #maxKeys: number;
  readonly #rings = new Map<string, { values: number[]; next: number }>();

  /**
   * @param options.window samples kept per key (1–100 000, default 256)
   * @param options.maxKeys keys kept (1–1 000 000, default 10 000)
   */
  constructor(options: { window?: number; maxKeys?: number } = {}) {
    const opts = parseInput(optionsSchema, options, 'latency tracker options');
    this.#window = opts.window ?? 256;
    this.#maxKeys = opts.maxKeys ?? 10_000;
  }

  /** Records one sample; non-finite or negative values are ignored (a clock step is not a latency). */
  record(key: string, ms: number): void {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return;
    let ring = this.#rings.get(key);
    if (ring === undefined) {
      if (this.#rings.size >= this.#maxKeys) this.#rings.delete(this.#rings.keys().next().value!);
      ring = { values: [], next: 0 };
    } else {
      this.#rings.delete(key); // re-insert: Map order = recency
    }
    this.#rings.set(key, ring);
    if (ring.values.length < this.#window) ring.values.push(ms);
    else ring.values[ring.next] = ms;
    ring.next = (ring.next + 1) % this.#window;
  }

  /** Statistics of `key`'s recent samples; every figure 'unavailable' without samples. */
  stats(key: string): LatencyStats {
    const values = [...(this.#rings.get(key)?.values ?? [])].sort((a, b) => a - b);
    if (values.length === 0) {
      return { count: 0, min: 'unavailable', mean: 'unavailable', p50: 'unavailable', p95: 'unavailable', p99: 'unavailable', max: 'unavailable' };
    }
    const rank = (p: number): number => values[Math.min(values.length - 1, Math.ceil(p * values.length) - 1)]!;
    return {
      count: values.length,
      min: values[0]!,
      mean: values.reduce((a, b) => a + b, 0) / values.length,
      p50: rank(0.5),
      p95: rank(0.95),
      p99: rank(0.99),
      max: values[values.length - 1]!,
    };
  }
}
