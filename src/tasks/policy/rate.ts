/**
 * The per-tenant rate cap as a token bucket: `burst` tokens, refilled continuously at
 * `ratePerSecond`; each claim takes one. Restated in SQL (`queue_claim`) and Lua (queue-claim),
 * so every backend refills and spends identically.
 */

/**
 * Tokens available at `now` in a bucket that held `tokens` at time `at`, capped at `burst`. Time
 * running backwards (a clock step) refills nothing.
 *
 * @example
 * ```ts
 * import { refillTokens } from 'digital-fabrica/tasks';
 * refillTokens(0, 0, 1_500, 2, 10); // 3
 * ```
 */
export function refillTokens(tokens: number, at: number, now: number, ratePerSecond: number, burst: number): number {
  const elapsed = Math.max(0, now - at);
  return Math.min(burst, tokens + (elapsed * ratePerSecond) / 1000);
}

/**
 * Milliseconds until the bucket holds one whole token (0 when it already does).
 *
 * @example
 * ```ts
 * import { msUntilToken } from 'digital-fabrica/tasks';
 * msUntilToken(0.5, 2); // 250
 * ```
 */
export function msUntilToken(tokens: number, ratePerSecond: number): number {
  return tokens >= 1 ? 0 : Math.ceil(((1 - tokens) * 1000) / ratePerSecond);
}
