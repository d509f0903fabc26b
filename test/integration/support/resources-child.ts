/**
 * A separate OS process for the resources integration tests. It opens its own pool or client,
 * builds the real ResourceManager / RateLimiter on PostgreSQL or Redis, waits for "go" on stdin
 * (so every process starts its burst at the same moment), does its job, and prints one JSON line.
 *
 * env: DF_BACKEND (postgres | redis), DF_URL, DF_NS (schema or prefix), DF_MODE, DF_OWNER,
 *      DF_COUNT, DF_INDEX, DF_LEASE_MS
 * modes:
 *   allocate  DF_COUNT concurrent allocations of 5–15 compute; prints { granted, refused }
 *   hold      DF_COUNT allocations of 50 compute kept alive by heartbeats; prints { ids } and stays
 *   limit     DF_COUNT concurrent checks of the "exact" limiter; prints { admitted }
 *   hammer    checks of the "rate" limiter for DF_LEASE_MS ms, 8 in flight; prints { admitted, checks }
 */
import { createInterface } from 'node:readline';
import pg from 'pg';
import { Redis } from 'ioredis';
import type { RateLimitStore } from '../../../src/adapters/rate-limit.js';
import type { ReservationStore } from '../../../src/adapters/reservations.js';
import { createPostgresRateLimitStore, createPostgresReservationStore } from '../../../src/adapters/postgres/index.js';
import { createRedisRateLimitStore, createRedisReservationStore } from '../../../src/adapters/redis/index.js';
import { createRateLimiter, createResourceManager, QuotaExceededError } from '../../../src/resources/index.js';
import { CHILD_QUOTA, EXACT_LIMITS, RATE_LIMITS } from './resources-scenario.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`missing ${name}`);
  return value;
};
const backend = env('DF_BACKEND');
const ns = env('DF_NS');
const mode = env('DF_MODE');
const count = Number(env('DF_COUNT'));
const index = Number(process.env.DF_INDEX ?? '0');
const leaseMs = Number(process.env.DF_LEASE_MS ?? '30000');

let close: () => Promise<void>;
let reservations: ReservationStore;
let rates: RateLimitStore;
if (backend === 'postgres') {
  const pool = new pg.Pool({ connectionString: env('DF_URL'), max: 8 });
  pool.on('error', () => undefined);
  reservations = createPostgresReservationStore({ pool, schema: ns, sweepIntervalMs: 0 });
  rates = createPostgresRateLimitStore({ pool, schema: ns, sweepIntervalMs: 0 });
  close = () => pool.end();
} else {
  const client = new Redis(env('DF_URL'), { maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  reservations = createRedisReservationStore({ client, prefix: ns });
  rates = createRedisRateLimitStore({ client, prefix: ns });
  close = async () => void client.disconnect();
}
await reservations.init();
await rates.init();

const manager = createResourceManager({ reservations, quota: CHILD_QUOTA, ...(leaseMs > 0 ? { defaultLeaseMs: leaseMs } : {}) });
const user = { id: env('DF_OWNER'), tier: 1 };

// Warm up (connections, scripts, schema check) before the start signal, so the burst is a burst.
await manager.usage(user);
process.stdout.write('ready\n');
await new Promise<void>((resolve) => {
  const rl = createInterface({ input: process.stdin });
  rl.once('line', () => {
    rl.close();
    resolve();
  });
});

if (mode === 'allocate') {
  const amounts = Array.from({ length: count }, (_, i) => 5 + ((i * 7 + index * 3) % 11));
  const results = await Promise.all(
    amounts.map(async (compute, i) => {
      try {
        const r = await manager.allocate(user, { compute, idempotencyKey: `p${index}-r${i}` });
        return { ok: true as const, id: r.id, compute };
      } catch (err) {
        if (err instanceof QuotaExceededError) return { ok: false as const, compute, remaining: err.quota.remaining.compute };
        throw err;
      }
    }),
  );
  const granted = results.filter((r) => r.ok).map((r) => ({ id: r.id, compute: r.compute }));
  const refused = results.filter((r) => !r.ok).map((r) => ({ compute: r.compute, remaining: r.ok ? 0 : r.remaining }));
  process.stdout.write(`${JSON.stringify({ granted, refused })}\n`);
  await close();
} else if (mode === 'hold') {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const r = await manager.allocate(user, { compute: 50, leaseMs, idempotencyKey: `hold-${index}-${i}` });
    manager.keepAlive(r, { intervalMs: Math.floor(leaseMs / 5) });
    ids.push(r.id);
  }
  process.stdout.write(`${JSON.stringify({ ids })}\n`);
  // Hold for ever: the heartbeats run until the parent kills us. A referenced timer keeps us alive.
  setInterval(() => undefined, 1 << 30);
} else if (mode === 'limit') {
  const limiter = createRateLimiter({ store: rates, limits: EXACT_LIMITS, onStoreUnavailable: 'fail-closed', prefix: 'exact' });
  const decisions = await Promise.all(Array.from({ length: count }, () => limiter.check(env('DF_OWNER'))));
  process.stdout.write(`${JSON.stringify({ admitted: decisions.filter((d) => d.allowed).length, degraded: decisions.filter((d) => d.degraded).length })}\n`);
  await close();
} else if (mode === 'hammer') {
  const limiter = createRateLimiter({ store: rates, limits: RATE_LIMITS, onStoreUnavailable: 'fail-closed', prefix: 'rate' });
  const until = Date.now() + leaseMs;
  let admitted = 0;
  let checks = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (Date.now() < until) {
        checks += 1;
        if ((await limiter.check(env('DF_OWNER'))).allowed) admitted += 1;
      }
    }),
  );
  process.stdout.write(`${JSON.stringify({ admitted, checks })}\n`);
  await close();
}
