/**
 * RateLimitStore: the atomic step behind the GCRA rate limiter (Generic Cell Rate Algorithm,
 * ITU-T I.371), one timestamp per key.
 *
 * Each limit keeps its *theoretical arrival time* (TAT): the moment at which the key would be
 * fully rested. A request of `cost` units passes a limit with emission interval `T` and burst `B`
 * when `max(TAT, now) + cost·T − B·T ≤ now`, and then moves the TAT to `max(TAT, now) + cost·T`.
 *
 * Semantics every backend must honour (checked by `describeRateLimitContract`):
 * - `check` decides every limit of the request in ONE atomic step: either all pass and all TATs
 *   advance, or none does and nothing is written. A rejected request consumes nothing.
 * - Time is the store's own clock (the memory backend's injected clock; Redis `TIME`;
 *   PostgreSQL `clock_timestamp()`), in integer microseconds, so processes with skewed clocks
 *   agree and every value is an exact integer in IEEE doubles, Lua and `bigint` alike.
 * - A key whose TAT is in the past is the same as an absent key; backends drop such keys.
 * - Invalid requests fail with `VALIDATION_FAILED` before anything is touched.
 */

/** One limit of a {@link RateLimitRequest}: a key and its GCRA parameters. */
export interface GcraLimit {
  /** Where this limit's TAT lives (1–512 characters, no control characters). */
  readonly key: string;
  /**
   * Emission interval `T` in whole microseconds: the spacing of admissions at the sustained
   * rate, i.e. period / limit rounded UP (so the store never admits more than configured).
   */
  readonly intervalUs: number;
  /** Burst `B`: cost units that may pass at once from a rested key (integer ≥ 1). */
  readonly burst: number;
}

/** What {@link RateLimitStore.check} decides, atomically, over all of its limits. */
export interface RateLimitRequest {
  /** 1–{@link MAX_RATE_LIMITS} limits with distinct keys. */
  readonly limits: readonly GcraLimit[];
  /** Units this request takes from every limit (integer ≥ 0; 0 only reads). */
  readonly cost: number;
}

/** The outcome of {@link RateLimitStore.check}. */
export interface RateLimitOutcome {
  /** True if every limit admitted the request (and every TAT advanced). */
  readonly allowed: boolean;
  /** The store's clock at the decision, epoch microseconds. */
  readonly nowUs: number;
  /**
   * Per limit, in request order: the TAT after the call, never below `nowUs` (a rested key
   * reports `nowUs`). Unchanged by a rejected request.
   */
  readonly tatsUs: readonly number[];
}

/**
 * Atomic GCRA checks over several limits. The domain's rate limiter derives remaining,
 * reset and retry-after from the outcome; the store only decides and records.
 *
 * @example
 * ```ts
 * import { createMemoryRateLimitStore } from 'digital-fabrica/adapters/memory';
 * const store = createMemoryRateLimitStore();
 * // 10 per second (T = 100 ms), burst 10 — and 100 per minute (T = 600 ms), burst 100.
 * const outcome = await store.check({
 *   cost: 1,
 *   limits: [
 *     { key: 'api:ada#second', intervalUs: 100_000, burst: 10 },
 *     { key: 'api:ada#minute', intervalUs: 600_000, burst: 100 },
 *   ],
 * });
 * console.log(outcome.allowed); // true
 * ```
 */
export interface RateLimitStore {
  /** Prepares the backend (schema check on PostgreSQL). Idempotent. */
  init(): Promise<void>;
  /**
   * Checks and, when every limit admits it, records one request — atomically.
   * @throws `VALIDATION_FAILED`, `ADAPTER_UNAVAILABLE`, `ADAPTER_CLOSED`
   */
  check(request: RateLimitRequest): Promise<RateLimitOutcome>;
  /**
   * Optional synchronous form of {@link RateLimitStore.check} with identical semantics, offered
   * only by stores that decide in-process without I/O (the memory store). A limiter may call it
   * to save the promises of the async form, which dominate an in-memory check. The store reads
   * the request only during the call and never keeps it, so a caller may reuse one request
   * object from call to call.
   * @throws `VALIDATION_FAILED`, `ADAPTER_CLOSED`
   */
  checkSync?(request: RateLimitRequest): RateLimitOutcome;
  /**
   * Forgets the TATs of `keys` (they become rested).
   * @throws `VALIDATION_FAILED`, `ADAPTER_UNAVAILABLE`, `ADAPTER_CLOSED`
   */
  reset(keys: readonly string[]): Promise<void>;
  /** Stops background work; never closes a pool or client the host passed in. Idempotent. */
  close(): Promise<void>;
}

/**
 * Max limits one {@link RateLimitRequest} may check together.
 *
 * @example
 * ```ts
 * import { MAX_RATE_LIMITS } from 'digital-fabrica/adapters';
 * console.log(MAX_RATE_LIMITS); // 16
 * ```
 */
export const MAX_RATE_LIMITS = 16;

/**
 * Max emission interval: 1e12 µs (about 11.6 days per unit).
 *
 * @example
 * ```ts
 * import { MAX_RATE_INTERVAL_US } from 'digital-fabrica/adapters';
 * const fitsOnePerWeek = 7 * 86_400_000_000 <= MAX_RATE_INTERVAL_US; // true
 * ```
 */
export const MAX_RATE_INTERVAL_US = 1e12;

/**
 * Max tolerance `burst × intervalUs` (1e14 µs, about 3.2 years): keeps every TAT far below
 * 2^53 µs, so arithmetic stays exact on every backend.
 *
 * @example
 * ```ts
 * import { MAX_RATE_TOLERANCE_US } from 'digital-fabrica/adapters';
 * // 1000 per day with the whole day as burst: 1000 × 86.4 s — well within the bound.
 * console.log(1000 * 86_400_000 <= MAX_RATE_TOLERANCE_US); // true
 * ```
 */
export const MAX_RATE_TOLERANCE_US = 1e14;
