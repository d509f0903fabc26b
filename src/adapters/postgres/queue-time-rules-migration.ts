import { QUEUE_CLAIM_TIES_FUNCTION_SQL } from './queue-claim-ties-migration.js';
import { QUEUE_COUNTED_ENQUEUE_SQL, QUEUE_COUNTED_REAP_SQL } from './queue-counted-functions.js';
import { replaceEach } from './sql-edit.js';

/**
 * Migration 13: four rules brought in line with the memory and Redis queues, all found by
 * the contract's random sequences run against a schema whose `queue_now()` the test controls
 * (test/integration/postgres-queue-time-sequences.test.ts).
 *
 * - A task whose last lease ran out while the failed retention is 0 now goes at once, as a final
 *   failure's does. Reaping marked it dead and left it to the next purge, so it stayed readable
 *   (and its lease answered `not-active` instead of `not-found`) until maintenance ran.
 * - A task that dies when its last lease runs out keeps its band and ready time, as one that dies
 *   by a failure does; reaping reset them as if it were queued again.
 * - A tenant's start tags within one claim are spaced by the cost of the task it would serve next
 *   (read from the pick index), not by `last_cost`, which only enqueues and claims kept: a tenant
 *   that entered the band by aging, activation or a re-queue was spaced by a stale or default
 *   cost and could get more of the claim than its share. Nothing reads `last_cost` any more, so
 *   nothing writes it either: the claim stops, and the enqueue goes back to migration 8's, which
 *   did not write it. The column stays (default 1), so the earlier migrations' functions still
 *   run against this table, as the plans test replays them.
 * - A claim's `nextInMs` counts a tenant's next rate token only while that token is all that
 *   holds the tenant back: it has ready tasks, is under its concurrency cap, and the queue is
 *   under its global cap. Otherwise a finished task frees the way first, and its completion wakes
 *   the workers; the claim used to name the token's time anyway, an idle worker's wake-up for
 *   nothing.
 *
 * Checked edits of migration 12's claim and of migration 8's reaping; migration 8's enqueue as it
 * was. The claim and the enqueue restate migration 10's `SET jit = off`.
 */
/** Migration 13's claim (migration 14 edits it further). */
export const QUEUE_TIME_RULES_CLAIM_SQL = replaceEach(QUEUE_CLAIM_TIES_FUNCTION_SQL, [
  [
    'SELECT tb.tenant, greatest(tb.vtime, v_vt) AS s, coalesce(tn.weight, 1) AS w, tb.last_cost AS lc, k.k_max\n',
    `SELECT tb.tenant, greatest(tb.vtime, v_vt) AS s, coalesce(tn.weight, 1) AS w, k.k_max,
             -- The cost of the task it would serve next (first entry of its pick index): the
             -- spacing of its start tags in this claim.
             (SELECT t.cost FROM {{schema}}.queue_tasks t
               WHERE t.queue = p_queue AND t.tenant = tb.tenant AND t.cur_band = v_band AND t.state = 'queued' AND t.ready
               ORDER BY t.priority DESC, t.seq LIMIT 1) AS lc\n`,
  ],
  // Nothing reads `last_cost` any more: the claim no longer records it.
  [', count(*)::integer AS n, (array_agg(tg.cost ORDER BY tg.tag DESC))[1] AS lc\n', ', count(*)::integer AS n\n'],
  ['SET vtime = pt.vt_after, ready = tb.ready - pt.n, served_at = v_now, last_cost = pt.lc\n', 'SET vtime = pt.vt_after, ready = tb.ready - pt.n, served_at = v_now\n'],
  [
    `                WHERE tn.queue = p_queue AND tn.rate IS NOT NULL
                  AND EXISTS (SELECT 1 FROM {{schema}}.queue_tenant_bands tb
                               WHERE tb.queue = p_queue AND tb.tenant = tn.tenant AND tb.ready > 0)) r
        WHERE r.tokens < 1)`,
    `                WHERE tn.queue = p_queue AND tn.rate IS NOT NULL
                  AND EXISTS (SELECT 1 FROM {{schema}}.queue_tenant_bands tb
                               WHERE tb.queue = p_queue AND tb.tenant = tn.tenant AND tb.ready > 0)
                  -- Only the token holds it back: under its own cap, and the queue under its cap.
                  AND (tn.max_concurrency IS NULL OR tn.max_concurrency > (
                        SELECT count(*) FROM {{schema}}.queue_tasks x
                         WHERE x.queue = p_queue AND x.tenant = tn.tenant AND x.state IN ('assigned', 'running')))
                  AND (v_q.max_concurrency IS NULL OR v_q.max_concurrency > (
                        SELECT count(*) FROM {{schema}}.queue_tasks x
                         WHERE x.queue = p_queue AND x.state IN ('assigned', 'running')))) r
        WHERE r.tokens < 1)`,
  ],
]);

const REAP = replaceEach(QUEUE_COUNTED_REAP_SQL, [
  [
    `           cur_band = t.band,
           ready_at = p_now,`,
    `           cur_band = CASE WHEN t.attempt < t.max_attempts THEN t.band ELSE t.cur_band END,
           ready_at = CASE WHEN t.attempt < t.max_attempts THEN p_now ELSE t.ready_at END,`,
  ],
  [
    `    FROM reaped r;
END`,
    `    FROM reaped r;
  -- Tasks that died here are kept for the failed retention; with none (0) they go at once, as a
  -- final failure's do. (Completed tasks are not touched: a NULL retention matches none.)
  IF (SELECT q.failed_retention_ms FROM {{schema}}.queues q WHERE q.queue = p_queue) = 0 THEN
    PERFORM {{schema}}.queue_purge(p_queue, p_now, NULL, 0, p_limit);
  END IF;
END`,
  ],
]);

/** Migration 13's SQL. */
export const QUEUE_TIME_RULES_SQL = [
  QUEUE_TIME_RULES_CLAIM_SQL,
  'ALTER FUNCTION {{schema}}.queue_claim(text, text, integer, bigint, text[], text) SET jit = off;',
  REAP,
  QUEUE_COUNTED_ENQUEUE_SQL,
  `ALTER FUNCTION {{schema}}.queue_enqueue(text, text, boolean, uuid[], text[], text[], text[], text[], smallint[], smallint[],
                                        double precision[], text[], integer[], text[], bigint[], bigint[]) SET jit = off;`,
].join('\n');
