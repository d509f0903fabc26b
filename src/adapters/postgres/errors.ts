import {
  AdapterUnavailableError,
  ConflictError,
  FabricaError,
  SchemaMismatchError,
  isFabricaError,
} from '../../core/errors.js';

// SQLSTATEs (https://www.postgresql.org/docs/current/errcodes-appendix.html) grouped by what a
// caller can do about them.
const CONFLICT_STATES: ReadonlySet<string> = new Set([
  '23505', // unique_violation: a concurrent writer won
  '40001', // serialization_failure
  '40P01', // deadlock_detected
]);

const UNAVAILABLE_STATES: ReadonlySet<string> = new Set([
  '57P01', // admin_shutdown (also what pg_terminate_backend() sends)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, shutting down, recovering)
  '53300', // too_many_connections: transient by nature
  '57014', // query_canceled, e.g. by statement_timeout: a timeout, worth retrying
  '55P03', // lock_not_available, e.g. by lock_timeout: likewise
]);

const SCHEMA_STATES: ReadonlySet<string> = new Set([
  '42P01', // undefined_table
  '3F000', // invalid_schema_name
  '42883', // undefined_function
  '42703', // undefined_column: a schema from another version
]);

// Node socket errors meaning the server could not be reached or the connection broke.
const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

// The pg driver reports some connection failures without a code; these phrases are its own
// fixed wording (never user data), e.g. "Connection terminated unexpectedly",
// "timeout exceeded when trying to connect", "Client has encountered a connection error and is
// not queryable".
const NETWORK_MESSAGE = /connection terminated|timeout exceeded when trying to connect|connection error|not queryable|connection timeout/i;

interface ErrorShape {
  readonly code?: unknown;
  readonly message?: unknown;
  readonly errors?: unknown;
  readonly cause?: unknown;
}

/** The classification of a driver error: which {@link FabricaError} code it maps to. */
export type PgErrorKind = 'CONFLICT' | 'ADAPTER_UNAVAILABLE' | 'ADAPTER_SCHEMA_MISMATCH' | 'INTERNAL';

/**
 * Classifies a driver error by SQLSTATE, Node socket error code or the driver's own fixed wording.
 */
export function classifyPgError(err: unknown, depth = 0): PgErrorKind {
  if (typeof err !== 'object' || err === null || depth > 4) return 'INTERNAL';
  const { code, message, errors, cause } = err as ErrorShape;
  if (typeof code === 'string') {
    if (CONFLICT_STATES.has(code)) return 'CONFLICT';
    if (UNAVAILABLE_STATES.has(code) || code.startsWith('08') || NETWORK_CODES.has(code)) return 'ADAPTER_UNAVAILABLE';
    if (SCHEMA_STATES.has(code)) return 'ADAPTER_SCHEMA_MISMATCH';
  }
  // Node's happy-eyeballs connect (localhost → ::1 and 127.0.0.1) rejects with an AggregateError.
  if (Array.isArray(errors) && errors.some((e) => classifyPgError(e, depth + 1) === 'ADAPTER_UNAVAILABLE')) return 'ADAPTER_UNAVAILABLE';
  if (typeof message === 'string' && typeof code !== 'string' && NETWORK_MESSAGE.test(message)) return 'ADAPTER_UNAVAILABLE';
  // A wrapper (e.g. a pool or proxy library) around one of the above.
  if (cause !== undefined && typeof code !== 'string') return classifyPgError(cause, depth + 1);
  return 'INTERNAL';
}

/**
 * Wraps any error raised while talking to PostgreSQL into a {@link FabricaError}, keeping the
 * original as `cause`. Our own errors pass through unchanged.
 *
 * The message names the operation and the SQLSTATE only: driver messages and details can quote
 * parameter values (a unique violation prints the duplicate key), which may be secrets.
 *
 * @param operation what we were doing, e.g. `'storage.put'` (never user data).
 */
export function mapPgError(err: unknown, operation: string): FabricaError {
  if (isFabricaError(err)) return err;
  const kind = classifyPgError(err);
  const rawCode = typeof err === 'object' && err !== null ? (err as ErrorShape).code : undefined;
  const sqlState = typeof rawCode === 'string' ? rawCode : undefined;
  const details = { backend: 'postgres', operation, ...(sqlState === undefined ? {} : { code: sqlState }) };
  const suffix = sqlState === undefined ? '' : ` (${sqlState})`;
  switch (kind) {
    case 'CONFLICT':
      return new ConflictError(`postgres ${operation} conflicted with a concurrent transaction${suffix}`, { cause: err, details });
    case 'ADAPTER_UNAVAILABLE':
      return new AdapterUnavailableError(`postgres ${operation} failed: database unavailable${suffix}`, { cause: err, details });
    case 'ADAPTER_SCHEMA_MISMATCH':
      return new SchemaMismatchError(
        `postgres ${operation} failed: schema objects are missing${suffix}; run migratePostgres() for this schema`,
        { cause: err, details },
      );
    default:
      return new FabricaError('INTERNAL', `postgres ${operation} failed${suffix}`, { cause: err, details });
  }
}
