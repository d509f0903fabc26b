/**
 * The SQL migrations shipped with the PostgreSQL backend, as string data: bundles (ESM, CJS, edge
 * builds) need no file-path resolution to find them.
 *
 * Placeholders, substituted by `migratePostgres()` (or by a host applying them with its own tool):
 * - `{{schema}}`: the schema as a quoted identifier, e.g. `"digital_fabrica"`;
 * - `{{lock_prefix}}`: the schema name followed by `:`, the prefix of every per-document advisory
 *   lock key, so two schemas in one database never contend for each other's locks.
 *
 * Once released, a migration's SQL never changes: fixes ship as a new, higher version.
 */

import { QUEUE_MIGRATION_SQL } from './queue-migration.js';
import { QUEUE_CLAIM_FUNCTION_SQL } from './queue-claim-function.js';
import { QUEUE_CLAIM_TENANTS_SQL, QUEUE_ENQUEUE_COST_SQL } from './queue-claim-tenants.js';
import { QUEUE_CLAIM_TIES_SQL } from './queue-claim-ties-migration.js';
import { QUEUE_TIME_RULES_SQL } from './queue-time-rules-migration.js';
import { QUEUE_CLAIM_REF_SQL } from './queue-claim-ref-migration.js';
import { QUEUE_COUNTS_MIGRATION_SQL } from './queue-counts-migration.js';
import { QUEUE_NO_JIT_SQL } from './queue-no-jit-migration.js';
import { QUEUE_RETENTION_SQL } from './queue-retention-migration.js';
import { QUEUE_STATS_SNAPSHOTS_SQL } from './queue-stats-migration.js';
import { RESOURCES_MIGRATION_SQL } from './resources-migration.js';

/** One numbered migration. */
export interface PostgresMigration {
  /** Position in the sequence, starting at 1, without gaps. */
  readonly version: number;
  /** Short description, recorded in the migrations table. */
  readonly name: string;
  /** Statements to run in one transaction, with the placeholders described above. */
  readonly sql: string;
}

// Design notes that apply to the whole schema:
// - namespace/key use COLLATE "C": byte order of UTF-8 equals code point order, the order
//   `compareKeys` defines for every backend, and it makes the primary key usable for range scans.
// - Values are JSON *text*: jsonb rejects "\u0000" and would reorder object keys.
// - Versions come from one sequence with CACHE 1: with a per-session cache, a later write could
//   receive a smaller number than an earlier one from another session.
// - Every write function first takes a transaction-scoped advisory lock on a hash of
//   (namespace, key) — txn takes all of its keys in ascending hash order, so there is no deadlock —
//   and only then reads the current row, draws a version and writes. That serialises all writers
//   of one document (including the create-if-absent race, which row locks cannot cover because an
//   absent row has nothing to lock) and makes versions of one document strictly increase in commit
//   order. Hash collisions only cost extra waiting, never correctness.
// - Expiry uses the database clock (clock_timestamp()), truncated to milliseconds, so that
//   processes with skewed clocks agree and `expiresAt` round-trips exactly as epoch ms.
// - The functions rely on READ COMMITTED (PostgreSQL's default): each statement in a VOLATILE
//   plpgsql function then sees everything committed before the lock was granted.

const V1_SCHEMA = /* sql */ `
CREATE TABLE {{schema}}.documents (
  namespace  text COLLATE "C" NOT NULL,
  key        text COLLATE "C" NOT NULL,
  value      text NOT NULL,
  version    bigint NOT NULL,
  expires_at timestamptz,
  PRIMARY KEY (namespace, key)
);
CREATE INDEX documents_expiry ON {{schema}}.documents (expires_at) WHERE expires_at IS NOT NULL;

CREATE SEQUENCE {{schema}}.document_versions AS bigint CACHE 1;

-- UNLOGGED: a cache may lose entries on a crash (the contract allows early eviction), and skipping
-- the WAL makes writes several times cheaper.
CREATE UNLOGGED TABLE {{schema}}.cache_entries (
  key        text COLLATE "C" PRIMARY KEY,
  value      bytea NOT NULL,
  expires_at timestamptz
);
CREATE INDEX cache_entries_expiry ON {{schema}}.cache_entries (expires_at) WHERE expires_at IS NOT NULL;

-- Messages too large for a NOTIFY payload (8000 bytes) wait here; the notification carries the id.
-- UNLOGGED for the same reason as the cache: delivery is at-most-once anyway.
CREATE UNLOGGED TABLE {{schema}}.pubsub_payloads (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  payload    text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX pubsub_payloads_created ON {{schema}}.pubsub_payloads (created_at);

-- storage_put($1 namespace, $2 key, $3 value JSON text, $4 ttl ms or NULL,
--             $5 required current version or NULL (0: must not exist))
--   → the new version, or NULL when $5 did not match (nothing written).
CREATE FUNCTION {{schema}}.storage_put(p_namespace text, p_key text, p_value text, p_ttl_ms bigint, p_if_version bigint)
RETURNS bigint LANGUAGE plpgsql AS $fn$
DECLARE
  v_now     timestamptz;
  v_current bigint;
  v_version bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('{{lock_prefix}}' || p_namespace || ':' || p_key, 0));
  v_now := date_trunc('milliseconds', clock_timestamp());
  IF p_if_version IS NOT NULL THEN
    SELECT d.version INTO v_current
      FROM {{schema}}.documents d
     WHERE d.namespace = p_namespace AND d.key = p_key AND (d.expires_at IS NULL OR d.expires_at > v_now);
    IF coalesce(v_current, 0) <> p_if_version THEN
      RETURN NULL;
    END IF;
  END IF;
  v_version := nextval('{{schema}}.document_versions');
  INSERT INTO {{schema}}.documents (namespace, key, value, version, expires_at)
  VALUES (p_namespace, p_key, p_value, v_version,
          CASE WHEN p_ttl_ms IS NULL THEN NULL ELSE v_now + p_ttl_ms * interval '1 millisecond' END)
  ON CONFLICT (namespace, key) DO UPDATE
    SET value = excluded.value, version = excluded.version, expires_at = excluded.expires_at;
  RETURN v_version;
END
$fn$;

-- storage_delete($1 namespace, $2 key) → whether a live (unexpired) document was removed.
CREATE FUNCTION {{schema}}.storage_delete(p_namespace text, p_key text)
RETURNS boolean LANGUAGE plpgsql AS $fn$
DECLARE
  v_live boolean;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('{{lock_prefix}}' || p_namespace || ':' || p_key, 0));
  DELETE FROM {{schema}}.documents d
   WHERE d.namespace = p_namespace AND d.key = p_key
  RETURNING (d.expires_at IS NULL OR d.expires_at > clock_timestamp()) INTO v_live;
  RETURN coalesce(v_live, false);
END
$fn$;

-- storage_add($1 namespace, $2 key, $3 delta, $4 min or NULL, $5 max or NULL, $6 ttl ms or NULL)
--   → (status 'ok' | 'not_number', applied, value_json, doc_version).
-- Restates decideAdd() in float8, which is IEEE-754 binary64 like a JS number, so rounding and
-- the safe-integer check agree bit for bit with the memory backend.
CREATE FUNCTION {{schema}}.storage_add(
  p_namespace text, p_key text, p_delta bigint, p_min bigint, p_max bigint, p_ttl_ms bigint,
  OUT status text, OUT applied boolean, OUT value_json text, OUT doc_version bigint)
LANGUAGE plpgsql AS $fn$
DECLARE
  v_now     timestamptz;
  v_text    text;
  v_version bigint;
  v_current float8;
  v_next    float8;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('{{lock_prefix}}' || p_namespace || ':' || p_key, 0));
  v_now := date_trunc('milliseconds', clock_timestamp());
  SELECT d.value, d.version INTO v_text, v_version
    FROM {{schema}}.documents d
   WHERE d.namespace = p_namespace AND d.key = p_key AND (d.expires_at IS NULL OR d.expires_at > v_now);
  IF v_version IS NULL THEN
    v_current := 0;
  ELSIF v_text !~ '^-?[0-9]' THEN
    -- JSON.stringify writes numbers, and only numbers, starting with '-' or a digit.
    status := 'not_number';
    applied := false;
    RETURN;
  ELSE
    v_current := v_text::float8;
  END IF;
  status := 'ok';
  value_json := coalesce(v_text, '0');
  doc_version := v_version;
  v_next := v_current + p_delta::float8;
  IF (p_delta > 0 AND p_max IS NOT NULL AND v_next > p_max)
     OR (p_delta < 0 AND p_min IS NOT NULL AND v_next < p_min)
     OR v_next <> trunc(v_next) OR abs(v_next) > 9007199254740991 THEN
    applied := false;
    RETURN;
  END IF;
  applied := true;
  IF p_delta = 0 THEN
    RETURN;
  END IF;
  value_json := v_next::bigint::text;
  doc_version := nextval('{{schema}}.document_versions');
  IF v_version IS NOT NULL THEN
    -- An existing counter keeps its expiry: the TTL only applies when this add creates it.
    UPDATE {{schema}}.documents d SET value = value_json, version = doc_version
     WHERE d.namespace = p_namespace AND d.key = p_key;
  ELSE
    -- Absent, or an expired row the sweeper has not removed yet: (re)create with the TTL.
    INSERT INTO {{schema}}.documents (namespace, key, value, version, expires_at)
    VALUES (p_namespace, p_key, value_json, doc_version,
            CASE WHEN p_ttl_ms IS NULL THEN NULL ELSE v_now + p_ttl_ms * interval '1 millisecond' END)
    ON CONFLICT (namespace, key) DO UPDATE
      SET value = excluded.value, version = excluded.version, expires_at = excluded.expires_at;
  END IF;
END
$fn$;

-- storage_txn(
--   $1 compare namespaces, $2 compare keys, $3 compare versions (NULL for an exists-compare),
--   $4 compare exists flags,
--   $5 op branch (true = success), $6 op is-put flags, $7 op namespaces, $8 op keys,
--   $9 op values (JSON text, NULL for deletes), $10 op ttl ms (NULL: none))
--   → (succeeded, versions: one per op of the branch taken, existed: likewise).
-- The keys of both branches are locked up front: locking the taken branch only after the compare
-- would acquire locks in two rounds and could deadlock against another txn.
CREATE FUNCTION {{schema}}.storage_txn(
  c_namespaces text[], c_keys text[], c_versions bigint[], c_exists boolean[],
  o_success boolean[], o_puts boolean[], o_namespaces text[], o_keys text[], o_values text[], o_ttls bigint[],
  OUT succeeded boolean, OUT versions bigint[], OUT existed boolean[])
LANGUAGE plpgsql AS $fn$
DECLARE
  v_lock    bigint;
  v_now     timestamptz;
  v_version bigint;
  v_live    boolean;
  i         integer;
BEGIN
  FOR v_lock IN
    SELECT DISTINCT hashtextextended('{{lock_prefix}}' || t.ns || ':' || t.k, 0)
      FROM (SELECT * FROM unnest(c_namespaces, c_keys) UNION ALL SELECT * FROM unnest(o_namespaces, o_keys)) AS t(ns, k)
     ORDER BY 1
  LOOP
    PERFORM pg_advisory_xact_lock(v_lock);
  END LOOP;
  -- Taken after the locks: time spent waiting must not make an expired document look live.
  v_now := date_trunc('milliseconds', clock_timestamp());

  succeeded := true;
  FOR i IN 1 .. coalesce(array_length(c_namespaces, 1), 0) LOOP
    v_version := NULL;
    SELECT d.version INTO v_version
      FROM {{schema}}.documents d
     WHERE d.namespace = c_namespaces[i] AND d.key = c_keys[i] AND (d.expires_at IS NULL OR d.expires_at > v_now);
    IF c_versions[i] IS NOT NULL THEN
      succeeded := coalesce(v_version, 0) = c_versions[i];
    ELSE
      succeeded := c_exists[i] = (v_version IS NOT NULL);
    END IF;
    EXIT WHEN NOT succeeded;
  END LOOP;

  versions := '{}';
  existed := '{}';
  FOR i IN 1 .. coalesce(array_length(o_namespaces, 1), 0) LOOP
    CONTINUE WHEN o_success[i] <> succeeded;
    v_live := NULL;
    SELECT (d.expires_at IS NULL OR d.expires_at > v_now) INTO v_live
      FROM {{schema}}.documents d
     WHERE d.namespace = o_namespaces[i] AND d.key = o_keys[i];
    existed := array_append(existed, coalesce(v_live, false));
    IF o_puts[i] THEN
      v_version := nextval('{{schema}}.document_versions');
      INSERT INTO {{schema}}.documents (namespace, key, value, version, expires_at)
      VALUES (o_namespaces[i], o_keys[i], o_values[i], v_version,
              CASE WHEN o_ttls[i] IS NULL THEN NULL ELSE v_now + o_ttls[i] * interval '1 millisecond' END)
      ON CONFLICT (namespace, key) DO UPDATE
        SET value = excluded.value, version = excluded.version, expires_at = excluded.expires_at;
      versions := array_append(versions, v_version);
    ELSE
      DELETE FROM {{schema}}.documents d WHERE d.namespace = o_namespaces[i] AND d.key = o_keys[i];
      versions := array_append(versions, NULL::bigint);
    END IF;
  END LOOP;
END
$fn$;
`;

// Task listing (QueueAdapter.list): a tenant's tasks by id, resumed after a cursor id.
const V4_TASK_LISTING = /* sql */ `
CREATE INDEX queue_tasks_listing ON {{schema}}.queue_tasks (queue, tenant, id);
`;

// The listing index led by tenant instead of queue. Led by queue, it matched `queue = $1` alone,
// and the planner — with statistics from when the table was small — combined it with the
// primary key for a batch of ids (BitmapAnd), reading every index entry of the queue on each
// batched completion: O(queued tasks) per call, 7 ms at 150 000 tasks. Led by tenant, it serves
// only what it is for (one tenant's tasks of one queue, by id).
const V5_TASK_LISTING_BY_TENANT = /* sql */ `
DROP INDEX {{schema}}.queue_tasks_listing;
CREATE INDEX queue_tasks_listing ON {{schema}}.queue_tasks (tenant, queue, id);
`;

// The claim replaced: index-driven once the tables have statistics (see queue-claim-function.ts).
const V6_CLAIM_WITH_STATISTICS = QUEUE_CLAIM_FUNCTION_SQL;

/**
 * Every migration this version of the package knows, in order. `migratePostgres()` applies the
 * missing ones; the adapters refuse to start unless the database is at exactly the last version.
 *
 * @example
 * ```ts
 * import { POSTGRES_MIGRATIONS } from 'digital-fabrica/adapters/postgres';
 * const latest = POSTGRES_MIGRATIONS[POSTGRES_MIGRATIONS.length - 1]!.version;
 * console.log(`schema version ${latest}`);
 * ```
 */
export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = Object.freeze([
  Object.freeze({ version: 1, name: 'documents, cache, pub/sub payloads and storage functions', sql: V1_SCHEMA }),
  Object.freeze({ version: 2, name: 'task queue: tables and fair-claim functions', sql: QUEUE_MIGRATION_SQL }),
  Object.freeze({ version: 3, name: 'resources: GCRA rate limits and leased reservations', sql: RESOURCES_MIGRATION_SQL }),
  Object.freeze({ version: 4, name: 'task queue: listing index by tenant and id', sql: V4_TASK_LISTING }),
  Object.freeze({ version: 5, name: 'task queue: listing index led by tenant (no full-queue scans on batched completion)', sql: V5_TASK_LISTING_BY_TENANT }),
  Object.freeze({ version: 6, name: 'task queue: claim stays index-driven once tables have planner statistics', sql: V6_CLAIM_WITH_STATISTICS }),
  Object.freeze({ version: 7, name: 'task queue: shared stats snapshots (statsMaxAgeMs)', sql: QUEUE_STATS_SNAPSHOTS_SQL }),
  Object.freeze({ version: 8, name: 'task queue: maintained counts (stats no longer reads every task)', sql: QUEUE_COUNTS_MIGRATION_SQL }),
  Object.freeze({
    version: 9,
    name: 'task queue: the claim scales with tenants and allots by each tenant\'s task cost',
    sql: QUEUE_CLAIM_TENANTS_SQL + QUEUE_ENQUEUE_COST_SQL,
  }),
  Object.freeze({ version: 10, name: 'task queue: no JIT compilation in the queue functions (claims past ~55 000 waiting tasks compiled for ~55 ms)', sql: QUEUE_NO_JIT_SQL }),
  Object.freeze({ version: 11, name: 'task queue: purging reads only what it removes, and completions purge (retention keeps up under load)', sql: QUEUE_RETENTION_SQL }),
  Object.freeze({ version: 12, name: 'task queue: tenants tied on their start tag are served by tenant id', sql: QUEUE_CLAIM_TIES_SQL }),
  Object.freeze({ version: 13, name: 'task queue: reaped tasks honour a failed retention of 0 and keep their band; start tags spaced by the next task\'s cost; nextInMs names only rate tokens that hold a tenant back', sql: QUEUE_TIME_RULES_SQL }),
  Object.freeze({ version: 14, name: 'task queue: a claim whose reply was lost gives back its assigned tasks too', sql: QUEUE_CLAIM_REF_SQL }),
]);

/**
 * The schema version this package requires: the last migration's number. The adapters refuse a
 * database at any other version with `ADAPTER_SCHEMA_MISMATCH`.
 *
 * @example
 * ```ts
 * import { POSTGRES_SCHEMA_VERSION } from 'digital-fabrica/adapters/postgres';
 * console.log(`this build of digital-fabrica needs schema version ${POSTGRES_SCHEMA_VERSION}`);
 * ```
 */
export const POSTGRES_SCHEMA_VERSION: number = POSTGRES_MIGRATIONS[POSTGRES_MIGRATIONS.length - 1]!.version;

/** Substitutes the placeholders of a migration for one schema (`schema` must already be validated). */
export function renderMigration(sql: string, schema: string): string {
  return sql.replaceAll('{{schema}}', quoteIdentifier(schema)).replaceAll('{{lock_prefix}}', `${schema}:`);
}

/** Double-quotes an identifier, doubling embedded quotes (schema names are validated anyway). */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
