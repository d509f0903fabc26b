/**
 * Migration 8: maintained task counts. `queue_stats` used to count every task of the queue,
 * retained ones included, so a metrics sample cost O(tasks kept): 57 ms at 200 000 tasks, and
 * seconds at the tens of millions that pg-boss and Minion users report (pg-boss #228, Minion
 * #132). Now statement-level triggers on `queue_tasks` append each statement's net change per
 * (queue, tenant, type, state) to `queue_count_deltas`, and `queue_counts_compact` folds those
 * into `queue_counts`. A stats call reads both: O(groups + deltas since the last compaction).
 *
 * Triggers rather than a write in each queue function: every path that changes a task (the
 * queue functions, retention purges, an operator's own SQL) is counted by construction, and no
 * later migration can forget one. The cost is each statement's transition tables and one grouped
 * insert: ~0.4–0.5 ms on a claim of 500 (8.3–8.8 → 8.8–9.3 ms) and on a completion of 500
 * (6.2–6.5 → 6.7–7.1 ms), 5–8% of the server time of a drain; a third of it is capturing the
 * rows, the rest grouping them (scratch measurement: serial calls alternating between two schemas
 * of 40 000–50 000 tasks over 10 tenants, one with the triggers dropped; medians). The cost grows
 * with the (tenant, type) groups a statement touches: a claim of 500 over 500 tenants appends
 * 1 000 delta rows (~1.4 ms for the claim's and again for the completion's), and folding them
 * costs ~0.8 µs per row (180 000 rows in ~145 ms), ~9 µs per task in all when every task of a
 * batch is another tenant's.
 *
 * The counted state is the task state, except that a queued task not yet ready counts as
 * 'delayed' (the contract's `queued` includes delayed tasks; `stats` adds them back). A delta
 * table instead of counter rows updated in place: concurrent claims and completions only append,
 * so they never wait on one another's counter row; the compactor, one at a time (advisory lock),
 * moves the deltas over. A reader sees counts and deltas in one snapshot, and the compactor moves
 * rows in one transaction, so every read is exact. Placeholders as in the other migrations.
 */
export const QUEUE_COUNTS_MIGRATION_SQL = /* sql */ `
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

CREATE FUNCTION {{schema}}.queue_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  INSERT INTO {{schema}}.queue_count_deltas (queue, tenant, type, state, n)
  SELECT r.queue, r.tenant, r.type, CASE WHEN r.state = 'queued' AND NOT r.ready THEN 'delayed' ELSE r.state END, count(*)
    FROM new_rows r
   GROUP BY 1, 2, 3, 4;
  RETURN NULL;
END
$fn$;

CREATE FUNCTION {{schema}}.queue_count_deleted() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  INSERT INTO {{schema}}.queue_count_deltas (queue, tenant, type, state, n)
  SELECT r.queue, r.tenant, r.type, CASE WHEN r.state = 'queued' AND NOT r.ready THEN 'delayed' ELSE r.state END, -count(*)
    FROM old_rows r
   GROUP BY 1, 2, 3, 4;
  RETURN NULL;
END
$fn$;

-- An update moves each row from its old (tenant, type, state) to its new one; statements that
-- change no counted column (lease extensions, aging) net to nothing and append nothing. Each side
-- is grouped before the two are netted, so the netting combines a few rows per group.
CREATE FUNCTION {{schema}}.queue_count_updated() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  INSERT INTO {{schema}}.queue_count_deltas (queue, tenant, type, state, n)
  SELECT x.queue, x.tenant, x.type, x.state, sum(x.n)
    FROM (SELECT r.queue, r.tenant, r.type, CASE WHEN r.state = 'queued' AND NOT r.ready THEN 'delayed' ELSE r.state END AS state,
                 -count(*) AS n
            FROM old_rows r
           GROUP BY 1, 2, 3, 4
          UNION ALL
          SELECT r.queue, r.tenant, r.type, CASE WHEN r.state = 'queued' AND NOT r.ready THEN 'delayed' ELSE r.state END, count(*)
            FROM new_rows r
           GROUP BY 1, 2, 3, 4) x
   GROUP BY 1, 2, 3, 4
  HAVING sum(x.n) <> 0;
  RETURN NULL;
END
$fn$;

CREATE FUNCTION {{schema}}.queue_count_truncated() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  DELETE FROM {{schema}}.queue_counts;
  DELETE FROM {{schema}}.queue_count_deltas;
  RETURN NULL;
END
$fn$;

CREATE TRIGGER queue_tasks_counted_insert AFTER INSERT ON {{schema}}.queue_tasks
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.queue_count_inserted();
CREATE TRIGGER queue_tasks_counted_update AFTER UPDATE ON {{schema}}.queue_tasks
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.queue_count_updated();
CREATE TRIGGER queue_tasks_counted_delete AFTER DELETE ON {{schema}}.queue_tasks
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.queue_count_deleted();
CREATE TRIGGER queue_tasks_counted_truncate AFTER TRUNCATE ON {{schema}}.queue_tasks
  FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.queue_count_truncated();

-- The tasks already there. CREATE TRIGGER locked the table against writes (SHARE ROW EXCLUSIVE)
-- until the migration commits, so no change falls between this count and the triggers.
INSERT INTO {{schema}}.queue_counts (queue, tenant, type, state, n)
SELECT t.queue, t.tenant, t.type, CASE WHEN t.state = 'queued' AND NOT t.ready THEN 'delayed' ELSE t.state END, count(*)
  FROM {{schema}}.queue_tasks t
 GROUP BY 1, 2, 3, 4;

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
-- add an entry. 'ready_at >= 0' always holds (epoch ms): it is in the predicate so that only a
-- query that says it can use the index. Without it, the claim's per-tenant pick, whose WHERE
-- implies 'queued AND ready', took this index on a table without statistics and scanned every
-- waiting task once per tenant (2.2 s for a claim of 500 over 500 tenants, scratch).
CREATE INDEX queue_tasks_waiting ON {{schema}}.queue_tasks (queue, ready_at) WHERE state = 'queued' AND ready AND ready_at >= 0;

-- queue_stats($1 queue): as in migration 2, with the groups read from the maintained counts and
-- the oldest waiting task from its index. It compacts first (when no other session is), so a
-- read adds up few delta rows.
CREATE OR REPLACE FUNCTION {{schema}}.queue_stats(p_queue text) RETURNS text LANGUAGE plpgsql AS $fn$
DECLARE
  v_now bigint;
  v_q {{schema}}.queues;
BEGIN
  v_q := {{schema}}.queue_config(p_queue);
  PERFORM {{schema}}.queue_counts_compact();
  v_now := {{schema}}.queue_now();
  RETURN json_build_object(
    'at', v_now,
    'groups', (SELECT coalesce(json_agg(g ORDER BY g.tenant, g.type), '[]'::json) FROM (
        SELECT s.tenant, s.type,
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
                WHERE t.queue = p_queue AND t.state = 'queued' AND t.ready AND t.ready_at >= 0 ORDER BY t.ready_at LIMIT 1),
    'tenants', (SELECT coalesce(json_agg(x ORDER BY x.tenant), '[]'::json) FROM (
        SELECT coalesce(r.tenant, l.tenant) AS tenant, coalesce(r.ready, 0) AS ready, coalesce(l.leased, 0) AS leased, r.unserved
          FROM (SELECT tb.tenant, sum(tb.ready)::integer AS ready,
                       max(v_now - greatest(coalesce(tb.served_at, tb.since), tb.since)) AS unserved
                  FROM {{schema}}.queue_tenant_bands tb WHERE tb.queue = p_queue AND tb.ready > 0 GROUP BY tb.tenant) r
          FULL JOIN (SELECT t.tenant, count(*)::integer AS leased FROM {{schema}}.queue_tasks t
                      WHERE t.queue = p_queue AND t.state IN ('assigned', 'running') GROUP BY t.tenant) l ON l.tenant = r.tenant) x),
    'policy', json_build_object('maxConcurrency', v_q.max_concurrency, 'agingMs', v_q.aging_ms,
                                'retentionMs', v_q.retention_ms, 'failedRetentionMs', v_q.failed_retention_ms)
  )::text;
END
$fn$;
`;
