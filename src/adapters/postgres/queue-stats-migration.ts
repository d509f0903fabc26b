/**
 * Migration 7: shared stats snapshots. `queue_stats` counted every task of a queue (until
 * migration 8 maintained the counts), so its cost grew with the tasks kept (~0.3 µs each: ~60 ms
 * at 200 000). With `statsMaxAgeMs` set, every
 * process reads one snapshot per queue, and at most one of them recomputes it when it is older than
 * that, instead of each metrics loop counting the whole table. The snapshot table is UNLOGGED: a
 * cache, emptied by a crash and written without WAL. Placeholders as in the other migrations.
 */
export const QUEUE_STATS_SNAPSHOTS_SQL = /* sql */ `
CREATE UNLOGGED TABLE {{schema}}.queue_stats_snapshots (
  queue    text COLLATE "C" PRIMARY KEY,
  taken_at bigint NOT NULL,
  body     text NOT NULL
);

-- queue_stats_shared($1 queue, $2 max age ms) → a queue_stats document at most $2 ms old. When
-- the stored one is older, one caller recomputes it under a per-queue advisory lock while the
-- others wait for it and read the fresh one (no stampede when a snapshot expires).
CREATE FUNCTION {{schema}}.queue_stats_shared(p_queue text, p_max_age_ms bigint) RETURNS text LANGUAGE plpgsql AS $fn$
DECLARE
  v_body text;
BEGIN
  SELECT s.body INTO v_body FROM {{schema}}.queue_stats_snapshots s
   WHERE s.queue = p_queue AND s.taken_at >= {{schema}}.queue_now() - p_max_age_ms;
  IF FOUND THEN
    RETURN v_body;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtextextended('{{lock_prefix}}#stats:' || p_queue, 0));
  SELECT s.body INTO v_body FROM {{schema}}.queue_stats_snapshots s
   WHERE s.queue = p_queue AND s.taken_at >= {{schema}}.queue_now() - p_max_age_ms;
  IF FOUND THEN
    RETURN v_body;
  END IF;
  v_body := {{schema}}.queue_stats(p_queue);
  INSERT INTO {{schema}}.queue_stats_snapshots AS s (queue, taken_at, body)
  VALUES (p_queue, (v_body::json ->> 'at')::bigint, v_body)
  ON CONFLICT (queue) DO UPDATE SET taken_at = excluded.taken_at, body = excluded.body;
  RETURN v_body;
END
$fn$;
`;
