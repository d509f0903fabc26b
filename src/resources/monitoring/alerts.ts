import { z } from 'zod';
import { parseInput } from '../../core/validation.js';
import { invalid } from '../internal/invalid.js';
import type { Reading } from './sample.js';

/**
 * One alert: fires when `metric` crosses `threshold` (upwards for `above`, downwards for
 * `below`) and has stayed across for `forMs`; resolves only once it is back across
 * `clearThreshold` — the gap between the two is the hysteresis that keeps a metric hovering at
 * the threshold from flapping. After resolving, it cannot fire again for `cooldownMs`.
 */
export interface AlertRule {
  /** Unique name (default `<metric>:<direction>:<threshold>`). */
  readonly id?: string;
  /** A flat reading name, e.g. `cpu.usage`, `memory.usage`, `cpu.temperature`. */
  readonly metric: string;
  /** `above` (default): fire when value ≥ threshold. `below`: fire when value ≤ threshold. */
  readonly direction?: 'above' | 'below';
  /** The firing threshold. */
  readonly threshold: number;
  /** Resolve only when value < clearThreshold (`above`) or > clearThreshold (`below`). Default: 95% (`above`) or 105% (`below`) of the threshold. */
  readonly clearThreshold?: number;
  /** The breach must last this long before firing, ms (default 0). */
  readonly forMs?: number;
  /** Minimum time between resolving and firing again, ms (default 60 000). */
  readonly cooldownMs?: number;
}

/** An {@link AlertRule} with every default applied. */
export interface CompiledAlertRule {
  /** Unique name. */
  readonly id: string;
  /** The flat reading name watched. */
  readonly metric: string;
  /** Which side of the threshold is a breach. */
  readonly direction: 'above' | 'below';
  /** The firing threshold. */
  readonly threshold: number;
  /** The resolving threshold (hysteresis). */
  readonly clearThreshold: number;
  /** How long a breach must last before firing, ms. */
  readonly forMs: number;
  /** Minimum time from resolving to firing again, ms. */
  readonly cooldownMs: number;
}

/** Where an alert stands. `pending`: breached, waiting for `forMs` (or for the cooldown) before firing. */
export type AlertPhase = 'ok' | 'pending' | 'firing';

/** The state of one alert, as exposed by the monitoring system. */
export interface AlertState {
  /** The rule's id. */
  readonly id: string;
  /** The metric watched. */
  readonly metric: string;
  /** Current phase. */
  readonly phase: AlertPhase;
  /** When the current phase began (epoch ms), or null before the first evaluation. */
  readonly since: number | null;
  /** Last value seen ('unavailable' keeps the phase unchanged). */
  readonly value: Reading | null;
  /** When it last fired, or null. */
  readonly lastFiredAt: number | null;
  /** When it last resolved, or null. */
  readonly lastResolvedAt: number | null;
}

/** A transition worth telling: becomes a `resource:alert` event. */
export interface AlertTransition {
  /** What happened. */
  readonly state: 'firing' | 'resolved';
  /** The metric. */
  readonly metric: string;
  /** The value that caused the transition. */
  readonly value: number;
  /** The rule's firing threshold. */
  readonly threshold: number;
  /** When, epoch ms. */
  readonly at: number;
}

const ruleSchema = z.strictObject({
  id: z.string().min(1).max(128).optional(),
  metric: z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/, 'metric: a flat reading name like cpu.usage'),
  direction: z.enum(['above', 'below']).optional(),
  threshold: z.number().finite(),
  clearThreshold: z.number().finite().optional(),
  forMs: z.number().int().min(0).max(86_400_000).optional(),
  cooldownMs: z.number().int().min(0).max(86_400_000).optional(),
});

/**
 * Validates rules and applies the defaults.
 * @throws `VALIDATION_FAILED` for a malformed rule, a clear threshold on the wrong side of its threshold, or duplicate ids.
 * @example
 * ```ts
 * import { compileAlertRules } from 'digital-fabrica/resources';
 * const [rule] = compileAlertRules([{ metric: 'cpu.usage', threshold: 0.9 }]);
 * console.log(rule!.clearThreshold); // 0.855
 * ```
 */
export function compileAlertRules(rules: readonly AlertRule[]): CompiledAlertRule[] {
  const parsed = parseInput(z.array(ruleSchema).max(1000), rules, 'alert rules');
  const ids = new Set<string>();
  return parsed.map((r, i) => {
    const direction = r.direction ?? 'above';
    const fallback = direction === 'above' ? r.threshold - Math.abs(r.threshold) * 0.05 : r.threshold + Math.abs(r.threshold) * 0.05;
    const clearThreshold = r.clearThreshold ?? fallback;
    if (direction === 'above' ? clearThreshold > r.threshold : clearThreshold < r.threshold) {
      invalid('alert rules', [i, 'clearThreshold'], `must be on the resolved side of the threshold (${direction === 'above' ? '≤' : '≥'} ${r.threshold})`);
    }
    const id = r.id ?? `${r.metric}:${direction}:${r.threshold}`;
    if (ids.has(id)) invalid('alert rules', [i, 'id'], `duplicate id ${id}`);
    ids.add(id);
    return { id, metric: r.metric, direction, threshold: r.threshold, clearThreshold, forMs: r.forMs ?? 0, cooldownMs: r.cooldownMs ?? 60_000 };
  });
}

/**
 * The state of a rule never evaluated.
 *
 * @example
 * ```ts
 * import { compileAlertRules, initialAlertState } from 'digital-fabrica/resources';
 * const [rule] = compileAlertRules([{ metric: 'cpu.usage', threshold: 0.9 }]);
 * console.log(initialAlertState(rule!).phase); // 'ok'
 * ```
 */
export function initialAlertState(rule: CompiledAlertRule): AlertState {
  return { id: rule.id, metric: rule.metric, phase: 'ok', since: null, value: null, lastFiredAt: null, lastResolvedAt: null };
}

/**
 * One step of an alert's state machine, a pure function:
 *
 * ```text
 *   ok ──breach──▶ pending ──breach held ≥ forMs, cooldown over──▶ firing ──past clear──▶ ok
 *    ▲               │ breach ends                                    (emits firing)   (emits resolved)
 *    └───────────────┘
 * ```
 * A breach is value ≥ threshold (`above`) or ≤ threshold (`below`); firing ends only past the
 * clear threshold, so values between the two keep the current phase. An unavailable reading
 * changes nothing. Time comes from `now`, so tests drive it with a manual clock.
 *
 * @example
 * ```ts
 * import { compileAlertRules, evaluateAlert, initialAlertState } from 'digital-fabrica/resources';
 * const [rule] = compileAlertRules([{ metric: 'cpu.usage', threshold: 0.9, clearThreshold: 0.8 }]);
 * let state = initialAlertState(rule!);
 * const step = evaluateAlert(rule!, state, 0.95, 1_000);
 * console.log(step.state.phase, step.transition?.state); // firing firing
 * ```
 */
export function evaluateAlert(rule: CompiledAlertRule, state: AlertState, value: Reading, now: number): { state: AlertState; transition?: AlertTransition } {
  if (value === 'unavailable' || !Number.isFinite(value)) return { state: { ...state, value: 'unavailable' } };
  const above = rule.direction === 'above';
  const breached = above ? value >= rule.threshold : value <= rule.threshold;
  const cleared = above ? value < rule.clearThreshold : value > rule.clearThreshold;
  const seen = { ...state, value };

  if (state.phase === 'firing') {
    if (!cleared) return { state: seen };
    return {
      state: { ...seen, phase: 'ok', since: now, lastResolvedAt: now },
      transition: { state: 'resolved', metric: rule.metric, value, threshold: rule.threshold, at: now },
    };
  }
  if (!breached) return { state: state.phase === 'ok' && state.since !== null ? seen : { ...seen, phase: 'ok', since: now } };

  const since = state.phase === 'pending' && state.since !== null ? state.since : now;
  const held = now - since >= rule.forMs;
  const cooled = state.lastResolvedAt === null || now - state.lastResolvedAt >= rule.cooldownMs;
  if (held && cooled) {
    return {
      state: { ...seen, phase: 'firing', since: now, lastFiredAt: now },
      transition: { state: 'firing', metric: rule.metric, value, threshold: rule.threshold, at: now },
    };
  }
  return { state: { ...seen, phase: 'pending', since } };
}
