import { z } from 'zod';
import { parseInput } from '../../core/validation.js';

/** One proposed change, as carried by `resource:optimize` events. */
export interface Adjustment {
  /** `tenant:<id>` or `user:<id>`. */
  readonly target: string;
  /** `concurrency` (a tenant's task concurrency cap) or `quota.boost` (a user's quota factor). */
  readonly kind: 'concurrency' | 'quota.boost';
  /** Value before. */
  readonly from: number;
  /** Proposed value. */
  readonly to: number;
  /** Why, in words (no personal data: ids and figures only). */
  readonly reason: string;
}

/** A tenant's recent behaviour, as the host measures it (e.g. from the task queue's stats). */
export interface TenantLoad {
  /** The tenant's id. */
  readonly tenantId: string;
  /** Its current concurrency cap (integer ≥ 1). */
  readonly concurrency: number;
  /** Its configured cap, which a lowered cap is restored toward when pressure is gone. */
  readonly baseline: number;
  /** Its share of the running work or requests in the last window, 0–1. */
  readonly share: number;
}

/** A user's recent behaviour. */
export interface UserLoad {
  /** The user's id. */
  readonly userId: string;
  /** Fraction of successful work (0–1), e.g. tasks that completed without failing. */
  readonly reliability: number;
  /** How much of the quota the user holds on average, 0–1. */
  readonly utilization: number;
  /** Allocations refused with QUOTA_EXCEEDED in the window. */
  readonly quotaRejections?: number;
  /** The user's current boost (default 1). */
  readonly boost?: number;
}

/** What {@link planAdjustments} looks at (the spec's `optimization(metrics)` input). */
export interface OptimizationInput {
  /** System pressure, fractions 0–1 (e.g. from a monitoring sample); missing: no pressure known. */
  readonly system?: { readonly cpuUsage?: number; readonly memoryUsage?: number };
  /** Tenants to consider. */
  readonly tenants?: readonly TenantLoad[];
  /** Users to consider. */
  readonly users?: readonly UserLoad[];
}

/** Thresholds and steps of {@link planAdjustments}. */
export interface OptimizationPolicy {
  /** The system is under pressure at or above either fraction. Default cpu 0.85, memory 0.9. */
  readonly pressure: { readonly cpu: number; readonly memory: number };
  /** A tenant taking at least this share under pressure is noisy. Default 0.5. */
  readonly noisyShare: number;
  /** A noisy tenant's cap is multiplied by this (0–1), never below `minConcurrency`. Default 0.5. */
  readonly concurrencyFactor: number;
  /** Lowest cap the optimiser sets. Default 1. */
  readonly minConcurrency: number;
  /** Users at or above this reliability are reliable. Default 0.99. */
  readonly reliableAbove: number;
  /** A reliable user at or above this utilization (or refused by quota) earns a boost. Default 0.8. */
  readonly busyAbove: number;
  /** Users below this reliability lose their boost. Default 0.9. */
  readonly unreliableBelow: number;
  /** Boost step per round. Default 0.25. */
  readonly boostStep: number;
  /** Boost bounds; the quota configuration's bounds by default ([1, 2]). */
  readonly boost: { readonly min: number; readonly max: number };
}

/**
 * The defaults of {@link OptimizationPolicy}.
 *
 * @example
 * ```ts
 * import { DEFAULT_OPTIMIZATION_POLICY } from 'digital-fabrica/resources';
 * console.log(DEFAULT_OPTIMIZATION_POLICY.noisyShare); // 0.5
 * ```
 */
export const DEFAULT_OPTIMIZATION_POLICY: OptimizationPolicy = Object.freeze({
  pressure: Object.freeze({ cpu: 0.85, memory: 0.9 }),
  noisyShare: 0.5,
  concurrencyFactor: 0.5,
  minConcurrency: 1,
  reliableAbove: 0.99,
  busyAbove: 0.8,
  unreliableBelow: 0.9,
  boostStep: 0.25,
  boost: Object.freeze({ min: 1, max: 2 }),
});

const fraction = z.number().finite().min(0).max(1);
const inputSchema = z.strictObject({
  system: z.strictObject({ cpuUsage: fraction.optional(), memoryUsage: fraction.optional() }).optional(),
  tenants: z
    .array(
      z.strictObject({
        tenantId: z.string().min(1).max(256),
        concurrency: z.number().int().min(1).max(1e6),
        baseline: z.number().int().min(1).max(1e6),
        share: fraction,
      }),
    )
    .max(10_000)
    .optional(),
  users: z
    .array(
      z.strictObject({
        userId: z.string().min(1).max(256),
        reliability: fraction,
        utilization: fraction,
        quotaRejections: z.number().int().min(0).optional(),
        boost: z.number().finite().min(0).max(10).optional(),
      }),
    )
    .max(10_000)
    .optional(),
});

const policySchema = z.strictObject({
  pressure: z.strictObject({ cpu: fraction.optional(), memory: fraction.optional() }).optional(),
  noisyShare: fraction.optional(),
  concurrencyFactor: z.number().gt(0).lt(1).optional(),
  minConcurrency: z.number().int().min(1).optional(),
  reliableAbove: fraction.optional(),
  busyAbove: fraction.optional(),
  unreliableBelow: fraction.optional(),
  boostStep: z.number().gt(0).max(10).optional(),
  boost: z.strictObject({ min: z.number().min(0).max(10), max: z.number().min(0).max(10) }).refine((b) => b.min <= b.max, 'min must not exceed max').optional(),
});

/** {@link OptimizationPolicy} with every field optional. */
export type OptimizationPolicyInput = Partial<Omit<OptimizationPolicy, 'pressure'>> & { readonly pressure?: Partial<OptimizationPolicy['pressure']> };

/**
 * Validates a policy and fills in {@link DEFAULT_OPTIMIZATION_POLICY}.
 * @throws `VALIDATION_FAILED`
 * @example
 * ```ts
 * import { parseOptimizationPolicy } from 'digital-fabrica/resources';
 * console.log(parseOptimizationPolicy({ noisyShare: 0.4 }).noisyShare); // 0.4
 * ```
 */
export function parseOptimizationPolicy(input?: OptimizationPolicyInput): OptimizationPolicy {
  const p = parseInput(policySchema.optional(), input, 'optimization policy') ?? {};
  const d = DEFAULT_OPTIMIZATION_POLICY;
  return {
    pressure: { cpu: p.pressure?.cpu ?? d.pressure.cpu, memory: p.pressure?.memory ?? d.pressure.memory },
    noisyShare: p.noisyShare ?? d.noisyShare,
    concurrencyFactor: p.concurrencyFactor ?? d.concurrencyFactor,
    minConcurrency: p.minConcurrency ?? d.minConcurrency,
    reliableAbove: p.reliableAbove ?? d.reliableAbove,
    busyAbove: p.busyAbove ?? d.busyAbove,
    unreliableBelow: p.unreliableBelow ?? d.unreliableBelow,
    boostStep: p.boostStep ?? d.boostStep,
    boost: p.boost ?? d.boost,
  };
}

/**
 * The optimiser, a pure function (the spec's `optimization(metrics) → Adjustments`):
 * - under pressure (cpu or memory at or above the policy's fractions), every tenant taking at
 *   least `noisyShare` of the work has its concurrency cap multiplied by `concurrencyFactor`
 *   (never below `minConcurrency`), and boosts above 1 step back toward 1;
 * - without pressure, lowered caps are restored toward their baseline (doubling per round), and
 *   reliable users who are busy (utilization ≥ `busyAbove`) or were refused by their quota get
 *   their boost raised by `boostStep`, never above `boost.max`;
 * - users below `unreliableBelow` reliability lose any boost above 1.
 * Adjustments come out in a stable order (tenants, then users, each by id), only where a value
 * changes, so running it twice on the same input gives the same result.
 *
 * @throws `VALIDATION_FAILED` for malformed input.
 * @example
 * ```ts
 * import { planAdjustments, parseOptimizationPolicy } from 'digital-fabrica/resources';
 * const adjustments = planAdjustments(
 *   { system: { cpuUsage: 0.95 }, tenants: [{ tenantId: 'noisy', concurrency: 8, baseline: 8, share: 0.7 }] },
 *   parseOptimizationPolicy(),
 * );
 * console.log(adjustments[0]); // { target: 'tenant:noisy', kind: 'concurrency', from: 8, to: 4, reason: ... }
 * ```
 */
export function planAdjustments(input: OptimizationInput, policy: OptimizationPolicy): Adjustment[] {
  const data = parseInput(inputSchema, input, 'optimization input');
  const cpu = data.system?.cpuUsage;
  const memory = data.system?.memoryUsage;
  const pressure = (cpu !== undefined && cpu >= policy.pressure.cpu) || (memory !== undefined && memory >= policy.pressure.memory);
  const why = pressure ? `the system is under pressure (cpu ${fmt(cpu)}, memory ${fmt(memory)})` : '';
  const out: Adjustment[] = [];

  for (const t of [...(data.tenants ?? [])].sort((a, b) => cmp(a.tenantId, b.tenantId))) {
    let to = t.concurrency;
    let reason = '';
    if (pressure && t.share >= policy.noisyShare) {
      to = Math.max(policy.minConcurrency, Math.floor(t.concurrency * policy.concurrencyFactor));
      reason = `noisy tenant: ${fmt(t.share)} of the work while ${why}`;
    } else if (!pressure && t.concurrency < t.baseline) {
      to = Math.min(t.baseline, Math.max(t.concurrency + 1, Math.ceil(t.concurrency / policy.concurrencyFactor)));
      reason = 'no pressure: restoring the cap toward its baseline';
    }
    if (to !== t.concurrency) out.push({ target: `tenant:${t.tenantId}`, kind: 'concurrency', from: t.concurrency, to, reason });
  }

  for (const u of [...(data.users ?? [])].sort((a, b) => cmp(a.userId, b.userId))) {
    const from = u.boost ?? 1;
    let to = from;
    let reason = '';
    if (u.reliability < policy.unreliableBelow && from > 1) {
      to = Math.max(policy.boost.min, 1);
      reason = `reliability ${fmt(u.reliability)} below ${policy.unreliableBelow}: boost withdrawn`;
    } else if (pressure && from > 1) {
      to = Math.max(1, policy.boost.min, round(from - policy.boostStep));
      reason = `boost reduced while ${why}`;
    } else if (!pressure && u.reliability >= policy.reliableAbove && (u.utilization >= policy.busyAbove || (u.quotaRejections ?? 0) > 0)) {
      to = Math.min(policy.boost.max, round(from + policy.boostStep));
      reason = `reliable user (${fmt(u.reliability)}) ${(u.quotaRejections ?? 0) > 0 ? `refused ${u.quotaRejections} time(s) by quota` : `using ${fmt(u.utilization)} of quota`}`;
    }
    if (to !== from) out.push({ target: `user:${u.userId}`, kind: 'quota.boost', from, to, reason });
  }
  return out;
}

function fmt(value: number | undefined): string {
  return value === undefined ? 'unknown' : `${Math.round(value * 100)}%`;
}

// Boost steps like 0.25 are exact in binary, but a host's step may not be: keep 6 decimals.
function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
