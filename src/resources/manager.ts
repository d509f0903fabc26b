import { z } from 'zod';
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import { ConflictError, NotFoundError, hasErrorCode } from '../core/errors.js';
import type { FabricaEventBus } from '../core/events.js';
import { createUuidV7Generator, type IdGenerator } from '../core/ids.js';
import type { Logger } from '../core/logger.js';
import { silentLogger } from '../core/logger.js';
import { parseInput } from '../core/validation.js';
import type { RateLimitStore } from '../adapters/rate-limit.js';
import type { ReservationRecord, ReservationStore, ResourceAmounts } from '../adapters/reservations.js';
import type { StorageAdapter } from '../adapters/storage.js';
import { QuotaExceededError } from './errors.js';
import { LatencyTracker, type LatencyStats } from './monitoring/latency.js';
import { parseOptimizationPolicy, planAdjustments, type Adjustment, type OptimizationInput, type OptimizationPolicyInput } from './optimize/optimizer.js';
import { parseQuotaSubject, ResourceAllocator, type UserMetricsSource } from './quota/allocator.js';
import type { QuotaConfig, QuotaConfigInput } from './quota/config.js';
import type { Quota, QuotaSubject } from './quota/formula.js';
import { toDecision, type RateLimitDecision } from './rate/decision.js';
import type { StoreFailureMode } from './rate/limiter.js';
import { BoostBook } from './internal/boosts.js';
import { invalid } from './internal/invalid.js';
import { keepReservationAlive, type KeepAlive, type KeepAliveOptions } from './internal/keep-alive.js';

/** A granted allocation: amounts held against the user's quota until released or the lease ends. */
export interface Reservation {
  /** The reservation id (the idempotency key when one was given, else a UUIDv7). */
  readonly id: string;
  /** The user whose quota it counts against. */
  readonly userId: string;
  /** What it holds. */
  readonly amounts: ResourceAmounts;
  /** When it was made (store clock, epoch ms). */
  readonly createdAt: number;
  /** When it ends unless renewed (store clock, epoch ms). */
  readonly expiresAt: number;
}

/** What {@link ResourceManager.allocate} is asked for. Missing amounts are 0. */
export interface AllocationRequest {
  /** Compute to reserve, in the configured unit (default millicores); integer ≥ 0. */
  readonly compute?: number;
  /** Storage to reserve (default unit bytes); integer ≥ 0. */
  readonly storage?: number;
  /** Network bandwidth to reserve (default unit bytes/s); integer ≥ 0. */
  readonly network?: number;
  /** Lease in ms (default: the manager's `defaultLeaseMs`); renew before it ends to keep the reservation. */
  readonly leaseMs?: number;
  /** Makes retries safe: the same key with the same amounts returns the same live reservation. */
  readonly idempotencyKey?: string;
}

/** A user's quota, usage and what is left. */
export interface UsageReport {
  /** The quota (from the formula). */
  readonly quota: Quota;
  /** Sum of the live reservations. */
  readonly usage: ResourceAmounts;
  /** quota − usage per resource, never below 0. */
  readonly remaining: ResourceAmounts;
  /** Number of live reservations. */
  readonly count: number;
  /** Up to 100 live reservations, by id. */
  readonly reservations: readonly Reservation[];
}

/** Options of {@link createResourceManager}. */
export interface ResourceManagerOptions {
  /** Where reservations live: memory, PostgreSQL, Redis, or any {@link ReservationStore}. */
  readonly reservations: ReservationStore;
  /** The quota formula's configuration (defaults: {@link DEFAULT_QUOTA_CONFIG}). */
  readonly quota?: QuotaConfigInput;
  /** Metrics of users that do not carry their own (default: neutral). */
  readonly metrics?: UserMetricsSource;
  /** Receives `resource:update` and `resource:optimize`. */
  readonly events?: FabricaEventBus;
  /** Keeps optimiser boosts where every process sees them (namespace `resources.boosts`); default: this process only. */
  readonly storage?: StorageAdapter;
  /** How long a boost read from `storage` is reused, in ms (default 5000). */
  readonly boostCacheMs?: number;
  /** GCRA store for `network.consume` (bandwidth by bytes); without it `network.consume` fails with `VALIDATION_FAILED`. */
  readonly bandwidth?: RateLimitStore;
  /** Failure mode of `network.consume` when `bandwidth` is unreachable (required with `bandwidth`). */
  readonly bandwidthOnStoreUnavailable?: StoreFailureMode;
  /** Seconds of quota a bandwidth burst may take at once (default 1). */
  readonly bandwidthBurstSeconds?: number;
  /** Lease of allocations that name none, in ms (default 30 000). */
  readonly defaultLeaseMs?: number;
  /** Thresholds of {@link ResourceManager.optimize}. */
  readonly optimization?: OptimizationPolicyInput;
  /** Time of events (default: system clock). Leases follow the store's clock. */
  readonly clock?: Clock;
  /** Diagnostics (no secrets, no amounts). Default: silent. */
  readonly logger?: Logger;
}

const amount = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const requestSchema = z.strictObject({
  compute: amount.optional(),
  storage: amount.optional(),
  network: amount.optional(),
  leaseMs: z.number().int().min(1).max(30 * 24 * 3600 * 1000).optional(),
  // eslint-disable-next-line no-control-regex
  idempotencyKey: z.string().min(1).max(200).regex(/^[^\u0000-\u001f\u007f-\u009f]+$/, 'no control characters').optional(),
});

const optionsSchema = z.strictObject({
  reservations: z.custom<ReservationStore>((v) => typeof (v as ReservationStore | null)?.reserve === 'function', 'reservations must be a ReservationStore'),
  quota: z.unknown().optional(),
  metrics: z.custom<UserMetricsSource>((v) => typeof v === 'function', 'metrics must be a function').optional(),
  events: z.custom<FabricaEventBus>((v) => typeof (v as FabricaEventBus | null)?.emit === 'function', 'events must be a FabricaEventBus').optional(),
  storage: z.custom<StorageAdapter>((v) => typeof (v as StorageAdapter | null)?.txn === 'function', 'storage must be a StorageAdapter').optional(),
  boostCacheMs: z.number().int().min(0).max(3_600_000).optional(),
  bandwidth: z.custom<RateLimitStore>((v) => typeof (v as RateLimitStore | null)?.check === 'function', 'bandwidth must be a RateLimitStore').optional(),
  bandwidthOnStoreUnavailable: z.enum(['fail-open', 'fail-closed']).optional(),
  bandwidthBurstSeconds: z.number().int().min(1).max(3600).optional(),
  defaultLeaseMs: z.number().int().min(1).max(30 * 24 * 3600 * 1000).optional(),
  optimization: z.unknown().optional(),
  clock: z.custom<Clock>((v) => typeof (v as Clock | null)?.now === 'function', 'clock must have now()').optional(),
  logger: z.custom<Logger>((v) => typeof (v as Logger | null)?.warn === 'function', 'logger must have warn()').optional(),
});

/** The byte granularity of bandwidth limiting: GCRA counts KiB, so rates up to 1e6 KiB/s stay exact. */
const BANDWIDTH_UNIT = 1024;

/**
 * Creates a {@link ResourceManager}.
 *
 * @throws `VALIDATION_FAILED` for bad options (including the quota configuration).
 * @example
 * ```ts
 * import { createResourceManager } from 'digital-fabrica/resources';
 * import { createMemoryReservationStore } from 'digital-fabrica/adapters/memory';
 * const resources = createResourceManager({ reservations: createMemoryReservationStore() });
 * const ada = { id: 'ada', tier: 2 };
 * const reservation = await resources.allocate(ada, { compute: 500, storage: 1024 ** 3 });
 * console.log((await resources.usage(ada)).remaining.compute); // 1500
 * await resources.release(ada.id, reservation.id);
 * ```
 */
export function createResourceManager(options: ResourceManagerOptions): ResourceManager {
  return new ResourceManager(options);
}

/**
 * The spec's resource manager: quotas from the allocator's formula; allocations reserved
 * atomically against them with leases (a crashed holder's reservations return when their lease
 * ends); usage = the sum of live reservations; bandwidth limited by GCRA; latency statistics;
 * and the optimiser. Emits `resource:update` whenever it changes (or observes a change of) a
 * user's allocated amounts, and `resource:optimize` for every optimisation round.
 *
 * The `compute`, `storage` and `network` groups mirror the spec's interface; they call the same
 * methods as the flat API.
 *
 * @throws `VALIDATION_FAILED` from the constructor for bad options.
 * @example
 * ```ts
 * import { ResourceManager } from 'digital-fabrica/resources';
 * import { createMemoryReservationStore } from 'digital-fabrica/adapters/memory';
 * const resources = new ResourceManager({ reservations: createMemoryReservationStore() });
 * console.log(await resources.storage.quota({ id: 'ada', tier: 1 })); // { limit: 10737418240 }
 * ```
 */
export class ResourceManager {
  /** The quota formula (the spec's `ResourceAllocator`). */
  readonly allocator: ResourceAllocator;
  /** The spec's `compute` group. */
  readonly compute: {
    /** {@link ResourceManager.allocate}. */
    readonly allocation: (user: QuotaSubject, request: AllocationRequest) => Promise<Reservation>;
    /** {@link ResourceManager.optimize}. */
    readonly optimization: (input: OptimizationInput) => Promise<Adjustment[]>;
  };
  /** The spec's `storage` group. */
  readonly storage: {
    /** The user's storage quota. */
    readonly quota: (user: QuotaSubject) => Promise<{ readonly limit: number }>;
    /** The user's storage usage. */
    readonly usage: (user: QuotaSubject) => Promise<{ readonly used: number; readonly limit: number; readonly remaining: number }>;
  };
  /** The spec's `network` group. */
  readonly network: {
    /** The user's bandwidth quota: sustained bytes per second and the burst allowed at once. */
    readonly bandwidth: (user: QuotaSubject) => Promise<{ readonly bytesPerSecond: number; readonly burstBytes: number }>;
    /** Charges `bytes` of transfer against the user's bandwidth (GCRA); see {@link ResourceManager.consumeBandwidth}. */
    readonly consume: (user: QuotaSubject, bytes: number) => Promise<RateLimitDecision>;
    /** Latency statistics recorded for `key` (e.g. a user id). */
    readonly latency: (key: string) => LatencyStats;
    /** Records one latency sample in ms for `key`. */
    readonly recordLatency: (key: string, ms: number) => void;
  };

  readonly #store: ReservationStore;
  readonly #events: FabricaEventBus | undefined;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #ids: IdGenerator;
  readonly #leaseMs: number;
  readonly #boosts: BoostBook;
  readonly #latency = new LatencyTracker();
  readonly #policy: ReturnType<typeof parseOptimizationPolicy>;
  readonly #bandwidth: { store: RateLimitStore; mode: StoreFailureMode; burstSeconds: number } | undefined;

  /** Same as {@link createResourceManager}. @throws `VALIDATION_FAILED` for bad options. */
  constructor(options: ResourceManagerOptions) {
    parseInput(optionsSchema, options, 'resource manager options');
    if (options.bandwidth !== undefined && options.bandwidthOnStoreUnavailable === undefined) {
      invalid('resource manager options', ['bandwidthOnStoreUnavailable'], "required with `bandwidth`: 'fail-open' or 'fail-closed'");
    }
    this.#store = options.reservations;
    this.#events = options.events;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
    this.#ids = createUuidV7Generator({ clock: this.#clock });
    this.#leaseMs = options.defaultLeaseMs ?? 30_000;
    this.#boosts = new BoostBook(options.storage, options.boostCacheMs ?? 5_000, this.#clock);
    this.allocator = new ResourceAllocator({
      ...(options.quota === undefined ? {} : { config: options.quota }),
      ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
      boosts: (userId) => this.#boosts.get(userId),
    });
    const boostBounds = this.allocator.config.boost;
    this.#policy = parseOptimizationPolicy({ boost: boostBounds, ...options.optimization });
    this.#bandwidth =
      options.bandwidth === undefined
        ? undefined
        : { store: options.bandwidth, mode: options.bandwidthOnStoreUnavailable ?? 'fail-closed', burstSeconds: options.bandwidthBurstSeconds ?? 1 };
    this.compute = { allocation: (u, r) => this.allocate(u, r), optimization: (i) => this.optimize(i) };
    this.storage = {
      quota: async (u) => ({ limit: (await this.quota(u)).storage }),
      usage: async (u) => {
        const report = await this.usage(u);
        return { used: report.usage.storage, limit: report.quota.storage, remaining: report.remaining.storage };
      },
    };
    this.network = {
      bandwidth: async (u) => {
        const bytesPerSecond = (await this.quota(u)).network;
        return { bytesPerSecond, burstBytes: bytesPerSecond * (this.#bandwidth?.burstSeconds ?? 1) };
      },
      consume: (u, bytes) => this.consumeBandwidth(u, bytes),
      latency: (key) => this.#latency.stats(key),
      recordLatency: (key, ms) => this.#latency.record(key, ms),
    };
  }

  /** The validated quota configuration. */
  get config(): QuotaConfig {
    return this.allocator.config;
  }

  /**
   * The user's quota: `tier × BASE × multipliers × boost`, rounded down.
   * @throws `VALIDATION_FAILED` (invalid user, unknown tier, rejected metric)
   */
  async quota(user: QuotaSubject): Promise<Quota> {
    return this.allocator.allocate(parseQuotaSubject(user));
  }

  /**
   * Reserves the requested amounts against the user's quota, atomically: concurrent allocations
   * from any number of processes never take usage above the quota. The reservation lasts until
   * released or until its lease ends (renew it, or use {@link ResourceManager.keepAlive}).
   *
   * @throws `QUOTA_EXCEEDED` (nothing reserved; `details.remaining` says what is left),
   *   `CONFLICT` (idempotency key reused with other amounts), `VALIDATION_FAILED`,
   *   `ADAPTER_UNAVAILABLE`
   */
  async allocate(user: QuotaSubject, request: AllocationRequest): Promise<Reservation> {
    const subject = parseQuotaSubject(user);
    const req = parseInput(requestSchema, request, 'allocation request');
    const amounts: ResourceAmounts = { compute: req.compute ?? 0, storage: req.storage ?? 0, network: req.network ?? 0 };
    const quota = await this.allocator.allocate(subject);
    const outcome = await this.#store.reserve({
      owner: subject.id,
      id: req.idempotencyKey ?? this.#ids.next(),
      amounts,
      limits: quota,
      leaseMs: req.leaseMs ?? this.#leaseMs,
    });
    switch (outcome.status) {
      case 'reserved':
        this.#update(subject, outcome.usage);
        return toReservation(outcome.reservation);
      case 'existing':
        if (outcome.expired > 0) this.#update(subject, outcome.usage);
        return toReservation(outcome.reservation);
      case 'mismatch':
        if (outcome.expired > 0) this.#update(subject, outcome.usage);
        throw new ConflictError('idempotency key already used for a reservation with other amounts', {
          retryable: false,
          details: { userId: subject.id, reservationId: outcome.reservation.id },
        });
      case 'exceeded': {
        if (outcome.expired > 0) this.#update(subject, outcome.usage);
        const remaining = remainingOf(quota, outcome.usage);
        const exceeded = (['compute', 'storage', 'network'] as const).filter((r) => amounts[r] > 0 && amounts[r] > remaining[r]);
        throw new QuotaExceededError({ userId: subject.id, requested: amounts, quota, usage: outcome.usage, remaining, exceeded });
      }
    }
  }

  /**
   * Extends a live reservation's lease to now + `leaseMs` (default: the manager's default lease).
   * @throws `NOT_FOUND` (released, or its lease already ended: its amounts were returned), `VALIDATION_FAILED`, `ADAPTER_UNAVAILABLE`
   */
  async renew(userId: string, reservationId: string, leaseMs?: number): Promise<Reservation> {
    const outcome = await this.#store.renew(userId, reservationId, leaseMs ?? this.#leaseMs);
    if (outcome.expired > 0) this.#update({ id: userId }, outcome.usage);
    if (outcome.reservation === null) {
      throw new NotFoundError('reservation not found: released, or its lease ended', { details: { userId, reservationId } });
    }
    return toReservation(outcome.reservation);
  }

  /**
   * Releases a reservation, returning its amounts to the user's quota. Releasing twice is harmless.
   * @returns whether a live reservation was released
   * @throws `VALIDATION_FAILED`, `ADAPTER_UNAVAILABLE`
   */
  async release(userId: string, reservationId: string): Promise<boolean> {
    const outcome = await this.#store.release(userId, reservationId);
    if (outcome.released || outcome.expired > 0) this.#update({ id: userId }, outcome.usage);
    return outcome.released;
  }

  /**
   * The user's quota, usage (= sum of live reservations), remaining, and live reservations.
   * @throws `VALIDATION_FAILED`, `ADAPTER_UNAVAILABLE`
   */
  async usage(user: QuotaSubject): Promise<UsageReport> {
    const subject = parseQuotaSubject(user);
    const [quota, snapshot] = await Promise.all([this.allocator.allocate(subject), this.#store.snapshot(subject.id)]);
    if (snapshot.expired > 0) this.#update(subject, snapshot.usage);
    return {
      quota,
      usage: snapshot.usage,
      remaining: remainingOf(quota, snapshot.usage),
      count: snapshot.count,
      reservations: snapshot.reservations.map(toReservation),
    };
  }

  /**
   * Renews `reservation` every `intervalMs` (default a third of the lease) until stopped — the
   * heartbeat of a long-running holder. If the reservation is gone (`NOT_FOUND`), it stops and
   * calls `onLost`; transient failures are logged and retried on the next beat. The timer does
   * not keep the process alive.
   *
   * @example
   * ```ts
   * import { createResourceManager } from 'digital-fabrica/resources';
   * import { createMemoryReservationStore } from 'digital-fabrica/adapters/memory';
   * const resources = createResourceManager({ reservations: createMemoryReservationStore() });
   * const r = await resources.allocate({ id: 'ada', tier: 1 }, { compute: 100, leaseMs: 3_000 });
   * const beat = resources.keepAlive(r, { onLost: () => console.log('lost it') });
   * // ... long work ...
   * beat.stop();
   * await resources.release('ada', r.id);
   * ```
   */
  keepAlive(reservation: Reservation, options: KeepAliveOptions = {}): KeepAlive {
    const leaseMs = options.leaseMs ?? Math.max(1, reservation.expiresAt - reservation.createdAt);
    return keepReservationAlive((ms) => this.renew(reservation.userId, reservation.id, ms), leaseMs, options, this.#logger);
  }

  /**
   * Charges `bytes` of transfer against the user's bandwidth quota with GCRA (sustained
   * `quota.network` bytes/s, bursts up to `bandwidthBurstSeconds` of it), counted in whole KiB
   * rounded up. A refused transfer consumes nothing. Send larger transfers in chunks.
   *
   * @throws `VALIDATION_FAILED` (no bandwidth store configured, or `bytes` above the burst),
   *   `QUOTA_EXCEEDED` (the user has no network quota), `ADAPTER_UNAVAILABLE` is answered per `bandwidthOnStoreUnavailable`.
   */
  async consumeBandwidth(user: QuotaSubject, bytes: number): Promise<RateLimitDecision> {
    const bw = this.#bandwidth;
    const subject = parseQuotaSubject(user);
    const size = parseInput(z.number().int().min(0).max(Number.MAX_SAFE_INTEGER), bytes, 'bytes');
    if (bw === undefined) return invalid('bandwidth request', ['bandwidth'], 'no bandwidth store configured (option `bandwidth`)');
    const quota = await this.allocator.allocate(subject);
    const perSecond = Math.floor(quota.network / BANDWIDTH_UNIT);
    if (perSecond < 1) {
      const zero = { compute: 0, storage: 0, network: 0 };
      throw new QuotaExceededError({
        userId: subject.id,
        requested: { ...zero, network: size },
        quota,
        usage: zero,
        remaining: { ...zero, network: 0 },
        exceeded: ['network'],
      });
    }
    const limit = {
      name: 'bandwidth',
      limit: perSecond,
      periodMs: 1000,
      burst: perSecond * bw.burstSeconds,
      intervalUs: Math.ceil(1_000_000 / perSecond),
    };
    const cost = Math.ceil(size / BANDWIDTH_UNIT);
    if (cost > limit.burst) invalid('bandwidth request', ['bytes'], `at most ${limit.burst * BANDWIDTH_UNIT} bytes at once (the burst): send in chunks`);
    try {
      const outcome = await bw.store.check({ limits: [{ key: `bw:${subject.id}`, intervalUs: limit.intervalUs, burst: limit.burst }], cost });
      return toDecision([limit], cost, outcome);
    } catch (err) {
      if (!hasErrorCode(err, 'ADAPTER_UNAVAILABLE')) throw err;
      this.#logger.warn('bandwidth store unavailable; deciding by the failure mode', { mode: bw.mode });
      return { allowed: bw.mode === 'fail-open', degraded: true, remaining: 0, resetMs: 0, retryAfterMs: 0, limits: [{ name: 'bandwidth', remaining: 0, resetMs: 0, retryAfterMs: 0 }] };
    }
  }

  /** A user's current optimiser boost (1 = none). */
  async boost(userId: string): Promise<number> {
    return this.#boosts.get(parseInput(z.string().min(1).max(256), userId, 'user id'));
  }

  /**
   * Sets a user's boost, clamped to the configured bounds. Takes effect on the next quota
   * computation (in other processes once their boost cache expires).
   * @throws `VALIDATION_FAILED`, `ADAPTER_UNAVAILABLE` (with `storage`)
   */
  async setBoost(userId: string, factor: number): Promise<number> {
    const id = parseInput(z.string().min(1).max(256), userId, 'user id');
    const f = parseInput(z.number().finite().min(0).max(10), factor, 'boost');
    const { min, max } = this.config.boost;
    const bounded = Math.min(max, Math.max(min, f));
    await this.#boosts.set(id, bounded);
    return bounded;
  }

  /**
   * One optimisation round (the spec's `optimization(metrics)`): plans adjustments with
   * {@link planAdjustments}, fills in each user's current boost when the input omits it, applies
   * the boost changes (unless `apply` is false), and emits them all as one `resource:optimize`
   * event. Concurrency adjustments are proposals for the host (e.g. the task queue's tenant caps).
   *
   * @throws `VALIDATION_FAILED`, `ADAPTER_UNAVAILABLE` (with `storage`)
   */
  async optimize(input: OptimizationInput, options: { readonly apply?: boolean } = {}): Promise<Adjustment[]> {
    const users = input.users === undefined ? undefined : await Promise.all(input.users.map(async (u) => ({ ...u, boost: u.boost ?? (await this.#boosts.get(u.userId)) })));
    const adjustments = planAdjustments({ ...input, ...(users === undefined ? {} : { users }) }, this.#policy);
    if (options.apply !== false) {
      for (const a of adjustments) if (a.kind === 'quota.boost') await this.#boosts.set(a.target.slice('user:'.length), a.to);
    }
    if (adjustments.length > 0) this.#events?.emit('resource:optimize', { adjustments, at: this.#clock.now() });
    return adjustments;
  }

  #update(subject: { id: string; tenantId?: string }, usage: ResourceAmounts): void {
    this.#events?.emit('resource:update', {
      userId: subject.id,
      ...(subject.tenantId === undefined ? {} : { tenantId: subject.tenantId }),
      allocation: { compute: usage.compute, storage: usage.storage, network: usage.network },
      at: this.#clock.now(),
    });
  }
}

function toReservation(record: ReservationRecord): Reservation {
  return { id: record.id, userId: record.owner, amounts: record.amounts, createdAt: record.createdAt, expiresAt: record.expiresAt };
}

function remainingOf(quota: Quota, usage: ResourceAmounts): ResourceAmounts {
  return {
    compute: Math.max(0, quota.compute - usage.compute),
    storage: Math.max(0, quota.storage - usage.storage),
    network: Math.max(0, quota.network - usage.network),
  };
}
