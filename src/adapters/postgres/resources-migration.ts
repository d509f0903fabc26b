/**
 * The resources migration: GCRA rate-limit state and leased reservations, each operation one
 * plpgsql function (one round trip, one transaction). Same placeholders as the other migrations
 * (`{{schema}}`, `{{lock_prefix}}`).
 *
 * Design notes:
 * - Time is the database clock (clock_timestamp()), read AFTER the locks are granted, so a
 *   waiter decides on a time no earlier than the decision it waited for. Rate limits count in
 *   integer epoch µs, leases in integer epoch ms (bigint), as every backend reports them.
 * - Rate limits: one row per key holding its TAT. A check locks its keys with transaction-scoped
 *   advisory locks (`<schema>:#rl:<key>`; `#` never occurs in a storage namespace, so these never
 *   meet document locks) taken in ascending hash order, so overlapping checks cannot deadlock and
 *   absent keys are covered too. A row whose TAT passed is the same as no row; the sweep deletes
 *   such rows and re-checks `tat` on the row it deletes, so it never removes a TAT a concurrent
 *   check just advanced.
 * - Reservations: one row per owner holds the recorded usage and is the owner's lock (SELECT ...
 *   FOR UPDATE). Every function first drops the owner's expired reservations and subtracts their
 *   amounts, so recorded usage is the sum of live reservations at every commit. The owner row is
 *   deleted when its last reservation goes, so idle users cost nothing. The sweep visits owners
 *   with expired reservations in ascending order (no deadlock between concurrent sweeps).
 * - Amounts and limits are validated below 2^53 by the caller; sums are checked against 2^53 - 1
 *   here as in every backend.
 */
export const RESOURCES_MIGRATION_SQL = /* sql */ `
CREATE TABLE {{schema}}.rate_limits (
  key text COLLATE "C" PRIMARY KEY,
  tat bigint NOT NULL
);
CREATE INDEX rate_limits_tat ON {{schema}}.rate_limits (tat);

-- rate_limit_check($1 keys, $2 emission intervals µs, $3 bursts, $4 cost)
--   → (allowed, now_us, tats: the TAT of each limit after the call, never below now_us).
-- Restates decideGcra() (src/adapters/internal/rate-limit-requests.ts) in bigint arithmetic.
CREATE FUNCTION {{schema}}.rate_limit_check(p_keys text[], p_intervals bigint[], p_bursts bigint[], p_cost bigint,
  OUT allowed boolean, OUT now_us bigint, OUT tats bigint[])
LANGUAGE plpgsql AS $fn$
DECLARE
  v_n   integer := coalesce(array_length(p_keys, 1), 0);
  v_tat bigint;
  v_lock bigint;
BEGIN
  FOR v_lock IN SELECT h FROM (SELECT DISTINCT hashtextextended('{{lock_prefix}}#rl:' || k, 0) AS h FROM unnest(p_keys) AS k) s ORDER BY h LOOP
    PERFORM pg_advisory_xact_lock(v_lock);
  END LOOP;
  now_us := floor(extract(epoch FROM clock_timestamp()) * 1000000)::bigint;
  allowed := true;
  tats := ARRAY[]::bigint[];
  FOR i IN 1..v_n LOOP
    v_tat := NULL;
    SELECT r.tat INTO v_tat FROM {{schema}}.rate_limits r WHERE r.key = p_keys[i];
    v_tat := greatest(coalesce(v_tat, 0), now_us);
    tats := array_append(tats, v_tat);
    IF v_tat + p_cost * p_intervals[i] - p_bursts[i] * p_intervals[i] > now_us THEN
      allowed := false;
    END IF;
  END LOOP;
  IF allowed AND p_cost > 0 THEN
    FOR i IN 1..v_n LOOP
      tats[i] := tats[i] + p_cost * p_intervals[i];
      INSERT INTO {{schema}}.rate_limits (key, tat) VALUES (p_keys[i], tats[i])
      ON CONFLICT (key) DO UPDATE SET tat = excluded.tat;
    END LOOP;
  END IF;
END
$fn$;

-- rate_limit_sweep($1 max rows) → rows removed whose TAT has passed.
CREATE FUNCTION {{schema}}.rate_limit_sweep(p_limit integer)
RETURNS integer LANGUAGE plpgsql AS $fn$
DECLARE
  v_now bigint := floor(extract(epoch FROM clock_timestamp()) * 1000000)::bigint;
  v_count integer;
BEGIN
  -- The outer tat condition is re-checked on the row version a concurrent check may have just
  -- written (EvalPlanQual), so an advanced TAT is never deleted.
  DELETE FROM {{schema}}.rate_limits r
   WHERE r.key IN (SELECT x.key FROM {{schema}}.rate_limits x WHERE x.tat <= v_now LIMIT p_limit)
     AND r.tat <= v_now;
  GET DIAGNOSTICS v_count = ROW_COUNT;
  RETURN v_count;
END
$fn$;

CREATE TABLE {{schema}}.reservation_owners (
  owner   text COLLATE "C" PRIMARY KEY,
  compute bigint NOT NULL DEFAULT 0,
  storage bigint NOT NULL DEFAULT 0,
  network bigint NOT NULL DEFAULT 0
);

CREATE TABLE {{schema}}.reservations (
  owner      text COLLATE "C" NOT NULL,
  id         text COLLATE "C" NOT NULL,
  compute    bigint NOT NULL,
  storage    bigint NOT NULL,
  network    bigint NOT NULL,
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL,
  PRIMARY KEY (owner, id)
);
CREATE INDEX reservations_expiry ON {{schema}}.reservations (expires_at);

-- reservation_begin($1 owner) → (now_ms, usage uc/us/un, expired): locks the owner's row
-- (creating it if absent), drops its expired reservations and subtracts their amounts.
-- Every reservation function starts with it.
CREATE FUNCTION {{schema}}.reservation_begin(p_owner text,
  OUT now_ms bigint, OUT uc bigint, OUT us bigint, OUT un bigint, OUT expired integer)
LANGUAGE plpgsql AS $fn$
DECLARE
  v_dc bigint; v_ds bigint; v_dn bigint;
BEGIN
  LOOP
    SELECT o.compute, o.storage, o.network INTO uc, us, un
      FROM {{schema}}.reservation_owners o WHERE o.owner = p_owner FOR UPDATE;
    EXIT WHEN FOUND;
    -- Absent, or deleted by the holder we waited for: create it and lock again.
    INSERT INTO {{schema}}.reservation_owners (owner) VALUES (p_owner) ON CONFLICT (owner) DO NOTHING;
  END LOOP;
  now_ms := floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint;
  WITH d AS (
    DELETE FROM {{schema}}.reservations r WHERE r.owner = p_owner AND r.expires_at <= now_ms
    RETURNING r.compute, r.storage, r.network
  )
  SELECT count(*)::integer, coalesce(sum(d.compute), 0), coalesce(sum(d.storage), 0), coalesce(sum(d.network), 0)
    INTO expired, v_dc, v_ds, v_dn FROM d;
  IF expired > 0 THEN
    uc := uc - v_dc; us := us - v_ds; un := un - v_dn;
  END IF;
END
$fn$;

-- reservation_finish($1 owner, $2..$4 usage): records the usage, or deletes the owner row when
-- the owner holds no reservation any more.
CREATE FUNCTION {{schema}}.reservation_finish(p_owner text, p_uc bigint, p_us bigint, p_un bigint)
RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  IF EXISTS (SELECT 1 FROM {{schema}}.reservations r WHERE r.owner = p_owner) THEN
    UPDATE {{schema}}.reservation_owners o SET compute = p_uc, storage = p_us, network = p_un
     WHERE o.owner = p_owner AND (o.compute, o.storage, o.network) IS DISTINCT FROM (p_uc, p_us, p_un);
  ELSE
    DELETE FROM {{schema}}.reservation_owners o WHERE o.owner = p_owner;
  END IF;
END
$fn$;

-- reservation_reserve($1 owner, $2 id, $3..$5 amounts, $6..$8 limits or NULL, $9 lease ms)
--   → (status 'reserved' | 'existing' | 'mismatch' | 'exceeded', now_ms, usage uc/us/un, expired,
--      the reservation's compute, storage, network, created_at, expires_at (NULL when exceeded)).
CREATE FUNCTION {{schema}}.reservation_reserve(p_owner text, p_id text,
  p_c bigint, p_s bigint, p_n bigint, p_lc bigint, p_ls bigint, p_ln bigint, p_lease_ms bigint,
  OUT status text, OUT now_ms bigint, OUT uc bigint, OUT us bigint, OUT un bigint, OUT expired integer,
  OUT r_compute bigint, OUT r_storage bigint, OUT r_network bigint, OUT r_created bigint, OUT r_expires bigint)
LANGUAGE plpgsql AS $fn$
BEGIN
  SELECT b.now_ms, b.uc, b.us, b.un, b.expired INTO now_ms, uc, us, un, expired
    FROM {{schema}}.reservation_begin(p_owner) b;
  SELECT r.compute, r.storage, r.network, r.created_at, r.expires_at
    INTO r_compute, r_storage, r_network, r_created, r_expires
    FROM {{schema}}.reservations r WHERE r.owner = p_owner AND r.id = p_id;
  IF FOUND THEN
    status := CASE WHEN (r_compute, r_storage, r_network) = (p_c, p_s, p_n) THEN 'existing' ELSE 'mismatch' END;
  ELSIF (p_c > 0 AND (uc + p_c > 9007199254740991 OR uc + p_c > coalesce(p_lc, 9007199254740991)))
     OR (p_s > 0 AND (us + p_s > 9007199254740991 OR us + p_s > coalesce(p_ls, 9007199254740991)))
     OR (p_n > 0 AND (un + p_n > 9007199254740991 OR un + p_n > coalesce(p_ln, 9007199254740991))) THEN
    status := 'exceeded';
  ELSE
    status := 'reserved';
    r_compute := p_c; r_storage := p_s; r_network := p_n;
    r_created := now_ms; r_expires := now_ms + p_lease_ms;
    INSERT INTO {{schema}}.reservations (owner, id, compute, storage, network, created_at, expires_at)
    VALUES (p_owner, p_id, p_c, p_s, p_n, r_created, r_expires);
    uc := uc + p_c; us := us + p_s; un := un + p_n;
  END IF;
  PERFORM {{schema}}.reservation_finish(p_owner, uc, us, un);
END
$fn$;

-- reservation_renew($1 owner, $2 id, $3 lease ms)
--   → (renewed, now_ms, usage uc/us/un, expired, the reservation's fields (NULL when not live)).
CREATE FUNCTION {{schema}}.reservation_renew(p_owner text, p_id text, p_lease_ms bigint,
  OUT renewed boolean, OUT now_ms bigint, OUT uc bigint, OUT us bigint, OUT un bigint, OUT expired integer,
  OUT r_compute bigint, OUT r_storage bigint, OUT r_network bigint, OUT r_created bigint, OUT r_expires bigint)
LANGUAGE plpgsql AS $fn$
BEGIN
  SELECT b.now_ms, b.uc, b.us, b.un, b.expired INTO now_ms, uc, us, un, expired
    FROM {{schema}}.reservation_begin(p_owner) b;
  UPDATE {{schema}}.reservations r SET expires_at = now_ms + p_lease_ms
   WHERE r.owner = p_owner AND r.id = p_id
  RETURNING r.compute, r.storage, r.network, r.created_at, r.expires_at
    INTO r_compute, r_storage, r_network, r_created, r_expires;
  renewed := FOUND;
  PERFORM {{schema}}.reservation_finish(p_owner, uc, us, un);
END
$fn$;

-- reservation_release($1 owner, $2 id) → (released, now_ms, usage uc/us/un, expired).
CREATE FUNCTION {{schema}}.reservation_release(p_owner text, p_id text,
  OUT released boolean, OUT now_ms bigint, OUT uc bigint, OUT us bigint, OUT un bigint, OUT expired integer)
LANGUAGE plpgsql AS $fn$
DECLARE
  v_c bigint; v_s bigint; v_n bigint;
BEGIN
  SELECT b.now_ms, b.uc, b.us, b.un, b.expired INTO now_ms, uc, us, un, expired
    FROM {{schema}}.reservation_begin(p_owner) b;
  DELETE FROM {{schema}}.reservations r WHERE r.owner = p_owner AND r.id = p_id
  RETURNING r.compute, r.storage, r.network INTO v_c, v_s, v_n;
  released := FOUND;
  IF released THEN
    uc := uc - v_c; us := us - v_s; un := un - v_n;
  END IF;
  PERFORM {{schema}}.reservation_finish(p_owner, uc, us, un);
END
$fn$;

-- reservation_snapshot($1 owner, $2 max listed)
--   → (now_ms, usage uc/us/un, expired, count, and per listed reservation in id order: ids,
--      computes, storages, networks, created, expires).
CREATE FUNCTION {{schema}}.reservation_snapshot(p_owner text, p_limit integer,
  OUT now_ms bigint, OUT uc bigint, OUT us bigint, OUT un bigint, OUT expired integer, OUT total integer,
  OUT ids text[], OUT computes bigint[], OUT storages bigint[], OUT networks bigint[], OUT created bigint[], OUT expires bigint[])
LANGUAGE plpgsql AS $fn$
BEGIN
  SELECT b.now_ms, b.uc, b.us, b.un, b.expired INTO now_ms, uc, us, un, expired
    FROM {{schema}}.reservation_begin(p_owner) b;
  SELECT count(*)::integer INTO total FROM {{schema}}.reservations r WHERE r.owner = p_owner;
  SELECT coalesce(array_agg(x.id ORDER BY x.id), ARRAY[]::text[]),
         coalesce(array_agg(x.compute ORDER BY x.id), ARRAY[]::bigint[]),
         coalesce(array_agg(x.storage ORDER BY x.id), ARRAY[]::bigint[]),
         coalesce(array_agg(x.network ORDER BY x.id), ARRAY[]::bigint[]),
         coalesce(array_agg(x.created_at ORDER BY x.id), ARRAY[]::bigint[]),
         coalesce(array_agg(x.expires_at ORDER BY x.id), ARRAY[]::bigint[])
    INTO ids, computes, storages, networks, created, expires
    FROM (SELECT r.* FROM {{schema}}.reservations r WHERE r.owner = p_owner ORDER BY r.id LIMIT p_limit) x;
  PERFORM {{schema}}.reservation_finish(p_owner, uc, us, un);
END
$fn$;

-- reservation_sweep($1 max owners) → owners visited: drops expired reservations of owners nobody
-- touched since their leases ended, in ascending owner order.
CREATE FUNCTION {{schema}}.reservation_sweep(p_limit integer)
RETURNS integer LANGUAGE plpgsql AS $fn$
DECLARE
  v_owner text;
  v_count integer := 0;
  v_now bigint := floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint;
  b record;
BEGIN
  FOR v_owner IN
    SELECT DISTINCT r.owner FROM {{schema}}.reservations r WHERE r.expires_at <= v_now ORDER BY r.owner LIMIT p_limit
  LOOP
    SELECT * INTO b FROM {{schema}}.reservation_begin(v_owner);
    PERFORM {{schema}}.reservation_finish(v_owner, b.uc, b.us, b.un);
    v_count := v_count + 1;
  END LOOP;
  RETURN v_count;
END
$fn$;
`;
