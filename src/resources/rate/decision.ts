import type { RateLimitOutcome } from '../../adapters/rate-limit.js';
import type { RateLimitState } from '../errors.js';

/** One configured limit with its GCRA parameters derived. */
export interface CompiledLimit {
  /** The limit's name (part of its storage key). */
  readonly name: string;
  /** Admissions per period at the sustained rate. */
  readonly limit: number;
  /** The period in ms. */
  readonly periodMs: number;
  /** Units that may pass at once from a rested key. */
  readonly burst: number;
  /** Emission interval T in µs: ceil(period / limit), so the store never admits above the rate. */
  readonly intervalUs: number;
}

/**
 * What a rate-limit check decided. When the store was unreachable, `degraded` is true and the
 * decision follows the limiter's `onStoreUnavailable` setting; remaining, reset and retry-after
 * are then 0 (nothing is known).
 */
export interface RateLimitDecision {
  /** Whether the request may proceed (it was recorded against every limit). */
  readonly allowed: boolean;
  /** True when the store could not be asked and the failure mode decided. */
  readonly degraded: boolean;
  /** Units that would still pass now: the smallest over the limits. */
  readonly remaining: number;
  /** Ms until every limit is fully rested. */
  readonly resetMs: number;
  /** Ms until this same request would pass (0 when allowed). */
  readonly retryAfterMs: number;
  /** Per limit, in configuration order. */
  readonly limits: readonly RateLimitState[];
}

/**
 * Turns a store outcome into a decision: per limit, remaining = ⌊(now + B·T − TAT) / T⌋,
 * reset = TAT − now, and for a refused request retry-after = max(0, TAT + cost·T − B·T − now),
 * rounded UP to whole ms (a caller that waits that long is never refused by this limit). Pure.
 * The figures are computed on first access: a caller that only reads `allowed` (the common case
 * on a hot path) pays for none of them. `JSON.stringify` gives every field.
 *
 * @example
 * ```ts
 * import { compileRateLimits, toDecision } from 'digital-fabrica/resources';
 * const limits = compileRateLimits([{ name: 'second', limit: 10, periodMs: 1000 }]);
 * const d = toDecision(limits, 1, { allowed: true, nowUs: 0, tatsUs: [100_000] });
 * console.log(d.remaining, d.resetMs); // 9 100
 * ```
 */
export function toDecision(limits: readonly CompiledLimit[], cost: number, outcome: RateLimitOutcome): RateLimitDecision {
  return new GcraDecision(limits, cost, outcome);
}

interface Figures {
  readonly remaining: number;
  readonly resetMs: number;
  readonly retryAfterMs: number;
  readonly limits: readonly RateLimitState[];
}

class GcraDecision implements RateLimitDecision {
  readonly allowed: boolean;
  readonly degraded = false;
  readonly #limits: readonly CompiledLimit[];
  readonly #cost: number;
  readonly #outcome: RateLimitOutcome;
  #figures: Figures | undefined;

  constructor(limits: readonly CompiledLimit[], cost: number, outcome: RateLimitOutcome) {
    this.allowed = outcome.allowed;
    this.#limits = limits;
    this.#cost = cost;
    this.#outcome = outcome;
  }

  get remaining(): number {
    return this.#compute().remaining;
  }

  get resetMs(): number {
    return this.#compute().resetMs;
  }

  get retryAfterMs(): number {
    return this.#compute().retryAfterMs;
  }

  get limits(): readonly RateLimitState[] {
    return this.#compute().limits;
  }

  toJSON(): RateLimitDecision {
    return { allowed: this.allowed, degraded: false, ...this.#compute() };
  }

  #compute(): Figures {
    if (this.#figures !== undefined) return this.#figures;
    const limits = this.#limits;
    const outcome = this.#outcome;
    const cost = this.#cost;
    const now = outcome.nowUs;
    const states = new Array<RateLimitState>(limits.length);
    let remaining = Number.POSITIVE_INFINITY;
    let resetMs = 0;
    let retryAfterMs = 0;
    for (let i = 0; i < limits.length; i++) {
      const { name, burst, intervalUs } = limits[i]!;
      const tat = Math.max(outcome.tatsUs[i] ?? now, now);
      const left = Math.max(0, Math.min(burst, Math.floor((now + burst * intervalUs - tat) / intervalUs)));
      const reset = Math.ceil((tat - now) / 1000);
      const wait = outcome.allowed ? 0 : Math.max(0, Math.ceil((tat + cost * intervalUs - burst * intervalUs - now) / 1000));
      states[i] = { name, remaining: left, resetMs: reset, retryAfterMs: wait };
      if (left < remaining) remaining = left;
      if (reset > resetMs) resetMs = reset;
      if (wait > retryAfterMs) retryAfterMs = wait;
    }
    this.#figures = { remaining, resetMs, retryAfterMs, limits: states };
    return this.#figures;
  }
}

/** The decision of a check the store could not answer: allowed or not per the failure mode. */
export function degradedDecision(limits: readonly CompiledLimit[], allowed: boolean): RateLimitDecision {
  return {
    allowed,
    degraded: true,
    remaining: 0,
    resetMs: 0,
    retryAfterMs: 0,
    limits: limits.map((l) => ({ name: l.name, remaining: 0, resetMs: 0, retryAfterMs: 0 })),
  };
}
