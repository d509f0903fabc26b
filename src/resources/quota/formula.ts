import { z } from 'zod';
import { ValidationError } from '../../core/errors.js';
import { parseInput } from '../../core/validation.js';
import type { ResourceAmounts } from '../../adapters/reservations.js';
import type { MultiplierBounds, QuotaConfig } from './config.js';

/** A user's quota: the most they may hold reserved at once, per resource (safe integers ≥ 0). */
export type Quota = ResourceAmounts;

/**
 * The spec's `UserMetrics`: how well a user uses what they get. Each scales one resource:
 * compute × `efficiency`, storage × `utilization`, network × `reliability`. 1 is neutral.
 */
export interface UserMetrics {
  /** Multiplies the compute quota. */
  readonly efficiency: number;
  /** Multiplies the storage quota. */
  readonly utilization: number;
  /** Multiplies the network quota. */
  readonly reliability: number;
}

/**
 * Neutral metrics: every multiplier 1 (what users without metrics get).
 *
 * @example
 * ```ts
 * import { calculateQuota, NEUTRAL_METRICS, parseQuotaConfig } from 'digital-fabrica/resources';
 * console.log(calculateQuota(1, NEUTRAL_METRICS, parseQuotaConfig()).compute); // 1000
 * ```
 */
export const NEUTRAL_METRICS: UserMetrics = Object.freeze({ efficiency: 1, utilization: 1, reliability: 1 });

/** Who a quota is for: the fields of the identity module's user the formula reads. */
export interface QuotaSubject {
  /** The user's id (1–256 characters). */
  readonly id: string;
  /** The user's tier: a key of {@link QuotaConfig.tiers} (numbers are looked up as their decimal text). */
  readonly tier: number | string;
  /** The tenant the user acts in, carried into events. */
  readonly tenantId?: string;
  /** Metrics to use instead of asking the metrics source. */
  readonly metrics?: Partial<UserMetrics>;
}

/**
 * The spec's `calculateBaseQuota`: `tier × BASE` for each resource, exact (not rounded).
 *
 * @throws `VALIDATION_FAILED` when the tier is not one of the configured tiers.
 * @example
 * ```ts
 * import { calculateBaseQuota, parseQuotaConfig } from 'digital-fabrica/resources';
 * const base = calculateBaseQuota(2, parseQuotaConfig({ bases: { compute: 1000, storage: 100, network: 10 } }));
 * console.log(base); // { compute: 2000, storage: 200, network: 20 }
 * ```
 */
export function calculateBaseQuota(tier: number | string, config: QuotaConfig): Quota {
  const factor = tierFactor(tier, config);
  return {
    compute: factor * config.bases.compute,
    storage: factor * config.bases.storage,
    network: factor * config.bases.network,
  };
}

/**
 * The spec's `applyMultipliers`: compute × efficiency, storage × utilization, network ×
 * reliability, each metric first brought into its configured bounds (clamped, or refused with
 * `outOfRange: 'reject'`), then × `boost` (the optimiser's factor, clamped to its bounds), and
 * rounded DOWN to whole units. The result is always a safe integer ≥ 0: never negative, NaN or
 * infinite. A metric that is not a finite number counts as out of range; clamping takes NaN to
 * the lower bound (the cautious side).
 *
 * @throws `VALIDATION_FAILED` for an out-of-range metric when `outOfRange` is `reject`.
 * @example
 * ```ts
 * import { applyMultipliers, parseQuotaConfig } from 'digital-fabrica/resources';
 * const config = parseQuotaConfig();
 * const quota = applyMultipliers({ compute: 1000, storage: 1000, network: 1000 }, { efficiency: 1.5, utilization: 0.5, reliability: 9 }, config);
 * console.log(quota); // { compute: 1500, storage: 500, network: 2000 } (reliability clamped to 2)
 * ```
 */
export function applyMultipliers(quota: Quota, metrics: UserMetrics, config: QuotaConfig, boost = 1): Quota {
  const m = config.multipliers;
  const b = clampTo(boost, config.boost);
  return {
    compute: toUnits(quota.compute * multiplier('efficiency', metrics.efficiency, m.efficiency, config) * b),
    storage: toUnits(quota.storage * multiplier('utilization', metrics.utilization, m.utilization, config) * b),
    network: toUnits(quota.network * multiplier('reliability', metrics.reliability, m.reliability, config) * b),
  };
}

/**
 * The whole formula: `applyMultipliers(calculateBaseQuota(tier), metrics, boost)`. Missing
 * metrics are neutral (1). A pure function of its arguments.
 *
 * @throws `VALIDATION_FAILED` for an unknown tier, or an out-of-range metric with `outOfRange: 'reject'`.
 * @example
 * ```ts
 * import { calculateQuota, parseQuotaConfig } from 'digital-fabrica/resources';
 * const config = parseQuotaConfig({ tiers: { free: 1, pro: 4 } });
 * const quota = calculateQuota('pro', { efficiency: 0.5 }, config);
 * console.log(quota.compute); // 2000 = 4 × 1000 × 0.5
 * ```
 */
export function calculateQuota(tier: number | string, metrics: Partial<UserMetrics> | undefined, config: QuotaConfig, boost = 1): Quota {
  return applyMultipliers(calculateBaseQuota(tier, config), { ...NEUTRAL_METRICS, ...definedOnly(metrics) }, config, boost);
}

const tierSchema = z.union([z.number(), z.string()]);

function tierFactor(tier: number | string, config: QuotaConfig): number {
  const key = String(parseInput(tierSchema, tier, 'tier'));
  const factor = Object.hasOwn(config.tiers, key) ? config.tiers[key] : undefined;
  if (factor === undefined) {
    const message = `unknown tier (allowed: ${Object.keys(config.tiers).join(', ')})`;
    throw new ValidationError(`invalid tier: ${message}`, [{ path: ['tier'], message, code: 'custom' }]);
  }
  return factor;
}

function multiplier(name: keyof UserMetrics, value: number, bounds: MultiplierBounds, config: QuotaConfig): number {
  const inRange = typeof value === 'number' && Number.isFinite(value) && value >= bounds.min && value <= bounds.max;
  if (inRange) return value;
  if (config.outOfRange === 'reject') {
    const message = `must be a finite number within [${bounds.min}, ${bounds.max}]`;
    throw new ValidationError(`invalid user metric ${name}: ${message}`, [{ path: ['metrics', name], message, code: 'too_big' }]);
  }
  return clampTo(value, bounds);
}

function clampTo(value: number, bounds: MultiplierBounds): number {
  if (typeof value !== 'number' || Number.isNaN(value)) return bounds.min;
  return Math.min(bounds.max, Math.max(bounds.min, value));
}

// The config bounds keep every product a safe integer; floor and the guards make "never
// negative, never NaN, never infinite" hold even for a hand-built config that skipped parsing.
function toUnits(value: number): number {
  if (!(value > 0)) return 0;
  return Math.min(Number.MAX_SAFE_INTEGER, Math.floor(value));
}

function definedOnly(metrics: Partial<UserMetrics> | undefined): Partial<UserMetrics> {
  if (metrics === undefined) return {};
  const out: { -readonly [K in keyof UserMetrics]?: number } = {};
  for (const key of ['efficiency', 'utilization', 'reliability'] as const) if (metrics[key] !== undefined) out[key] = metrics[key];
  return out;
}
