import { z } from 'zod';
import type { Clock } from '../../core/clock.js';
import { systemClock } from '../../core/clock.js';
import { AdapterClosedError } from '../../core/errors.js';
import { parseInput } from '../../core/validation.js';
import type { RateLimitOutcome, RateLimitRequest, RateLimitStore } from '../rate-limit.js';
import { checkRateKey, parseRateLimitKeys, parseRateLimitRequest } from '../internal/rate-limit-requests.js';

/**
 * The TATs behind one or more memory rate-limit stores. Share one between several
 * `createMemoryRateLimitStore` calls to get independent handles on the same limits.
 *
 * @example
 * ```ts
 * import { createMemoryRateLimitStore, MemoryRateLimitState } from 'digital-fabrica/adapters/memory';
 * const state = new MemoryRateLimitState();
 * const a = createMemoryRateLimitStore({ state });
 * const b = createMemoryRateLimitStore({ state }); // sees a's TATs
 * ```
 */
export class MemoryRateLimitState {
  /** @internal key → TAT in epoch µs, in a mutable cell so an admission updates it without a second Map lookup. */
  readonly tats = new Map<string, { tat: number }>();
}

/** Options of {@link createMemoryRateLimitStore}. */
export interface MemoryRateLimitStoreOptions {
  /** Share TATs with other handles (default: a private state). */
  readonly state?: MemoryRateLimitState;
  /** Time source (default: system clock). A `ManualClock` makes the limiter exactly reproducible. */
  readonly clock?: Clock;
  /** How often rested keys are dropped from memory, in ms (default 60 000; 0 disables). */
  readonly sweepIntervalMs?: number;
}

const optionsSchema = z
  .strictObject({
    state: z.instanceof(MemoryRateLimitState).optional(),
    clock: z.custom<Clock>((v) => typeof (v as Clock | undefined)?.now === 'function', 'clock must have now()').optional(),
    sweepIntervalMs: z.number().int().min(0).max(2_147_483_647).optional(),
  })
  .optional();

/**
 * In-process GCRA store: exact, every check one synchronous step (hence atomic) on a `Map` of
 * TATs. The default store of the rate limiter.
 *
 * @throws `VALIDATION_FAILED` for bad options.
 * @example
 * ```ts
 * import { ManualClock } from 'digital-fabrica';
 * import { createMemoryRateLimitStore } from 'digital-fabrica/adapters/memory';
 * const store = createMemoryRateLimitStore({ clock: new ManualClock(0), sweepIntervalMs: 0 });
 * const limits = [{ key: 'k', intervalUs: 1_000_000, burst: 2 }];
 * await store.check({ limits, cost: 1 }); // allowed
 * await store.check({ limits, cost: 1 }); // allowed
 * console.log((await store.check({ limits, cost: 1 })).allowed); // false
 * ```
 */
export function createMemoryRateLimitStore(options?: MemoryRateLimitStoreOptions): RateLimitStore {
  const opts = parseInput(optionsSchema, options, 'memory rate limit store options');
  return new MemoryRateLimitStore(opts?.state ?? new MemoryRateLimitState(), opts?.clock ?? systemClock, opts?.sweepIntervalMs ?? 60_000);
}

class MemoryRateLimitStore implements RateLimitStore {
  #closed = false;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly state: MemoryRateLimitState,
    private readonly clock: Clock,
    private readonly sweepIntervalMs: number,
  ) {}

  async init(): Promise<void> {
    this.#assertOpen();
    if (this.sweepIntervalMs > 0 && this.#timer === undefined) {
      this.#timer = setInterval(() => this.#sweep(), this.sweepIntervalMs);
      (this.#timer as { unref?: () => void }).unref?.();
    }
  }

  async check(request: RateLimitRequest): Promise<RateLimitOutcome> {
    return this.checkSync(request);
  }

  checkSync(request: RateLimitRequest): RateLimitOutcome {
    this.#assertOpen();
    // Keys are checked on a map miss only: every key in the map was checked before insertion.
    const { limits, cost } = parseRateLimitRequest(request, false);
    const nowUs = Math.floor(this.clock.now() * 1000);
    const tats = this.state.tats;
    if (limits.length === 1) {
      // The common single-limit check: no scratch arrays.
      const { key, intervalUs, burst } = limits[0]!;
      const cell = tats.get(key);
      if (cell === undefined) checkRateKey(key, ['limits', 0, 'key']);
      let tat = cell !== undefined && cell.tat > nowUs ? cell.tat : nowUs;
      const allowed = tat + cost * intervalUs - burst * intervalUs <= nowUs;
      if (allowed && cost > 0) {
        tat += cost * intervalUs;
        if (cell !== undefined) cell.tat = tat;
        else tats.set(key, { tat });
      }
      return { allowed, nowUs, tatsUs: [tat] };
    }
    // decideGcra (the reference), inlined into one pass: this is the hot path.
    const n = limits.length;
    const tatsUs = new Array<number>(n);
    const cells = new Array<{ tat: number } | undefined>(n);
    let allowed = true;
    for (let i = 0; i < n; i++) {
      const { key, intervalUs, burst } = limits[i]!;
      const cell = tats.get(key);
      if (cell === undefined) checkRateKey(key, ['limits', i, 'key']);
      cells[i] = cell;
      const tat = cell !== undefined && cell.tat > nowUs ? cell.tat : nowUs;
      tatsUs[i] = tat;
      if (tat + cost * intervalUs - burst * intervalUs > nowUs) allowed = false;
    }
    if (allowed && cost > 0) {
      for (let i = 0; i < n; i++) {
        const next = tatsUs[i]! + cost * limits[i]!.intervalUs;
        tatsUs[i] = next;
        const cell = cells[i];
        if (cell !== undefined) cell.tat = next;
        else tats.set(limits[i]!.key, { tat: next });
      }
    }
    return { allowed, nowUs, tatsUs };
  }

  async reset(keys: readonly string[]): Promise<void> {
    this.#assertOpen();
    for (const key of parseRateLimitKeys(keys)) this.state.tats.delete(key);
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #sweep(): void {
    // A TAT in the past means "rested": the same as no entry.
    const nowUs = Math.floor(this.clock.now() * 1000);
    for (const [key, cell] of this.state.tats) if (cell.tat <= nowUs) this.state.tats.delete(key);
  }

  #assertOpen(): void {
    if (this.#closed) throw new AdapterClosedError('memory rate limit store is closed');
  }
}
