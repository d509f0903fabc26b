/**
 * The PostgreSQL background sweeps of the resources migration: rows of rested rate-limit keys and
 * owners whose reservations all expired with nobody touching them are deleted, without losing a
 * TAT or a reservation that is still live.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPostgresRateLimitStore, createPostgresReservationStore, migratePostgres } from '../../src/adapters/postgres/index.js';
import type { RateLimitStore } from '../../src/adapters/rate-limit.js';
import type { ReservationStore } from '../../src/adapters/reservations.js';
import { waitFor } from '../../src/adapters/testing/support.js';
import { createTestPool, dropSchema, randomSchema } from '../support/postgres-harness.js';
import { skipWithoutServer } from '../support/missing-server.js';

const url = inject('databaseUrl');

if (url === '') {
  skipWithoutServer('resources postgres sweep', 'PostgreSQL server');
} else {
  describe('resources postgres sweep', () => {
    const schema = randomSchema('dfsweep');
    let pool: pg.Pool;
    let rates: RateLimitStore;
    let reservations: ReservationStore;
    const count = async (table: string): Promise<number> => Number((await pool.query(`SELECT count(*)::int AS n FROM "${schema}".${table}`)).rows[0].n);

    beforeAll(async () => {
      pool = createTestPool(url);
      await migratePostgres({ pool, schema });
      rates = createPostgresRateLimitStore({ pool, schema, sweepIntervalMs: 50 });
      reservations = createPostgresReservationStore({ pool, schema, sweepIntervalMs: 50 });
      await Promise.all([rates.init(), reservations.init()]);
    });
    afterAll(async () => {
      await rates.close();
      await reservations.close();
      await pool.end();
      await dropSchema(url, schema);
    });

    it('deletes rested rate-limit rows and keeps live ones', async () => {
      await rates.check({ cost: 1, limits: [{ key: 'short', intervalUs: 100_000, burst: 1 }] });
      await rates.check({ cost: 1, limits: [{ key: 'long', intervalUs: 3_600_000_000, burst: 5 }] });
      expect(await count('rate_limits')).toBe(2);
      await waitFor(async () => (await count('rate_limits')) === 1, { timeoutMs: 10_000, what: 'the rested row to be swept' });
      const keys = (await pool.query(`SELECT key FROM "${schema}".rate_limits`)).rows.map((r: { key: string }) => r.key);
      expect(keys).toEqual(['long']);
      // The live TAT survived: the long limit still has 4 of 5 left.
      const outcome = await rates.check({ cost: 4, limits: [{ key: 'long', intervalUs: 3_600_000_000, burst: 5 }] });
      expect(outcome.allowed).toBe(true);
      expect((await rates.check({ cost: 1, limits: [{ key: 'long', intervalUs: 3_600_000_000, burst: 5 }] })).allowed).toBe(false);
    });

    it('clears owners whose reservations all expired untouched, and leaves live owners alone', async () => {
      const limits = { compute: 100, storage: null, network: null };
      await reservations.reserve({ owner: 'gone', id: 'a', amounts: { compute: 10, storage: 0, network: 0 }, limits, leaseMs: 150 });
      await reservations.reserve({ owner: 'gone', id: 'b', amounts: { compute: 20, storage: 0, network: 0 }, limits, leaseMs: 150 });
      await reservations.reserve({ owner: 'kept', id: 'c', amounts: { compute: 30, storage: 0, network: 0 }, limits, leaseMs: 600_000 });
      expect(await count('reservation_owners')).toBe(2);
      await waitFor(async () => (await count('reservations')) === 1 && (await count('reservation_owners')) === 1, { timeoutMs: 10_000, what: 'the expired owner to be swept' });
      const owners = (await pool.query(`SELECT owner, compute FROM "${schema}".reservation_owners`)).rows;
      expect(owners).toEqual([{ owner: 'kept', compute: '30' }]);
      expect((await reservations.snapshot('gone')).usage.compute).toBe(0);
    });
  });
}
