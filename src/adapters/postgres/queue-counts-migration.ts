import { QUEUE_COUNTED_FUNCTIONS_SQL } from './queue-counted-functions.js';

/**
 * Migration 8: maintained task counts. `queue_stats` used to count every task of the queue,
 * retained ones included, so a metrics sample cost O(tasks kept): 57 ms at 200 000 tasks, and
 * seconds at the tens of millions that pg-boss and Minion users report (pg-boss #228, Minion
 * #132). Now every queue function that adds, removes or moves a task between counted states
 * appends the net change per (queue, tenant, type, state) to `queue_count_deltas`
 * (queue-counted-functions.ts), and `queue_counts_compact` folds those into `queue_counts`. A
 * stats call reads both: O(groups + deltas since the last compaction).
 *
 * The counted state is the task state, except that a queued task not yet ready counts as
 * 'delayed' (the contract's `queued` includes delayed tasks; `stats` adds them back). A delta
 * table instead of counter rows updated in place: concurrent claims and completions only append,
 * so they never wait on one another's counter row; the compactor, one at a time (advisory lock),
 * moves the deltas over. A reader sees counts and deltas in one snapshot, and the compactor moves
 * rows in one transaction, so every read is exact.
 *
 * Written into the functions rather than left to triggers: statement triggers with transition
 * tables count every path by construction, but cost 5–8% of a claim's and a completion's server
 * time and ~10% of enqueue throughput. Writes to queue_tasks by other means than these functions
 * are not counted (TRUNCATE is, by a trigger without row capture); `queue_counts_rebuild()`
 * recounts after them. The cost grows with the (tenant, type) groups a batch touches: a claim of
 * 500 over 500 tenants appends 1 000 delta rows, and folding costs ~0.8 µs per row.
 * Placeholders as in the other migrations.
 */
export const QUEUE_COUNTS_MIGRATION_SQL = /* sql */ `
-- Task writes wait from here until the migration commits: the counts seeded below and the queue
-- functions replaced below then see the same tasks. (A call that was already running an old
-- function body when it reached this lock finishes that body afterwards, uncounted; run
-- queue_counts_rebuild() after an upgrade under load if exact counts matter.)
LOCK TABLE {{schema}}.queue_tasks IN SHARE ROW EXCLUSIVE MODE;

CREATE TABLE {{schema}}.queue_counts (
  queue  text COLLATE "C" NOT NULL,
  tenant text COLLATE "C" NOT NULL,
  type   text COLLATE "C" NOT NULL,
  state  text NOT NULL,
  n      bigint NOT NULL,
  PRIMARY KEY (queue, tenant, type, state)
);
-- Rows that fell to 0 (a tenant with nothing left in a state) are dropped by the compactor.
CREATE INDEX queue_counts_zero ON {{schema}}.queue_counts (queue) WHERE n = 0;

-- Append-only between compactions, and kept small by them: no index to maintain on each insert.
CREATE TABLE {{schema}}.queue_count_deltas (
  queue  text COLLATE "C" NOT NULL,
  tenant text COLLATE "C" NOT NULL,
  type   text COLLATE "C" NOT NULL,
  state  text NOT NULL,
  n      bigint NOT NULL
);

-- The state a task is counted in: its state, except that a queued task not yet ready is 'delayed'.
CREATE FUNCTION {{schema}}.queue_count_state(p_state text, p_ready boolean) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
  SELECT CASE WHEN p_state = 'queued' AND NOT p_ready THEN 'delayed' ELSE p_state END
$fn$;

-- queue_count_move(queue, tenant, type, from, to): one task left 'from' and entered 'to' (NULL:
-- it was created, or deleted). The single-task functions call it; batches append grouped rows.
CREATE FUNCTION {{schema}}.queue_count_move(p_queue text, p_tenant text, p_type text, p_from text, p_to text)
RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  IF p_from IS NOT DISTINCT FROM p_to THEN
    RETURN;
  END IF;
  INSERT INTO {{schema}}.queue_count_deltas (queue, tenant, type, state, n)
  SELECT p_queue, p_tenant, p_type, m.state, m.n FROM (VALUES (p_from, -1), (p_to, 1)) AS m(state, n) WHERE m.state IS NOT NULL;
END
$fn$;

-- queue_count_task_move(id, to): task 'id', locked by the caller, moves to 'to' (NULL: deleted).
CREATE FUNCTION {{schema}}.queue_count_task_move(p_id uuid, p_to text) RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
  v_t record;
BEGIN
  SELECT t.queue, t.tenant, t.type, {{schema}}.queue_count_state(t.state, t.ready) AS was INTO v_t
    FROM {{schema}}.queue_tasks t WHERE t.id = p_id;
  IF FOUND THEN
    PERFORM {{schema}}.queue_count_move(v_t.queue, v_t.tenant, v_t.type, v_t.was, p_to);
  END IF;
END
$fn$;

-- queue_counts_rebuild() → counts recomputed from the tasks, for every queue of the schema, with
-- task writes held off meanwhile. The migration seeds the counts with it; an operator who changed
-- queue_tasks with their own SQL (which the counts do not see) runs it afterwards.
CREATE FUNCTION {{schema}}.queue_counts_rebuild() RETURNS bigint LANGUAGE plpgsql AS $fn$
DECLARE
  v_groups bigint;
BEGIN
  LOCK TABLE {{schema}}.queue_tasks IN SHARE ROW EXCLUSIVE MODE;
  DELETE FROM {{schema}}.queue_count_deltas;
  DELETE FROM {{schema}}.queue_counts;
  INSERT INTO {{schema}}.queue_counts (queue, tenant, type, state, n)
  SELECT t.queue, t.tenant, t.type, {{schema}}.queue_count_state(t.state, t.ready), count(*)
    FROM {{schema}}.queue_tasks t
   GROUP BY 1, 2, 3, 4;
  GET DIAGNOSTICS v_groups = ROW_COUNT;
  RETURN v_groups;
END
$fn$;

-- TRUNCATE bypasses every function; the counts follow it (no rows to capture, so no cost elsewhere).
CREATE FUNCTION {{schema}}.queue_count_truncated() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  DELETE FROM {{schema}}.queue_counts;
  DELETE FROM {{schema}}.queue_count_deltas;
  RETURN NULL;
END
$fn$;
CREATE TRIGGER queue_tasks_counted_truncate AFTER TRUNCATE ON {{schema}}.queue_tasks
  FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.queue_count_truncated();

-- queue_counts_compact() → deltas folded into queue_counts (0 when another session is compacting:
-- its transaction takes everything committed so far, and readers add the rest themselves).
-- JIT off: these are small statements, but an unvacuumed delta table can push their estimated
-- cost over jit_above_cost, and compiling them then takes longer (~150 ms) than running them.
CREATE FUNCTION {{schema}}.queue_counts_compact() RETURNS bigint LANGUAGE plpgsql SET jit = off AS $fn$
DECLARE
  v_moved bigint;
BEGIN
  IF NOT pg_try_advisory_xact_lock(hashtextextended('{{lock_prefix}}#counts', 0)) THEN
    RETURN 0;
  END IF;
  WITH moved AS (
    DELETE FROM {{schema}}.queue_count_deltas d RETURNING d.queue, d.tenant, d.type, d.state, d.n
  ), summed AS (
    SELECT m.queue, m.tenant, m.type, m.state, sum(m.n)::bigint AS n, count(*) AS k FROM moved m GROUP BY 1, 2, 3, 4
  ), merged AS (
    INSERT INTO {{schema}}.queue_counts AS c (queue, tenant, type, state, n)
    SELECT s.queue, s.tenant, s.type, s.state, s.n FROM summed s WHERE s.n <> 0
     ORDER BY 1, 2, 3, 4
    ON CONFLICT (queue, tenant, type, state) DO UPDATE SET n = c.n + excluded.n
  )
  SELECT coalesce(sum(s.k), 0) INTO v_moved FROM summed s;
  DELETE FROM {{schema}}.queue_counts c WHERE c.n = 0;
  RETURN v_moved;
END
$fn$;

-- The oldest waiting task for stats, without reading every ready task. Claims do not touch this
-- index (a claimed row's new version is not 'queued'); enqueues, activations, retries and aging
-- add an entry: ~6% of an enqueue of 1 000 (12.8 → 13.6 ms, scratch), the price of stats not
-- reading the whole backlog (22 ms at 100 000 waiting tasks before). 'ready_at >= 0' always
-- holds (epoch ms): it is in the predicate so that only a query that says it can use the index.
-- Without it, the claim's per-tenant pick, whose WHERE implies 'queued AND ready', took this
-- index on a table without statistics and scanned every waiting task once per tenant (2.2 s for
-- a claim of 500 over 500 tenants, scratch).
CREATE INDEX queue_tasks_waiting ON {{schema}}.queue_tasks (queue, ready_at) WHERE state = 'queued' AND ready AND ready_at >= 0;

${QUEUE_COUNTED_FUNCTIONS_SQL}
-- The tasks already there (the lock above holds writers off until the migration commits).
SELECT {{schema}}.queue_counts_rebuild();
`;
