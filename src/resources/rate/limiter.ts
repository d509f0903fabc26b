import { z } from 'zod';
import { AdapterUnavailableError, hasErrorCode, ValidationError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { silentLogger } from '../../core/logger.js';
import { parseInput } from '../../core/validation.js';
import type { GcraLimit, RateLimitOutcome, RateLimitRequest, RateLimitStore } from '../../adapters/rate-limit.js';
import { RateLimitedError } from '../errors.js';
import { degradedDecision, toDecision, type CompiledLimit, type RateLimitDecision } from './decision.js';
import { compileRateLimits, type RateLimitRule } from './limits.js';

/**
 * What the limiter does when its store cannot be asked (`ADAPTER_UNAVAILABLE`, or no answer
 * within `timeoutMs`): `fail-open` admits (availability first; the decision says `degraded`),
 * `fail-closed` refuses — `check` returns a degraded refusal and `consume` throws
 * `ADAPTER_UNAVAILABLE` (503, retryable), never a false `RATE_LIMITED`.
 */
export type StoreFailureMode = 'fail-open' | 'fail-closed';

/** Options of {@link createRateLimiter}. */
export interface RateLimiterOptions {
  /** Where the TATs live: memory, PostgreSQL, Redis, or any {@link RateLimitStore}. */
  readonly store: RateLimitStore;
  /** 1–16 limits, all checked in one atomic call. */
  readonly limits: readonly RateLimitRule[];
  /** Required, so the choice is explicit: see {@link StoreFailureMode}. */
  readonly onStoreUnavailable: StoreFailureMode;
  /** Namespaces this limiter's keys in the store (default `rl`), so limiters sharing a store never collide. */
  readonly prefix?: string;
  /** Treat the store as unavailable when it has not answered within this many ms (default: wait). */
  readonly timeoutMs?: number;
  /** Receives a warning per degraded decision (no keys: they may identify people). Default: silent. */
  readonly logger?: Logger;
}

/** Options of one check. */
export interface RateLimitCheckOptions {
  /** Units the request takes (integer ≥ 0, at most the smallest burst; default 1; 0 only reads). */
  readonly cost?: number;
}

/**
 * A GCRA rate limiter over several limits (e.g. per second, minute and day): each check is ONE
 * atomic store call that admits only if every limit admits, and a refused request consumes
 * nothing. Decisions carry remaining, reset and retry-after per limit.
 */
export interface RateLimiter {
  /** The limits, with their derived GCRA parameters. */
  readonly limits: readonly CompiledLimit[];
  /**
   * Checks and (if allowed) records a request for `key`.
   * @throws `VALIDATION_FAILED` (bad key or cost), `ADAPTER_CLOSED`; store outages follow `onStoreUnavailable`.
   */
  check(key: string, options?: RateLimitCheckOptions): Promise<RateLimitDecision>;
  /**
   * Like {@link RateLimiter.check}, but throws when refused.
   * @throws `RATE_LIMITED` (with `retryAfterMs`), `ADAPTER_UNAVAILABLE` (fail-closed outage), `VALIDATION_FAILED`, `ADAPTER_CLOSED`
   */
  consume(key: string, options?: RateLimitCheckOptions): Promise<RateLimitDecision>;
  /**
   * Forgets `key`'s history under every limit.
   * @throws `VALIDATION_FAILED`, `ADAPTER_UNAVAILABLE`, `ADAPTER_CLOSED`
   */
  reset(key: string): Promise<void>;
}

const optionsSchema = z.strictObject({
  store: z.custom<RateLimitStore>((v) => typeof (v as RateLimitStore | null)?.check === 'function', 'store must be a RateLimitStore'),
  limits: z.array(z.unknown()),
  onStoreUnavailable: z.enum(['fail-open', 'fail-closed']),
  prefix: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'prefix: 1–64 characters of A-Z a-z 0-9 _ . : -').optional(),
  timeoutMs: z.number().int().min(1).max(60_000).optional(),
  logger: z.custom<Logger>((v) => typeof (v as Logger | null)?.warn === 'function', 'logger must have warn()').optional(),
});

// Key text: what the store accepts, minus room for the prefix and limit name it adds.
const MAX_KEY = 400;

/**
 * Creates a {@link RateLimiter}.
 *
 * @throws `VALIDATION_FAILED` for bad options or limits (see {@link compileRateLimits}).
 * @example
 * ```ts
 * import { createRateLimiter } from 'digital-fabrica/resources';
 * import { createMemoryRateLimitStore } from 'digital-fabrica/adapters/memory';
 * const limiter = createRateLimiter({
 *   store: createMemoryRateLimitStore(),
 *   limits: [
 *     { name: 'second', limit: 10, periodMs: 1_000 },
 *     { name: 'day', limit: 10_000, periodMs: 86_400_000 },
 *   ],
 *   onStoreUnavailable: 'fail-closed',
 * });
 * const decision = await limiter.check('user:ada');
 * console.log(decision.allowed, decision.remaining); // true 9
 * ```
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const opts = parseInput(optionsSchema, options, 'rate limiter options');
  const limits = compileRateLimits(opts.limits as RateLimitRule[]);
  return new GcraRateLimiter(opts.store, limits, opts.onStoreUnavailable, opts.prefix ?? 'rl', opts.timeoutMs, opts.logger ?? silentLogger);
}

class GcraRateLimiter implements RateLimiter {
  readonly #minBurst: number;
  readonly #scratch: { limits: { key: string; intervalUs: number; burst: number }[]; cost: number } | undefined;
  readonly #suffixes: string[];

  constructor(
    private readonly store: RateLimitStore,
    readonly limits: readonly CompiledLimit[],
    private readonly mode: StoreFailureMode,
    private readonly prefix: string,
    private readonly timeoutMs: number | undefined,
    private readonly logger: Logger,
  ) {
    this.#minBurst = Math.min(...limits.map((l) => l.burst));
    this.#scratch =
      typeof store.checkSync === 'function' && timeoutMs === undefined
        ? { limits: limits.map((l) => ({ key: '', intervalUs: l.intervalUs, burst: l.burst })), cost: 0 }
        : undefined;
    this.#suffixes = limits.map((l) => `#${l.name}`);
  }

  check(key: string, options?: RateLimitCheckOptions): Promise<RateLimitDecision> {
    let cost: number;
    try {
      cost = this.#cost(options);
      this.#checkKey(key);
    } catch (err) {
      return Promise.reject(err);
    }
    const scratch = this.#scratch;
    if (scratch !== undefined) {
      // An in-process store: one promise per check instead of three, and one request object
      // reused across checks (checkSync never keeps it; see RateLimitStore.checkSync).
      const base = `${this.prefix}:${key}`;
      for (let i = 0; i < scratch.limits.length; i++) scratch.limits[i]!.key = base + this.#suffixes[i]!;
      scratch.cost = cost;
      try {
        return Promise.resolve(toDecision(this.limits, cost, this.store.checkSync!(scratch)));
      } catch (err) {
        return this.#unavailable(err);
      }
    }
    const request: RateLimitRequest = { limits: this.#gcra(key), cost };
    return this.#ask(request).then((outcome) => toDecision(this.limits, cost, outcome), (err: unknown) => this.#unavailable(err));
  }

  #unavailable(err: unknown): Promise<RateLimitDecision> {
    if (!hasErrorCode(err, 'ADAPTER_UNAVAILABLE')) return Promise.reject(err);
    this.logger.warn('rate limit store unavailable; deciding by the failure mode', { mode: this.mode });
    return Promise.resolve(degradedDecision(this.limits, this.mode === 'fail-open'));
  }

  async consume(key: string, options?: RateLimitCheckOptions): Promise<RateLimitDecision> {
    const decision = await this.check(key, options);
    if (decision.allowed) return decision;
    if (decision.degraded) throw new AdapterUnavailableError('rate limit store unavailable (fail-closed)');
    throw new RateLimitedError(decision.retryAfterMs, decision.limits);
  }

  async reset(key: string): Promise<void> {
    this.#checkKey(key);
    await this.store.reset(this.#gcra(key).map((l) => l.key));
  }

  // Length here (room for the prefix and limit name); characters are the store's check, which
  // every store runs (the memory store on the first sight of a key), so none is done twice.
  #checkKey(key: string): void {
    if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY) {
      const message = `must be 1–${MAX_KEY} characters without control characters`;
      throw new ValidationError(`invalid rate limit key: ${message}`, [{ path: ['key'], message, code: 'custom' }]);
    }
  }

  #gcra(key: string): GcraLimit[] {
    const base = `${this.prefix}:${key}`;
    const out = new Array<GcraLimit>(this.limits.length);
    for (let i = 0; i < out.length; i++) {
      const l = this.limits[i]!;
      out[i] = { key: base + this.#suffixes[i]!, intervalUs: l.intervalUs, burst: l.burst };
    }
    return out;
  }

  #cost(options: RateLimitCheckOptions | undefined): number {
    const cost = options?.cost ?? 1;
    if (!Number.isSafeInteger(cost) || cost < 0 || cost > this.#minBurst) {
      // A cost above a burst could never pass: refusing it as RATE_LIMITED would make the caller wait for ever.
      const message = `must be an integer in 0–${this.#minBurst} (the smallest burst)`;
      throw new ValidationError(`invalid rate limit cost: ${message}`, [{ path: ['cost'], message, code: 'custom' }]);
    }
    return cost;
  }

  #ask(request: RateLimitRequest): Promise<RateLimitOutcome> {
    const call = this.store.check(request);
    if (this.timeoutMs === undefined) return call;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new AdapterUnavailableError(`rate limit store did not answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    return Promise.race([call, timeout]).finally(() => clearTimeout(timer));
  }
}
