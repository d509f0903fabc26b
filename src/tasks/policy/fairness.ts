/**
 * Measures of fairness used by the tests, the benchmark and the metrics: how evenly service was
 * shared, relative to each tenant's weight.
 */

/**
 * Jain's fairness index of `values`: `(Σx)² / (n·Σx²)`, 1 when all are equal, 1/n when one
 * takes everything. Pass weight-normalised service (service / weight) to judge a weighted share.
 *
 * @example
 * ```ts
 * import { jainIndex } from 'digital-fabrica/tasks';
 * jainIndex([100 / 1, 200 / 2, 400 / 4]); // 1
 * ```
 */
export function jainIndex(values: readonly number[]): number {
  if (values.length === 0) return 1;
  let sum = 0;
  let squares = 0;
  for (const v of values) {
    sum += v;
    squares += v * v;
  }
  return squares === 0 ? 1 : (sum * sum) / (values.length * squares);
}

/**
 * Relative error of each tenant's share of `served` against its weight share:
 * `(served_i / Σserved) / (w_i / Σw) - 1`. Within ±0.05 means "within ±5% of the weights".
 *
 * @example
 * ```ts
 * import { shareErrors } from 'digital-fabrica/tasks';
 * shareErrors([98, 202, 400], [1, 2, 4]); // ≈ [-0.02, 0.01, 0]
 * ```
 */
export function shareErrors(served: readonly number[], weights: readonly number[]): number[] {
  const total = served.reduce((a, b) => a + b, 0);
  const weightTotal = weights.reduce((a, b) => a + b, 0);
  return served.map((s, i) => (total === 0 ? 0 : s / total / (weights[i]! / weightTotal) - 1));
}
