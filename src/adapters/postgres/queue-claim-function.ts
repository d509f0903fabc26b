/**
 * Migration 6: the fair claim (`queue_claim`) replaced. Migration 2 created the first version and
 * keeps it verbatim (a released migration never changes). With planner statistics, which
 * autovacuum gathers on every real deployment, that version's probes and its update became
 * sequential scans of the whole task table: a claim of 500 took ~40 ms instead of ~10 ms at
 * 50 000 tasks. Placeholders as in the other migrations.
 */
export const QUEUE_CLAIM_FUNCTION_SQL = /* sql */ `
-- queue_claim($1 queue, $2 worker, $3 limit, $4 lease ms, $5 lease tokens (at least $3), $6 channel)
--   → rows of kind 'r' (a reaped lease), 't' (a claimed task, o_pos = serving order) and at most
--     one 'n' (ms until something may become claimable, when fewer than $3 tasks came back).
-- The claim order of the QueueAdapter contract, under the queue's advisory lock.
-- plan_cache_mode = force_generic_plan (set for this transaction, on PostgreSQL 12+ where it
-- exists): the statements depend on their parameters only through index lookups and LIMITs, and
-- re-planning the band statement on every call (PostgreSQL's default for the first executions,
-- and whenever the generic plan looks costlier) costs more than the whole claim.
-- Hash and merge joins off (for this function only): every join here is a few hundred picked
-- rows against an index. A generic plan cannot see the LIMITs, so once the table has statistics
-- it estimates ~all queued rows picked and hashes the whole task table on every claim.
CREATE OR REPLACE FUNCTION {{schema}}.queue_claim(p_queue text, p_worker text, p_limit integer, p_lease_ms bigint, p_tokens text[], p_channel text)
RETURNS TABLE (
  o_kind text, o_id uuid, o_tenant text, o_type text, o_owner text, o_payload text, o_band smallint, o_cur_band smallint,
  o_priority smallint, o_cost float8, o_opts text, o_attempt integer, o_max_attempts integer, o_created_at bigint,
  o_ready_at bigint, o_token text, o_expires bigint, o_state text, o_reason text, o_at bigint, o_next_ms bigint, o_pos integer)
LANGUAGE plpgsql
SET enable_hashjoin = off
SET enable_mergejoin = off
AS $fn$
DECLARE
  v_now bigint;
  v_q {{schema}}.queues;
  v_got integer := 0;
  v_n integer;
  v_avail integer;
  v_band integer;
  v_budget integer;
  v_next bigint;
  v_vt float8;
BEGIN
  IF current_setting('server_version_num')::integer >= 120000 THEN
    PERFORM set_config('plan_cache_mode', 'force_generic_plan', true);
  END IF;
  PERFORM pg_advisory_xact_lock(hashtextextended('{{lock_prefix}}#queue:' || p_queue, 0));
  v_q := {{schema}}.queue_config(p_queue);
  v_now := {{schema}}.queue_now();

  -- Each phase first probes its index: a phase with nothing to do then costs one index lookup
  -- instead of setting up its data-modifying statement. The probes read the index's first entry
  -- (ORDER BY … LIMIT 1) rather than ask EXISTS(… <= now): with statistics, the planner answers
  -- an EXISTS it expects to be true with a sequential scan, which reads the whole table when it
  -- is false.
  -- 1a. Expired leases.
  IF (SELECT t.lease_expires_at FROM {{schema}}.queue_tasks t
       WHERE t.queue = p_queue AND t.state IN ('assigned', 'running') ORDER BY t.lease_expires_at LIMIT 1) <= v_now THEN
  RETURN QUERY
  SELECT 'r'::text, r.o_id, r.o_tenant, r.o_type, NULL::text, NULL::text, NULL::smallint, NULL::smallint, NULL::smallint,
         NULL::float8, NULL::text, r.o_attempt, NULL::integer, NULL::bigint, CASE WHEN r.o_state = 'queued' THEN v_now END,
         NULL::text, NULL::bigint, r.o_state, r.o_reason, v_now, NULL::bigint, 0
    FROM {{schema}}.queue_reap(p_queue, v_now, v_q.aging_ms, 1000) r;
  GET DIAGNOSTICS v_n = ROW_COUNT;
  IF v_n > 0 THEN
    PERFORM pg_notify(p_channel, 'j{}');
  END IF;
  END IF;

  -- 1b. Due delayed tasks become ready.
  IF (SELECT t.ready_at FROM {{schema}}.queue_tasks t
       WHERE t.queue = p_queue AND t.state = 'queued' AND NOT t.ready ORDER BY t.ready_at LIMIT 1) <= v_now THEN
  WITH due AS (
    SELECT t.id FROM {{schema}}.queue_tasks t
     WHERE t.queue = p_queue AND t.state = 'queued' AND NOT t.ready AND t.ready_at <= v_now
     ORDER BY t.ready_at
     LIMIT 1000
       FOR UPDATE SKIP LOCKED
  ), act AS (
    UPDATE {{schema}}.queue_tasks t
       SET ready = true,
           promote_at = CASE WHEN v_q.aging_ms IS NOT NULL AND t.cur_band > 0 THEN t.ready_at + v_q.aging_ms END
      FROM due WHERE t.id = due.id
    RETURNING t.tenant, t.cur_band
  )
  INSERT INTO {{schema}}.queue_tenant_bands AS tb (queue, band, tenant, ready, since)
  SELECT p_queue, a.cur_band, a.tenant, count(*)::integer, v_now FROM act a GROUP BY a.cur_band, a.tenant ORDER BY 2, 3
  ON CONFLICT (queue, band, tenant) DO UPDATE
    SET ready = tb.ready + excluded.ready,
        since = CASE WHEN tb.ready <= 0 THEN excluded.since ELSE tb.since END;
  END IF;

  -- 1c. Aging: lowest band first, so a task due for several promotions climbs them all now.
  v_budget := 1000;
  FOR v_band IN REVERSE 3..1 LOOP
    EXIT WHEN v_budget <= 0;
    CONTINUE WHEN coalesce((SELECT t.promote_at FROM {{schema}}.queue_tasks t
                             WHERE t.queue = p_queue AND t.state = 'queued' AND t.ready AND t.promote_at IS NOT NULL
                               AND t.cur_band = v_band ORDER BY t.promote_at LIMIT 1) > v_now, true);
    WITH aged AS (
      SELECT t.id FROM {{schema}}.queue_tasks t
       WHERE t.queue = p_queue AND t.state = 'queued' AND t.ready AND t.promote_at IS NOT NULL
         AND t.cur_band = v_band AND t.promote_at <= v_now
       ORDER BY t.promote_at
       LIMIT v_budget
         FOR UPDATE SKIP LOCKED
    ), moved AS (
      UPDATE {{schema}}.queue_tasks t
         SET cur_band = v_band - 1,
             promote_at = CASE WHEN v_band - 1 > 0 THEN t.promote_at + v_q.aging_ms END
        FROM aged WHERE t.id = aged.id
      RETURNING t.tenant
    ), counted AS (
      INSERT INTO {{schema}}.queue_tenant_bands AS tb (queue, band, tenant, ready, since)
      SELECT p_queue, d.band, d.tenant, sum(d.delta)::integer, v_now
        FROM (SELECT v_band::smallint AS band, m.tenant, -1 AS delta FROM moved m
              UNION ALL SELECT (v_band - 1)::smallint, m.tenant, 1 FROM moved m) d
       GROUP BY d.band, d.tenant ORDER BY 2, 3
      ON CONFLICT (queue, band, tenant) DO UPDATE
        SET ready = tb.ready + excluded.ready,
            since = CASE WHEN tb.ready <= 0 AND excluded.ready > 0 THEN excluded.since ELSE tb.since END
    )
    SELECT count(*) INTO v_n FROM moved;
    v_budget := v_budget - v_n;
  END LOOP;

  -- 2. Tasks an operator assigned to this worker.
  IF EXISTS (SELECT 1 FROM {{schema}}.queue_tasks t WHERE t.queue = p_queue AND t.state = 'assigned' AND t.worker = p_worker) THEN
  RETURN QUERY
  WITH mine AS (
    SELECT t.id FROM {{schema}}.queue_tasks t
     WHERE t.queue = p_queue AND t.state = 'assigned' AND t.worker = p_worker
     ORDER BY t.seq
     LIMIT p_limit
       FOR UPDATE SKIP LOCKED
  ), upd AS (
    UPDATE {{schema}}.queue_tasks t
       SET state = 'running', lease_expires_at = v_now + p_lease_ms, updated_at = v_now,
           history = t.history || {{schema}}.queue_hist('running', v_now, t.attempt, p_worker, NULL)
      FROM mine WHERE t.id = mine.id
    RETURNING t.id, t.tenant, t.type, t.owner, t.payload, t.band, t.cur_band, t.priority, t.cost, t.opts, t.attempt, t.max_attempts, t.created_at, t.ready_at, t.token, t.lease_expires_at, t.state, t.seq
  )
  SELECT 't'::text, u.id, u.tenant, u.type, u.owner, u.payload, u.band, u.cur_band, u.priority, u.cost, u.opts, u.attempt,
         u.max_attempts, u.created_at, u.ready_at, u.token, u.lease_expires_at, u.state, NULL::text, v_now, NULL::bigint,
         (row_number() OVER (ORDER BY u.seq))::integer
    FROM upd u;
  GET DIAGNOSTICS v_n = ROW_COUNT;
  v_got := v_n;
  END IF;

  -- 3. Fair picks, band by band, within the global cap.
  v_avail := p_limit - v_got;
  IF v_q.max_concurrency IS NOT NULL AND v_avail > 0 THEN
    v_avail := least(v_avail, v_q.max_concurrency - (
      SELECT count(*) FROM {{schema}}.queue_tasks t WHERE t.queue = p_queue AND t.state IN ('assigned', 'running'))::integer);
  END IF;
  FOR v_band IN 0..3 LOOP
    EXIT WHEN v_avail <= 0;
    CONTINUE WHEN NOT EXISTS (SELECT 1 FROM {{schema}}.queue_tenant_bands tb WHERE tb.queue = p_queue AND tb.band = v_band AND tb.ready > 0);
    v_vt := v_q.vt[v_band + 1];
    RETURN QUERY
    WITH cand AS (
      -- Eligible tenants with ready tasks in this band, by virtual time then id; the first
      -- v_avail of them are the only ones whose start tags can be among the v_avail smallest.
      SELECT tb.tenant, greatest(tb.vtime, v_vt) AS s, coalesce(tn.weight, 1) AS w, tb.last_cost AS lc, k.k_max
        FROM {{schema}}.queue_tenant_bands tb
        LEFT JOIN {{schema}}.queue_tenants tn ON tn.queue = tb.queue AND tn.tenant = tb.tenant
        CROSS JOIN LATERAL (
          SELECT least(v_avail, tb.ready,
                   CASE WHEN tn.max_concurrency IS NULL THEN v_avail
                        ELSE tn.max_concurrency - (SELECT count(*) FROM {{schema}}.queue_tasks x
                                                     WHERE x.queue = p_queue AND x.tenant = tb.tenant
                                                       AND x.state IN ('assigned', 'running'))::integer END,
                   CASE WHEN tn.rate IS NULL THEN v_avail
                        ELSE floor(least(tn.burst, tn.tokens + greatest(0, v_now - tn.tokens_at) * tn.rate / 1000))::integer END) AS k_max
        ) k
       WHERE tb.queue = p_queue AND tb.band = v_band AND tb.ready > 0 AND k.k_max > 0
       ORDER BY tb.vtime, tb.tenant
       LIMIT v_avail
    ), level AS (
      -- A start tag T at or above the v_avail-th smallest one, so only tags up to T need generating
      -- (~v_avail rows instead of up to v_avail per tenant): with n_i(T) = floor((T - s_i) / d_i)
      -- + 1 tags of tenant i at or below T, sum n_i(T) >= sum (T - s_i) / d_i = v_avail at this T.
      -- No T when a cost is 0 (validation rejects it anyway).
      SELECT CASE WHEN bool_and(c.lc > 0) THEN (v_avail + sum(c.s * c.w / nullif(c.lc, 0))) / sum(c.w / nullif(c.lc, 0)) END AS t
        FROM cand c
    ), below AS (
      -- n: the tenant's tags at or below T, under its cap. 'enough' checks the bound again under
      -- the caps; without it (or without T: n = 0), every capped tag is generated. n stays float8
      -- until clamped: absurd cost ratios give NaN or infinity, which least() turns into the cap
      -- (NaN sorts above every number), i.e. the full generation.
      SELECT c.tenant, c.s, c.w, c.lc, c.k_max, b.n, sum(b.n) OVER () >= v_avail AS enough
        FROM cand c CROSS JOIN level lv
        CROSS JOIN LATERAL (SELECT least(c.k_max::float8, greatest(0, floor((lv.t - c.s) * c.w / nullif(c.lc, 0)) + 1)) AS n) b
    ), slots AS (
      -- One tag more per tenant than counted: rounding can put a tag computed at or below T one
      -- step past floor().
      SELECT b.tenant, b.s + (g.i - 1) * b.lc / b.w AS tag
        FROM below b
        CROSS JOIN LATERAL generate_series(1, CASE WHEN b.enough THEN least(b.k_max, b.n::integer + 1) ELSE b.k_max END) AS g(i)
       ORDER BY 2, 1
       LIMIT v_avail
    ), alloc AS (
      SELECT sl.tenant, count(*)::integer AS k FROM slots sl GROUP BY sl.tenant
    ), picked AS (
      -- Each pick carries its tenant's start tag and weight, so tagging needs no join.
      SELECT p.id, row_number() OVER () AS rn, c.s, c.w
        FROM alloc a JOIN cand c ON c.tenant = a.tenant CROSS JOIN LATERAL (
          SELECT t.id FROM {{schema}}.queue_tasks t
           WHERE t.queue = p_queue AND t.tenant = a.tenant AND t.cur_band = v_band AND t.state = 'queued' AND t.ready
           ORDER BY t.priority DESC, t.seq
           LIMIT a.k
             FOR UPDATE SKIP LOCKED
        ) p
    ), upd AS (
      UPDATE {{schema}}.queue_tasks t
         SET state = 'running', attempt = t.attempt + 1, worker = p_worker, token = p_tokens[v_got + pk.rn::integer],
             lease_expires_at = v_now + p_lease_ms, updated_at = v_now,
             history = t.history || {{schema}}.queue_hist('running', v_now, t.attempt + 1, p_worker, NULL)
        FROM picked pk WHERE t.id = pk.id
      RETURNING t.id, t.tenant, t.type, t.owner, t.payload, t.band, t.cur_band, t.priority, t.cost, t.opts, t.attempt, t.max_attempts, t.created_at, t.ready_at, t.token, t.lease_expires_at, t.state, t.seq, pk.s, pk.w
    ), tagged AS (
      SELECT u.*,
             u.s + (sum(u.cost) OVER (PARTITION BY u.tenant ORDER BY u.priority DESC, u.seq) - u.cost) / u.w AS tag,
             u.s + (sum(u.cost) OVER (PARTITION BY u.tenant)) / u.w AS vt_after
        FROM upd u
    ), per_tenant AS (
      SELECT tg.tenant, max(tg.vt_after) AS vt_after, count(*)::integer AS n, (array_agg(tg.cost ORDER BY tg.tag DESC))[1] AS lc
        FROM tagged tg GROUP BY tg.tenant
    ), tb_upd AS (
      UPDATE {{schema}}.queue_tenant_bands tb
         SET vtime = pt.vt_after, ready = tb.ready - pt.n, served_at = v_now, last_cost = pt.lc
        FROM per_tenant pt
       WHERE tb.queue = p_queue AND tb.band = v_band AND tb.tenant = pt.tenant
    ), tn_upd AS (
      UPDATE {{schema}}.queue_tenants tn
         SET tokens = least(tn.burst, tn.tokens + greatest(0, v_now - tn.tokens_at) * tn.rate / 1000) - pt.n,
             tokens_at = greatest(tn.tokens_at, v_now)
        FROM per_tenant pt
       WHERE tn.queue = p_queue AND tn.tenant = pt.tenant AND tn.rate IS NOT NULL
    ), q_upd AS (
      UPDATE {{schema}}.queues q
         SET vt[v_band + 1] = greatest(q.vt[v_band + 1], (SELECT max(tg.tag) FROM tagged tg))
       WHERE q.queue = p_queue AND EXISTS (SELECT 1 FROM tagged)
    )
    SELECT 't'::text, tg.id, tg.tenant, tg.type, tg.owner, tg.payload, tg.band, tg.cur_band, tg.priority, tg.cost, tg.opts,
           tg.attempt, tg.max_attempts, tg.created_at, tg.ready_at, tg.token, tg.lease_expires_at, tg.state, NULL::text, v_now,
           NULL::bigint, (v_got + row_number() OVER (ORDER BY tg.tag, tg.tenant, tg.priority DESC, tg.seq))::integer
      FROM tagged tg;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    v_got := v_got + v_n;
    v_avail := v_avail - v_n;
  END LOOP;

  -- 4. When the worker may go idle: the next delayed task, lease expiry or rate-token refill.
  -- First index entries, as in the probes: without statistics the planner computes min() by
  -- reading every entry of the index.
  IF v_got < p_limit THEN
    SELECT least(
      (SELECT t.ready_at FROM {{schema}}.queue_tasks t
        WHERE t.queue = p_queue AND t.state = 'queued' AND NOT t.ready ORDER BY t.ready_at LIMIT 1),
      (SELECT t.lease_expires_at FROM {{schema}}.queue_tasks t
        WHERE t.queue = p_queue AND t.state IN ('assigned', 'running') ORDER BY t.lease_expires_at LIMIT 1),
      (SELECT min(v_now + ceil((1 - r.tokens) * 1000 / r.rate)::bigint)
         FROM (SELECT tn.rate, least(tn.burst, tn.tokens + greatest(0, v_now - tn.tokens_at) * tn.rate / 1000) AS tokens
                 FROM {{schema}}.queue_tenants tn
                WHERE tn.queue = p_queue AND tn.rate IS NOT NULL
                  AND EXISTS (SELECT 1 FROM {{schema}}.queue_tenant_bands tb
                               WHERE tb.queue = p_queue AND tb.tenant = tn.tenant AND tb.ready > 0)) r
        WHERE r.tokens < 1)
    ) INTO v_next;
    IF v_next IS NOT NULL THEN
      RETURN QUERY SELECT 'n'::text, NULL::uuid, NULL::text, NULL::text, NULL::text, NULL::text, NULL::smallint, NULL::smallint,
                          NULL::smallint, NULL::float8, NULL::text, NULL::integer, NULL::integer, NULL::bigint, NULL::bigint,
                          NULL::text, NULL::bigint, NULL::text, NULL::text, v_now, greatest(0, v_next - v_now), 0;
    END IF;
  END IF;
END
$fn$;
`;
