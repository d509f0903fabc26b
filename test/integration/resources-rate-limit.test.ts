/**
 * The GCRA limiter across real OS processes on PostgreSQL and Redis: exactly the burst is
 * admitted however many processes check at once; over time no more than burst + ⌈D / T⌉ pass
 * (D measured on the server's clock); and when the store goes away (TCP proxy cut), the limiter
 * answers by its explicit failure mode — fail-open admits, fail-closed refuses with
 * ADAPTER_UNAVAILABLE, never a false RATE_LIMITED — and recovers when the store returns.
 */
import type pg from 'pg';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RateLimitStore } from '../../src/adapters/rate-limit.js';
import { createPostgresRateLimitStore, migratePostgres } from '../../src/adapters/postgres/index.js';
import { createRedisRateLimitStore } from '../../src/adapters/redis/index.js';
import { waitFor } from '../../src/adapters/testing/support.js';
import { createRateLimiter } from '../../src/resources/index.js';
import { createTestPool, dropSchema, randomSchema } from '../support/postgres-harness.js';
import { closeRedis, connectRedis, deletePrefixKeys, randomPrefix } from '../support/redis-harness.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { EXACT_LIMITS, RATE_LIMITS, runTogether } from './support/resources-scenario.js';
import { skipWithoutServer } from '../support/missing-server.js';

interface Backend {
  readonly name: 'postgres' | 'redis';
  readonly url: string;
  readonly ns: string;
  /** A store reaching the server through `proxy` when given. */
  open(proxy?: TcpProxy): Promise<RateLimitStore>;
  teardown(): Promise<void>;
}

const viaProxy = (url: string, proxy: TcpProxy | undefined): string => {
  if (!proxy) return url;
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(proxy.port);
  return u.toString();
};

function postgres(url: string): Backend {
  const schema = randomSchema('dfrl');
  const pools: pg.Pool[] = [];
  let migrated = false;
  return {
    name: 'postgres',
    url,
    ns: schema,
    async open(proxy) {
      if (!migrated) {
        const admin = createTestPool(url);
        await migratePostgres({ pool: admin, schema }).finally(() => admin.end());
        migrated = true;
      }
      const pool = createTestPool(viaProxy(url, proxy));
      pools.push(pool);
      return createPostgresRateLimitStore({ pool, schema, sweepIntervalMs: 0 });
    },
    async teardown() {
      await Promise.all(pools.map((p) => p.end()));
      if (migrated) await dropSchema(url, schema);
    },
  };
}

function redis(url: string): Backend {
  const prefix = randomPrefix('dfrl');
  const clients: Redis[] = [];
  return {
    name: 'redis',
    url,
    ns: prefix,
    async open(proxy) {
      const client = connectRedis(viaProxy(url, proxy));
      clients.push(client);
      return createRedisRateLimitStore({ client, prefix });
    },
    async teardown() {
      await Promise.all(clients.map(closeRedis));
      await deletePrefixKeys(url, prefix);
    },
  };
}

const backends = [
  { name: 'postgres', url: inject('databaseUrl'), make: postgres },
  { name: 'redis', url: inject('redisUrl'), make: redis },
] as const;

for (const { name, url, make } of backends) {
  if (url === '') {
    skipWithoutServer(`rate limiting across processes: ${name}`, `${name} server`);
    continue;
  }
  describe(`rate limiting across processes: ${name}`, () => {
    const backend = make(url);
    let store: RateLimitStore;
    // Migrates (PostgreSQL) before any child process connects.
    beforeAll(async () => {
      store = await backend.open();
      await store.init();
    });
    afterAll(() => backend.teardown());
    const env = (key: string, mode: string, count: number, ms = 0) => ({
      DF_BACKEND: backend.name,
      DF_URL: backend.url,
      DF_NS: backend.ns,
      DF_MODE: mode,
      DF_OWNER: key,
      DF_COUNT: String(count),
      DF_LEASE_MS: String(ms),
    });
    // The server's clock, read through the store itself (a cost-0 check reads without writing).
    const serverNowUs = async (store: RateLimitStore): Promise<number> =>
      (await store.check({ limits: [{ key: 'clock-probe', intervalUs: 1, burst: 1 }], cost: 0 })).nowUs;

    it('admits exactly the burst when 4 processes check 100 times each at once (several limits, one call)', async () => {
      const key = `exact-${backend.ns}`;
      const results = (await runTogether(4, () => env(key, 'limit', 100))) as { admitted: number; degraded: number }[];
      const admitted = results.reduce((s, r) => s + r.admitted, 0);
      expect(results.every((r) => r.degraded === 0)).toBe(true);
      // hour: 60/h (T = 60 s) is the tightest; day: 100/day was charged exactly 60 times, so 40 remain.
      expect(admitted).toBe(EXACT_LIMITS[0]!.limit);
      const limiter = createRateLimiter({ store, limits: EXACT_LIMITS, onStoreUnavailable: 'fail-closed', prefix: 'exact' });
      const after = await limiter.check(key, { cost: 0 });
      expect(after.limits.map((l) => [l.name, l.remaining])).toEqual([
        ['hour', 0],
        ['day', 40],
      ]);
      console.log(`[${name}] exact burst: ${admitted} of 400 concurrent checks admitted across 4 processes`);
    }, 60_000);

    it('admits at most burst + ⌈D / T⌉ over a span D of server time while 4 processes hammer', async () => {
      const key = `rate-${backend.ns}`;
      await serverNowUs(store); // connect before the clock matters
      let startUs = 0;
      const results = (await runTogether(4, () => env(key, 'hammer', 0, 1_500), async () => {
        startUs = await serverNowUs(store);
      })) as { admitted: number; checks: number }[];
      const endUs = await serverNowUs(store);
      const admitted = results.reduce((s, r) => s + r.admitted, 0);
      const checks = results.reduce((s, r) => s + r.checks, 0);
      const { burst, limit, periodMs } = RATE_LIMITS[0]!;
      const intervalUs = Math.ceil((periodMs * 1000) / limit);
      const bound = burst! + Math.ceil((endUs - startUs) / intervalUs);
      // The safety property, exact: the span measured on the server encloses every admission.
      expect(admitted).toBeLessThanOrEqual(bound);
      // Liveness, loosely (a stalled machine admits less, never more): most of the rate was used.
      expect(admitted).toBeGreaterThan(bound / 2);
      console.log(`[${name}] rate: ${admitted} admitted of ${checks} checks over ${((endUs - startUs) / 1000).toFixed(0)} ms server time (bound ${bound})`);
    }, 60_000);

    it('decides by the explicit failure mode while the store is unreachable, and recovers', async () => {
      const target = new URL(url);
      const proxy = await startTcpProxy(target.hostname, Number(target.port || (name === 'postgres' ? 5432 : 6379)));
      try {
        const proxied = await backend.open(proxy);
        const limits = [{ name: 'minute', limit: 100, periodMs: 60_000 }];
        const open = createRateLimiter({ store: proxied, limits, onStoreUnavailable: 'fail-open', prefix: 'outage' });
        const closed = createRateLimiter({ store: proxied, limits, onStoreUnavailable: 'fail-closed', prefix: 'outage' });
        // Connected first (a loaded machine may take a while through the proxy): a degraded
        // decision here would be an outage of its own, not the one under test.
        await waitFor(async () => !(await open.check('warm-up', { cost: 0 })).degraded, { timeoutMs: 15_000, what: 'the first connection' });
        expect(await open.check('k')).toMatchObject({ allowed: true, degraded: false, remaining: 99 });
        await proxy.interrupt();
        expect(await open.check('k')).toMatchObject({ allowed: true, degraded: true });
        expect(await closed.check('k')).toMatchObject({ allowed: false, degraded: true });
        await expect(closed.consume('k')).rejects.toMatchObject({ code: 'ADAPTER_UNAVAILABLE', status: 503 });
        await proxy.restore();
        const back = await waitFor(
          async () => {
            const d = await closed.check('k');
            return d.degraded ? undefined : d;
          },
          { timeoutMs: 15_000, intervalMs: 50, what: 'the store to come back' },
        );
        expect(back.allowed).toBe(true);
        expect(back.remaining).toBeLessThanOrEqual(98);
      } finally {
        await proxy.close();
      }
    }, 60_000);
  });
}
