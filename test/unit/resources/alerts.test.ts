import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/core/clock.js';
import { FabricaEventBus, type ResourceAlertEvent } from '../../../src/core/events.js';
import {
  compileAlertRules,
  createMonitoringSystem,
  defineMetricsSource,
  evaluateAlert,
  initialAlertState,
  type AlertRule,
  type AlertState,
  type AlertTransition,
  type Reading,
} from '../../../src/resources/index.js';

function drive(rule: AlertRule, series: readonly [number, Reading][]): { transitions: AlertTransition[]; state: AlertState } {
  const [compiled] = compileAlertRules([rule]);
  let state = initialAlertState(compiled!);
  const transitions: AlertTransition[] = [];
  for (const [at, value] of series) {
    const step = evaluateAlert(compiled!, state, value, at);
    state = step.state;
    if (step.transition) transitions.push(step.transition);
  }
  return { transitions, state };
}

describe('alert state machine', () => {
  const rule: AlertRule = { metric: 'cpu.usage', threshold: 0.9, clearThreshold: 0.8, cooldownMs: 0 };

  it('fires on crossing and resolves only past the clear threshold (hysteresis)', () => {
    const { transitions, state } = drive(rule, [
      [0, 0.5],
      [1, 0.91],
      [2, 0.85],
      [3, 0.89],
      [4, 0.92],
      [5, 0.79],
    ]);
    expect(transitions.map((t) => [t.state, t.at])).toEqual([
      ['firing', 1],
      ['resolved', 5],
    ]);
    expect(transitions[0]).toMatchObject({ metric: 'cpu.usage', value: 0.91, threshold: 0.9 });
    expect(state).toMatchObject({ phase: 'ok', lastFiredAt: 1, lastResolvedAt: 5 });
  });

  it('does not flap when a metric hovers at the threshold', () => {
    const series: [number, number][] = Array.from({ length: 200 }, (_, i) => [i * 1000, i % 2 === 0 ? 0.899 : 0.901]);
    expect(drive(rule, series).transitions).toHaveLength(1);
  });

  it('waits forMs of continuous breach before firing', () => {
    const r = { ...rule, forMs: 10_000 };
    expect(drive(r, [[0, 0.95], [5_000, 0.95], [9_999, 0.95]]).transitions).toHaveLength(0);
    expect(drive(r, [[0, 0.95], [5_000, 0.95], [10_000, 0.95]]).transitions.map((t) => t.at)).toEqual([10_000]);
    // An interruption restarts the wait.
    expect(drive(r, [[0, 0.95], [5_000, 0.5], [6_000, 0.95], [15_000, 0.95], [16_000, 0.95]]).transitions.map((t) => t.at)).toEqual([16_000]);
  });

  it('holds a new firing back for the cooldown after resolving, then fires if still breached', () => {
    const r = { ...rule, cooldownMs: 60_000 };
    const { transitions, state } = drive(r, [
      [0, 0.95],
      [1_000, 0.5],
      [2_000, 0.95],
      [30_000, 0.95],
      [61_000, 0.95],
    ]);
    expect(transitions.map((t) => [t.state, t.at])).toEqual([
      ['firing', 0],
      ['resolved', 1_000],
      ['firing', 61_000],
    ]);
    expect(state.phase).toBe('firing');
  });

  it('keeps its phase on unavailable readings', () => {
    const { transitions, state } = drive(rule, [
      [0, 0.95],
      [1, 'unavailable'],
      [2, 'unavailable'],
    ]);
    expect(transitions).toHaveLength(1);
    expect(state).toMatchObject({ phase: 'firing', value: 'unavailable' });
  });

  it('supports below-threshold alerts with the clear threshold above', () => {
    const r: AlertRule = { metric: 'memory.available', direction: 'below', threshold: 100, clearThreshold: 150, cooldownMs: 0 };
    const { transitions } = drive(r, [
      [0, 200],
      [1, 90],
      [2, 120],
      [3, 160],
    ]);
    expect(transitions.map((t) => t.state)).toEqual(['firing', 'resolved']);
    expect(compileAlertRules([{ metric: 'm', direction: 'below', threshold: 100 }])[0]!.clearThreshold).toBe(105);
  });

  it('rejects malformed rules with VALIDATION_FAILED', () => {
    const bad: unknown[] = [
      [{ metric: 'cpu.usage', threshold: 0.9, clearThreshold: 0.95 }],
      [{ metric: 'cpu usage', threshold: 1 }],
      [{ metric: 'm', threshold: Number.NaN }],
      [{ metric: 'm', threshold: 1, forMs: -1 }],
      [
        { metric: 'm', threshold: 1 },
        { metric: 'm', threshold: 1 },
      ],
    ];
    for (const rules of bad) expect(() => compileAlertRules(rules as AlertRule[])).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });

  it('property: transitions alternate firing/resolved, firings respect the cooldown, and a firing needs a breach', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 20_000 }), fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constant<'unavailable'>('unavailable'))), {
          maxLength: 300,
        }),
        fc.integer({ min: 0, max: 30_000 }),
        fc.integer({ min: 0, max: 30_000 }),
        (steps, cooldownMs, forMs) => {
          let at = 0;
          const series: [number, Reading][] = steps.map(([gap, v]) => [(at += gap), v]);
          const { transitions } = drive({ ...rule, cooldownMs, forMs }, series);
          transitions.forEach((t, i) => {
            expect(t.state).toBe(i % 2 === 0 ? 'firing' : 'resolved');
            if (t.state === 'firing') expect(t.value).toBeGreaterThanOrEqual(0.9);
            else expect(t.value).toBeLessThan(0.8);
            if (t.state === 'firing' && i >= 2) expect(t.at - transitions[i - 1]!.at).toBeGreaterThanOrEqual(cooldownMs);
          });
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('MonitoringSystem', () => {
  it('publishes system:metrics and resource:alert events and exposes alert state', async () => {
    const clock = new ManualClock(0);
    const events = new FabricaEventBus();
    const alerts: ResourceAlertEvent[] = [];
    const metrics: Record<string, number>[] = [];
    events.on('resource:alert', (a) => alerts.push(a));
    events.on('system:metrics', (m) => metrics.push({ ...m.metrics }));
    const values = [0.5, 0.95, 0.85, 0.7];
    let i = 0;
    const actions: string[] = [];
    const monitor = createMonitoringSystem({
      source: defineMetricsSource(() => ({ cpu: { usage: values[i++]! }, memory: { total: 100, used: 95 } }), () => clock.now()),
      events,
      clock,
      rules: [
        { metric: 'cpu.usage', threshold: 0.9, clearThreshold: 0.8, cooldownMs: 0 },
        { metric: 'memory.usage', threshold: 0.9 },
        { metric: 'cpu.temperature', threshold: 80 },
      ],
      action: (t) => actions.push(`${t.metric}:${t.state}`),
    });
    for (let n = 0; n < values.length; n++) {
      await monitor.sample();
      clock.advance(1_000);
    }
    expect(metrics[1]).toEqual({ 'cpu.usage': 0.95, 'memory.total': 100, 'memory.used': 95, 'memory.usage': 0.95 });
    expect(alerts.map((a) => `${a.metric}:${a.state}@${a.at}`)).toEqual(['memory.usage:firing@0', 'cpu.usage:firing@1000', 'cpu.usage:resolved@3000']);
    expect(actions).toEqual(alerts.map((a) => `${a.metric}:${a.state}`));
    const states = monitor.alerts();
    expect(states.map((s) => s.phase)).toEqual(['ok', 'firing', 'ok']);
    expect(states[2]!.value).toBe('unavailable');
    expect(monitor.latest()?.cpu.usage).toBe(0.7);
  });

  it('evaluates readings the host measured itself', () => {
    const monitor = createMonitoringSystem({ source: defineMetricsSource(() => ({})), rules: [{ metric: 'queue.depth', threshold: 1000 }], clock: new ManualClock(5) });
    expect(monitor.evaluate({ 'queue.depth': 1500 })).toEqual([{ state: 'firing', metric: 'queue.depth', value: 1500, threshold: 1000, at: 5 }]);
    expect(monitor.evaluate({ other: 1 })).toEqual([]);
  });

  it('samples periodically until stopped, logging source failures instead of throwing', async () => {
    let calls = 0;
    const warnings: string[] = [];
    const monitor = createMonitoringSystem({
      source: {
        sample: async () => {
          calls += 1;
          throw new Error('source down');
        },
      },
      logger: { debug: () => undefined, info: () => undefined, warn: (m) => warnings.push(m), error: () => undefined },
    });
    monitor.start(100);
    await new Promise((resolve) => setTimeout(resolve, 350));
    monitor.stop();
    const seen = calls;
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(calls).toBe(seen);
    expect(seen).toBeGreaterThanOrEqual(1);
    expect(warnings[0]).toBe('monitoring sample failed');
    expect(() => monitor.start(5)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });
});
