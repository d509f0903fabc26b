/**
 * Time is injected everywhere so that policies are deterministic in tests.
 * Backends that share state across machines (PostgreSQL, Redis) use their server's time for
 * expiry instead, so processes with skewed clocks still agree.
 */

/** A source of wall-clock time in epoch milliseconds. */
export interface Clock {
  /** Current time, epoch milliseconds. */
  now(): number;
}

/**
 * The process's wall clock.
 *
 * @example
 * ```ts
 * import { systemClock } from 'digital-fabrica';
 * const startedAt = systemClock.now();
 * ```
 */
export const systemClock: Clock = Object.freeze({ now: () => Date.now() });

/**
 * A clock that only moves when told to; for tests and simulations.
 *
 * @example
 * ```ts
 * import { ManualClock } from 'digital-fabrica';
 * const clock = new ManualClock(0);
 * clock.advance(1_000);
 * clock.now(); // 1000
 * ```
 */
export class ManualClock implements Clock {
  #now: number;

  /** @param start initial time in epoch milliseconds (default 0). */
  constructor(start = 0) {
    this.#now = start;
  }

  /** Current time, epoch milliseconds. */
  now(): number {
    return this.#now;
  }

  /** Moves time forward by `ms` (must be >= 0: time never runs backwards). */
  advance(ms: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw new RangeError('ManualClock.advance takes a finite, non-negative number');
    this.#now += ms;
  }

  /** Jumps to an absolute time not earlier than now. */
  set(ms: number): void {
    if (!Number.isFinite(ms) || ms < this.#now) throw new RangeError('ManualClock.set cannot move time backwards');
    this.#now = ms;
  }
}
