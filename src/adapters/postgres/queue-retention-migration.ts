import { QUEUE_COUNTED_COMPLETE_SQL, QUEUE_COUNTED_MAINTAIN_SQL } from './queue-counted-functions.js';
import { QUEUE_MIGRATION_SQL } from './queue-migration.js';
import { functionText, replaceEach, span } from './sql-edit.js';

/**
 * Migration 11: retention that keeps up with the queue. Two faults of the purge, both found at
 * 200 000 retained tasks (scratch: a drain, then `reapExpired()`):
 *
 * - It selected `finished_at + retention <= now`, which no index can answer: with nothing due,
 *   every maintenance call read every retained task (200 000 index entries and 9 000 heap pages,
 *   35–66 ms; seconds at tens of millions), holding the queue's lock, so claims waited for it.
 *   `finished_at <= now - retention` is a range of the `queue_tasks_done` index: O(tasks purged).
 * - Only maintenance purged: the adapter's sweeper (1 000 tasks a minute) and an idle worker's
 *   maintenance (a saturated worker never runs it). Any queue completing more than ~17 tasks a
 *   second kept its completed tasks for good. Now each completion and failure also purges up to
 *   twice as many expired tasks as it settles, so purging outpaces completing and catches up
 *   after a backlog; rows another session is purging are skipped, not waited for.
 *
 * The purge moves to its own function, `queue_purge`; completion, failure and maintenance call
 * it. Functions restated here keep migration 10's `SET jit = off`. Placeholders as in the other
 * migrations.
 */
const PURGE = /* sql */ `
-- queue_purge($1 queue, $2 now, $3 retention ms, $4 failed retention ms (NULL: keep), $5 limit)
--   → tasks removed: completed and cancelled ones past the retention, then failed and dead ones
-- past theirs, oldest first, up to $5 of each. Each range is read from its index from the
-- oldest entry on. Rows another session is purging are skipped.
CREATE FUNCTION {{schema}}.queue_purge(p_queue text, p_now bigint, p_retention bigint, p_failed_retention bigint, p_limit integer)
RETURNS integer LANGUAGE plpgsql AS $fn$
DECLARE
  v_purged integer;
BEGIN
  -- Probes first: each reads the first entry of its index. With nothing due, as on most calls,
  -- that is all a completion pays (the purge statement itself is planned anew at each call: its
  -- LIMIT and bounds are parameters, and a generic plan would have to guess them).
  IF NOT coalesce((SELECT t.finished_at FROM {{schema}}.queue_tasks t
                    WHERE t.queue = p_queue AND t.state IN ('completed', 'cancelled')
                    ORDER BY t.finished_at LIMIT 1) <= p_now - p_retention, false)
     AND NOT coalesce((SELECT t.finished_at FROM {{schema}}.queue_tasks t
                        WHERE t.queue = p_queue AND t.state IN ('failed', 'dead')
                        ORDER BY t.finished_at LIMIT 1) <= p_now - p_failed_retention, false) THEN
    RETURN 0;
  END IF;
  WITH done AS (
    SELECT t.id FROM {{schema}}.queue_tasks t
     WHERE t.queue = p_queue AND t.state IN ('completed', 'cancelled') AND t.finished_at <= p_now - p_retention
     ORDER BY t.finished_at LIMIT p_limit
       FOR UPDATE SKIP LOCKED
  ), failed AS (
    SELECT t.id FROM {{schema}}.queue_tasks t
     WHERE t.queue = p_queue AND t.state IN ('failed', 'dead') AND t.finished_at <= p_now - p_failed_retention
     ORDER BY t.finished_at LIMIT (CASE WHEN p_failed_retention IS NULL THEN 0 ELSE p_limit END)
       FOR UPDATE SKIP LOCKED
  ), gone AS (
    DELETE FROM {{schema}}.queue_tasks t
     USING (SELECT d.id FROM done d UNION ALL SELECT f.id FROM failed f) doomed
     WHERE t.id = doomed.id
    RETURNING t.tenant, t.type, t.state
  ), tallied AS (
    INSERT INTO {{schema}}.queue_count_deltas (queue, tenant, type, state, n)
    SELECT p_queue, g.tenant, g.type, g.state, -count(*) FROM gone g GROUP BY 2, 3, 4
  )
  SELECT count(*) INTO v_purged FROM gone;
  RETURN v_purged;
END
$fn$;
`;

const NO_JIT: readonly [string, string] = ['LANGUAGE plpgsql AS $fn$', 'LANGUAGE plpgsql SET jit = off AS $fn$'];

const MAINTAIN = replaceEach(QUEUE_COUNTED_MAINTAIN_SQL, [
  NO_JIT,
  [
    span(QUEUE_COUNTED_MAINTAIN_SQL, '  WITH doomed AS (\n', '  SELECT count(*) INTO v_purged FROM gone;\n'),
    '  v_purged := {{schema}}.queue_purge(p_queue, v_now, v_q.retention_ms, v_q.failed_retention_ms, p_limit);\n',
  ],
]);

// After the batch is settled: its own rows were finished just now, so none of them is due.
const COMPLETE = replaceEach(QUEUE_COUNTED_COMPLETE_SQL, [
  NO_JIT,
  [
    '    FROM checked k ORDER BY k.ord;\n',
    `    FROM checked k ORDER BY k.ord;
  -- Retention keeps pace with completions: up to twice as many expired tasks out as settled here.
  PERFORM {{schema}}.queue_purge(p_queue, v_now, v_q.retention_ms, v_q.failed_retention_ms, 2 * cardinality(p_ids));
`,
  ],
]);

const FAIL = replaceEach(functionText(QUEUE_MIGRATION_SQL, 'queue_fail'), [
  NO_JIT,
  [
    `    RETURN QUERY SELECT v_status, v_t.state, v_t.tenant, v_t.type, v_t.attempt, v_now, NULL::bigint, NULL::text;
    RETURN;
  END IF;
`,
    `    RETURN QUERY SELECT v_status, v_t.state, v_t.tenant, v_t.type, v_t.attempt, v_now, NULL::bigint, NULL::text;
    RETURN;
  END IF;
  PERFORM {{schema}}.queue_purge(p_queue, v_now, v_q.retention_ms, v_q.failed_retention_ms, 2);
`,
  ],
]);

/** Migration 11's SQL: `queue_purge`, and the maintenance, completion and failure that call it. */
export const QUEUE_RETENTION_SQL = [PURGE, MAINTAIN, COMPLETE, FAIL].join('\n');
