import { z } from 'zod';
import { ValidationError } from '../../core/errors.js';
import { parseInput } from '../../core/validation.js';
import { MAX_RATE_INTERVAL_US, MAX_RATE_LIMITS, MAX_RATE_TOLERANCE_US } from '../../adapters/rate-limit.js';
import type { CompiledLimit } from './decision.js';

/**
 * One rate limit: `limit` units per `periodMs` at the sustained rate, of which `burst` (default
 * `limit`) may pass at once from a rested key. GCRA guarantees: over any interval of length D,
 * at most `burst + ⌈D / T⌉ − 1` units pass, where T = periodMs / limit — no boundary doubling as
 * with fixed windows. Combine a short limit with a long one (e.g. 10/s and 1000/day) to cap both
 * the burst and the total.
 */
export interface RateLimitRule {
  /** Names the limit in results and keys: 1–32 of `[A-Za-z0-9_-]`, unique within a limiter. */
  readonly name: string;
  /** Units per period (integer ≥ 1). */
  readonly limit: number;
  /** The period in ms (integer ≥ 1), e.g. 1000, 60 000, 86 400 000. */
  readonly periodMs: number;
  /** Units that may pass at once (integer ≥ 1; default `limit`). */
  readonly burst?: number;
}

const ruleSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'name: 1–32 characters of A-Z a-z 0-9 _ -'),
  limit: z.number().int().min(1).max(1e12),
  periodMs: z.number().int().min(1).max(366 * 24 * 3600 * 1000),
  burst: z.number().int().min(1).max(1e12).optional(),
});

/**
 * Validates rules and derives their GCRA parameters: T = ⌈periodMs × 1000 / limit⌉ µs (rounded
 * up, so the limiter never admits more than configured), burst defaulting to `limit`.
 *
 * @throws `VALIDATION_FAILED` for a malformed rule, duplicate names, more than 16 rules, or a
 *   rule whose interval or tolerance (burst × T) is beyond what stores keep exactly.
 * @example
 * ```ts
 * import { compileRateLimits } from 'digital-fabrica/resources';
 * const [perSecond] = compileRateLimits([{ name: 'second', limit: 10, periodMs: 1000 }]);
 * console.log(perSecond!.intervalUs, perSecond!.burst); // 100000 10
 * ```
 */
export function compileRateLimits(rules: readonly RateLimitRule[]): CompiledLimit[] {
  const parsed = parseInput(z.array(ruleSchema).min(1).max(MAX_RATE_LIMITS), rules, 'rate limits');
  const seen = new Set<string>();
  return parsed.map((rule, i) => {
    const fail = (message: string): never => {
      throw new ValidationError(`invalid rate limits at ${i}: ${message}`, [{ path: [i], message, code: 'custom' }]);
    };
    if (seen.has(rule.name)) fail('names must be unique');
    seen.add(rule.name);
    const intervalUs = Math.ceil((rule.periodMs * 1000) / rule.limit);
    const burst = rule.burst ?? rule.limit;
    if (intervalUs > MAX_RATE_INTERVAL_US) fail(`periodMs / limit must be at most ${MAX_RATE_INTERVAL_US / 1000} ms`);
    if (burst * intervalUs > MAX_RATE_TOLERANCE_US) fail(`burst × (periodMs / limit) must be at most ${MAX_RATE_TOLERANCE_US / 1000} ms`);
    return { name: rule.name, limit: rule.limit, periodMs: rule.periodMs, burst, intervalUs };
  });
}
