/**
 * Statements of the PostgreSQL rate-limit and reservation stores, built once per store for its
 * schema (`s` is the quoted identifier). Each calls one plpgsql function of the resources
 * migration, so every operation is one round trip; the comments name the `$n` parameters.
 */

/** The rate-limit statements for one schema. */
export interface RateLimitStatements {
  /** $1 keys text[], $2 intervals µs bigint[], $3 bursts bigint[], $4 cost → `allowed`, `now_us`, `tats`. */
  readonly check: string;
  /** $1 keys text[] → nothing. */
  readonly reset: string;
  /** $1 batch size → `count` of rested rows deleted. */
  readonly sweep: string;
}

/** Builds {@link RateLimitStatements}. */
export function rateLimitStatements(s: string): RateLimitStatements {
  return {
    check: `SELECT allowed, now_us, tats FROM ${s}.rate_limit_check($1::text[], $2::bigint[], $3::bigint[], $4::bigint)`,
    reset: `DELETE FROM ${s}.rate_limits WHERE key = ANY($1::text[])`,
    sweep: `SELECT ${s}.rate_limit_sweep($1::integer) AS count`,
  };
}

/** Row of `reservation_reserve` / `reservation_renew` (bigint columns arrive as strings by default). */
export interface ReservationRow {
  readonly status?: string;
  readonly renewed?: boolean;
  readonly released?: boolean;
  readonly now_ms: string | number;
  readonly uc: string | number;
  readonly us: string | number;
  readonly un: string | number;
  readonly expired: number;
  readonly r_compute?: string | number | null;
  readonly r_storage?: string | number | null;
  readonly r_network?: string | number | null;
  readonly r_created?: string | number | null;
  readonly r_expires?: string | number | null;
}

/** Row of `reservation_snapshot`. */
export interface SnapshotRow extends ReservationRow {
  readonly total: number;
  readonly ids: string[];
  readonly computes: (string | number)[];
  readonly storages: (string | number)[];
  readonly networks: (string | number)[];
  readonly created: (string | number)[];
  readonly expires: (string | number)[];
}

/** The reservation statements for one schema. */
export interface ReservationStatements {
  /** $1 owner, $2 id, $3..$5 amounts, $6..$8 limits | null, $9 lease ms → {@link ReservationRow} with `status`. */
  readonly reserve: string;
  /** $1 owner, $2 id, $3 lease ms → {@link ReservationRow} with `renewed`. */
  readonly renew: string;
  /** $1 owner, $2 id → {@link ReservationRow} with `released`. */
  readonly release: string;
  /** $1 owner, $2 max listed → {@link SnapshotRow}. */
  readonly snapshot: string;
  /** $1 max owners → `count` of owners swept. */
  readonly sweep: string;
}

/** Builds {@link ReservationStatements}. */
export function reservationStatements(s: string): ReservationStatements {
  return {
    reserve: `SELECT * FROM ${s}.reservation_reserve($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    renew: `SELECT * FROM ${s}.reservation_renew($1, $2, $3)`,
    release: `SELECT * FROM ${s}.reservation_release($1, $2)`,
    snapshot: `SELECT * FROM ${s}.reservation_snapshot($1, $2)`,
    sweep: `SELECT ${s}.reservation_sweep($1::integer) AS count`,
  };
}
