import { z } from 'zod';
import type { Clock } from '../../core/clock.js';
import { systemClock } from '../../core/clock.js';
import type { FabricaEventBus } from '../../core/events.js';
import { isFabricaError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { silentLogger } from '../../core/logger.js';
import { parseInput } from '../../core/validation.js';
import { compileAlertRules, evaluateAlert, initialAlertState, type AlertRule, type AlertState, type AlertTransition, type CompiledAlertRule } from './alerts.js';
import { createNodeMetricsSource } from './node-source.js';
import { flattenSample, type MetricsSource, type Reading, type SystemSample } from './sample.js';

/** Options of {@link createMonitoringSystem}. */
export interface MonitoringOptions {
  /** Where samples come from (default: {@link createNodeMetricsSource}). */
  readonly source?: MetricsSource;
  /** Receives `system:metrics` per sample and `resource:alert` per alert transition. */
  readonly events?: FabricaEventBus;
  /** Alert rules (see {@link AlertRule}). */
  readonly rules?: readonly AlertRule[];
  /** The spec's alert `action`: called for every firing or resolved transition. Failures are logged. */
  readonly action?: (transition: AlertTransition) => void;
  /** Time of alert transitions (default: system clock); a `ManualClock` makes them reproducible. */
  readonly clock?: Clock;
  /** Diagnostics. Default: silent. */
  readonly logger?: Logger;
}

const optionsSchema = z
  .strictObject({
    source: z.custom<MetricsSource>((v) => typeof (v as MetricsSource | null)?.sample === 'function', 'source must have sample()').optional(),
    events: z.custom<FabricaEventBus>((v) => typeof (v as FabricaEventBus | null)?.emit === 'function', 'events must be a FabricaEventBus').optional(),
    rules: z.array(z.unknown()).optional(),
    action: z.custom<(t: AlertTransition) => void>((v) => typeof v === 'function', 'action must be a function').optional(),
    clock: z.custom<Clock>((v) => typeof (v as Clock | null)?.now === 'function', 'clock must have now()').optional(),
    logger: z.custom<Logger>((v) => typeof (v as Logger | null)?.warn === 'function', 'logger must have warn()').optional(),
  })
  .optional();

/**
 * The spec's monitoring system: samples the host, publishes `system:metrics`, evaluates alert
 * rules with hysteresis and cooldown (no flapping), publishes `resource:alert` on every firing
 * and resolved transition, and exposes each alert's state.
 */
export interface MonitoringSystem {
  /**
   * Takes one sample, publishes it, evaluates the rules on it.
   * @throws whatever the source throws (the periodic loop logs it instead)
   */
  sample(): Promise<SystemSample>;
  /**
   * Evaluates the rules on readings the host measured itself (flat names, as in `system:metrics`)
   * and returns the transitions (also published as events). Rules whose metric is absent are untouched.
   */
  evaluate(readings: Readonly<Record<string, Reading>>): AlertTransition[];
  /** Samples every `intervalMs` (≥ 100) until {@link MonitoringSystem.stop}; the timer does not keep the process alive. */
  start(intervalMs: number): void;
  /** Stops the periodic sampling. Idempotent. */
  stop(): void;
  /** Every alert's current state, in rule order. */
  alerts(): readonly AlertState[];
  /** The last sample taken, if any. */
  latest(): SystemSample | undefined;
}

/**
 * Creates a {@link MonitoringSystem}.
 *
 * @throws `VALIDATION_FAILED` for bad options or rules.
 * @example
 * ```ts
 * import { FabricaEventBus } from 'digital-fabrica';
 * import { createMonitoringSystem } from 'digital-fabrica/resources';
 * const events = new FabricaEventBus();
 * events.on('resource:alert', (a) => console.log(a.metric, a.state, a.value));
 * const monitor = createMonitoringSystem({
 *   events,
 *   rules: [{ metric: 'cpu.usage', threshold: 0.9, clearThreshold: 0.75, forMs: 30_000, cooldownMs: 300_000 }],
 * });
 * monitor.start(10_000);
 * // ... later
 * monitor.stop();
 * ```
 */
export function createMonitoringSystem(options?: MonitoringOptions): MonitoringSystem {
  const opts = parseInput(optionsSchema, options, 'monitoring options');
  const rules = compileAlertRules((opts?.rules ?? []) as AlertRule[]);
  return new Monitor(opts?.source ?? createNodeMetricsSource(), rules, opts?.events, opts?.action, opts?.clock ?? systemClock, opts?.logger ?? silentLogger);
}

class Monitor implements MonitoringSystem {
  readonly #states: AlertState[];
  #latest: SystemSample | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #running = false;

  constructor(
    private readonly source: MetricsSource,
    private readonly rules: readonly CompiledAlertRule[],
    private readonly events: FabricaEventBus | undefined,
    private readonly action: ((t: AlertTransition) => void) | undefined,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    this.#states = rules.map(initialAlertState);
  }

  async sample(): Promise<SystemSample> {
    const sample = await this.source.sample();
    this.#latest = sample;
    const metrics = flattenSample(sample);
    this.events?.emit('system:metrics', { metrics, at: sample.at });
    // Unavailable readings are passed as such, so a rule on them keeps its phase.
    const readings: Record<string, Reading> = { ...metrics };
    for (const name of Object.keys(sample.unavailable)) readings[name] ??= 'unavailable';
    this.evaluate(readings);
    return sample;
  }

  evaluate(readings: Readonly<Record<string, Reading>>): AlertTransition[] {
    const now = this.clock.now();
    const transitions: AlertTransition[] = [];
    this.rules.forEach((rule, i) => {
      if (!Object.hasOwn(readings, rule.metric)) return;
      const step = evaluateAlert(rule, this.#states[i]!, readings[rule.metric]!, now);
      this.#states[i] = step.state;
      if (step.transition === undefined) return;
      transitions.push(step.transition);
      this.events?.emit('resource:alert', step.transition);
      try {
        this.action?.(step.transition);
      } catch (err) {
        this.logger.error('alert action failed', { alert: rule.id, error: err instanceof Error ? err.name : typeof err });
      }
    });
    return transitions;
  }

  start(intervalMs: number): void {
    const ms = parseInput(z.number().int().min(100).max(86_400_000), intervalMs, 'monitoring interval');
    this.stop();
    this.#timer = setInterval(() => void this.#tick(), ms);
    (this.#timer as { unref?: () => void }).unref?.();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  alerts(): readonly AlertState[] {
    return [...this.#states];
  }

  latest(): SystemSample | undefined {
    return this.#latest;
  }

  async #tick(): Promise<void> {
    if (this.#running) return; // a slow source must not pile up samples
    this.#running = true;
    try {
      await this.sample();
    } catch (err) {
      this.logger.warn('monitoring sample failed', { code: isFabricaError(err) ? err.code : 'INTERNAL' });
    } finally {
      this.#running = false;
    }
  }
}
