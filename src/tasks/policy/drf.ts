import { z } from 'zod';
import { ValidationError } from '../../core/errors.js';
import { parseInput } from '../../core/validation.js';
import type { TaskResources } from '../../adapters/queue.js';

/**
 * Multi-resource fairness (DESIGN "Fair scheduling", point 5): Dominant Resource Fairness over
 * declared cpu/memory requests, in its fair-queueing form (DRFQ, Ghodsi et al., SIGCOMM 2012).
 *
 * A task's dominant share is the largest fraction of the cluster's capacity it asks for:
 * `max(cpu / capacity.cpu, memoryMb / capacity.memoryMb)`. Charged as the task's `cost`, the
 * start-time fair queueing every backend already runs inside its claim advances a tenant's
 * virtual time by `dominantShare / weight`, so backlogged tenants are served equal weighted
 * dominant shares — a CPU-heavy tenant and a memory-heavy tenant each get the same fraction of
 * their bottleneck resource. It equalises cumulative service, as fair queueing does; classic
 * DRF equalises current allocations, which is the same thing when task durations are alike.
 */

/**
 * The capacity that dominant shares are measured against: the whole pool the tasks run on.
 *
 * @example
 * ```ts
 * import type { ResourceCapacity } from 'digital-fabrica/tasks';
 * const farm: ResourceCapacity = { cpu: 512, memoryMb: 2_097_152 };
 * ```
 */
export interface ResourceCapacity {
  /** CPU cores in the pool. */
  readonly cpu?: number;
  /** Memory of the pool in MiB. */
  readonly memoryMb?: number;
}

/**
 * Cost units of a full share: a task asking for the whole pool costs 1000, one asking for 0.1%
 * of it costs 1 — the default cost of a task that declares nothing.
 */
export const FULL_SHARE_COST = 1000;

/** Costs are bounded by the queue contract (`cost` <= 1,000,000). */
const MAX_COST = 1_000_000;
/** Below this a cost would round to nothing in a backend's virtual time. */
const MIN_COST = 1e-6;

const capacitySchema = z
  .strictObject({
    cpu: z.number().positive().max(1e9).optional(),
    memoryMb: z.number().positive().max(1e15).optional(),
  })
  .refine((c) => c.cpu !== undefined || c.memoryMb !== undefined, { message: 'give the capacity of at least one resource' });

/**
 * Validates a capacity (at least one resource, positive and finite).
 * @throws `VALIDATION_FAILED`
 * @example
 * ```ts
 * import { parseResourceCapacity } from 'digital-fabrica/tasks';
 * const capacity = parseResourceCapacity({ cpu: 64, memoryMb: 262_144 });
 * ```
 */
export function parseResourceCapacity(capacity: unknown): ResourceCapacity {
  return parseInput(capacitySchema, capacity, 'resource capacity');
}

/**
 * The task's dominant share of `capacity`: the largest fraction of any one resource it requests
 * (resources the capacity does not name are not counted). 0 when it requests none of them.
 *
 * @example
 * ```ts
 * import { dominantShare } from 'digital-fabrica/tasks';
 * dominantShare({ cpu: 4, memoryMb: 1_024 }, { cpu: 16, memoryMb: 65_536 }); // 0.25 (CPU dominates)
 * ```
 */
export function dominantShare(resources: TaskResources, capacity: ResourceCapacity): number {
  let share = 0;
  if (resources.cpu !== undefined && capacity.cpu !== undefined) share = Math.max(share, resources.cpu / capacity.cpu);
  if (resources.memoryMb !== undefined && capacity.memoryMb !== undefined) share = Math.max(share, resources.memoryMb / capacity.memoryMb);
  return share;
}

/**
 * The `cost` a task is charged in multi-resource mode: its dominant share in units of
 * {@link FULL_SHARE_COST}; `undefined` when it requests none of the capacity's resources (the
 * queue's default cost then applies).
 *
 * @throws `VALIDATION_FAILED` when the request is over 1000 times the pool (the cost bound).
 * @example
 * ```ts
 * import { dominantShareCost } from 'digital-fabrica/tasks';
 * dominantShareCost({ memoryMb: 8_192 }, { cpu: 16, memoryMb: 32_768 }); // 250
 * ```
 */
export function dominantShareCost(resources: TaskResources | undefined, capacity: ResourceCapacity): number | undefined {
  if (resources === undefined) return undefined;
  const share = dominantShare(resources, capacity);
  if (!(share > 0)) return undefined;
  const cost = share * FULL_SHARE_COST;
  if (!(cost <= MAX_COST)) {
    throw new ValidationError('invalid task resources: the request is over 1000 times the configured capacity', [
      { path: ['resources'], message: 'exceeds 1000x the capacity', code: 'too_big' },
    ]);
  }
  return Math.max(cost, MIN_COST);
}
