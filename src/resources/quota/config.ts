import { z } from 'zod';
import { ValidationError } from '../../core/errors.js';
import { parseInput } from '../../core/validation.js';

/** Bounds of one multiplier: the metric is clamped to (or must lie within) `[min, max]`. */
export interface MultiplierBounds {
  /** Lowest multiplier applied (≥ 0). */
  readonly min: number;
  /** Highest multiplier applied (≥ min, ≤ 100). */
  readonly max: number;
}

/**
 * Configuration of the quota formula (see {@link calculateQuota}). Units are the host's; the
 * defaults are millicores, bytes and bytes per second.
 */
export interface QuotaConfig {
  /** `BASE_COMPUTE`, `BASE_STORAGE`, `BASE_NETWORK`: the quota of tier factor 1 with neutral metrics. */
  readonly bases: { readonly compute: number; readonly storage: number; readonly network: number };
  /** The allowed tiers and their factors (the spec's `user.tier` in `tier × BASE`). */
  readonly tiers: Readonly<Record<string, number>>;
  /** Bounds of `efficiency` (× compute), `utilization` (× storage), `reliability` (× network). */
  readonly multipliers: {
    readonly efficiency: MultiplierBounds;
    readonly utilization: MultiplierBounds;
    readonly reliability: MultiplierBounds;
  };
  /** A metric outside its bounds (or not finite): `clamp` it into them, or `reject` with `VALIDATION_FAILED`. */
  readonly outOfRange: 'clamp' | 'reject';
  /** Bounds of the optimiser's per-user boost factor applied on top of the multipliers. */
  readonly boost: MultiplierBounds;
}

/** {@link QuotaConfig} as accepted by the factories: every field optional, defaults filled in. */
export interface QuotaConfigInput {
  /** See {@link QuotaConfig.bases}; missing bases take their defaults. */
  readonly bases?: Partial<QuotaConfig['bases']>;
  /** See {@link QuotaConfig.tiers}; replaces the default tiers entirely. */
  readonly tiers?: Readonly<Record<string, number>>;
  /** See {@link QuotaConfig.multipliers}; missing entries take their defaults. */
  readonly multipliers?: Partial<QuotaConfig['multipliers']>;
  /** See {@link QuotaConfig.outOfRange}. */
  readonly outOfRange?: 'clamp' | 'reject';
  /** See {@link QuotaConfig.boost}. */
  readonly boost?: MultiplierBounds;
}

/**
 * The defaults: 1 core (1000 millicores), 10 GiB of storage and 10 MiB/s of bandwidth per tier
 * factor; tiers `1`–`5` with factors 1–5 (the spec's `tier × BASE`); every multiplier within
 * [0.25, 2], clamped; boosts within [1, 2].
 *
 * @example
 * ```ts
 * import { DEFAULT_QUOTA_CONFIG } from 'digital-fabrica/resources';
 * console.log(DEFAULT_QUOTA_CONFIG.bases.compute); // 1000
 * ```
 */
export const DEFAULT_QUOTA_CONFIG: QuotaConfig = Object.freeze({
  bases: Object.freeze({ compute: 1000, storage: 10 * 1024 ** 3, network: 10 * 1024 ** 2 }),
  tiers: Object.freeze({ '1': 1, '2': 2, '3': 3, '4': 4, '5': 5 }),
  multipliers: Object.freeze({
    efficiency: Object.freeze({ min: 0.25, max: 2 }),
    utilization: Object.freeze({ min: 0.25, max: 2 }),
    reliability: Object.freeze({ min: 0.25, max: 2 }),
  }),
  outOfRange: 'clamp',
  boost: Object.freeze({ min: 1, max: 2 }),
});

const MAX_BASE = 1e15;
const bounds = (max: number) =>
  z
    .strictObject({ min: z.number().finite().min(0).max(max), max: z.number().finite().min(0).max(max) })
    .refine((b) => b.min <= b.max, 'min must not exceed max');

const configSchema = z
  .strictObject({
    bases: z
      .strictObject({
        compute: z.number().finite().min(0).max(MAX_BASE).optional(),
        storage: z.number().finite().min(0).max(MAX_BASE).optional(),
        network: z.number().finite().min(0).max(MAX_BASE).optional(),
      })
      .optional(),
    tiers: z
      .record(z.string().min(1).max(64), z.number().finite().min(0).max(1e6))
      .refine((t) => Object.keys(t).length > 0, 'at least one tier is required')
      .optional(),
    multipliers: z
      .strictObject({ efficiency: bounds(100).optional(), utilization: bounds(100).optional(), reliability: bounds(100).optional() })
      .optional(),
    outOfRange: z.enum(['clamp', 'reject']).optional(),
    boost: bounds(10).optional(),
  })
  .optional();

/**
 * Validates a {@link QuotaConfigInput} and fills in the defaults. Refuses any configuration
 * whose largest quota (largest tier × base × largest multiplier × largest boost) would not be a
 * safe integer, so no user's quota can ever be infinite or imprecise.
 *
 * @throws `VALIDATION_FAILED`
 * @example
 * ```ts
 * import { parseQuotaConfig } from 'digital-fabrica/resources';
 * const config = parseQuotaConfig({ tiers: { free: 1, pro: 4 }, bases: { compute: 500 } });
 * console.log(config.bases.compute, config.tiers.pro); // 500 4
 * ```
 */
export function parseQuotaConfig(input?: QuotaConfigInput): QuotaConfig {
  const parsed = parseInput(configSchema, input, 'quota configuration');
  const d = DEFAULT_QUOTA_CONFIG;
  const config: QuotaConfig = {
    bases: { ...d.bases, ...stripUndefined(parsed?.bases) },
    tiers: { ...(parsed?.tiers ?? d.tiers) },
    multipliers: { ...d.multipliers, ...stripUndefined(parsed?.multipliers) },
    outOfRange: parsed?.outOfRange ?? d.outOfRange,
    boost: parsed?.boost ?? d.boost,
  };
  const maxTier = Math.max(...Object.values(config.tiers));
  const worst = {
    compute: config.bases.compute * config.multipliers.efficiency.max,
    storage: config.bases.storage * config.multipliers.utilization.max,
    network: config.bases.network * config.multipliers.reliability.max,
  };
  for (const [name, value] of Object.entries(worst)) {
    if (!(maxTier * value * config.boost.max <= Number.MAX_SAFE_INTEGER)) {
      const message = `the largest ${name} quota (largest tier × base × max multiplier × max boost) exceeds 2^53 − 1`;
      throw new ValidationError(`invalid quota configuration: ${message}`, [{ path: ['bases', name], message, code: 'custom' }]);
    }
  }
  return config;
}

function stripUndefined<T extends object>(value: T | undefined): Partial<{ [K in keyof T]: Exclude<T[K], undefined> }> {
  if (value === undefined) return {};
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<{ [K in keyof T]: Exclude<T[K], undefined> }>;
}
