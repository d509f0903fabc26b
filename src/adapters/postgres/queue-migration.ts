/**
 * Migration 2: the task queue. Tables, indexes and the plpgsql functions that make every queue
 * operation one round trip and apply the fair policy inside the claim. Same placeholders as the
 * other migrations (`{{schema}}`, `{{lock_prefix}}`).
 *
 * The rules restated here are those of `src/tasks/policy/fair-queue.ts` (bands with aging,
 * weighted start-time fair queueing, priority then FIFO, caps); the conformance suite holds the
 * three backends to them. Design notes:
 * - Timestamps are epoch milliseconds (bigint) of the database clock, as every backend reports them.
 * - One transaction-scoped advisory lock per queue (`<schema>:#queue:<name>`; `#` cannot occur in
 *   a storage namespace, so it never meets a document lock) serialises claims, maintenance and
 *   batch enqueues: those are the only statements that touch several tenant-band rows, so they
 *   can never deadlock each other. Everything else locks at most one such row.
 * - Within the claim, task rows are taken `FOR UPDATE SKIP LOCKED`: a row being cancelled or
 *   deleted is skipped, never waited for.
 * - `queue_tenant_bands.ready` counts the claimable tasks of a (tenant, band), maintained by every
 *   function that moves a task in or out of the ready set; it lets the claim find candidate
 *   tenants in virtual-time order from a small index. Delayed tasks are `ready = false` until a
 *   claim activates them, as the memory and Redis backends do.
 * - Virtual times are float8 (IEEE binary64, as in JavaScript and Lua).
 * - The claim serves a band in one statement: it allots the free slots to the candidate tenants
 *   by their start tags `S + i * cost / weight` (the cost of a tenant's last task stands in for
 *   the costs of the next ones), takes each tenant's top tasks, and charges the real costs. With
 *   equal costs that is exactly the one-at-a-time order; otherwise the error is bounded by one batch.
 */
export const QUEUE_MIGRATION_SQL = /* sql */ `
CREATE TABLE {{schema}}.queues (
  queue               text COLLATE "C" PRIMARY KEY,
  max_concurrency     integer,
  aging_ms            bigint DEFAULT 60000,
  retention_ms        bigint NOT NULL DEFAULT 3600000,
  failed_retention_ms bigint,
  -- Virtual time of each band (index 1 = critical … 4 = low): start tag of its last pick.
  vt                  float8[] NOT NULL DEFAULT '{0,0,0,0}'
);

CREATE TABLE {{schema}}.queue_tenants (
  queue           text COLLATE "C" NOT NULL,
  tenant          text COLLATE "C" NOT NULL,
  weight          float8 NOT NULL DEFAULT 1,
  max_concurrency integer,
  rate            float8,
  burst           integer NOT NULL DEFAULT 1,
  tokens          float8 NOT NULL DEFAULT 1,
  tokens_at       bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (queue, tenant)
);

CREATE TABLE {{schema}}.queue_tenant_bands (
  queue     text COLLATE "C" NOT NULL,
  band      smallint NOT NULL,
  tenant    text COLLATE "C" NOT NULL,
  vtime     float8 NOT NULL DEFAULT 0,
  ready     integer NOT NULL DEFAULT 0,
  since     bigint NOT NULL DEFAULT 0,
  served_at bigint,
  last_cost float8 NOT NULL DEFAULT 1,
  PRIMARY KEY (queue, band, tenant)
);
CREATE INDEX queue_tenant_bands_ready ON {{schema}}.queue_tenant_bands (queue, band, vtime, tenant) WHERE ready > 0;

CREATE SEQUENCE {{schema}}.queue_task_seq AS bigint;

CREATE TABLE {{schema}}.queue_tasks (
  id               uuid PRIMARY KEY,
  queue            text COLLATE "C" NOT NULL,
  seq              bigint NOT NULL,
  tenant           text COLLATE "C" NOT NULL,
  type             text COLLATE "C" NOT NULL,
  owner            text,
  payload          text NOT NULL,
  band             smallint NOT NULL,
  cur_band         smallint NOT NULL,
  priority         smallint NOT NULL,
  cost             float8 NOT NULL,
  -- {"resources":…,"timeoutMs":…,"backoff":…}: what only the worker reads.
  opts             text NOT NULL,
  max_attempts     integer NOT NULL,
  idem_key         text COLLATE "C",
  state            text NOT NULL,
  ready            boolean NOT NULL,
  attempt          integer NOT NULL DEFAULT 0,
  created_at       bigint NOT NULL,
  ready_at         bigint NOT NULL,
  updated_at       bigint NOT NULL,
  promote_at       bigint,
  finished_at      bigint,
  worker           text,
  token            text,
  lease_expires_at bigint,
  progress         text,
  result           text,
  error            text,
  -- Comma-separated JSON objects {"s":state,"at":ms,"a":attempt[,"w":worker][,"r":reason]}.
  history          text NOT NULL
);
CREATE INDEX queue_tasks_pick ON {{schema}}.queue_tasks (queue, tenant, cur_band, priority DESC, seq) WHERE state = 'queued' AND ready;
CREATE INDEX queue_tasks_delayed ON {{schema}}.queue_tasks (queue, ready_at) WHERE state = 'queued' AND NOT ready;
CREATE INDEX queue_tasks_aging ON {{schema}}.queue_tasks (queue, cur_band, promote_at) WHERE state = 'queued' AND ready AND promote_at IS NOT NULL;
CREATE INDEX queue_tasks_leased ON {{schema}}.queue_tasks (queue, lease_expires_at) WHERE state IN ('assigned', 'running');
CREATE INDEX queue_tasks_assigned ON {{schema}}.queue_tasks (queue, worker) WHERE state = 'assigned';
CREATE UNIQUE INDEX queue_tasks_idempotency ON {{schema}}.queue_tasks (queue, tenant, idem_key) WHERE idem_key IS NOT NULL;
CREATE INDEX queue_tasks_done ON {{schema}}.queue_tasks (queue, finished_at) WHERE state IN ('completed', 'cancelled');
CREATE INDEX queue_tasks_failed ON {{schema}}.queue_tasks (queue, finished_at) WHERE state IN ('failed', 'dead');

-- One history entry, with its leading comma. Worker ids and reasons are validated identifiers
-- (no quotes or backslashes), so plain concatenation is valid JSON. STABLE, not IMMUTABLE:
-- bigint-to-text concatenation is STABLE, and only a function no less volatile than its body is
-- inlined into the calling statement instead of running as a separate query per row.
CREATE FUNCTION {{schema}}.queue_hist(p_state text, p_at bigint, p_attempt integer, p_worker text, p_reason text)
RETURNS text LANGUAGE sql STABLE AS $fn$
  SELECT ',{"s":"' || p_state || '","at":' || p_at || ',"a":' || p_attempt
      || CASE WHEN p_worker IS NULL THEN '' ELSE ',"w":"' || p_worker || '"' END
      || CASE WHEN p_reason IS NULL THEN '' ELSE ',"r":"' || p_reason || '"' END || '}'
$fn$;

CREATE FUNCTION {{schema}}.queue_now() RETURNS bigint LANGUAGE sql VOLATILE AS $fn$
  SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint
$fn$;

-- The queue's row, created with the defaults on first use.
CREATE FUNCTION {{schema}}.queue_config(p_queue text) RETURNS {{schema}}.queues LANGUAGE plpgsql AS $fn$
DECLARE
  v_q {{schema}}.queues;
BEGIN
  SELECT * INTO v_q FROM {{schema}}.queues q WHERE q.queue = p_queue;
  IF NOT FOUND THEN
    INSERT INTO {{schema}}.queues (queue) VALUES (p_queue) ON CONFLICT DO NOTHING;
    SELECT * INTO v_q FROM {{schema}}.queues q WHERE q.queue = p_queue;
  END IF;
  RETURN v_q;
END
$fn$;

-- Adds deltas to tenant-band ready counts; 'since' records when a band went from none to some.
-- (plpgsql rather than SQL: plpgsql keeps its statements' plans for the session; a SQL function
-- that cannot be inlined is planned again on every call.)
CREATE FUNCTION {{schema}}.queue_tb_add(p_queue text, p_bands smallint[], p_tenants text[], p_deltas integer[], p_now bigint)
RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  INSERT INTO {{schema}}.queue_tenant_bands AS tb (queue, band, tenant, ready, since)
  SELECT p_queue, d.band, d.tenant, sum(d.delta)::integer, p_now
    FROM unnest(p_bands, p_tenants, p_deltas) AS d(band, tenant, delta)
   GROUP BY d.band, d.tenant
   ORDER BY d.band, d.tenant
  ON CONFLICT (queue, band, tenant) DO UPDATE
    SET ready = tb.ready + excluded.ready,
        since = CASE WHEN tb.ready <= 0 AND excluded.ready > 0 THEN excluded.since ELSE tb.since END;
END
$fn$;

-- queue_enqueue($1 queue, $2 notify channel, $3 take the queue lock (batches), $4… one array per
-- column, aligned) → one row per input: ordinal, task id, created, state, attempt, at, ready_at.
-- A duplicate idempotency key (in the table or earlier in the batch) yields the existing task.
CREATE FUNCTION {{schema}}.queue_enqueue(
  p_queue text, p_channel text, p_lock boolean,
  p_ids uuid[], p_tenants text[], p_types text[], p_owners text[], p_payloads text[], p_bands smallint[],
  p_priorities smallint[], p_costs float8[], p_opts text[], p_max_attempts integer[], p_idem text[],
  p_run_at bigint[], p_delay bigint[])
RETURNS TABLE (o_ord integer, o_id uuid, o_created boolean, o_state text, o_attempt integer, o_at bigint, o_ready_at bigint)
LANGUAGE plpgsql AS $fn$
DECLARE
  v_now bigint;
  v_q {{schema}}.queues;
  v_created integer;
BEGIN
  IF p_lock THEN
    PERFORM pg_advisory_xact_lock(hashtextextended('{{lock_prefix}}#queue:' || p_queue, 0));
  END IF;
  v_q := {{schema}}.queue_config(p_queue);
  v_now := {{schema}}.queue_now();
  RETURN QUERY
  WITH input AS (
    SELECT u.*, coalesce(u.run_at, v_now + u.delay) AS at
      FROM unnest(p_ids, p_tenants, p_types, p_owners, p_payloads, p_bands, p_priorities, p_costs, p_opts,
                  p_max_attempts, p_idem, p_run_at, p_delay)
           WITH ORDINALITY AS u(id, tenant, type, owner, payload, band, priority, cost, opts, max_attempts, idem, run_at, delay, ord)
  ), ins AS (
    INSERT INTO {{schema}}.queue_tasks AS t (id, queue, seq, tenant, type, owner, payload, band, cur_band, priority, cost, opts,
                                             max_attempts, idem_key, state, ready, created_at, ready_at, updated_at, promote_at, history)
    SELECT i.id, p_queue, nextval('{{schema}}.queue_task_seq'), i.tenant, i.type, i.owner, i.payload, i.band, i.band, i.priority,
           i.cost, i.opts, i.max_attempts, i.idem, 'queued', i.at <= v_now, v_now, i.at, v_now,
           CASE WHEN i.at <= v_now AND v_q.aging_ms IS NOT NULL AND i.band > 0 THEN i.at + v_q.aging_ms END,
           '{"s":"queued","at":' || v_now || ',"a":0}'
      FROM input i
     ORDER BY i.ord
    ON CONFLICT (queue, tenant, idem_key) WHERE idem_key IS NOT NULL DO NOTHING
    RETURNING t.id, t.tenant, t.cur_band, t.ready
  ), counted AS (
    INSERT INTO {{schema}}.queue_tenant_bands AS tb (queue, band, tenant, ready, since)
    SELECT p_queue, x.cur_band, x.tenant, count(*)::integer, v_now FROM ins x WHERE x.ready GROUP BY x.cur_band, x.tenant ORDER BY 2, 3
    ON CONFLICT (queue, band, tenant) DO UPDATE
      SET ready = tb.ready + excluded.ready,
          since = CASE WHEN tb.ready <= 0 THEN excluded.since ELSE tb.since END
  )
  SELECT i.ord::integer, i.id, true, 'queued'::text, 0, v_now, i.at FROM input i JOIN ins ON ins.id = i.id;
  GET DIAGNOSTICS v_created = ROW_COUNT;
  IF v_created < coalesce(array_length(p_ids, 1), 0) THEN
    RETURN QUERY
    SELECT i.ord::integer, t.id, false, t.state, t.attempt, t.updated_at, t.ready_at
      FROM unnest(p_ids, p_tenants, p_idem) WITH ORDINALITY AS i(id, tenant, idem, ord)
      JOIN {{schema}}.queue_tasks t ON t.queue = p_queue AND t.tenant = i.tenant AND t.idem_key = i.idem
     WHERE i.idem IS NOT NULL AND t.id <> i.id;
  END IF;
  IF v_created > 0 THEN
    PERFORM pg_notify(p_channel, 'j{}');
  END IF;
END
$fn$;

-- Reaps up to p_limit expired leases of one queue (caller holds the queue lock): re-queued at
-- once while attempts remain, else dead. Returns the updates.
CREATE FUNCTION {{schema}}.queue_reap(p_queue text, p_now bigint, p_aging bigint, p_limit integer)
RETURNS TABLE (o_id uuid, o_tenant text, o_type text, o_state text, o_attempt integer, o_reason text)
LANGUAGE plpgsql AS $fn$
BEGIN
  RETURN QUERY
  WITH expired AS (
    SELECT t.id FROM {{schema}}.queue_tasks t
     WHERE t.queue = p_queue AND t.state IN ('assigned', 'running') AND t.lease_expires_at <= p_now
     ORDER BY t.lease_expires_at
     LIMIT p_limit
       FOR UPDATE SKIP LOCKED
  ), reaped AS (
    UPDATE {{schema}}.queue_tasks t
       SET state = CASE WHEN t.attempt >= t.max_attempts THEN 'dead' ELSE 'queued' END,
           ready = t.attempt < t.max_attempts,
           cur_band = t.band,
           ready_at = p_now,
           promote_at = CASE WHEN t.attempt < t.max_attempts AND p_aging IS NOT NULL AND t.band > 0 THEN p_now + p_aging END,
           finished_at = CASE WHEN t.attempt >= t.max_attempts THEN p_now END,
           error = CASE WHEN t.attempt >= t.max_attempts
                        THEN '{"code":"TASK_LEASE_LOST","message":"the lease expired before the task finished"}' ELSE t.error END,
           worker = NULL, token = NULL, lease_expires_at = NULL, updated_at = p_now,
           history = t.history || {{schema}}.queue_hist(
             CASE WHEN t.attempt >= t.max_attempts THEN 'dead' ELSE 'queued' END, p_now, t.attempt, NULL,
             CASE WHEN t.attempt >= t.max_attempts THEN 'attempts-exhausted' ELSE 'lease-expired' END)
      FROM expired WHERE t.id = expired.id
    RETURNING t.id, t.tenant, t.type, t.band, t.state, t.attempt
  ), counted AS (
    INSERT INTO {{schema}}.queue_tenant_bands AS tb (queue, band, tenant, ready, since)
    SELECT p_queue, r.band, r.tenant, count(*)::integer, p_now FROM reaped r WHERE r.state = 'queued' GROUP BY r.band, r.tenant ORDER BY 2, 3
    ON CONFLICT (queue, band, tenant) DO UPDATE
      SET ready = tb.ready + excluded.ready,
          since = CASE WHEN tb.ready <= 0 THEN excluded.since ELSE tb.since END
  )
  SELECT r.id, r.tenant, r.type, r.state, r.attempt,
         CASE WHEN r.state = 'dead' THEN 'attempts-exhausted' ELSE 'lease-expired' END
    FROM reaped r;
END
$fn$;

-- queue_claim($1 queue, $2 worker, $3 limit, $4 lease ms, $5 lease tokens (at least $3), $6 channel)
--   → rows of kind 'r' (a reaped lease), 't' (a claimed task, o_pos = serving order) and at most
--     one 'n' (ms until something may become claimable, when fewer than $3 tasks came back).
-- The claim order of the QueueAdapter contract, under the queue's advisory lock.
-- plan_cache_mode = force_generic_plan (set for this transaction, on PostgreSQL 12+ where it
-- exists): the statements depend on their parameters only through index lookups and LIMITs, and
-- re-planning the band statement on every call (PostgreSQL's default for the first executions,
-- and whenever the generic plan looks costlier) costs more than the whole claim.
CREATE FUNCTION {{schema}}.queue_claim(p_queue text, p_worker text, p_limit integer, p_lease_ms bigint, p_tokens text[], p_channel text)
RETURNS TABLE (
  o_kind text, o_id uuid, o_tenant text, o_type text, o_owner text, o_payload text, o_band smallint, o_cur_band smallint,
  o_priority smallint, o_cost float8, o_opts text, o_attempt integer, o_max_attempts integer, o_created_at bigint,
  o_ready_at bigint, o_token text, o_expires bigint, o_state text, o_reason text, o_at bigint, o_next_ms bigint, o_pos integer)
LANGUAGE plpgsql AS $fn$
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
  -- instead of setting up its data-modifying statement.
  -- 1a. Expired leases.
  IF EXISTS (SELECT 1 FROM {{schema}}.queue_tasks t
              WHERE t.queue = p_queue AND t.state IN ('assigned', 'running') AND t.lease_expires_at <= v_now) THEN
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
  IF EXISTS (SELECT 1 FROM {{schema}}.queue_tasks t
              WHERE t.queue = p_queue AND t.state = 'queued' AND NOT t.ready AND t.ready_at <= v_now) THEN
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
    CONTINUE WHEN NOT EXISTS (SELECT 1 FROM {{schema}}.queue_tasks t
                               WHERE t.queue = p_queue AND t.state = 'queued' AND t.ready AND t.promote_at IS NOT NULL
                                 AND t.cur_band = v_band AND t.promote_at <= v_now);
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
    ), slots AS (
      SELECT c.tenant, c.s + (g.i - 1) * c.lc / c.w AS tag
        FROM cand c CROSS JOIN LATERAL generate_series(1, c.k_max) AS g(i)
       ORDER BY 2, 1
       LIMIT v_avail
    ), alloc AS (
      SELECT sl.tenant, count(*)::integer AS k FROM slots sl GROUP BY sl.tenant
    ), picked AS (
      SELECT p.id, row_number() OVER () AS rn
        FROM alloc a CROSS JOIN LATERAL (
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
      RETURNING t.id, t.tenant, t.type, t.owner, t.payload, t.band, t.cur_band, t.priority, t.cost, t.opts, t.attempt, t.max_attempts, t.created_at, t.ready_at, t.token, t.lease_expires_at, t.state, t.seq
    ), tagged AS (
      SELECT u.*, c.w,
             c.s + (sum(u.cost) OVER (PARTITION BY u.tenant ORDER BY u.priority DESC, u.seq) - u.cost) / c.w AS tag,
             c.s + (sum(u.cost) OVER (PARTITION BY u.tenant)) / c.w AS vt_after
        FROM upd u JOIN cand c ON c.tenant = u.tenant
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
  IF v_got < p_limit THEN
    SELECT least(
      (SELECT min(t.ready_at) FROM {{schema}}.queue_tasks t WHERE t.queue = p_queue AND t.state = 'queued' AND NOT t.ready),
      (SELECT min(t.lease_expires_at) FROM {{schema}}.queue_tasks t WHERE t.queue = p_queue AND t.state IN ('assigned', 'running')),
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

-- Shared check of a lease on a locked row: 'ok', or why it no longer holds.
CREATE FUNCTION {{schema}}.queue_lease_status(p_state text, p_token text, p_expires bigint, p_given text, p_now bigint)
RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
  SELECT CASE
    WHEN p_state IS NULL THEN 'not-found'
    WHEN p_state NOT IN ('assigned', 'running') THEN 'not-active'
    WHEN p_token IS DISTINCT FROM p_given THEN 'superseded'
    WHEN p_expires <= p_now THEN 'expired'
    ELSE 'ok' END
$fn$;

-- queue_complete($1 queue, $2 channel, $3 ids, $4 tokens, $5 results (JSON text or NULL))
--   → per input: ordinal, lease status, state, tenant, type, attempt, at. Rows are locked in id
-- order, so two batches never deadlock.
CREATE FUNCTION {{schema}}.queue_complete(p_queue text, p_channel text, p_ids uuid[], p_tokens text[], p_results text[])
RETURNS TABLE (o_ord integer, o_status text, o_state text, o_tenant text, o_type text, o_attempt integer, o_at bigint)
LANGUAGE plpgsql AS $fn$
DECLARE
  v_now bigint;
  v_q {{schema}}.queues;
BEGIN
  v_q := {{schema}}.queue_config(p_queue);
  v_now := {{schema}}.queue_now();
  RETURN QUERY
  WITH input AS (
    SELECT u.* FROM unnest(p_ids, p_tokens, p_results) WITH ORDINALITY AS u(id, token, result, ord)
  ), cur AS (
    SELECT t.id, t.state, t.token, t.lease_expires_at, t.tenant, t.type, t.attempt
      FROM {{schema}}.queue_tasks t WHERE t.id = ANY(p_ids) AND t.queue = p_queue ORDER BY t.id FOR UPDATE
  ), checked AS (
    SELECT i.ord, i.id, i.result, c.state, c.tenant, c.type, c.attempt,
           {{schema}}.queue_lease_status(c.state, c.token, c.lease_expires_at, i.token, v_now) AS status
      FROM input i LEFT JOIN cur c ON c.id = i.id
  ), done AS (
    UPDATE {{schema}}.queue_tasks t
       SET state = 'completed', result = k.result, finished_at = v_now, updated_at = v_now,
           worker = NULL, token = NULL, lease_expires_at = NULL,
           history = t.history || {{schema}}.queue_hist('completed', v_now, t.attempt, NULL, NULL)
      FROM checked k WHERE k.status = 'ok' AND t.id = k.id AND v_q.retention_ms > 0
  ), gone AS (
    DELETE FROM {{schema}}.queue_tasks t USING checked k WHERE k.status = 'ok' AND t.id = k.id AND v_q.retention_ms = 0
  )
  SELECT k.ord::integer, k.status, CASE WHEN k.status = 'ok' THEN 'completed' ELSE k.state END, k.tenant, k.type, k.attempt, v_now
    FROM checked k ORDER BY k.ord;
  -- Freed capacity only matters to waiting workers under a concurrency cap (a spurious wake-up
  -- when another tenant is capped costs one empty claim).
  IF v_q.max_concurrency IS NOT NULL OR EXISTS (
       SELECT 1 FROM {{schema}}.queue_tenants tn WHERE tn.queue = p_queue AND tn.max_concurrency IS NOT NULL) THEN
    PERFORM pg_notify(p_channel, 'j{}');
  END IF;
END
$fn$;

-- Puts a task back in the queue (retry, release): ready now or delayed; counts it when ready.
CREATE FUNCTION {{schema}}.queue_requeue(p_queue text, p_id uuid, p_tenant text, p_band smallint, p_ready_at bigint,
                                          p_now bigint, p_aging bigint, p_attempt integer, p_reason text, p_error text)
RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  UPDATE {{schema}}.queue_tasks t
     SET state = 'queued', ready = p_ready_at <= p_now, cur_band = t.band, ready_at = p_ready_at,
         promote_at = CASE WHEN p_ready_at <= p_now AND p_aging IS NOT NULL AND t.band > 0 THEN p_ready_at + p_aging END,
         attempt = p_attempt, worker = NULL, token = NULL, lease_expires_at = NULL, updated_at = p_now,
         error = coalesce(p_error, t.error),
         history = t.history || {{schema}}.queue_hist('queued', p_now, p_attempt, NULL, p_reason)
   WHERE t.id = p_id;
  IF p_ready_at <= p_now THEN
    PERFORM {{schema}}.queue_tb_add(p_queue, ARRAY[p_band], ARRAY[p_tenant], ARRAY[1], p_now);
  END IF;
END
$fn$;

-- Ends a task in a terminal state, deleting it when its retention is 0.
CREATE FUNCTION {{schema}}.queue_finish(p_id uuid, p_state text, p_now bigint, p_attempt integer, p_reason text, p_error text,
                                         p_retention bigint)
RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  IF p_retention = 0 THEN
    DELETE FROM {{schema}}.queue_tasks t WHERE t.id = p_id;
  ELSE
    UPDATE {{schema}}.queue_tasks t
       SET state = p_state, finished_at = p_now, updated_at = p_now, worker = NULL, token = NULL, lease_expires_at = NULL,
           error = coalesce(p_error, t.error),
           history = t.history || {{schema}}.queue_hist(p_state, p_now, p_attempt, NULL, p_reason)
     WHERE t.id = p_id;
  END IF;
END
$fn$;

-- queue_fail($1 queue, $2 channel, $3 id, $4 token, $5 error JSON, $6 retry ms, $7 final)
--   → status, state, tenant, type, attempt, at, ready_at, reason.
CREATE FUNCTION {{schema}}.queue_fail(p_queue text, p_channel text, p_id uuid, p_token text, p_error text, p_retry_ms bigint, p_final boolean)
RETURNS TABLE (o_status text, o_state text, o_tenant text, o_type text, o_attempt integer, o_at bigint, o_ready_at bigint, o_reason text)
LANGUAGE plpgsql AS $fn$
DECLARE
  v_now bigint;
  v_q {{schema}}.queues;
  v_t {{schema}}.queue_tasks;
  v_status text;
BEGIN
  v_q := {{schema}}.queue_config(p_queue);
  SELECT * INTO v_t FROM {{schema}}.queue_tasks t WHERE t.id = p_id AND t.queue = p_queue FOR UPDATE;
  v_now := {{schema}}.queue_now();
  v_status := {{schema}}.queue_lease_status(v_t.state, v_t.token, v_t.lease_expires_at, p_token, v_now);
  IF v_status <> 'ok' THEN
    RETURN QUERY SELECT v_status, v_t.state, v_t.tenant, v_t.type, v_t.attempt, v_now, NULL::bigint, NULL::text;
    RETURN;
  END IF;
  IF p_final OR v_t.attempt >= v_t.max_attempts THEN
    PERFORM {{schema}}.queue_finish(p_id, CASE WHEN p_final THEN 'failed' ELSE 'dead' END, v_now, v_t.attempt,
                                    CASE WHEN p_final THEN 'final-failure' ELSE 'attempts-exhausted' END, p_error, v_q.failed_retention_ms);
    RETURN QUERY SELECT 'ok'::text, CASE WHEN p_final THEN 'failed' ELSE 'dead' END, v_t.tenant, v_t.type, v_t.attempt, v_now,
                        NULL::bigint, CASE WHEN p_final THEN 'final-failure' ELSE 'attempts-exhausted' END;
  ELSE
    PERFORM {{schema}}.queue_requeue(p_queue, p_id, v_t.tenant, v_t.band, v_now + p_retry_ms, v_now, v_q.aging_ms, v_t.attempt, 'retry', p_error);
    PERFORM pg_notify(p_channel, 'j{}');
    RETURN QUERY SELECT 'ok'::text, 'queued'::text, v_t.tenant, v_t.type, v_t.attempt, v_now, v_now + p_retry_ms, 'retry'::text;
  END IF;
END
$fn$;

-- queue_release($1 queue, $2 channel, $3 id, $4 token, $5 delay ms) → as queue_fail.
CREATE FUNCTION {{schema}}.queue_release(p_queue text, p_channel text, p_id uuid, p_token text, p_delay_ms bigint)
RETURNS TABLE (o_status text, o_state text, o_tenant text, o_type text, o_attempt integer, o_at bigint, o_ready_at bigint, o_reason text)
LANGUAGE plpgsql AS $fn$
DECLARE
  v_now bigint;
  v_q {{schema}}.queues;
  v_t {{schema}}.queue_tasks;
  v_status text;
BEGIN
  v_q := {{schema}}.queue_config(p_queue);
  SELECT * INTO v_t FROM {{schema}}.queue_tasks t WHERE t.id = p_id AND t.queue = p_queue FOR UPDATE;
  v_now := {{schema}}.queue_now();
  v_status := {{schema}}.queue_lease_status(v_t.state, v_t.token, v_t.lease_expires_at, p_token, v_now);
  IF v_status <> 'ok' THEN
    RETURN QUERY SELECT v_status, v_t.state, v_t.tenant, v_t.type, v_t.attempt, v_now, NULL::bigint, NULL::text;
    RETURN;
  END IF;
  -- A hand-back is not a failed delivery: the attempt is given back.
  PERFORM {{schema}}.queue_requeue(p_queue, p_id, v_t.tenant, v_t.band, v_now + p_delay_ms, v_now, v_q.aging_ms,
                                   greatest(0, v_t.attempt - 1), 'released', NULL);
  PERFORM pg_notify(p_channel, 'j{}');
  RETURN QUERY SELECT 'ok'::text, 'queued'::text, v_t.tenant, v_t.type, greatest(0, v_t.attempt - 1), v_now, v_now + p_delay_ms, 'released'::text;
END
$fn$;

-- queue_extend($1 queue, $2 id, $3 token, $4 lease ms, $5 progress JSON or NULL) → status, state, expires, attempt, worker.
CREATE FUNCTION {{schema}}.queue_extend(p_queue text, p_id uuid, p_token text, p_lease_ms bigint, p_progress text)
RETURNS TABLE (o_status text, o_state text, o_expires bigint, o_attempt integer, o_worker text)
LANGUAGE plpgsql AS $fn$
DECLARE
  v_now bigint;
  v_t {{schema}}.queue_tasks;
  v_status text;
BEGIN
  SELECT * INTO v_t FROM {{schema}}.queue_tasks t WHERE t.id = p_id AND t.queue = p_queue FOR UPDATE;
  v_now := {{schema}}.queue_now();
  v_status := {{schema}}.queue_lease_status(v_t.state, v_t.token, v_t.lease_expires_at, p_token, v_now);
  IF v_status = 'ok' THEN
    UPDATE {{schema}}.queue_tasks t
       SET lease_expires_at = v_now + p_lease_ms, progress = coalesce(p_progress, t.progress), updated_at = v_now
     WHERE t.id = p_id;
  END IF;
  RETURN QUERY SELECT v_status, v_t.state, v_now + p_lease_ms, v_t.attempt, v_t.worker;
END
$fn$;

-- queue_assign($1 queue, $2 id, $3 worker, $4 lease ms, $5 token) → status ('ok' | 'not-found' | 'conflict'), state, tenant, type, attempt, at, expires.
CREATE FUNCTION {{schema}}.queue_assign(p_queue text, p_channel text, p_id uuid, p_worker text, p_lease_ms bigint, p_token text)
RETURNS TABLE (o_status text, o_state text, o_tenant text, o_type text, o_attempt integer, o_at bigint, o_expires bigint)
LANGUAGE plpgsql AS $fn$
DECLARE
  v_now bigint;
  v_t {{schema}}.queue_tasks;
BEGIN
  SELECT * INTO v_t FROM {{schema}}.queue_tasks t WHERE t.id = p_id AND t.queue = p_queue FOR UPDATE;
  v_now := {{schema}}.queue_now();
  IF NOT FOUND THEN
    RETURN QUERY SELECT 'not-found'::text, NULL::text, NULL::text, NULL::text, NULL::integer, v_now, NULL::bigint;
    RETURN;
  END IF;
  IF v_t.state <> 'queued' THEN
    RETURN QUERY SELECT 'conflict'::text, v_t.state, v_t.tenant, v_t.type, v_t.attempt, v_now, NULL::bigint;
    RETURN;
  END IF;
  IF v_t.ready THEN
    PERFORM {{schema}}.queue_tb_add(p_queue, ARRAY[v_t.cur_band], ARRAY[v_t.tenant], ARRAY[-1], v_now);
  END IF;
  UPDATE {{schema}}.queue_tasks t
     SET state = 'assigned', ready = false, attempt = t.attempt + 1, worker = p_worker, token = p_token,
         lease_expires_at = v_now + p_lease_ms, updated_at = v_now,
         history = t.history || {{schema}}.queue_hist('assigned', v_now, t.attempt + 1, p_worker, 'assigned')
   WHERE t.id = p_id;
  PERFORM pg_notify(p_channel, 'j{}');
  RETURN QUERY SELECT 'ok'::text, 'assigned'::text, v_t.tenant, v_t.type, v_t.attempt + 1, v_now, v_now + p_lease_ms;
END
$fn$;

-- queue_cancel($1 queue, $2 channel, $3 id, $4 delete afterwards)
--   → status ('ok' | 'not-found' | 'conflict' | 'already'), state, tenant, type, attempt, at.
CREATE FUNCTION {{schema}}.queue_cancel(p_queue text, p_channel text, p_id uuid, p_delete boolean)
RETURNS TABLE (o_status text, o_state text, o_tenant text, o_type text, o_attempt integer, o_at bigint)
LANGUAGE plpgsql AS $fn$
DECLARE
  v_now bigint;
  v_q {{schema}}.queues;
  v_t {{schema}}.queue_tasks;
BEGIN
  v_q := {{schema}}.queue_config(p_queue);
  SELECT * INTO v_t FROM {{schema}}.queue_tasks t WHERE t.id = p_id AND t.queue = p_queue FOR UPDATE;
  v_now := {{schema}}.queue_now();
  IF NOT FOUND THEN
    RETURN QUERY SELECT 'not-found'::text, NULL::text, NULL::text, NULL::text, NULL::integer, v_now;
    RETURN;
  END IF;
  IF v_t.state = 'queued' AND v_t.ready THEN
    PERFORM {{schema}}.queue_tb_add(p_queue, ARRAY[v_t.cur_band], ARRAY[v_t.tenant], ARRAY[-1], v_now);
  END IF;
  IF p_delete THEN
    DELETE FROM {{schema}}.queue_tasks t WHERE t.id = p_id;
  ELSIF v_t.state = 'cancelled' THEN
    RETURN QUERY SELECT 'already'::text, v_t.state, v_t.tenant, v_t.type, v_t.attempt, v_t.updated_at;
    RETURN;
  ELSIF v_t.state IN ('completed', 'failed', 'dead') THEN
    RETURN QUERY SELECT 'conflict'::text, v_t.state, v_t.tenant, v_t.type, v_t.attempt, v_now;
    RETURN;
  ELSE
    PERFORM {{schema}}.queue_finish(p_id, 'cancelled', v_now, v_t.attempt, 'cancelled', NULL, v_q.retention_ms);
  END IF;
  IF v_t.state IN ('assigned', 'running') THEN
    PERFORM pg_notify(p_channel, 'j{}');
  END IF;
  RETURN QUERY SELECT 'ok'::text, 'cancelled'::text, v_t.tenant, v_t.type, v_t.attempt, v_now;
END
$fn$;

-- queue_maintain($1 queue, $2 channel, $3 limit) → the reaped updates and one row of kind 'p'
-- with the number of purged tasks in o_attempt.
CREATE FUNCTION {{schema}}.queue_maintain(p_queue text, p_channel text, p_limit integer)
RETURNS TABLE (o_kind text, o_id uuid, o_tenant text, o_type text, o_state text, o_attempt integer, o_reason text, o_at bigint)
LANGUAGE plpgsql AS $fn$
DECLARE
  v_now bigint;
  v_q {{schema}}.queues;
  v_n integer;
  v_purged integer;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('{{lock_prefix}}#queue:' || p_queue, 0));
  v_q := {{schema}}.queue_config(p_queue);
  v_now := {{schema}}.queue_now();
  RETURN QUERY SELECT 'r'::text, r.o_id, r.o_tenant, r.o_type, r.o_state, r.o_attempt, r.o_reason, v_now
    FROM {{schema}}.queue_reap(p_queue, v_now, v_q.aging_ms, p_limit) r;
  GET DIAGNOSTICS v_n = ROW_COUNT;
  IF v_n > 0 THEN
    PERFORM pg_notify(p_channel, 'j{}');
  END IF;
  WITH doomed AS (
    (SELECT t.id FROM {{schema}}.queue_tasks t
      WHERE t.queue = p_queue AND t.state IN ('completed', 'cancelled') AND t.finished_at + v_q.retention_ms <= v_now
      ORDER BY t.finished_at LIMIT p_limit)
    UNION ALL
    (SELECT t.id FROM {{schema}}.queue_tasks t
      WHERE t.queue = p_queue AND t.state IN ('failed', 'dead') AND v_q.failed_retention_ms IS NOT NULL
        AND t.finished_at + v_q.failed_retention_ms <= v_now
      ORDER BY t.finished_at LIMIT p_limit)
  ), gone AS (
    DELETE FROM {{schema}}.queue_tasks t USING doomed WHERE t.id = doomed.id RETURNING 1
  )
  SELECT count(*) INTO v_purged FROM gone;
  RETURN QUERY SELECT 'p'::text, NULL::uuid, NULL::text, NULL::text, NULL::text, v_purged, NULL::text, v_now;
END
$fn$;

-- queue_stats($1 queue) → one JSON document: at, counts per (tenant, type), tenants, oldest, policy.
CREATE FUNCTION {{schema}}.queue_stats(p_queue text) RETURNS text LANGUAGE plpgsql AS $fn$
DECLARE
  v_now bigint;
  v_q {{schema}}.queues;
BEGIN
  v_q := {{schema}}.queue_config(p_queue);
  v_now := {{schema}}.queue_now();
  RETURN json_build_object(
    'at', v_now,
    'groups', (SELECT coalesce(json_agg(g ORDER BY g.tenant, g.type), '[]'::json) FROM (
        SELECT t.tenant, t.type,
               count(*) FILTER (WHERE t.state = 'queued') AS queued,
               count(*) FILTER (WHERE t.state = 'queued' AND NOT t.ready) AS delayed,
               count(*) FILTER (WHERE t.state = 'assigned') AS assigned,
               count(*) FILTER (WHERE t.state = 'running') AS running,
               count(*) FILTER (WHERE t.state = 'completed') AS completed,
               count(*) FILTER (WHERE t.state = 'failed') AS failed,
               count(*) FILTER (WHERE t.state = 'cancelled') AS cancelled,
               count(*) FILTER (WHERE t.state = 'dead') AS dead
          FROM {{schema}}.queue_tasks t WHERE t.queue = p_queue GROUP BY t.tenant, t.type) g),
    'oldest', (SELECT min(t.ready_at) FROM {{schema}}.queue_tasks t WHERE t.queue = p_queue AND t.state = 'queued' AND t.ready),
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

-- queue_configure($1 queue, $2 channel, then per field: set?, value) → the policy after the change.
CREATE FUNCTION {{schema}}.queue_configure(p_queue text, p_channel text, p_set_max boolean, p_max integer, p_set_aging boolean,
                                            p_aging bigint, p_retention bigint, p_set_failed boolean, p_failed bigint)
RETURNS {{schema}}.queues LANGUAGE plpgsql AS $fn$
DECLARE
  v_q {{schema}}.queues;
BEGIN
  PERFORM {{schema}}.queue_config(p_queue);
  UPDATE {{schema}}.queues q
     SET max_concurrency = CASE WHEN p_set_max THEN p_max ELSE q.max_concurrency END,
         aging_ms = CASE WHEN p_set_aging THEN p_aging ELSE q.aging_ms END,
         retention_ms = coalesce(p_retention, q.retention_ms),
         failed_retention_ms = CASE WHEN p_set_failed THEN p_failed ELSE q.failed_retention_ms END
   WHERE q.queue = p_queue
  RETURNING * INTO v_q;
  PERFORM pg_notify(p_channel, 'j{}');
  RETURN v_q;
END
$fn$;

-- queue_set_tenant($1 queue, $2 channel, $3 tenant, $4 weight or NULL, then set?/value pairs,
-- $9 burst or NULL) → the tenant row. Restates mergeTenantPolicy and FairQueue.setTenant: a new
-- rate cap (or a new burst) starts with a full bucket.
CREATE FUNCTION {{schema}}.queue_set_tenant(p_queue text, p_channel text, p_tenant text, p_weight float8, p_set_max boolean,
                                             p_max integer, p_set_rate boolean, p_rate float8, p_burst integer)
RETURNS {{schema}}.queue_tenants LANGUAGE plpgsql AS $fn$
DECLARE
  v_now bigint;
  v_old {{schema}}.queue_tenants;
  v_rate float8;
  v_burst integer;
  v_new {{schema}}.queue_tenants;
BEGIN
  v_now := {{schema}}.queue_now();
  INSERT INTO {{schema}}.queue_tenants (queue, tenant) VALUES (p_queue, p_tenant) ON CONFLICT DO NOTHING;
  SELECT * INTO v_old FROM {{schema}}.queue_tenants tn WHERE tn.queue = p_queue AND tn.tenant = p_tenant FOR UPDATE;
  v_rate := CASE WHEN p_set_rate THEN p_rate ELSE v_old.rate END;
  v_burst := coalesce(p_burst, CASE WHEN p_set_rate THEN greatest(1, ceil(coalesce(p_rate, 1)))::integer ELSE v_old.burst END);
  UPDATE {{schema}}.queue_tenants tn
     SET weight = coalesce(p_weight, tn.weight),
         max_concurrency = CASE WHEN p_set_max THEN p_max ELSE tn.max_concurrency END,
         rate = v_rate,
         burst = v_burst,
         tokens = CASE WHEN v_rate IS NOT NULL AND (v_old.rate IS NULL OR v_old.burst <> v_burst) THEN v_burst ELSE tn.tokens END,
         tokens_at = CASE WHEN v_rate IS NOT NULL AND (v_old.rate IS NULL OR v_old.burst <> v_burst) THEN v_now ELSE tn.tokens_at END
   WHERE tn.queue = p_queue AND tn.tenant = p_tenant
  RETURNING * INTO v_new;
  PERFORM pg_notify(p_channel, 'j{}');
  RETURN v_new;
END
$fn$;
`;
