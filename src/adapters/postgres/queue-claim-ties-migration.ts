import { QUEUE_CLAIM_TENANTS_SQL } from './queue-claim-tenants.js';
import { replaceEach } from './sql-edit.js';

/**
 * Migration 12: tenants tied on their start tag are served by tenant id, on every backend. A
 * tenant whose own virtual time lags its band's `V` (it was idle, or skipped at its concurrency
 * or rate cap while others were served) starts at `V`, so several of them can tie. The claim
 * ordered its candidate tenants by their own virtual times and kept the first ones: a lagging
 * tenant with a later id but a lower virtual time could take the place of one with an earlier id,
 * and the memory and Redis queues broke those ties by virtual time too (the random sequences of
 * the contract found the three disagreeing; DESIGN: "a tenant that becomes active starts at the
 * current system virtual time").
 *
 * Each band step now first moves the band's lagging tenants up to `V`. The candidates read in
 * (virtual time, id) order are then in (start tag, id) order, so the window of the first ones is
 * exact again. Lagging tenants are few (those that re-entered or sat at a cap since the last
 * claim), and the statement reads only them: a range of the `queue_tenant_bands_ready` index.
 *
 * Written as a checked edit of migration 9's claim (which migration 13 edits further).
 */
export const QUEUE_CLAIM_TIES_FUNCTION_SQL = replaceEach(QUEUE_CLAIM_TENANTS_SQL, [
  [
    `    v_vt := v_q.vt[v_band + 1];
    RETURN QUERY
    WITH cand AS (`,
    `    v_vt := v_q.vt[v_band + 1];
    -- Tenants behind the band's virtual time start at it: moved up to it, they are ordered by
    -- start tag, ties by id, like every other tenant.
    UPDATE {{schema}}.queue_tenant_bands tb SET vtime = v_vt
     WHERE tb.queue = p_queue AND tb.band = v_band AND tb.ready > 0 AND tb.vtime < v_vt;
    RETURN QUERY
    WITH cand AS (`,
  ],
]);

/** Migration 12: the claim above, with migration 10's `SET jit = off` restated. */
export const QUEUE_CLAIM_TIES_SQL = QUEUE_CLAIM_TIES_FUNCTION_SQL + 'ALTER FUNCTION {{schema}}.queue_claim(text, text, integer, bigint, text[], text) SET jit = off;\n';
