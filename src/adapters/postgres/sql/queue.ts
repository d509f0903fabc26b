/**
 * Statements of the PostgreSQL queue adapter, built once per adapter for its schema (`s` is the
 * quoted identifier). Each calls one plpgsql function of migration 2 (see queue-migration.ts),
 * so every operation is one round trip; each constant's comment names its `$n` parameters.
 * bigint columns come back as strings with the default pg type parsers.
 */

/**
 * A row of the adapter's claim statement: `queue_claim`'s row packed into one text (see
 * {@link CLAIM_TASK_FIELDS} and {@link CLAIM_REAPED_FIELDS}).
 */
export interface ClaimRow {
  readonly o_kind: 'r' | 't' | 'n';
  /**
   * 't' and 'r': the fields joined by `chr(31)` (see `FIELD_SEPARATOR` in ../../internal/queue-records.ts:
   * a claim of 500 took ~1.1 ms less of ~10 ms than with 22 columns, and a worker's CPU per task
   * fell ~15%); 'n': ms until something may become claimable.
   */
  readonly o_row: string;
}

/** Positions of a claimed task's fields in a 't' row. */
export const CLAIM_TASK_FIELDS = {
  id: 0, tenant: 1, type: 2, owner: 3, payload: 4, band: 5, curBand: 6, priority: 7, cost: 8, opts: 9,
  attempt: 10, maxAttempts: 11, createdAt: 12, readyAt: 13, token: 14, expires: 15, pos: 16,
} as const;

/** Positions of a reaped lease's fields in an 'r' row. */
export const CLAIM_REAPED_FIELDS = { id: 0, tenant: 1, type: 2, state: 3, attempt: 4, at: 5, readyAt: 6, reason: 7 } as const;

/** A row of `queue_enqueue`. */
export interface EnqueueRow {
  readonly o_ord: number;
  readonly o_id: string;
  readonly o_created: boolean;
  readonly o_state: string;
  readonly o_attempt: number;
  readonly o_at: string | number;
  readonly o_ready_at: string | number;
}

/** A row of the single-task transitions (`queue_fail`, `queue_release`). */
export interface TransitionRow {
  readonly o_status: string;
  readonly o_state: string | null;
  readonly o_tenant: string | null;
  readonly o_type: string | null;
  readonly o_attempt: number | null;
  readonly o_at: string | number;
  readonly o_ready_at: string | number | null;
  readonly o_reason: string | null;
}

/** A row of the adapter's completion statement: `queue_complete`'s row packed into one text, see {@link COMPLETE_FIELDS}. */
export interface CompleteRow {
  readonly o_row: string;
}

/** Positions of a completion's fields (joined by `chr(31)`); state, tenant, type and attempt are '' when the task is gone. */
export const COMPLETE_FIELDS = { ord: 0, status: 1, state: 2, tenant: 3, type: 4, attempt: 5, at: 6 } as const;

/** A row of `queue_tasks`, as `get` reads it. */
export interface TaskRow {
  readonly id: string;
  readonly tenant: string;
  readonly type: string;
  readonly owner: string | null;
  readonly payload: string;
  readonly band: number;
  readonly cur_band: number;
  readonly priority: number;
  readonly cost: number;
  readonly opts: string;
  readonly max_attempts: number;
  readonly idem_key: string | null;
  readonly state: string;
  readonly attempt: number;
  readonly created_at: string | number;
  readonly ready_at: string | number;
  readonly updated_at: string | number;
  readonly worker: string | null;
  readonly lease_expires_at: string | number | null;
  readonly progress: string | null;
  readonly result: string | null;
  readonly error: string | null;
  readonly history: string;
}

/** A row of `queue_tenants`. */
export interface TenantRow {
  readonly weight: number;
  readonly max_concurrency: number | null;
  readonly rate: number | null;
  readonly burst: number;
}

/** A row of `queues`. */
export interface PolicyRow {
  readonly max_concurrency: number | null;
  readonly aging_ms: string | number | null;
  readonly retention_ms: string | number;
  readonly failed_retention_ms: string | number | null;
}

/** The queue statements for one schema. */
export interface QueueStatements {
  /** $1 queue, $2 channel, $3 lock, $4–$16 aligned arrays (see `queue_enqueue`) → {@link EnqueueRow}s. */
  readonly enqueue: string;
  /** $1 queue, $2 worker, $3 limit, $4 lease ms, $5 tokens, $6 channel → {@link ClaimRow}s. */
  readonly claim: string;
  /** $1 queue, $2 channel, $3 ids, $4 tokens, $5 results → {@link CompleteRow}s. */
  readonly complete: string;
  /** $1 queue, $2 channel, $3 id, $4 token, $5 error JSON, $6 retry ms, $7 final → one {@link TransitionRow}. */
  readonly fail: string;
  /** $1 queue, $2 channel, $3 id, $4 token, $5 delay ms → one {@link TransitionRow}. */
  readonly release: string;
  /** $1 queue, $2 id, $3 token, $4 lease ms, $5 progress JSON | null → status, state, expires, attempt, worker. */
  readonly extend: string;
  /** Takes back the tasks of claims in doubt (see `LostClaims`): rows in the claim's 't' format, without `pos`. */
  readonly recover: string;
  /** $1 queue, $2 channel, $3 id, $4 worker, $5 lease ms, $6 token → status, state, tenant, type, attempt, at, expires. */
  readonly assign: string;
  /** $1 queue, $2 channel, $3 id, $4 delete → status, state, tenant, type, attempt, at. */
  readonly cancel: string;
  /** $1 queue, $2 channel, $3 limit → reaped rows and one purge count row. */
  readonly maintain: string;
  /** $1 queue → `stats` (JSON text). */
  readonly stats: string;
  /** $1 queue, $2 max age ms → `stats` (JSON text) from the shared snapshot, recounted when older. */
  readonly sharedStats: string;
  /** $1 queue, $2 channel, $3–$9 set-flag/value pairs → one {@link PolicyRow}. */
  readonly configure: string;
  /** $1 queue, $2 channel, $3 tenant, $4 weight, $5 set max, $6 max, $7 set rate, $8 rate, $9 burst → one {@link TenantRow}. */
  readonly setTenant: string;
  /** $1 queue, $2 tenant → at most one {@link TenantRow}. */
  readonly getTenant: string;
  /** $1 queue, $2 id → at most one {@link TaskRow}. */
  readonly get: string;
  /** $1 queue, $2 tenant, $3 after id (the nil UUID: from the start), $4 state | null, $5 type | null, $6 owner | null, $7 limit → {@link TaskRow}s by id. */
  readonly list: string;
  /** $1 queue → one {@link PolicyRow} (creating the queue's row with the defaults). */
  readonly policy: string;
}

/** Builds the queue statements for the quoted schema identifier `s`. */
export function queueStatements(s: string): QueueStatements {
  return {
    enqueue: `SELECT o_ord, o_id, o_created, o_state, o_attempt, o_at, o_ready_at
  FROM ${s}.queue_enqueue($1, $2, $3, $4::uuid[], $5::text[], $6::text[], $7::text[], $8::text[], $9::smallint[], $10::smallint[],
                          $11::float8[], $12::text[], $13::integer[], $14::text[], $15::bigint[], $16::bigint[])`,
    // concat_ws skips NULLs, so every field that may be NULL is coalesced to '' (none is '' otherwise).
    claim: `SELECT o_kind, CASE o_kind
    WHEN 't' THEN concat_ws(chr(31), o_id, o_tenant, o_type, coalesce(o_owner, ''), o_payload, o_band, o_cur_band, o_priority, o_cost,
                            o_opts, o_attempt, o_max_attempts, o_created_at, o_ready_at, o_token, o_expires, o_pos)
    WHEN 'r' THEN concat_ws(chr(31), o_id, o_tenant, o_type, o_state, o_attempt, o_at, coalesce(o_ready_at::text, ''), coalesce(o_reason, ''))
    ELSE o_next_ms::text END AS o_row
  FROM ${s}.queue_claim($1, $2, $3, $4::bigint, $5::text[], $6)`,
    complete: `SELECT concat_ws(chr(31), o_ord, o_status, coalesce(o_state, ''), coalesce(o_tenant, ''), coalesce(o_type, ''),
                 coalesce(o_attempt::text, ''), o_at) AS o_row
  FROM ${s}.queue_complete($1, $2, $3::uuid[], $4::text[], $5::text[])`,
    fail: `SELECT * FROM ${s}.queue_fail($1, $2, $3::uuid, $4, $5, $6::bigint, $7)`,
    release: `SELECT * FROM ${s}.queue_release($1, $2, $3::uuid, $4, $5::bigint)`,
    extend: `SELECT * FROM ${s}.queue_extend($1, $2::uuid, $3, $4::bigint, $5)`,
    // $1 queue, $2 worker, $3 lease tokens of the claims in doubt, $4 lease ms, $5 limit, $6 the
    // first token of each of those claims. A task comes back only while it still runs for this
    // worker under one of those leases, or under its assignment's lease after one of those claims
    // started it (claim_ref, migration 14); its lease is renewed. Only leased tasks are read
    // (queue_tasks_leased), and this runs after an outage only.
    recover: `WITH n AS (SELECT ${s}.queue_now() AS now),
  held AS (
    SELECT t.id FROM ${s}.queue_tasks t, n
     WHERE t.queue = $1 AND t.state = 'running' AND t.worker = $2 AND (t.token = ANY($3::text[]) OR t.claim_ref = ANY($6::text[]))
       AND t.lease_expires_at > n.now
     ORDER BY t.id LIMIT $5 FOR UPDATE OF t)
UPDATE ${s}.queue_tasks t SET lease_expires_at = n.now + $4::bigint, updated_at = n.now
  FROM n, held
 WHERE t.id = held.id
RETURNING concat_ws(chr(31), t.id, t.tenant, t.type, coalesce(t.owner, ''), t.payload, t.band, t.cur_band, t.priority, t.cost,
                    t.opts, t.attempt, t.max_attempts, t.created_at, t.ready_at, t.token, t.lease_expires_at) AS o_row`,
    assign: `SELECT * FROM ${s}.queue_assign($1, $2, $3::uuid, $4, $5::bigint, $6)`,
    cancel: `SELECT * FROM ${s}.queue_cancel($1, $2, $3::uuid, $4)`,
    maintain: `SELECT * FROM ${s}.queue_maintain($1, $2, $3)`,
    stats: `SELECT ${s}.queue_stats($1) AS stats`,
    sharedStats: `SELECT ${s}.queue_stats_shared($1, $2::bigint) AS stats`,
    configure: `SELECT max_concurrency, aging_ms, retention_ms, failed_retention_ms
  FROM ${s}.queue_configure($1, $2, $3, $4::integer, $5, $6::bigint, $7::bigint, $8, $9::bigint)`,
    setTenant: `SELECT weight, max_concurrency, rate, burst
  FROM ${s}.queue_set_tenant($1, $2, $3, $4::float8, $5, $6::integer, $7, $8::float8, $9::integer)`,
    getTenant: `SELECT weight, max_concurrency, rate, burst FROM ${s}.queue_tenants WHERE queue = $1 AND tenant = $2`,
    get: `SELECT id, tenant, type, owner, payload, band, cur_band, priority, cost, opts, max_attempts, idem_key, state, attempt,
       created_at, ready_at, updated_at, worker, lease_expires_at, progress, result, error, history
  FROM ${s}.queue_tasks WHERE queue = $1 AND id = $2::uuid`,
    list: `SELECT id, tenant, type, owner, payload, band, cur_band, priority, cost, opts, max_attempts, idem_key, state, attempt,
       created_at, ready_at, updated_at, worker, lease_expires_at, progress, result, error, history
  FROM ${s}.queue_tasks
 WHERE queue = $1 AND tenant = $2 AND id > $3::uuid
   AND ($4::text IS NULL OR state = $4::text) AND ($5::text IS NULL OR type = $5::text) AND ($6::text IS NULL OR owner = $6::text)
 ORDER BY id LIMIT $7::integer`,
    policy: `SELECT max_concurrency, aging_ms, retention_ms, failed_retention_ms FROM ${s}.queue_config($1)`,
  };
}
