/**
 * Resources on the in-memory backends: tier quotas from the spec's formula, atomic leased
 * reservations (and what a crashed holder's lease does), the GCRA rate limiter over several
 * limits, bandwidth, host monitoring with alerts, and the optimiser. A manual clock moves time,
 * so the demo is instant and prints the same every run (except the live host sample).
 */
import { FabricaEventBus } from '../src/core/events.js';
import { ManualClock } from '../src/core/clock.js';
import { isFabricaError } from '../src/core/errors.js';
import { createMemoryRateLimitStore, createMemoryReservationStore } from '../src/adapters/memory/index.js';
import {
  calculateQuota,
  createMonitoringSystem,
  createNodeMetricsSource,
  createRateLimiter,
  createResourceManager,
  createTaskReservations,
  defineMetricsSource,
  parseQuotaConfig,
  QuotaExceededError,
} from '../src/resources/index.js';
import { title } from './demo-support.js';

export async function demoResources(): Promise<void> {
  const clock = new ManualClock(Date.UTC(2026, 10, 26, 9, 0, 0));
  const events = new FabricaEventBus();
  events.on('resource:update', (e) => console.log(`  resource:update ${e.userId} -> compute ${e.allocation.compute}, storage ${e.allocation.storage}`));

  title('Quota formula: tier × BASE × metrics');
  const config = parseQuotaConfig({ tiers: { free: 1, pro: 4 } });
  for (const [tier, metrics] of [
    ['free', {}],
    ['pro', { efficiency: 1.5, utilization: 0.5, reliability: 0.99 }],
    ['pro', { efficiency: 1e9, reliability: Number.NaN }],
  ] as const) {
    const q = calculateQuota(tier, metrics, config);
    const shown = JSON.stringify(metrics, (_, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
    console.log(`${tier.padEnd(4)} ${shown.padEnd(55)} -> compute ${q.compute} m, storage ${(q.storage / 1024 ** 3).toFixed(1)} GiB, network ${(q.network / 1024 ** 2).toFixed(2)} MiB/s`);
  }
  console.log('(out-of-range metrics are clamped to their bounds: never negative, NaN or infinite)');

  title('Atomic reservations against a quota');
  const reservations = createMemoryReservationStore({ clock });
  const resources = createResourceManager({ reservations, quota: { tiers: { free: 1, pro: 4 } }, events, clock });
  const ada = { id: 'ada', tier: 'free', tenantId: 'acme' };
  const attempts = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => resources.allocate(ada, { compute: 300, leaseMs: 10_000, idempotencyKey: `job-${i}` })));
  const granted = attempts.filter((a) => a.status === 'fulfilled').length;
  console.log(`8 concurrent allocations of 300 m against a 1000 m quota -> ${granted} granted`);
  const refused = attempts.find((a) => a.status === 'rejected');
  if (refused?.status === 'rejected' && refused.reason instanceof QuotaExceededError) {
    console.log(`refused with ${refused.reason.code}: remaining compute ${refused.reason.quota.remaining.compute} m`);
  }
  const retry = await resources.allocate(ada, { compute: 300, leaseMs: 10_000, idempotencyKey: 'job-0' });
  console.log(`retrying job-0 with its idempotency key returns the same reservation: ${retry.id}`);

  title('Leases: a crashed holder returns its quota');
  const holder = await resources.usage(ada);
  console.log(`usage ${holder.usage.compute} m in ${holder.count} reservations; job-0 keeps renewing, the others stop (their process "died")`);
  clock.advance(6_000);
  await resources.renew('ada', 'job-0', 10_000);
  clock.advance(5_000);
  const after = await resources.usage(ada);
  console.log(`11 s later: usage ${after.usage.compute} m (only job-0), remaining ${after.remaining.compute} m`);

  title('Tasks: reserve on claim, release on completion');
  const guard = createTaskReservations(resources, { subject: (task) => ({ id: task.ownerId!, tier: 'free' }) });
  const task = { id: 'render-7', ownerId: 'ada', tenantId: 'acme', resources: { cpu: 0.5 } };
  await guard.run(task, async () => {
    console.log(`  while render-7 runs: usage ${(await resources.usage(ada)).usage.compute} m`);
  });
  console.log(`after it completed: usage ${(await resources.usage(ada)).usage.compute} m`);

  title('GCRA rate limiter: 5/s and 20/min in one atomic check');
  const limiter = createRateLimiter({
    store: createMemoryRateLimitStore({ clock, sweepIntervalMs: 0 }),
    limits: [
      { name: 'second', limit: 5, periodMs: 1_000 },
      { name: 'minute', limit: 20, periodMs: 60_000 },
    ],
    onStoreUnavailable: 'fail-closed',
  });
  const burst = await Promise.all(Array.from({ length: 8 }, () => limiter.check('api:ada')));
  const last = burst.at(-1)!;
  console.log(`8 requests at once -> ${burst.filter((d) => d.allowed).length} admitted; refused ones consumed nothing, retry after ${last.retryAfterMs} ms`);
  let admitted = 0;
  for (let i = 0; i < 60; i++) {
    clock.advance(100);
    if ((await limiter.check('api:ada')).allowed) admitted += 1;
  }
  console.log(`then one request every 100 ms for 6 s -> ${admitted} admitted (the per-minute limit caps the total at 20)`);
  try {
    await limiter.consume('api:ada');
  } catch (err) {
    if (isFabricaError(err)) console.log(`consume() refuses with ${err.code} (HTTP ${err.status}, retryable ${err.retryable})`);
  }

  title('Monitoring: host sample and alerts with hysteresis');
  const live = await createNodeMetricsSource({ warmupMs: 100 }).sample();
  const fmt = (v: number | 'unavailable', scale = 1, unit = '') => (v === 'unavailable' ? 'unavailable' : `${(v * scale).toFixed(1)}${unit}`);
  console.log(`this host: cpu ${fmt(live.cpu.usage, 100, '%')}, ${fmt(live.cpu.frequency, 1, ' MHz')}, temperature ${fmt(live.cpu.temperature, 1, ' °C')}; memory used ${fmt(live.memory.used, 1 / 1024 ** 3, ' GiB')} of ${fmt(live.memory.total, 1 / 1024 ** 3, ' GiB')}`);
  for (const [name, reason] of Object.entries(live.unavailable)) console.log(`  ${name}: unavailable (${reason})`);

  const series = [0.5, 0.91, 0.89, 0.92, 0.88, 0.86, 0.7, 0.95];
  let step = 0;
  events.on('resource:alert', (a) => console.log(`  resource:alert ${a.metric} ${a.state} at value ${a.value}`));
  const monitor = createMonitoringSystem({
    source: defineMetricsSource(() => ({ cpu: { usage: series[step++] ?? 0 } }), () => clock.now()),
    events,
    clock,
    rules: [{ metric: 'cpu.usage', threshold: 0.9, clearThreshold: 0.8, cooldownMs: 60_000 }],
  });
  console.log(`cpu usage series ${series.join(', ')} (threshold 0.9, clear below 0.8, cooldown 60 s):`);
  for (let i = 0; i < series.length; i++) {
    await monitor.sample();
    clock.advance(10_000);
  }
  console.log(`alert state now: ${monitor.alerts()[0]!.phase} (the 0.95 came inside the cooldown, so it waits)`);

  title('Optimiser');
  events.on('resource:optimize', (e) => {
    for (const a of e.adjustments) console.log(`  resource:optimize ${a.target} ${a.kind} ${a.from} -> ${a.to} (${a.reason})`);
  });
  await resources.optimize({
    system: { cpuUsage: 0.95 },
    tenants: [
      { tenantId: 'acme', concurrency: 8, baseline: 8, share: 0.75 },
      { tenantId: 'globex', concurrency: 4, baseline: 4, share: 0.25 },
    ],
  });
  await resources.optimize({ system: { cpuUsage: 0.4 }, users: [{ userId: 'ada', reliability: 0.999, utilization: 0.9 }] });
  console.log(`ada's compute quota is now ${(await resources.quota(ada)).compute} m`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  demoResources().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
