import { z } from 'zod';
import { parseInput } from '../../core/validation.js';
import { parseQuotaConfig, type QuotaConfig, type QuotaConfigInput } from './config.js';
import { applyMultipliers, calculateBaseQuota, NEUTRAL_METRICS, type Quota, type QuotaSubject, type UserMetrics } from './formula.js';

/**
 * Where a user's metrics come from (the spec's `getUserMetrics`), e.g. a lookup in the host's
 * analytics. Missing fields are neutral (1).
 */
export type UserMetricsSource = (userId: string) => Partial<UserMetrics> | undefined | Promise<Partial<UserMetrics> | undefined>;

/** Where a user's optimiser boost comes from (1 = none). */
export type BoostSource = (userId: string) => number | Promise<number>;

/** Options of {@link ResourceAllocator}. */
export interface ResourceAllocatorOptions {
  /** The formula's configuration (defaults: {@link DEFAULT_QUOTA_CONFIG}). */
  readonly config?: QuotaConfigInput;
  /** Metrics of users that do not carry their own (default: neutral). */
  readonly metrics?: UserMetricsSource;
  /** Per-user boost set by the optimiser (default: 1). */
  readonly boosts?: BoostSource;
}

const subjectSchema = z.looseObject({
  id: z.string().min(1).max(256),
  tier: z.union([z.number(), z.string().min(1).max(64)]),
  tenantId: z.string().min(1).max(256).optional(),
  metrics: z
    .strictObject({ efficiency: z.number().optional(), utilization: z.number().optional(), reliability: z.number().optional() })
    .optional(),
});

/**
 * Validates a {@link QuotaSubject} (`id`, `tier`, optional `tenantId` and `metrics`; other fields of
 * the host's user object are ignored).
 * @throws `VALIDATION_FAILED`
 * @example
 * ```ts
 * import { parseQuotaSubject } from 'digital-fabrica/resources';
 * const subject = parseQuotaSubject({ id: 'ada', tier: 2, email: 'ada@example.com' });
 * console.log(subject.tier); // 2
 * ```
 */
export function parseQuotaSubject(user: unknown): QuotaSubject {
  const parsed = parseInput(subjectSchema, user, 'user');
  return {
    id: parsed.id,
    tier: parsed.tier,
    ...(parsed.tenantId === undefined ? {} : { tenantId: parsed.tenantId }),
    ...(parsed.metrics === undefined ? {} : { metrics: parsed.metrics as Partial<UserMetrics> }),
  };
}

/**
 * The spec's `ResourceAllocator`: `allocate(user)` = `applyMultipliers(calculateBaseQuota(user),
 * getUserMetrics(user))`, with the configuration validated once. The formula methods are pure;
 * only `getUserMetrics` and `allocate` consult the metrics and boost sources.
 *
 * @throws `VALIDATION_FAILED` from the constructor for an invalid configuration.
 * @example
 * ```ts
 * import { ResourceAllocator } from 'digital-fabrica/resources';
 * const allocator = new ResourceAllocator({ metrics: async () => ({ efficiency: 1.2 }) });
 * const quota = await allocator.allocate({ id: 'ada', tier: 2 });
 * console.log(quota.compute); // 2400 = 2 × 1000 × 1.2
 * ```
 */
export class ResourceAllocator {
  /** The validated configuration. */
  readonly config: QuotaConfig;
  readonly #metrics: UserMetricsSource | undefined;
  readonly #boosts: BoostSource | undefined;

  constructor(options: ResourceAllocatorOptions = {}) {
    this.config = parseQuotaConfig(options.config);
    this.#metrics = options.metrics;
    this.#boosts = options.boosts;
  }

  /**
   * `tier × BASE` per resource.
   * @throws `VALIDATION_FAILED` for an unknown tier.
   */
  calculateBaseQuota(user: QuotaSubject): Quota {
    return calculateBaseQuota(user.tier, this.config);
  }

  /**
   * compute × efficiency, storage × utilization, network × reliability (× boost), bounded and
   * rounded down to whole units.
   * @throws `VALIDATION_FAILED` for an out-of-range metric with `outOfRange: 'reject'`.
   */
  applyMultipliers(quota: Quota, metrics: UserMetrics, boost = 1): Quota {
    return applyMultipliers(quota, metrics, this.config, boost);
  }

  /** The user's metrics: those it carries, else the source's, else neutral; missing fields neutral. */
  async getUserMetrics(user: QuotaSubject): Promise<UserMetrics> {
    const fromSource = user.metrics === undefined && this.#metrics !== undefined ? await this.#metrics(user.id) : undefined;
    const given = user.metrics ?? fromSource ?? {};
    return {
      efficiency: given.efficiency ?? NEUTRAL_METRICS.efficiency,
      utilization: given.utilization ?? NEUTRAL_METRICS.utilization,
      reliability: given.reliability ?? NEUTRAL_METRICS.reliability,
    };
  }

  /**
   * The user's quota, per the spec's allocation algorithm.
   * @throws `VALIDATION_FAILED` for an invalid user, an unknown tier, or a rejected metric.
   */
  async allocate(user: QuotaSubject): Promise<Quota> {
    const subject = parseQuotaSubject(user);
    const base = this.calculateBaseQuota(subject);
    const metrics = await this.getUserMetrics(subject);
    const boost = this.#boosts === undefined ? 1 : await this.#boosts(subject.id);
    return this.applyMultipliers(base, metrics, boost);
  }
}
