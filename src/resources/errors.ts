import { FabricaError, type FabricaErrorOptions } from '../core/errors.js';
import type { ResourceAmounts } from '../adapters/reservations.js';

/** What a {@link QuotaExceededError} reports: enough to tell the caller what would still fit. */
export interface QuotaExceededDetails {
  /** Who asked. */
  readonly userId: string;
  /** What was asked for. */
  readonly requested: ResourceAmounts;
  /** The user's quota. */
  readonly quota: ResourceAmounts;
  /** The user's usage when the request was refused. */
  readonly usage: ResourceAmounts;
  /** Per resource, quota − usage (never below 0): the most a request could still take. */
  readonly remaining: ResourceAmounts;
  /** The resources the request would have taken above their quota. */
  readonly exceeded: readonly ('compute' | 'storage' | 'network')[];
}

/**
 * An allocation would take a user's usage above their quota; nothing was reserved. Code
 * `QUOTA_EXCEEDED`, status 429, not retryable as is (retry after releasing, or ask for less).
 * `details` states what is left per resource.
 *
 * @example
 * ```ts
 * import { QuotaExceededError } from 'digital-fabrica/resources';
 * const zero = { compute: 0, storage: 0, network: 0 };
 * const err = new QuotaExceededError({
 *   userId: 'ada', requested: { ...zero, compute: 800 }, quota: { ...zero, compute: 1000 },
 *   usage: { ...zero, compute: 500 }, remaining: { ...zero, compute: 500 }, exceeded: ['compute'],
 * });
 * console.log(err.code, err.details?.remaining); // QUOTA_EXCEEDED { compute: 500, ... }
 * ```
 */
export class QuotaExceededError extends FabricaError {
  /** Typed view of `details`. */
  readonly quota: QuotaExceededDetails;
  constructor(details: QuotaExceededDetails, options: Omit<FabricaErrorOptions, 'details'> = {}) {
    const left = `compute ${details.remaining.compute}, storage ${details.remaining.storage}, network ${details.remaining.network}`;
    super('QUOTA_EXCEEDED', `quota exceeded for ${details.exceeded.join(', ')}: remaining ${left}`, {
      ...options,
      details: { ...details },
    });
    this.quota = details;
  }
}

/** One limit's view in a {@link RateLimitedError} and in rate-limit decisions. */
export interface RateLimitState {
  /** The limit's name, e.g. `second`. */
  readonly name: string;
  /** Units that would still pass now. */
  readonly remaining: number;
  /** Ms until the limit is fully rested. */
  readonly resetMs: number;
  /** Ms until a request like this one would pass this limit (0: it passes now). */
  readonly retryAfterMs: number;
}

/**
 * A rate limit refused the request; it consumed nothing. Code `RATE_LIMITED`, status 429,
 * retryable after `retryAfterMs`.
 *
 * @example
 * ```ts
 * import { RateLimitedError } from 'digital-fabrica/resources';
 * const err = new RateLimitedError(1200, [{ name: 'second', remaining: 0, resetMs: 1200, retryAfterMs: 1200 }]);
 * console.log(err.code, err.retryAfterMs); // RATE_LIMITED 1200
 * ```
 */
export class RateLimitedError extends FabricaError {
  /** Ms after which the same request would pass (if nothing else consumed meanwhile). */
  readonly retryAfterMs: number;
  constructor(retryAfterMs: number, limits: readonly RateLimitState[], options: Omit<FabricaErrorOptions, 'details'> = {}) {
    super('RATE_LIMITED', `rate limited: retry after ${retryAfterMs} ms`, { ...options, details: { retryAfterMs, limits } });
    this.retryAfterMs = retryAfterMs;
  }
}
