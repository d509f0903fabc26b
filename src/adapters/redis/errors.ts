import { AdapterUnavailableError, ConflictError, FabricaError, isFabricaError } from '../../core/errors.js';

/**
 * Error replies our Lua scripts raise on purpose (`redis.error_reply('<CODE> ...')`), each mapped
 * to a fixed {@link FabricaError}. The first word of a Redis error reply is its code.
 */
export const SCRIPT_ERROR = {
  /** A counter add found a document that does not hold a number (nothing was written). */
  notANumber: 'DF_NOT_A_NUMBER',
} as const;

// Reply codes meaning "this server cannot serve you right now; another try (maybe after a
// failover or restart) may succeed":
// LOADING (dataset loading after restart), BUSY (another script runs past its time limit),
// CLUSTERDOWN / TRYAGAIN / MASTERDOWN / NOREPLICAS (cluster or replication degraded),
// READONLY (we talk to a replica: a failover demoted our node), OOM (maxmemory reached: writes
// refused until memory is freed).
const UNAVAILABLE_REPLIES = new Set(['LOADING', 'BUSY', 'CLUSTERDOWN', 'TRYAGAIN', 'MASTERDOWN', 'NOREPLICAS', 'READONLY', 'OOM']);

// Node socket errors: the server is gone, refused us, or the network failed.
const UNAVAILABLE_SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENOTCONN',
  'ERR_SOCKET_CLOSED',
  'ERR_STREAM_DESTROYED',
]);

// ioredis error classes raised when a command cannot reach the server (retries exhausted,
// aborted by a disconnect, every cluster node failed).
const UNAVAILABLE_ERROR_NAMES = new Set(['MaxRetriesPerRequestError', 'AbortError', 'ClusterAllFailedError', 'ConnectionTimeoutError']);

// ioredis messages without a code or class of their own. Matched on the client's text because
// that is all it gives us; they are the client's, never the caller's data.
const UNAVAILABLE_MESSAGES = [
  /^Connection is closed/i, // command on a client that ended or whose connection dropped
  /isn't writeable and enableOfflineQueue/i, // offline queue disabled and not connected
  /Command timed out/i, // commandTimeout elapsed
  /connect ETIMEDOUT/i,
  /Failed to refresh slots cache/i, // cluster topology unreachable
  /None of startup nodes is available/i,
  /Too many Cluster redirections/i,
  /Connection (?:closed|reset|lost)/i,
];

/** The code of a Redis error reply (`"LOADING Redis is loading..."` → `LOADING`), or `undefined`. */
export function replyCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const message = (err as { message?: unknown }).message;
  if (typeof message !== 'string') return undefined;
  const match = /^([A-Z][A-Z_]+)(?:\s|$)/.exec(message);
  return match?.[1];
}

/** True when `err` is a server's `NOSCRIPT` reply: the script must be sent with `EVAL`. */
export function isNoScript(err: unknown): boolean {
  return replyCode(err) === 'NOSCRIPT';
}

/** True when a failure means "the server is unreachable or temporarily unable", so a retry may work. */
export function isUnavailable(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { name, code, message } = err as { name?: unknown; code?: unknown; message?: unknown };
  if (typeof code === 'string' && UNAVAILABLE_SOCKET_CODES.has(code)) return true;
  if (typeof name === 'string' && UNAVAILABLE_ERROR_NAMES.has(name)) return true;
  const reply = replyCode(err);
  if (reply !== undefined && UNAVAILABLE_REPLIES.has(reply)) return true;
  if (typeof message === 'string' && UNAVAILABLE_MESSAGES.some((re) => re.test(message))) return true;
  // A failover may surface as "-MOVED"/"-ASK" only on a non-cluster client pointed at a cluster
  // node: a configuration problem, not an outage, so it stays INTERNAL below.
  const cause = (err as { cause?: unknown }).cause;
  return cause !== undefined && cause !== err && isUnavailable(cause);
}

/**
 * Maps anything a Redis call threw to a {@link FabricaError}, keeping the original as `cause`.
 * Messages name the operation only: values and keys may be secrets, and Redis echoes neither here.
 *
 * - our own FabricaErrors pass through unchanged;
 * - connection loss, refusal, timeouts, retries exhausted, `LOADING`, `BUSY`, `CLUSTERDOWN`,
 *   `TRYAGAIN`, `MASTERDOWN`, `READONLY`, `OOM` → `ADAPTER_UNAVAILABLE` (retryable);
 * - our scripts' deliberate replies ({@link SCRIPT_ERROR}) → `CONFLICT`;
 * - anything else → `INTERNAL`.
 *
 * @param err what the client threw
 * @param operation the adapter operation, e.g. `'storage.get'`, for the message
 * @param details secret-free context for a `CONFLICT` (e.g. the namespace and key)
 */
export function mapRedisError(err: unknown, operation: string, details?: Readonly<Record<string, unknown>>): FabricaError {
  if (isFabricaError(err)) return err;
  const reply = replyCode(err);
  if (reply === SCRIPT_ERROR.notANumber) {
    return new ConflictError('counter document holds a non-number value', { cause: err, ...(details === undefined ? {} : { details }) });
  }
  if (isUnavailable(err)) {
    return new AdapterUnavailableError(`redis ${operation} failed: server unavailable${reply ? ` (${reply})` : ''}`, { cause: err });
  }
  return new FabricaError('INTERNAL', `redis ${operation} failed${reply ? ` (${reply})` : ''}`, { cause: err });
}
