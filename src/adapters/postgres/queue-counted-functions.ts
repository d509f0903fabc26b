import { QUEUE_CLAIM_FUNCTION_SQL } from './queue-claim-function.js';
import { QUEUE_MIGRATION_SQL } from './queue-migration.js';
import { functionText, replaceEach, span } from './sql-edit.js';

/**
 * Migration 8, part two: every queue function that adds, removes or moves a task between counted
 * states records the change in `queue_count_deltas` (see queue-counts-migration.ts), in the same
 * statement or transaction as the change. Each is the previous version's text with checked edits.
 *
 * Batch statements (enqueue, the claim's phases, completion, reaping, purging) group their rows
 * by (tenant, type) and append one delta row per group and state; single-task functions (requeue,
 * finish, assign, cancel-and-delete) call queue_count_move, or queue_count_task_move when they
 * have only the task's id. Written out rather than left to
 * triggers. Medians of serial calls over 10 tenants against the same schema with version 7's
 * functions (scratch): statement triggers with transition tables added 0.12 ms to a claim and to
 * a completion of 100 and 0.30 ms to those of 500; these edits add 0.05–0.06 ms at 100, and 0.06
 * ms to a completion and 0.21 ms to a claim (migration 9's changes included) at 500.
 */

/**
 * The delta rows of a batch: `groups` counts the rows per (tenant, type[, states]) as `g(tenant,
 * type, …, k)`, and each group moves `k` tasks by the `(state, sign)` pairs of `moves` (which may
 * name the group's columns). Grouping first and expanding the few groups is cheaper than grouping
 * one row per task and state.
 */
const moveDeltas = (groups: string, moves: string): string => `INSERT INTO {{schema}}.queue_count_deltas (queue, tenant, type, state, n)
    SELECT p_queue, g.tenant, g.type, m.state, m.n * g.k
      FROM (${groups}) AS g
      CROSS JOIN LATERAL (VALUES ${moves}) AS m(state, n)
     WHERE m.state IS NOT NULL`;

const ENQUEUE = replaceEach(functionText(QUEUE_MIGRATION_SQL, 'queue_enqueue'), [
  ['    RETURNING t.id, t.tenant, t.cur_band, t.ready\n', '    RETURNING t.id, t.tenant, t.type, t.cur_band, t.ready\n'],
  [
    `          since = CASE WHEN tb.ready <= 0 THEN excluded.since ELSE tb.since END
  )
  SELECT i.ord::integer`,
    `          since = CASE WHEN tb.ready <= 0 THEN excluded.since ELSE tb.since END
  ), tallied AS (
    ${moveDeltas(`SELECT x.tenant, x.type, x.ready, count(*) AS k FROM ins x GROUP BY 1, 2, 3`, `(CASE WHEN g.ready THEN 'queued' ELSE 'delayed' END, 1)`)}
  )
  SELECT i.ord::integer`,
  ],
]);

const REAP = replaceEach(functionText(QUEUE_MIGRATION_SQL, 'queue_reap'), [
  ['  WITH expired AS (\n    SELECT t.id FROM', '  WITH expired AS (\n    SELECT t.id, t.state FROM'],
  ['    RETURNING t.id, t.tenant, t.type, t.band, t.state, t.attempt\n', '    RETURNING t.id, t.tenant, t.type, t.band, t.state, t.attempt, expired.state AS was\n'],
  [
    `          since = CASE WHEN tb.ready <= 0 THEN excluded.since ELSE tb.since END
  )
  SELECT r.id`,
    `          since = CASE WHEN tb.ready <= 0 THEN excluded.since ELSE tb.since END
  ), tallied AS (
    ${moveDeltas(`SELECT r.tenant, r.type, r.was, r.state, count(*) AS k FROM reaped r GROUP BY 1, 2, 3, 4`, `(g.was, -1), (g.state, 1)`)}
  )
  SELECT r.id`,
  ],
]);

const CLAIM = replaceEach(QUEUE_CLAIM_FUNCTION_SQL, [
  // 1b. Activation: delayed → queued.
  [
    `    RETURNING t.tenant, t.cur_band
  )
  INSERT INTO {{schema}}.queue_tenant_bands`,
    `    RETURNING t.tenant, t.type, t.cur_band
  ), tallied AS (
    ${moveDeltas(`SELECT a.tenant, a.type, count(*) AS k FROM act a GROUP BY 1, 2`, `('delayed', -1), ('queued', 1)`)}
  )
  INSERT INTO {{schema}}.queue_tenant_bands`,
  ],
  // 2. Assigned tasks delivered: assigned → running.
  [
    `t.ready_at, t.token, t.lease_expires_at, t.state, t.seq
  )
  SELECT 't'::text`,
    `t.ready_at, t.token, t.lease_expires_at, t.state, t.seq
  ), tallied AS (
    ${moveDeltas(`SELECT u.tenant, u.type, count(*) AS k FROM upd u GROUP BY 1, 2`, `('assigned', -1), ('running', 1)`)}
  )
  SELECT 't'::text`,
  ],
  // 3. Fair picks: queued → running.
  [
    `       WHERE q.queue = p_queue AND EXISTS (SELECT 1 FROM tagged)
    )
`,
    `       WHERE q.queue = p_queue AND EXISTS (SELECT 1 FROM tagged)
    ), tallied AS (
      ${moveDeltas(`SELECT u.tenant, u.type, count(*) AS k FROM upd u GROUP BY 1, 2`, `('queued', -1), ('running', 1)`)}
    )
`,
  ],
]);

const COMPLETE = replaceEach(functionText(QUEUE_MIGRATION_SQL, 'queue_complete'), [
  [
    `    DELETE FROM {{schema}}.queue_tasks t USING checked k WHERE k.status = 'ok' AND t.id = k.id AND v_q.retention_ms = 0
  )
`,
    `    DELETE FROM {{schema}}.queue_tasks t USING checked k WHERE k.status = 'ok' AND t.id = k.id AND v_q.retention_ms = 0
  ), tallied AS (
    ${moveDeltas(
      `SELECT k.tenant, k.type, k.state, count(*) AS k FROM checked k WHERE k.status = 'ok' GROUP BY 1, 2, 3`,
      `(g.state, -1), (CASE WHEN v_q.retention_ms > 0 THEN 'completed' END, 1)`,
    )}
  )
`,
  ],
]);

// Single tasks: the caller holds the row lock, so the state read first is the one that changes.
const REQUEUE = replaceEach(functionText(QUEUE_MIGRATION_SQL, 'queue_requeue'), [
  [
    `RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
`,
    `RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM {{schema}}.queue_count_task_move(p_id, CASE WHEN p_ready_at <= p_now THEN 'queued' ELSE 'delayed' END);
`,
  ],
]);

const FINISH = replaceEach(functionText(QUEUE_MIGRATION_SQL, 'queue_finish'), [
  [
    `RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
`,
    `RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM {{schema}}.queue_count_task_move(p_id, CASE WHEN p_retention = 0 THEN NULL ELSE p_state END);
`,
  ],
]);

const ASSIGN = replaceEach(functionText(QUEUE_MIGRATION_SQL, 'queue_assign'), [
  [
    `  UPDATE {{schema}}.queue_tasks t
     SET state = 'assigned'`,
    `  PERFORM {{schema}}.queue_count_move(p_queue, v_t.tenant, v_t.type, {{schema}}.queue_count_state(v_t.state, v_t.ready), 'assigned');
  UPDATE {{schema}}.queue_tasks t
     SET state = 'assigned'`,
  ],
]);

const CANCEL = replaceEach(functionText(QUEUE_MIGRATION_SQL, 'queue_cancel'), [
  [
    `    DELETE FROM {{schema}}.queue_tasks t WHERE t.id = p_id;`,
    `    DELETE FROM {{schema}}.queue_tasks t WHERE t.id = p_id;
    PERFORM {{schema}}.queue_count_move(p_queue, v_t.tenant, v_t.type, {{schema}}.queue_count_state(v_t.state, v_t.ready), NULL);`,
  ],
]);

const MAINTAIN = replaceEach(functionText(QUEUE_MIGRATION_SQL, 'queue_maintain'), [
  [
    `    DELETE FROM {{schema}}.queue_tasks t USING doomed WHERE t.id = doomed.id RETURNING 1
  )
`,
    `    DELETE FROM {{schema}}.queue_tasks t USING doomed WHERE t.id = doomed.id RETURNING t.tenant, t.type, t.state
  ), tallied AS (
    ${moveDeltas(`SELECT x.tenant, x.type, x.state, count(*) AS k FROM gone x GROUP BY 1, 2, 3`, `(g.state, -1)`)}
  )
`,
  ],
  // Maintenance also folds the deltas, so they stay few between stats calls (or without any).
  [
    `  SELECT count(*) INTO v_purged FROM gone;
`,
    `  SELECT count(*) INTO v_purged FROM gone;
  PERFORM {{schema}}.queue_counts_compact();
`,
  ],
]);

// Stats read the maintained counts and the oldest waiting task from its index, after folding the
// deltas (when no other session is), so a read adds up few delta rows.
const STATS_V2 = functionText(QUEUE_MIGRATION_SQL, 'queue_stats');
const STATS = replaceEach(STATS_V2, [
  [
    `  v_q := {{schema}}.queue_config(p_queue);
`,
    `  v_q := {{schema}}.queue_config(p_queue);
  PERFORM {{schema}}.queue_counts_compact();
`,
  ],
  [
    // Version 2's per-group recount and oldest-task scan, as one checked block.
    span(STATS_V2, `        SELECT t.tenant, t.type,\n`, `    'oldest', (SELECT min(t.ready_at) FROM {{schema}}.queue_tasks t WHERE t.queue = p_queue AND t.state = 'queued' AND t.ready),`),
    `        SELECT s.tenant, s.type,
               coalesce(sum(s.n) FILTER (WHERE s.state IN ('queued', 'delayed')), 0) AS queued,
               coalesce(sum(s.n) FILTER (WHERE s.state = 'delayed'), 0) AS delayed,
               coalesce(sum(s.n) FILTER (WHERE s.state = 'assigned'), 0) AS assigned,
               coalesce(sum(s.n) FILTER (WHERE s.state = 'running'), 0) AS running,
               coalesce(sum(s.n) FILTER (WHERE s.state = 'completed'), 0) AS completed,
               coalesce(sum(s.n) FILTER (WHERE s.state = 'failed'), 0) AS failed,
               coalesce(sum(s.n) FILTER (WHERE s.state = 'cancelled'), 0) AS cancelled,
               coalesce(sum(s.n) FILTER (WHERE s.state = 'dead'), 0) AS dead
          FROM (SELECT u.tenant, u.type, u.state, sum(u.n) AS n
                  FROM (SELECT c.tenant, c.type, c.state, c.n FROM {{schema}}.queue_counts c WHERE c.queue = p_queue
                        UNION ALL
                        SELECT d.tenant, d.type, d.state, d.n FROM {{schema}}.queue_count_deltas d WHERE d.queue = p_queue) u
                 GROUP BY 1, 2, 3
                HAVING sum(u.n) <> 0) s
         GROUP BY s.tenant, s.type) g),
    'oldest', (SELECT t.ready_at FROM {{schema}}.queue_tasks t
                WHERE t.queue = p_queue AND t.state = 'queued' AND t.ready AND t.ready_at >= 0 ORDER BY t.ready_at LIMIT 1),`,
  ],
]);

/**
 * The queue functions of schema version 8, in dependency order: the claim calls queue_reap, fail
 * and release call queue_requeue and queue_finish, cancel calls queue_finish.
 */
export const QUEUE_COUNTED_FUNCTIONS_SQL = [ENQUEUE, REAP, CLAIM, COMPLETE, REQUEUE, FINISH, ASSIGN, CANCEL, MAINTAIN, STATS].join('\n');

/** Migration 8's completion, which migration 11 edits further. */
export const QUEUE_COUNTED_COMPLETE_SQL = COMPLETE;

/** Migration 8's maintenance, which migration 11 edits further. */
export const QUEUE_COUNTED_MAINTAIN_SQL = MAINTAIN;

/** Migration 8's claim, which migration 9 edits further. */
export const QUEUE_COUNTED_CLAIM_SQL = CLAIM;

/** Migration 8's reaping, which migration 13 edits further. */
export const QUEUE_COUNTED_REAP_SQL = REAP;

/** Migration 8's enqueue, which migration 9 edits further. */
export const QUEUE_COUNTED_ENQUEUE_SQL = ENQUEUE;
