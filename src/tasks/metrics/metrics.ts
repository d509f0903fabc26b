import { z } from 'zod';
import type { Clock } from '../../core/clock.js';
import { systemClock } from '../../core/clock.js';
import type { FabricaEventBus, SystemAlertEvent } from '../../core/events.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import { parseInput } from '../../core/validation.js';
import { isFabricaError } from '../../core/errors.js';
import type { QueueAdapter, TaskCounts, TenantQueueState } from '../../adapters/queue.js';
import { evaluateTaskAlerts, type TaskAlertThresholds } from './alerts.js';
import { percentilesOf, SampleWindow, type Percentiles, type TaskOutcome, type TaskSample } from './samples.js';

/**
 * Options of {@link createTaskMetrics}.
 *
 * @example
 * ```ts
 * import { createMemoryQueue } from 'digital-fabrica/adapters/memory';
 * import type { TaskMetricsOptions } from 'digital-fabrica/tasks';
 * const options: TaskMetricsOptions = { queue: createMemoryQueue(), windowMs: 300_000, thresholds: { errorRate: 0.05 } };
 * ```
 */
export interface TaskMetricsOptions {
  /** The queue whose counts and waits are reported. */
  readonly queue: QueueAdapter;
  /** Receives `system:alerts` and, when started, `system:metrics` (default: none). */
  readonly events?: FabricaEventBus;
  /** Alert thresholds (default: none, so no alerts). */
  readonly thresholds?: TaskAlertThresholds;
  /** Window of the percentiles and the error rate, ms (default 60 000). */
  readonly windowMs?: number;
  /** Most samples kept (default 10 000). */
  readonly sampleCapacity?: number;
  /** Time of samples (default: system clock). */
  readonly clock?: Clock;
  /** Diagnostics (codes only). Default: silent. */
  readonly logger?: Logger;
}

/**
 * A metrics snapshot: the queue's counts, and this process's samples within the window.
 *
 * @example
 * ```ts
 * import type { TaskMetricsSnapshot } from 'digital-fabrica/tasks';
 * const summary = (s: TaskMetricsSnapshot) => `${s.queueDepth} waiting, p99 wait ${s.waitMs.p99 ?? '-'} ms`;
 * ```
 */
export interface TaskMetricsSnapshot {
  /** Backend time of the counts. */
  readonly at: number;
  readonly counts: TaskCounts;
  readonly byTenant: readonly { readonly tenantId: string; readonly counts: TaskCounts }[];
  readonly byType: readonly { readonly type: string; readonly counts: TaskCounts }[];
  /** Ready tasks waiting (queued minus delayed). */
  readonly queueDepth: number;
  /** Age of the oldest ready task, ms. */
  readonly oldestWaitMs: number | null;
  readonly tenants: readonly TenantQueueState[];
  /** Wait (ready → claimed) percentiles over the window. */
  readonly waitMs: Percentiles;
  /** Run time percentiles over the window. */
  readonly runMs: Percentiles;
  /** Settled deliveries in the window, by outcome. */
  readonly outcomes: Readonly<Record<TaskOutcome, number>>;
  /** (retried + failed + dead) / settled in the window; null without samples. */
  readonly errorRate: number | null;
}

/**
 * Metrics and alerts of a task queue.
 *
 * @example
 * ```ts
 * import { createMemoryQueue } from 'digital-fabrica/adapters/memory';
 * import { createTaskMetrics, type TaskMetrics } from 'digital-fabrica/tasks';
 * const metrics: TaskMetrics = createTaskMetrics({ queue: createMemoryQueue() });
 * metrics.record({ tenantId: 'acme', type: 'ping', outcome: 'completed', waitMs: 12, runMs: 3 });
 * console.log((await metrics.snapshot()).waitMs.p50); // 12
 * ```
 */
export interface TaskMetrics {
  /** Records one settled delivery (pass this object as a worker's `metrics`). */
  record(sample: TaskSample): void;
  /** Counts from the queue plus percentiles and rates from the recorded samples. */
  snapshot(): Promise<TaskMetricsSnapshot>;
  /** Takes a snapshot, evaluates the thresholds and emits `system:alerts` for each change; returns them. */
  check(): Promise<readonly SystemAlertEvent[]>;
  /** Every `intervalMs` (default 10 000): `check()` and a `system:metrics` event. Idempotent. */
  start(intervalMs?: number): void;
  /** Stops the periodic checks. */
  stop(): void;
}

const COUNT_KEYS = ['queued', 'delayed', 'assigned', 'running', 'completed', 'failed', 'cancelled', 'dead'] as const;

const optionsSchema = z.strictObject({
  queue: z.custom<QueueAdapter>((v) => typeof (v as QueueAdapter | undefined)?.stats === 'function', 'queue must be a QueueAdapter'),
  events: z.custom<FabricaEventBus>((v) => typeof (v as FabricaEventBus | undefined)?.emit === 'function').optional(),
  thresholds: z
    .strictObject({
      queueDepth: z.number().min(0).optional(),
      oldestWaitMs: z.number().min(0).optional(),
      starvedMs: z.number().min(0).optional(),
      errorRate: z.number().min(0).max(1).optional(),
      errorRateMinSamples: z.number().int().min(1).optional(),
    })
    .optional(),
  windowMs: z.number().int().min(1).optional(),
  sampleCapacity: z.number().int().min(1).max(10_000_000).optional(),
  clock: z.custom<Clock>((v) => typeof (v as Clock | undefined)?.now === 'function').optional(),
  logger: z.custom<Logger>((v) => typeof (v as Logger | undefined)?.warn === 'function').optional(),
});

/**
 * Creates the metrics of a task queue: counts per state, tenant and type (from the backend),
 * wait and run time percentiles and the error rate (from the samples workers record), and
 * alerts on thresholds as `system:alerts` events — queue depth, oldest waiting task, a tenant
 * starved longer than N ms, error rate. Alerts fire once when a threshold is crossed and once
 * more (severity `info`) when it clears.
 *
 * @throws `VALIDATION_FAILED` for bad options.
 * @example
 * ```ts
 * import { FabricaEventBus } from 'digital-fabrica';
 * import { createMemoryQueue } from 'digital-fabrica/adapters/memory';
 * import { createTaskMetrics, createWorker } from 'digital-fabrica/tasks';
 * const events = new FabricaEventBus();
 * events.on('system:alerts', (alert) => console.log(alert.name, alert.severity));
 * const queue = createMemoryQueue();
 * const metrics = createTaskMetrics({ queue, events, thresholds: { queueDepth: 10_000, starvedMs: 60_000, errorRate: 0.2 } });
 * const worker = createWorker({ queue, metrics, handlers: { noop: async () => undefined } });
 * console.log((await metrics.snapshot()).waitMs.p99);
 * await metrics.check();
 * await worker.close();
 * ```
 */
export function createTaskMetrics(options: TaskMetricsOptions): TaskMetrics {
  const o = parseInput(optionsSchema, options, 'task metrics options') as TaskMetricsOptions;
  const clock = o.clock ?? systemClock;
  const logger = o.logger ?? silentLogger;
  const window = new SampleWindow(o.sampleCapacity ?? 10_000, o.windowMs ?? 60_000);
  let firing = new Set<string>();
  let timer: ReturnType<typeof setInterval> | undefined;
  let checking = false;

  const snapshot = async (): Promise<TaskMetricsSnapshot> => {
    const stats = await o.queue.stats();
    const byTenant = new Map<string, Record<keyof TaskCounts, number>>();
    const byType = new Map<string, Record<keyof TaskCounts, number>>();
    for (const g of stats.groups) {
      for (const [map, key] of [[byTenant, g.tenantId], [byType, g.type]] as const) {
        let c = map.get(key);
        if (c === undefined) {
          c = zero();
          map.set(key, c);
        }
        for (const k of COUNT_KEYS) c[k] += g[k];
      }
    }
    const samples = window.recent(clock.now());
    const outcomes: Record<TaskOutcome, number> = { completed: 0, retried: 0, failed: 0, dead: 0, lost: 0 };
    for (const s of samples) outcomes[s.outcome] += 1;
    const settled = outcomes.completed + outcomes.retried + outcomes.failed + outcomes.dead;
    return {
      at: stats.at,
      counts: stats.counts,
      byTenant: [...byTenant].map(([tenantId, counts]) => ({ tenantId, counts })),
      byType: [...byType].map(([type, counts]) => ({ type, counts })),
      queueDepth: stats.counts.queued - stats.counts.delayed,
      oldestWaitMs: stats.oldestReadyAt === null ? null : Math.max(0, stats.at - stats.oldestReadyAt),
      tenants: stats.tenants,
      waitMs: percentilesOf(samples.map((s) => s.waitMs)),
      runMs: percentilesOf(samples.map((s) => s.runMs)),
      outcomes,
      errorRate: settled === 0 ? null : (outcomes.retried + outcomes.failed + outcomes.dead) / settled,
    };
  };

  const check = async (): Promise<readonly SystemAlertEvent[]> => {
    const s = await snapshot();
    const settled = s.outcomes.completed + s.outcomes.retried + s.outcomes.failed + s.outcomes.dead;
    const result = evaluateTaskAlerts(
      { at: s.at, queueDepth: s.queueDepth, oldestWaitMs: s.oldestWaitMs, tenants: s.tenants, errorRate: s.errorRate, samples: settled },
      o.thresholds ?? {},
      firing,
    );
    firing = result.firing;
    for (const alert of result.alerts) o.events?.emit('system:alerts', alert);
    return result.alerts;
  };

  const tick = async (): Promise<void> => {
    if (checking) return;
    checking = true;
    try {
      await check();
      const s = await snapshot();
      const metrics: Record<string, number> = { 'tasks.queue_depth': s.queueDepth };
      for (const k of COUNT_KEYS) metrics[`tasks.${k}`] = s.counts[k];
      for (const [name, p] of [['wait_ms', s.waitMs], ['run_ms', s.runMs]] as const) {
        for (const q of ['p50', 'p90', 'p99'] as const) if (p[q] !== null) metrics[`tasks.${name}.${q}`] = p[q]!;
      }
      if (s.errorRate !== null) metrics['tasks.error_rate'] = s.errorRate;
      if (s.oldestWaitMs !== null) metrics['tasks.oldest_wait_ms'] = s.oldestWaitMs;
      o.events?.emit('system:metrics', { metrics, at: s.at });
    } catch (err) {
      logger.warn('tasks: metrics check failed', { code: isFabricaError(err) ? err.code : 'INTERNAL' });
    } finally {
      checking = false;
    }
  };

  return {
    record(sample) {
      window.add(sample, clock.now());
    },
    snapshot,
    check,
    start(intervalMs = 10_000) {
      if (timer !== undefined) return;
      timer = setInterval(() => void tick(), intervalMs);
      (timer as { unref?: () => void }).unref?.();
    },
    stop() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
    },
  };
}

function zero(): Record<keyof TaskCounts, number> {
  return { queued: 0, delayed: 0, assigned: 0, running: 0, completed: 0, failed: 0, cancelled: 0, dead: 0 };
}
