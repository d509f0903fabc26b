import { QUEUE_COUNTED_CLAIM_SQL, QUEUE_COUNTED_ENQUEUE_SQL } from './queue-counted-functions.js';
import { replaceEach } from './sql-edit.js';

/**
 * Migration 9: migration 8's claim (migration 6's, counting) without its work in tenants ×
 * tenants. Migration 6 turned hash and merge joins off inside the claim (see
 * queue-claim-function.ts), which left PostgreSQL one way
 * to join the allotment back to the candidate tenants for their start tags and weights: a nested
 * loop over both. At 10 tenants that is nothing; at 500 tenants with a claim of 500 it was 8 of
 * the band statement's 19 ms (EXPLAIN ANALYZE after VACUUM ANALYZE, scratch). The allotment now
 * carries each tenant's start tag and weight itself, so no join is left; and the water level is
 * materialized (below).
 *
 * Written as checked edits of migration 8's text (sql-edit.ts) rather than a third copy of its 250
 * lines; everything else in the function is migration 8's, verbatim.
 */
export const QUEUE_CLAIM_TENANTS_SQL = replaceEach(QUEUE_COUNTED_CLAIM_SQL, [
  // The water level is one aggregate over the candidates. Inlined, a plan made without statistics
  // (one candidate expected) recomputed it for each candidate: tenants × tenants again (27 ms at
  // 500 tenants, scratch). Materialized, it is computed once.
  ['), level AS (\n', '), level AS MATERIALIZED (\n'],
  [
    'SELECT b.tenant, b.s + (g.i - 1) * b.lc / b.w AS tag\n',
    "SELECT b.tenant, b.s + (g.i - 1) * b.lc / b.w AS tag, b.s, b.w\n",
  ],
  [
    'SELECT sl.tenant, count(*)::integer AS k FROM slots sl GROUP BY sl.tenant\n',
    'SELECT sl.tenant, sl.s, sl.w, count(*)::integer AS k FROM slots sl GROUP BY sl.tenant, sl.s, sl.w\n',
  ],
  [
    `      -- Each pick carries its tenant's start tag and weight, so tagging needs no join.
      SELECT p.id, row_number() OVER () AS rn, c.s, c.w
        FROM alloc a JOIN cand c ON c.tenant = a.tenant CROSS JOIN LATERAL (`,
    `      -- Each pick carries its tenant's start tag and weight (from the allotment), so neither
      -- picking nor tagging joins back to the candidates.
      SELECT p.id, row_number() OVER () AS rn, a.s, a.w
        FROM alloc a CROSS JOIN LATERAL (`,
  ],
]);

/**
 * Migration 8's enqueue, which also records the cost of a tenant's first waiting task in a band
 * when the tenant enters it (`last_cost`). The claim spaces each tenant's start tags by that cost
 * until it has served the tenant; it used to be 1 for a tenant never served, so a claim gave a
 * tenant of cost-2 tasks twice its share until its first pick corrected it (the conformance test
 * "over many tenants, each claim serves the tenants the pure policy would serve" caught it).
 * Within one claim the spacing is still one cost per tenant: exact when a tenant's waiting tasks
 * cost alike, an estimate when they differ (virtual times are charged with the real costs).
 */
export const QUEUE_ENQUEUE_COST_SQL = replaceEach(QUEUE_COUNTED_ENQUEUE_SQL, [
  ['    RETURNING t.id, t.tenant, t.type, t.cur_band, t.ready\n', '    RETURNING t.id, t.tenant, t.type, t.cur_band, t.ready, t.cost, t.priority, t.seq\n'],
  [
    `    INSERT INTO {{schema}}.queue_tenant_bands AS tb (queue, band, tenant, ready, since)
    SELECT p_queue, x.cur_band, x.tenant, count(*)::integer, v_now FROM ins x WHERE x.ready GROUP BY x.cur_band, x.tenant ORDER BY 2, 3
    ON CONFLICT (queue, band, tenant) DO UPDATE
      SET ready = tb.ready + excluded.ready,
          since = CASE WHEN tb.ready <= 0 THEN excluded.since ELSE tb.since END
`,
    `    INSERT INTO {{schema}}.queue_tenant_bands AS tb (queue, band, tenant, ready, since, last_cost)
    SELECT p_queue, x.cur_band, x.tenant, count(*)::integer, v_now, (array_agg(x.cost ORDER BY x.priority DESC, x.seq))[1]
      FROM ins x WHERE x.ready GROUP BY x.cur_band, x.tenant ORDER BY 2, 3
    ON CONFLICT (queue, band, tenant) DO UPDATE
      SET ready = tb.ready + excluded.ready,
          since = CASE WHEN tb.ready <= 0 THEN excluded.since ELSE tb.since END,
          last_cost = CASE WHEN tb.ready <= 0 THEN excluded.last_cost ELSE tb.last_cost END
`,
  ],
]);
