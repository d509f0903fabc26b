import type { TaskBackoff } from '../../adapters/queue.js';

/**
 * Retry delay after delivery `attempt` (1 = the first) failed: exponential backoff
 * `min(maxDelayMs, delayMs * 2^(attempt-1))`, of which the fraction `jitter` is drawn at random
 * (`random()` in [0, 1)), so that retries of a burst of failures spread out instead of returning
 * together. Pure: pass a seeded `random` in tests.
 *
 * @example
 * ```ts
 * import { retryDelay } from 'digital-fabrica/tasks';
 * retryDelay({ delayMs: 1_000, maxDelayMs: 60_000, jitter: 0 }, 3, Math.random); // 4000
 * ```
 */
export function retryDelay(backoff: TaskBackoff, attempt: number, random: () => number): number {
  const exponent = Math.min(Math.max(0, attempt - 1), 52);
  const full = Math.min(backoff.maxDelayMs, backoff.delayMs * 2 ** exponent);
  const jitter = Math.min(1, Math.max(0, backoff.jitter));
  return Math.max(0, Math.round(full * (1 - jitter * random())));
}
