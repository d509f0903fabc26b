import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { QUEUE_CLAIM_TENANTS_SQL as CLAIM_SQL } from '../../src/adapters/postgres/queue-claim-tenants.js';
import { createTestPool } from '../support/postgres-harness.js';
import { skipWithoutServer } from '../support/missing-server.js';
import { mulberry32 } from '../../src/adapters/testing/random.js';

const url = inject('databaseUrl');

/**
 * The claim allots a band's free slots to candidate tenants by their start tags s + i * lc / w,
 * the v_avail smallest across tenants. It generates only the tags up to a water level instead of
 * up to v_avail per tenant; this checks, in PostgreSQL's own float8 arithmetic, that the allotment
 * is exactly that of generating every tag, over random tenants, weights, costs, caps and ties.
 * The statement under test is cut from the latest claim migration's text, so it is the one that runs.
 */
if (url === '') {
  skipWithoutServer('postgres claim allotment', 'PostgreSQL server');
} else {
  describe('postgres claim allotment', () => {
    let pool: pg.Pool;
    beforeAll(() => {
      pool = createTestPool(url);
    });
    afterAll(async () => {
      await pool.end();
    });

    const from = CLAIM_SQL.indexOf('), level AS MATERIALIZED (');
    const to = CLAIM_SQL.indexOf('), alloc AS (');
    const levelAndSlots = CLAIM_SQL.slice(from + 2, to + 1).replaceAll('v_avail', '$1::integer');
    const cand = 'cand(tenant, s, w, lc, k_max) AS (SELECT * FROM unnest($2::text[], $3::float8[], $4::float8[], $5::float8[], $6::integer[]))';
    const optimised = `WITH ${cand}, ${levelAndSlots} SELECT tenant, count(*)::integer AS k FROM slots GROUP BY tenant ORDER BY tenant`;
    const everyTag = `WITH ${cand}, slots AS (
        SELECT c.tenant, c.s + (g.i - 1) * c.lc / c.w AS tag FROM cand c CROSS JOIN LATERAL generate_series(1, c.k_max) AS g(i)
         ORDER BY 2, 1 LIMIT $1::integer)
      SELECT tenant, count(*)::integer AS k FROM slots GROUP BY tenant ORDER BY tenant`;

    it('finds the statement in the migration', () => {
      expect(from).toBeGreaterThan(0);
      expect(to).toBeGreaterThan(from);
      expect(levelAndSlots).toContain('slots AS (');
    });

    it('allots exactly as generating every tag would, over 400 random bands', async () => {
      for (let seed = 1; seed <= 400; seed++) {
        const r = mulberry32(seed);
        const n = 1 + Math.floor(r() * 12);
        const avail = 1 + Math.floor(r() * 500);
        const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
        const tenants = Array.from({ length: n }, (_, i) => `t${String(i).padStart(2, '0')}`);
        // Shared start tags and round weights and costs make ties; odd ones make rounding.
        const s = tenants.map(() => pick([0, 0, 1, 2.5, r() * 10, r() * 1e6, 1 / 3]));
        const w = tenants.map(() => pick([1, 1, 2, 4, 0.5, r() * 10 + 0.01]));
        const lc = tenants.map(() => pick([1, 1, 3, 0.1, 1e-3, r() * 1000 + 1e-6]));
        const k = tenants.map(() => pick([avail, avail, 1, 2, Math.ceil(r() * avail)]));
        const params = [avail, tenants, s, w, lc, k];
        const expected = (await pool.query(everyTag, params)).rows;
        const actual = (await pool.query(optimised, params)).rows;
        expect({ seed, actual }).toEqual({ seed, actual: expected });
      }
    });
  });
}
