/**
 * Reservations across real OS processes on PostgreSQL and Redis: 4 processes × 50 concurrent
 * allocations against one quota never exceed it by a single unit (and never refuse what fit);
 * the sum of live reservations equals recorded usage throughout; a SIGKILLed holder's
 * reservations come back after their lease while a live holder's heartbeats keep its own.
 */
import pg from 'pg';
import type { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { ReservationStore } from '../../src/adapters/reservations.js';
import { createPostgresReservationStore, migratePostgres } from '../../src/adapters/postgres/index.js';
import { createRedisReservationStore } from '../../src/adapters/redis/index.js';
import { waitFor } from '../../src/adapters/testing/support.js';
import { createTestPool, dropSchema, randomSchema } from '../support/postgres-harness.js';
import { closeRedis, connectRedis, deletePrefixKeys, randomPrefix } from '../support/redis-harness.js';
import { runTogether, spawnChild } from './support/resources-scenario.js';
import { skipWithoutServer } from '../support/missing-server.js';

interface Backend {
  readonly name: 'postgres' | 'redis';
  readonly url: string;
  readonly ns: string;
  open(): Promise<ReservationStore>;
  teardown(): Promise<void>;
}

function postgres(url: string): Backend {
  const schema = randomSchema('dfres');
  let pool: pg.Pool | undefined;
  return {
    name: 'postgres',
    url,
    ns: schema,
    async open() {
      pool = createTestPool(url);
      await migratePostgres({ pool, schema });
      return createPostgresReservationStore({ pool, schema, sweepIntervalMs: 0 });
    },
    async teardown() {
      await pool?.end();
      await dropSchema(url, schema);
    },
  };
}

function redis(url: string): Backend {
  const prefix = randomPrefix('dfres');
  let client: Redis | undefined;
  return {
    name: 'redis',
    url,
    ns: prefix,
    async open() {
      client = connectRedis(url);
      return createRedisReservationStore({ client, prefix });
    },
    async teardown() {
      if (client) await closeRedis(client);
      await deletePrefixKeys(url, prefix);
    },
  };
}

const QUOTA = 1000;
const backends = [
  { name: 'postgres', url: inject('databaseUrl'), make: postgres },
  { name: 'redis', url: inject('redisUrl'), make: redis },
] as const;

for (const { name, url, make } of backends) {
  if (url === '') {
    skipWithoutServer(`reservations across processes: ${name}`, `${name} server`);
    continue;
  }
  describe(`reservations across processes: ${name}`, () => {
    const backend = make(url);
    let store: ReservationStore;
    afterAll(async () => {
      await store?.close();
      await backend.teardown();
    });
    const env = (owner: string, mode: string, count: number, leaseMs = 60_000) => ({
      DF_BACKEND: backend.name,
      DF_URL: backend.url,
      DF_NS: backend.ns,
      DF_MODE: mode,
      DF_OWNER: owner,
      DF_COUNT: String(count),
      DF_LEASE_MS: String(leaseMs),
    });

    it('200 concurrent allocations from 4 processes never exceed the quota by a single unit', async () => {
      store = await backend.open();
      await store.init();
      const owner = `contended-${backend.ns}`;
      // While the processes run, the parent keeps checking the invariants from outside.
      let running = true;
      let observations = 0;
      const watcher = (async () => {
        while (running) {
          const snap = await store.snapshot(owner, { limit: 1000 });
          expect(snap.usage.compute).toBeLessThanOrEqual(QUOTA);
          expect(snap.usage.compute).toBe(snap.reservations.reduce((s, r) => s + r.amounts.compute, 0));
          observations += 1;
        }
      })();
      const results = (await runTogether(4, () => env(owner, 'allocate', 50)).finally(() => (running = false))) as {
        granted: { id: string; compute: number }[];
        refused: { compute: number; remaining: number }[];
      }[];
      await watcher;

      const granted = results.flatMap((r) => r.granted);
      const refused = results.flatMap((r) => r.refused);
      expect(granted.length + refused.length).toBe(200);
      const snap = await store.snapshot(owner, { limit: 1000 });
      const grantedTotal = granted.reduce((s, g) => s + g.compute, 0);
      // Recorded usage = the sum of live reservations = what the processes were granted.
      expect(snap.usage.compute).toBe(grantedTotal);
      expect(snap.usage.compute).toBe(snap.reservations.reduce((s, r) => s + r.amounts.compute, 0));
      expect(snap.reservations.map((r) => r.id).sort()).toEqual(granted.map((g) => g.id).sort());
      expect(grantedTotal).toBeLessThanOrEqual(QUOTA);
      // No false refusal: usage only grew during the run, so whatever was refused does not fit
      // even now, and each refusal reported a remaining amount smaller than the request.
      for (const r of refused) {
        expect(r.compute).toBeGreaterThan(QUOTA - grantedTotal);
        expect(r.compute).toBeGreaterThan(r.remaining);
      }
      expect(refused.length).toBeGreaterThan(0);
      console.log(`[${name}] 4 processes × 50 allocations: ${granted.length} granted (${grantedTotal}/${QUOTA}), ${refused.length} refused, ${observations} outside checks`);
    }, 60_000);

    it('a SIGKILLed process returns its reservations after the lease; a live one keeps its own by heartbeats', async () => {
      const owner = `holders-${backend.ns}`;
      const leaseMs = 1_500;
      const doomed = spawnChild({ ...env(owner, 'hold', 5, leaseMs), DF_INDEX: '0' });
      const survivor = spawnChild({ ...env(owner, 'hold', 5, leaseMs), DF_INDEX: '1' });
      try {
        await Promise.all([doomed.ready, survivor.ready]);
        doomed.go();
        survivor.go();
        const [held0, held1] = (await Promise.all([doomed.result, survivor.result])) as { ids: string[] }[];
        expect((await store.snapshot(owner)).usage.compute).toBe(500);
        // Two leases later, heartbeats from both processes have kept all ten alive.
        await new Promise((resolve) => setTimeout(resolve, 2 * leaseMs));
        expect((await store.snapshot(owner)).count).toBe(10);

        doomed.process.kill('SIGKILL');
        await doomed.exited;
        const killedAt = Date.now();
        const after = await waitFor(
          async () => {
            const snap = await store.snapshot(owner);
            return snap.usage.compute === 250 ? snap : undefined;
          },
          { timeoutMs: 15_000, intervalMs: 50, what: "the killed process's reservations to expire" },
        );
        expect(after.reservations.map((r) => r.id).sort()).toEqual([...held1!.ids].sort());
        expect(after.usage.compute).toBe(after.reservations.reduce((s, r) => s + r.amounts.compute, 0));
        expect(held0!.ids).toHaveLength(5);
        console.log(`[${name}] killed holder's 250 units returned ${Date.now() - killedAt} ms after SIGKILL (lease ${leaseMs} ms)`);
      } finally {
        for (const c of [doomed, survivor]) if (c.process.exitCode === null) c.process.kill('SIGKILL');
        await Promise.all([doomed.exited, survivor.exited]);
      }
    }, 60_000);
  });
}
