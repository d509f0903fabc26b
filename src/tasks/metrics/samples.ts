/**
 * Wait and run time samples in a bounded, time-windowed buffer, and nearest-rank percentiles
 * over it. Pure (time passed in): the metrics service feeds it, the tests drive it directly.
 */

/**
 * How a delivery ended, as a worker reports it.
 *
 * @example
 * ```ts
 * import type { TaskOutcome } from 'digital-fabrica/tasks';
 * const isError = (o: TaskOutcome) => o === 'retried' || o === 'failed' || o === 'dead';
 * ```
 */
export type TaskOutcome = 'completed' | 'retried' | 'failed' | 'dead' | 'lost';

/**
 * One settled delivery.
 *
 * @example
 * ```ts
 * import type { TaskSample } from 'digital-fabrica/tasks';
 * const sample: TaskSample = { tenantId: 'acme', type: 'render', outcome: 'completed', waitMs: 40, runMs: 1_250 };
 * ```
 */
export interface TaskSample {
  readonly tenantId: string;
  readonly type: string;
  readonly outcome: TaskOutcome;
  /** From becoming ready to being claimed, ms (backend clock on both ends). */
  readonly waitMs: number;
  /** Handler run time, ms (worker clock). */
  readonly runMs: number;
}

/**
 * Percentiles of one measure over the window.
 *
 * @example
 * ```ts
 * import { percentilesOf, type Percentiles } from 'digital-fabrica/tasks';
 * const p: Percentiles = percentilesOf([5, 1, 3]);
 * console.log(p.p50, p.max); // 3 5
 * ```
 */
export interface Percentiles {
  readonly count: number;
  readonly p50: number | null;
  readonly p90: number | null;
  readonly p99: number | null;
  readonly max: number | null;
}

/**
 * The nearest-rank percentile `q` (0–1) of ascending `sorted`, or null when empty.
 *
 * @example
 * ```ts
 * import { percentile } from 'digital-fabrica/tasks';
 * percentile([1, 2, 3, 4], 0.5); // 2
 * ```
 */
export function percentile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1]!;
}

/**
 * p50/p90/p99/max of `values` (any order), nearest-rank.
 *
 * @example
 * ```ts
 * import { percentilesOf } from 'digital-fabrica/tasks';
 * percentilesOf([10, 20, 30, 40]).p90; // 40
 * ```
 */
export function percentilesOf(values: readonly number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  return { count: sorted.length, p50: percentile(sorted, 0.5), p90: percentile(sorted, 0.9), p99: percentile(sorted, 0.99), max: sorted.length === 0 ? null : sorted[sorted.length - 1]! };
}

/**
 * A ring buffer of the last `capacity` samples with their time; reads keep those within `windowMs`.
 *
 * @example
 * ```ts
 * import { SampleWindow } from 'digital-fabrica/tasks';
 * const window = new SampleWindow(1_000, 60_000);
 * window.add({ tenantId: 'acme', type: 'ping', outcome: 'completed', waitMs: 5, runMs: 1 }, Date.now());
 * console.log(window.recent(Date.now()).length); // 1
 * ```
 */
export class SampleWindow {
  readonly #capacity: number;
  readonly #windowMs: number;
  readonly #samples: (TaskSample | undefined)[];
  readonly #times: number[];
  #next = 0;
  #size = 0;

  /** @param capacity samples kept at most; @param windowMs age beyond which samples are ignored. */
  constructor(capacity: number, windowMs: number) {
    this.#capacity = capacity;
    this.#windowMs = windowMs;
    this.#samples = new Array<TaskSample | undefined>(capacity);
    this.#times = new Array<number>(capacity).fill(0);
  }

  /** Records `sample` at time `now`. */
  add(sample: TaskSample, now: number): void {
    this.#samples[this.#next] = sample;
    this.#times[this.#next] = now;
    this.#next = (this.#next + 1) % this.#capacity;
    this.#size = Math.min(this.#size + 1, this.#capacity);
  }

  /** Samples recorded within the window ending at `now`. */
  recent(now: number): TaskSample[] {
    const out: TaskSample[] = [];
    for (let i = 0; i < this.#size; i++) {
      const j = (this.#next - 1 - i + this.#capacity) % this.#capacity;
      if (now - this.#times[j]! > this.#windowMs) break;
      out.push(this.#samples[j]!);
    }
    return out;
  }
}
