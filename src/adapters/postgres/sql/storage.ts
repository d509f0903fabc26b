/**
 * Statements of the PostgreSQL storage adapter, built once per adapter for its schema (`s` is the
 * quoted identifier). Each constant's comment names its `$n` parameters and result columns.
 * Writes go through the plpgsql functions of the migration, so each operation is one round trip.
 */

// A document is live unless it has expired by the database clock.
const LIVE = '(expires_at IS NULL OR expires_at > clock_timestamp())';
// Expiry as epoch milliseconds (stored truncated to ms, so this is exact).
const EXPIRES_MS = 'floor(extract(epoch FROM expires_at) * 1000)::bigint AS expires_ms';

/** Row shape of the document reads. */
export interface DocumentRow {
  readonly key: string;
  readonly value: string;
  /** bigint: a string with the default pg type parsers, a number with custom ones. */
  readonly version: string | number;
  readonly expires_ms: string | number | null;
}

/** The storage statements for one schema. */
export interface StorageStatements {
  /** $1 namespace, $2 key → at most one {@link DocumentRow}. */
  readonly get: string;
  /** $1 namespace, $2 keys (text[]) → the live {@link DocumentRow}s among them, any order. */
  readonly getMany: string;
  /** $1 namespace, $2 key, $3 JSON text, $4 ttl ms | null, $5 ifVersion | null → `version` (null: stale ifVersion). */
  readonly put: string;
  /** $1 namespace, $2 key → `existed`. */
  readonly delete: string;
  /**
   * $1 namespace, $2 lower bound (inclusive), $3 cursor key (exclusive) | null,
   * $4 upper bound (exclusive) | null, $5 row limit → {@link DocumentRow}s in key order.
   */
  readonly list: string;
  /** The ten arrays of `storage_txn` (see the migration) → `succeeded`, `versions`, `existed`. */
  readonly txn: string;
  /** $1 namespace, $2 key, $3 delta, $4 min | null, $5 max | null, $6 ttl ms | null → `status`, `applied`, `value_json`, `doc_version`. */
  readonly add: string;
  /** $1 batch size → `count` of expired documents deleted. */
  readonly sweep: string;
}

/** Builds the storage statements for the quoted schema identifier `s`. */
export function storageStatements(s: string): StorageStatements {
  return {
    get: `SELECT key, value, version, ${EXPIRES_MS}
  FROM ${s}.documents
 WHERE namespace = $1 AND key = $2 AND ${LIVE}`,

    getMany: `SELECT key, value, version, ${EXPIRES_MS}
  FROM ${s}.documents
 WHERE namespace = $1 AND key = ANY($2::text[]) AND ${LIVE}`,

    put: `SELECT ${s}.storage_put($1, $2, $3, $4::bigint, $5::bigint) AS version`,

    delete: `SELECT ${s}.storage_delete($1, $2) AS existed`,

    // A range on the primary key instead of LIKE: no wildcard escaping to get wrong, and the
    // index (collation "C", i.e. code point order) serves the scan and the ORDER BY.
    list: `SELECT key, value, version, ${EXPIRES_MS}
  FROM ${s}.documents
 WHERE namespace = $1
   AND key >= $2
   AND ($3::text IS NULL OR key > $3::text)
   AND ($4::text IS NULL OR key < $4::text)
   AND ${LIVE}
 ORDER BY key
 LIMIT $5`,

    txn: `SELECT succeeded, versions, existed
  FROM ${s}.storage_txn($1::text[], $2::text[], $3::bigint[], $4::boolean[],
                        $5::boolean[], $6::boolean[], $7::text[], $8::text[], $9::text[], $10::bigint[])`,

    add: `SELECT status, applied, value_json, doc_version
  FROM ${s}.storage_add($1, $2, $3::bigint, $4::bigint, $5::bigint, $6::bigint)`,

    // SKIP LOCKED: the sweeper never waits for (or deadlocks with) a writer; a row a writer holds
    // is being rewritten anyway, and expired rows are invisible to every read regardless.
    sweep: `WITH doomed AS (
  SELECT namespace, key FROM ${s}.documents
   WHERE expires_at <= clock_timestamp()
   LIMIT $1
     FOR UPDATE SKIP LOCKED
), gone AS (
  DELETE FROM ${s}.documents d USING doomed
   WHERE d.namespace = doomed.namespace AND d.key = doomed.key
  RETURNING 1
)
SELECT count(*)::int AS count FROM gone`,
  };
}
