/**
 * Statements of the PostgreSQL cache adapter, built once per adapter for its schema (`s` is the
 * quoted identifier). Each constant's comment names its `$n` parameters and result columns.
 * No locks are needed here: cache entries carry no versions, so last write wins.
 */

const LIVE = '(expires_at IS NULL OR expires_at > clock_timestamp())';

/** The cache statements for one schema. */
export interface CacheStatements {
  /** $1 key → at most one row `value` (bytea). */
  readonly get: string;
  /** $1 keys (text[]) → `key`, `value` of the live entries among them. */
  readonly getMany: string;
  /** $1 key, $2 value (bytea), $3 ttl ms | null → no rows. */
  readonly set: string;
  /** $1 key → `live` of the removed row, or no row when there was none. */
  readonly delete: string;
  /** $1 lower bound (the prefix), $2 upper bound (exclusive) | null → `count` of live entries removed. */
  readonly deleteRange: string;
  /** $1 batch size → `count` of expired entries deleted. */
  readonly sweep: string;
}

/** Builds the cache statements for the quoted schema identifier `s`. */
export function cacheStatements(s: string): CacheStatements {
  return {
    get: `SELECT value FROM ${s}.cache_entries WHERE key = $1 AND ${LIVE}`,

    getMany: `SELECT key, value FROM ${s}.cache_entries WHERE key = ANY($1::text[]) AND ${LIVE}`,

    set: `INSERT INTO ${s}.cache_entries (key, value, expires_at)
VALUES ($1, $2, CASE WHEN $3::bigint IS NULL THEN NULL ELSE clock_timestamp() + $3::bigint * interval '1 millisecond' END)
ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,

    delete: `DELETE FROM ${s}.cache_entries WHERE key = $1 RETURNING ${LIVE} AS live`,

    // A key range instead of LIKE: prefixes are matched literally, whatever characters they hold.
    deleteRange: `WITH gone AS (
  DELETE FROM ${s}.cache_entries
   WHERE key >= $1 AND ($2::text IS NULL OR key < $2::text)
  RETURNING expires_at
)
SELECT (count(*) FILTER (WHERE ${LIVE}))::int AS count FROM gone`,

    sweep: `WITH doomed AS (
  SELECT key FROM ${s}.cache_entries
   WHERE expires_at <= clock_timestamp()
   LIMIT $1
     FOR UPDATE SKIP LOCKED
), gone AS (
  DELETE FROM ${s}.cache_entries c USING doomed WHERE c.key = doomed.key RETURNING 1
)
SELECT count(*)::int AS count FROM gone`,
  };
}
