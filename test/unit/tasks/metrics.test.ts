import { describe, expect, it } from 'vitest';
import { FabricaEventBus, type SystemAlertEvent } from '../../../src/core/events.js';
import { ManualClock } from '../../../src/core/clock.js';
import { createMemoryQueue } from '../../../src/adapters/memory/index.js';
import { createTaskMetrics, evaluateTaskAlerts, type AlertInputs, percentile, percentilesOf, SampleWindow, type TaskSample } from '../../../src/tasks/index.js';

const sample = (o: Partial<TaskSample> = {}): TaskSample => ({ tenantId: 'acme', type: 'job', outcome: 'completed', waitMs: 10, runMs: 5, ...o });

describe('samples', () => {
  it('computes nearest-rank percentiles', () => {
    expect(percentile([], 0.5)).toBeNull();
    expect(percentile([7], 0.99)).toBe(7);
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentilesOf(values.reverse())).toEqual({ count: 100, p50: 50, p90: 90, p99: 99, max: 100 });
  });

  it('keeps the last `capacity` samples and only those inside the window', () => {
    const w = new SampleWindow(3, 1_000);
    for (let i = 0; i < 5; i++) w.add(sample({ waitMs: i }), i * 100);
    expect(w.recent(400).map((s) => s.waitMs)).toEqual([4, 3, 2]);
    expect(w.recent(1_350).map((s) => s.waitMs)).toEqual([4]);
    expect(w.recent(5_000)).toEqual([]);
  });
});

describe('evaluateTaskAlerts', () => {
  const base: AlertInputs = { at: 1, queueDepth: 0, oldestWaitMs: null, tenants: [], errorRate: null, samples: 0 };

  it('fires on a breach once, and resolves once', () => {
    let firing = new Set<string>();
    const run = (over: Partial<AlertInputs>) => {
      const r = evaluateTaskAlerts({ ...base, ...over }, { queueDepth: 100, oldestWaitMs: 5_000 }, firing);
      firing = r.firing;
      return r.alerts.map((a) => `${a.name}:${a.severity}`);
    };
    expect(run({ queueDepth: 150 })).toEqual(['tasks.queue_depth:warning']);
    expect(run({ queueDepth: 170 })).toEqual([]);
    expect(run({ queueDepth: 10, oldestWaitMs: 6_000 })).toEqual(['tasks.queue_depth:info', 'tasks.oldest_waiting:warning']);
  });

  it('names the starved tenant, and resolves it when it is served or gone', () => {
    const thresholds = { starvedMs: 1_000 };
    const first = evaluateTaskAlerts({ ...base, tenants: [{ tenantId: 'acme', unservedMs: 1_500 }, { tenantId: 'globex', unservedMs: 10 }] }, thresholds, new Set());
    expect(first.alerts).toHaveLength(1);
    expect(first.alerts[0]).toMatchObject({ name: 'tasks.tenant_starved', severity: 'critical', details: { tenantId: 'acme' } });
    const second = evaluateTaskAlerts({ ...base, tenants: [] }, thresholds, first.firing);
    expect(second.alerts.map((a) => [a.severity, a.details?.tenantId])).toEqual([['info', 'acme']]);
  });

  it('judges the error rate only with enough samples', () => {
    expect(evaluateTaskAlerts({ ...base, errorRate: 0.9, samples: 5 }, { errorRate: 0.1 }, new Set()).alerts).toEqual([]);
    expect(evaluateTaskAlerts({ ...base, errorRate: 0.9, samples: 50 }, { errorRate: 0.1 }, new Set()).alerts[0]?.name).toBe('tasks.error_rate');
  });
});

describe('createTaskMetrics', () => {
  it('reports counts per tenant and type, queue depth, oldest wait, percentiles and the error rate', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const queue = createMemoryQueue({ clock });
    await queue.enqueueMany([
      { type: 'a', tenantId: 't1', payload: null },
      { type: 'b', tenantId: 't1', payload: null },
      { type: 'a', tenantId: 't2', payload: null },
      { type: 'a', tenantId: 't2', payload: null, delayMs: 10_000 },
    ]);
    clock.advance(2_000);
    const metrics = createTaskMetrics({ queue, clock });
    metrics.record(sample({ waitMs: 100, outcome: 'completed' }));
    metrics.record(sample({ waitMs: 300, outcome: 'retried' }));
    metrics.record(sample({ waitMs: 200, outcome: 'completed', runMs: 50 }));
    const s = await metrics.snapshot();
    expect(s.counts).toMatchObject({ queued: 4, delayed: 1 });
    expect(s.queueDepth).toBe(3);
    expect(s.oldestWaitMs).toBe(2_000);
    expect(Object.fromEntries(s.byTenant.map((t) => [t.tenantId, t.counts.queued]))).toEqual({ t1: 2, t2: 2 });
    expect(Object.fromEntries(s.byType.map((t) => [t.type, t.counts.queued]))).toEqual({ a: 3, b: 1 });
    expect(s.waitMs).toMatchObject({ count: 3, p50: 200, max: 300 });
    expect(s.runMs.max).toBe(50);
    expect(s.errorRate).toBeCloseTo(1 / 3);
    clock.advance(61_000);
    expect((await metrics.snapshot()).waitMs.count).toBe(0);
  });

  it('emits system:alerts when a tenant starves, once, then the resolution', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const queue = createMemoryQueue({ clock });
    const events = new FabricaEventBus();
    const alerts: SystemAlertEvent[] = [];
    events.on('system:alerts', (a) => alerts.push(a));
    const metrics = createTaskMetrics({ queue, events, clock, thresholds: { starvedMs: 30_000, queueDepth: 2 } });
    await queue.setTenant('capped', { maxConcurrency: 1 });
    await queue.enqueueMany([
      { type: 'job', tenantId: 'capped', payload: 1 },
      { type: 'job', tenantId: 'capped', payload: 2 },
    ]);
    const [held] = (await queue.claim('w', 5, 600_000)).tasks;
    clock.advance(31_000);
    await metrics.check();
    await metrics.check();
    expect(alerts.map((a) => `${a.name}:${a.severity}:${String(a.details?.tenantId ?? '')}`)).toEqual(['tasks.tenant_starved:critical:capped']);
    await queue.complete(held!.lease);
    await queue.claim('w', 5, 600_000);
    await metrics.check();
    expect(alerts.map((a) => `${a.name}:${a.severity}`)).toEqual(['tasks.tenant_starved:critical', 'tasks.tenant_starved:info']);
  });

  it('publishes system:metrics when started', async () => {
    const queue = createMemoryQueue();
    const events = new FabricaEventBus();
    const metrics = createTaskMetrics({ queue, events });
    const next = events.once('system:metrics');
    metrics.start(5);
    metrics.start(5);
    const m = await next;
    metrics.stop();
    expect(m.metrics).toMatchObject({ 'tasks.queue_depth': 0, 'tasks.queued': 0 });
  });
});
