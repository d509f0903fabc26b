/**
 * Attempt throttling with lockout, on the StorageAdapter's bounded counters, so every process
 * sharing the storage shares the budget.
 *
 * Counting: a sliding-window estimate (the current fixed window plus the previous one weighted by
 * how much of it still overlaps the sliding window), which does not let 2× the budget through
 * at a window boundary the way a plain fixed window does. An attempt is *reserved* before the
 * credential is checked (`add` with `max`), so concurrent guesses cannot all slip in before the
 * first failure is counted. Reaching the budget writes a lock document valid for `lockoutMs`.
 *
 * Windows are indexed by the injected clock, not the backend's TTL clock: expiry by TTL only
 * collects garbage, so tests with a manual clock behave the same on every backend.
 */
import type { StorageAdapter } from '../../adapters/storage.js';
import type { Clock } from '../../core/clock.js';
import { AccountLockedError } from '../errors.js';
import { ttlUntil } from '../internal/namespaces.js';

/** How many attempts, over what time, and how long to lock. */
export interface ThrottlePolicy {
  /** Failed attempts allowed per window (default 5). */
  readonly maxAttempts: number;
  /** Sliding window length, ms (default 15 minutes). */
  readonly windowMs: number;
  /** Lockout after the budget is spent, ms (default 15 minutes). */
  readonly lockoutMs: number;
}

/** The default: 5 attempts per 15 minutes, then 15 minutes locked. @internal */
export const DEFAULT_THROTTLE: ThrottlePolicy = Object.freeze({ maxAttempts: 5, windowMs: 900_000, lockoutMs: 900_000 });

/** Throttles attempts per subject (an email, a user id) in one scope (`password`, `mfa`). @internal */
export class AttemptThrottle {
  readonly #storage: StorageAdapter;
  readonly #namespace: string;
  readonly #scope: string;
  readonly #clock: Clock;
  readonly #policy: ThrottlePolicy;
  readonly #onLock: ((subject: string, until: number) => void) | undefined;

  constructor(storage: StorageAdapter, namespace: string, scope: string, clock: Clock, policy: ThrottlePolicy, onLock?: (subject: string, until: number) => void) {
    this.#storage = storage;
    this.#namespace = namespace;
    this.#scope = scope;
    this.#clock = clock;
    this.#policy = policy;
    this.#onLock = onLock;
  }

  /** Reserves one attempt, or throws `AUTH_LOCKED` (and locks) when the budget is spent. */
  async reserve(subject: string): Promise<void> {
    const now = this.#clock.now();
    await this.#throwIfLocked(subject, now);
    const { window, previousWeight } = this.#window(now);
    const previous = (await this.#storage.get<number>(this.#namespace, this.#counterKey(subject, window - 1)))?.value ?? 0;
    // Rounded up: the estimate errs towards counting an attempt too many, never one too few.
    const allowed = this.#policy.maxAttempts - Math.ceil(previous * previousWeight);
    const result =
      allowed > 0
        ? await this.#storage.add(this.#namespace, this.#counterKey(subject, window), 1, { max: allowed, ttlMs: 2 * this.#policy.windowMs })
        : { applied: false };
    if (!result.applied) {
      await this.#lock(subject, now);
      throw new AccountLockedError(this.#policy.lockoutMs);
    }
    // A lock written while we were counting (it also resets the counters, so our add may have
    // landed on a fresh one) must still stop this attempt.
    await this.#throwIfLocked(subject, now);
  }

  /** Records that the reserved attempt failed; locks when the budget is now spent. */
  async failure(subject: string): Promise<void> {
    const now = this.#clock.now();
    const { window, previousWeight } = this.#window(now);
    const [current, previous] = await this.#storage.getMany<number>(this.#namespace, [this.#counterKey(subject, window), this.#counterKey(subject, window - 1)]);
    const estimate = (current?.value ?? 0) + Math.ceil((previous?.value ?? 0) * previousWeight);
    if (estimate >= this.#policy.maxAttempts) await this.#lock(subject, now);
  }

  /** Clears the subject's counters after a success, so earlier typos do not linger. */
  async success(subject: string): Promise<void> {
    const { window } = this.#window(this.#clock.now());
    await this.#storage.txn({
      success: [
        { type: 'delete', namespace: this.#namespace, key: this.#counterKey(subject, window) },
        { type: 'delete', namespace: this.#namespace, key: this.#counterKey(subject, window - 1) },
      ],
    });
  }

  async #throwIfLocked(subject: string, now: number): Promise<void> {
    const lock = await this.#storage.get<{ until: number }>(this.#namespace, this.#lockKey(subject));
    if (lock && lock.value.until > now) throw new AccountLockedError(lock.value.until - now);
  }

  async #lock(subject: string, now: number): Promise<void> {
    const until = now + this.#policy.lockoutMs;
    const { window } = this.#window(now);
    // The lock replaces the counters: once it ends, the subject starts with a fresh budget
    // instead of being locked again by the failures that caused this lock.
    await this.#storage.txn({
      success: [
        { type: 'put', namespace: this.#namespace, key: this.#lockKey(subject), value: { until }, ttlMs: ttlUntil(until, now) },
        { type: 'delete', namespace: this.#namespace, key: this.#counterKey(subject, window) },
        { type: 'delete', namespace: this.#namespace, key: this.#counterKey(subject, window - 1) },
      ],
    });
    this.#onLock?.(subject, until);
  }

  #window(now: number): { window: number; previousWeight: number } {
    const window = Math.floor(now / this.#policy.windowMs);
    return { window, previousWeight: 1 - (now - window * this.#policy.windowMs) / this.#policy.windowMs };
  }

  #counterKey(subject: string, window: number): string {
    return `${this.#scope}/${subject}/n/${window}`;
  }

  #lockKey(subject: string): string {
    return `${this.#scope}/${subject}/lock`;
  }
}
