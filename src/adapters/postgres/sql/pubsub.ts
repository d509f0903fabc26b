/**
 * Statements of the PostgreSQL pub/sub adapter, built once per adapter for its schema (`s` is the
 * quoted identifier). Each constant's comment names its `$n` parameters and result columns.
 *
 * Notification payloads are tagged: `j<json>` carries the message inline; `r<id>` refers to a row
 * of `pubsub_payloads`, used when the message would not fit in a NOTIFY payload.
 */

/** NOTIFY payloads must be shorter than 8000 bytes (PostgreSQL's limit, in the server encoding). */
export const MAX_NOTIFY_PAYLOAD_BYTES = 7_999;

/** The pub/sub statements for one schema. */
export interface PubSubStatements {
  /** $1 channel identifier, $2 payload (`j<json>`) → one row. */
  readonly notify: string;
  /** $1 channel identifier, $2 message JSON → one row; stores the JSON and notifies `r<id>`, in one transaction. */
  readonly notifyStored: string;
  /** $1 payload id → at most one row `payload`. */
  readonly fetch: string;
  /** $1 batch size, $2 retention ms → `count` of stored payloads deleted. */
  readonly sweep: string;
}

/** Builds the pub/sub statements for the quoted schema identifier `s`. */
export function pubsubStatements(s: string): PubSubStatements {
  return {
    notify: 'SELECT pg_notify($1, $2)',

    // The INSERT and the NOTIFY commit together: a subscriber is only woken once the row it is
    // about to fetch is visible.
    notifyStored: `WITH stored AS (INSERT INTO ${s}.pubsub_payloads (payload) VALUES ($2) RETURNING id)
SELECT pg_notify($1, 'r' || id::text) FROM stored`,

    fetch: `SELECT payload FROM ${s}.pubsub_payloads WHERE id = $1::bigint`,

    sweep: `WITH doomed AS (
  SELECT id FROM ${s}.pubsub_payloads
   WHERE created_at < clock_timestamp() - $2::bigint * interval '1 millisecond'
   LIMIT $1
     FOR UPDATE SKIP LOCKED
), gone AS (
  DELETE FROM ${s}.pubsub_payloads p USING doomed WHERE p.id = doomed.id RETURNING 1
)
SELECT count(*)::int AS count FROM gone`,
  };
}

/**
 * `LISTEN` for one channel identifier (no parameters: LISTEN takes an identifier, not a value).
 * Identifiers are `df_` + hex, produced by the adapter, and quoted anyway.
 */
export const listen = (identifier: string): string => `LISTEN "${identifier}"`;

/** `UNLISTEN` for one channel identifier (no parameters). */
export const unlisten = (identifier: string): string => `UNLISTEN "${identifier}"`;
