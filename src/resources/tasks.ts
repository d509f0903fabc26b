import { z } from 'zod';
import { parseInput } from '../core/validation.js';
import { invalid } from './internal/invalid.js';
import type { ResourceAmounts } from '../adapters/reservations.js';
import type { TaskResources } from '../adapters/queue.js';
import type { KeepAliveOptions } from './internal/keep-alive.js';
import type { Reservation, ResourceManager } from './manager.js';
import type { QuotaSubject } from './quota/formula.js';

/** The fields of a claimed task the guard reads (a `ClaimedTask` of the queue fits as is). */
export interface TaskLike {
  /** The task id; the reservation id is `task:<id>`, so a redelivered task reuses its reservation. */
  readonly id: string;
  /** The user whose quota the task runs on; a task without owner reserves nothing. */
  readonly ownerId: string | null;
  /** The tenant, carried into `resource:update`. */
  readonly tenantId: string;
  /** What the task declared at enqueue. */
  readonly resources: TaskResources | null;
}

/** Options of {@link createTaskReservations}. */
export interface TaskReservationOptions {
  /** The task's owner as a quota subject (its tier; the id is always the task's `ownerId`), e.g. looked up in the identity service. */
  readonly subject: (task: TaskLike) => QuotaSubject | Promise<QuotaSubject>;
  /** Maps a task's declared resources to amounts (default: compute = ⌈cpu × 1000⌉ millicores; memory is not counted). */
  readonly toAmounts?: (task: TaskLike) => ResourceAmounts;
  /** Lease of a task's reservation, ms (default 60 000); `run` renews it every third of that. */
  readonly leaseMs?: number;
}

/**
 * Reserves a task's resource request against its owner's quota while it runs: reserve on claim,
 * release on completion — so quotas bound what a user (and so a tenant) runs at once, and a
 * crashed worker's reservations return when their lease ends.
 */
export interface TaskReservations {
  /**
   * Reserves for `task` (idempotent per task id); `null` when the task has no owner or asks for nothing.
   * @throws `QUOTA_EXCEEDED` (hand the task back, e.g. fail it with a retry delay), `VALIDATION_FAILED`, `ADAPTER_UNAVAILABLE`
   */
  reserve(task: TaskLike, leaseMs?: number): Promise<Reservation | null>;
  /**
   * Renews the task's reservation (a heartbeat, e.g. alongside the queue lease's `extend`).
   * @throws `NOT_FOUND` (its lease ended), `VALIDATION_FAILED` (a task without owner), `ADAPTER_UNAVAILABLE`
   */
  renew(task: TaskLike, leaseMs?: number): Promise<Reservation>;
  /**
   * Releases the task's reservation; harmless when there is none.
   * @throws `ADAPTER_UNAVAILABLE`
   */
  release(task: TaskLike): Promise<boolean>;
  /**
   * Reserves, runs `handler` while renewing the reservation, and releases it however the
   * handler ends. Throws `QUOTA_EXCEEDED` without running the handler when the owner's quota is full.
   * @throws `QUOTA_EXCEEDED`, `VALIDATION_FAILED`, `ADAPTER_UNAVAILABLE`, or whatever `handler` throws
   */
  run<T>(task: TaskLike, handler: () => Promise<T>, options?: KeepAliveOptions): Promise<T>;
}

const optionsSchema = z.strictObject({
  subject: z.custom<TaskReservationOptions['subject']>((v) => typeof v === 'function', 'subject must be a function'),
  toAmounts: z.custom<NonNullable<TaskReservationOptions['toAmounts']>>((v) => typeof v === 'function', 'toAmounts must be a function').optional(),
  leaseMs: z.number().int().min(100).max(30 * 24 * 3600 * 1000).optional(),
});

/**
 * Default mapping of a task's declared resources: cpu cores → millicores (the default compute
 * unit), rounded up; memory is not counted (pass `toAmounts` to count it).
 *
 * @example
 * ```ts
 * import { defaultTaskAmounts } from 'digital-fabrica/resources';
 * const amounts = defaultTaskAmounts({ id: 't', ownerId: 'ada', tenantId: 'acme', resources: { cpu: 0.25 } });
 * console.log(amounts); // { compute: 250, storage: 0, network: 0 }
 * ```
 */
export function defaultTaskAmounts(task: TaskLike): ResourceAmounts {
  const cpu = task.resources?.cpu ?? 0;
  return { compute: Math.ceil(cpu * 1000), storage: 0, network: 0 };
}

/**
 * The hook between the task queue and quotas: a worker calls `reserve` right after a claim and
 * `release` after completing or failing the task — or wraps the handler in `run`.
 *
 * @throws `VALIDATION_FAILED` for bad options.
 * @example
 * ```ts
 * import { createResourceManager, createTaskReservations } from 'digital-fabrica/resources';
 * import { createMemoryReservationStore } from 'digital-fabrica/adapters/memory';
 * const resources = createResourceManager({ reservations: createMemoryReservationStore() });
 * const guard = createTaskReservations(resources, { subject: (task) => ({ id: task.ownerId!, tier: 1 }) });
 * const task = { id: 't1', ownerId: 'ada', tenantId: 'acme', resources: { cpu: 0.5 } };
 * const result = await guard.run(task, async () => 'rendered');
 * console.log(result); // 'rendered' — and the 500 millicores are back
 * ```
 */
export function createTaskReservations(manager: ResourceManager, options: TaskReservationOptions): TaskReservations {
  const opts = parseInput(optionsSchema, options, 'task reservation options');
  const leaseMs = opts.leaseMs ?? 60_000;
  const toAmounts = opts.toAmounts ?? defaultTaskAmounts;
  const idOf = (task: TaskLike): string => `task:${task.id}`;

  const reserve = async (task: TaskLike, lease = leaseMs): Promise<Reservation | null> => {
    if (task.ownerId === null) return null;
    const amounts = toAmounts(task);
    if (amounts.compute === 0 && amounts.storage === 0 && amounts.network === 0) return null;
    const subject = await opts.subject(task);
    // The owner id is the task's, whatever the lookup returns: release finds it without a lookup.
    return manager.allocate({ ...subject, id: task.ownerId, tenantId: subject.tenantId ?? task.tenantId }, { ...amounts, leaseMs: lease, idempotencyKey: idOf(task) });
  };
  const ownerOf = (task: TaskLike): string | null => task.ownerId;

  return {
    reserve,
    async renew(task, lease = leaseMs) {
      const owner = ownerOf(task);
      if (owner === null) return invalid('task', ['ownerId'], 'the task has no owner, hence no reservation');
      return manager.renew(owner, idOf(task), lease);
    },
    async release(task) {
      const owner = ownerOf(task);
      return owner === null ? false : manager.release(owner, idOf(task));
    },
    async run(task, handler, keepAlive) {
      const reservation = await reserve(task);
      const beat = reservation === null ? undefined : manager.keepAlive(reservation, { leaseMs, ...keepAlive });
      try {
        return await handler();
      } finally {
        beat?.stop();
        if (reservation !== null) await manager.release(reservation.userId, reservation.id);
      }
    },
  };
}
