import type { SystemAlertEvent } from '../../core/events.js';

/**
 * Alert rules over a metrics snapshot, as a pure function: given the measures and which alerts
 * are firing, it returns the alerts to announce (newly firing, or resolved) and the new firing
 * set. Announcing only transitions keeps a persistent breach from flooding `system:alerts`.
 */

/**
 * Thresholds; an absent one is not checked.
 *
 * @example
 * ```ts
 * import type { TaskAlertThresholds } from 'digital-fabrica/tasks';
 * const thresholds: TaskAlertThresholds = { queueDepth: 50_000, starvedMs: 120_000, errorRate: 0.1, errorRateMinSamples: 100 };
 * ```
 */
export interface TaskAlertThresholds {
  /** Ready tasks waiting in the queue. */
  readonly queueDepth?: number;
  /** Age of the oldest ready task, ms. */
  readonly oldestWaitMs?: number;
  /** A tenant with ready work unserved for this long, ms. */
  readonly starvedMs?: number;
  /** Failed share of settled deliveries in the window (0–1)… */
  readonly errorRate?: number;
  /** …judged only with at least this many deliveries in the window (default 20). */
  readonly errorRateMinSamples?: number;
}

/**
 * The measures the rules look at.
 *
 * @example
 * ```ts
 * import type { AlertInputs } from 'digital-fabrica/tasks';
 * const quiet: AlertInputs = { at: Date.now(), queueDepth: 0, oldestWaitMs: null, tenants: [], errorRate: null, samples: 0 };
 * ```
 */
export interface AlertInputs {
  readonly at: number;
  readonly queueDepth: number;
  readonly oldestWaitMs: number | null;
  readonly tenants: readonly { readonly tenantId: string; readonly unservedMs: number | null }[];
  readonly errorRate: number | null;
  readonly samples: number;
}

/**
 * Evaluates the rules. `firing` holds the keys of alerts currently firing (e.g.
 * `tasks.tenant_starved:acme`); the result's `firing` replaces it.
 *
 * @example
 * ```ts
 * import { evaluateTaskAlerts } from 'digital-fabrica/tasks';
 * const { alerts, firing } = evaluateTaskAlerts(
 *   { at: 1, queueDepth: 5_000, oldestWaitMs: 100, tenants: [], errorRate: null, samples: 0 },
 *   { queueDepth: 1_000 },
 *   new Set(),
 * );
 * console.log(alerts[0]?.name, firing.size); // 'tasks.queue_depth' 1
 * ```
 */
export function evaluateTaskAlerts(
  inputs: AlertInputs,
  thresholds: TaskAlertThresholds,
  firing: ReadonlySet<string>,
): { alerts: SystemAlertEvent[]; firing: Set<string> } {
  const now = new Set<string>();
  const alerts: SystemAlertEvent[] = [];
  const rule = (key: string, name: string, breached: boolean, message: string, details: Record<string, number | string>, severity: 'warning' | 'critical' = 'warning'): void => {
    if (breached) {
      now.add(key);
      if (!firing.has(key)) alerts.push({ name, severity, message, details, at: inputs.at });
    } else if (firing.has(key)) {
      alerts.push({ name, severity: 'info', message: `resolved: ${message}`, details, at: inputs.at });
    }
  };
  if (thresholds.queueDepth !== undefined) {
    rule('tasks.queue_depth', 'tasks.queue_depth', inputs.queueDepth > thresholds.queueDepth, `task queue depth ${inputs.queueDepth} (threshold ${thresholds.queueDepth})`, {
      value: inputs.queueDepth,
      threshold: thresholds.queueDepth,
    });
  }
  if (thresholds.oldestWaitMs !== undefined) {
    const wait = inputs.oldestWaitMs ?? 0;
    rule('tasks.oldest_waiting', 'tasks.oldest_waiting', wait > thresholds.oldestWaitMs, `oldest waiting task ${wait} ms (threshold ${thresholds.oldestWaitMs} ms)`, {
      value: wait,
      threshold: thresholds.oldestWaitMs,
    });
  }
  if (thresholds.starvedMs !== undefined) {
    const limit = thresholds.starvedMs;
    const tenants = new Map(inputs.tenants.map((t) => [t.tenantId, t.unservedMs ?? 0]));
    // Resolve tenants that were starving and no longer appear (their work was served or removed).
    for (const key of firing) if (key.startsWith('tasks.tenant_starved:') && !tenants.has(key.slice(21))) tenants.set(key.slice(21), 0);
    for (const [tenantId, unserved] of tenants) {
      rule(`tasks.tenant_starved:${tenantId}`, 'tasks.tenant_starved', unserved > limit, `tenant ${tenantId} unserved for ${unserved} ms (threshold ${limit} ms)`, {
        tenantId,
        value: unserved,
        threshold: limit,
      }, 'critical');
    }
  }
  if (thresholds.errorRate !== undefined) {
    const enough = inputs.samples >= (thresholds.errorRateMinSamples ?? 20);
    const rate = inputs.errorRate ?? 0;
    rule('tasks.error_rate', 'tasks.error_rate', enough && rate > thresholds.errorRate, `task error rate ${(rate * 100).toFixed(1)}% (threshold ${(thresholds.errorRate * 100).toFixed(1)}%)`, {
      value: rate,
      threshold: thresholds.errorRate,
      samples: inputs.samples,
    });
  }
  return { alerts, firing: now };
}
