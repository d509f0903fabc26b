/**
 * Every failure the SDK reports is a {@link FabricaError} with a stable string `code`.
 * Codes are public API (covered by semver); messages are for humans and may change.
 */

/** Stable error codes. Callers `switch (err.code)`; never match on messages. */
export type FabricaErrorCode =
  | 'VALIDATION_FAILED'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'ACCESS_DENIED'
  | 'ACCESS_ROLE_CYCLE'
  | 'AUTH_REQUIRED'
  | 'AUTH_TOKEN_INVALID'
  | 'AUTH_TOKEN_EXPIRED'
  | 'AUTH_MFA_REQUIRED'
  | 'AUTH_INVALID_CREDENTIALS'
  | 'AUTH_LOCKED'
  | 'AUTH_TOKEN_REUSED'
  | 'AUTH_SIWE_INVALID'
  | 'QUOTA_EXCEEDED'
  | 'RATE_LIMITED'
  | 'TASK_LEASE_LOST'
  | 'CRYPTO_AUTH_FAILED'
  | 'CRYPTO_KEY_INVALID'
  | 'CRYPTO_KEY_EXHAUSTED'
  | 'ADAPTER_UNAVAILABLE'
  | 'ADAPTER_SCHEMA_MISMATCH'
  | 'ADAPTER_CLOSED'
  | 'PAYLOAD_TOO_LARGE'
  | 'METHOD_NOT_ALLOWED'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'INTERNAL';

/** Default HTTP status and retryability per code, used by the HTTP layer and by callers deciding to retry. */
export const ERROR_DEFAULTS: Readonly<Record<FabricaErrorCode, { readonly status: number; readonly retryable: boolean }>> = {
  VALIDATION_FAILED: { status: 400, retryable: false },
  NOT_FOUND: { status: 404, retryable: false },
  CONFLICT: { status: 409, retryable: true },
  ACCESS_DENIED: { status: 403, retryable: false },
  ACCESS_ROLE_CYCLE: { status: 422, retryable: false },
  AUTH_REQUIRED: { status: 401, retryable: false },
  AUTH_TOKEN_INVALID: { status: 401, retryable: false },
  AUTH_TOKEN_EXPIRED: { status: 401, retryable: false },
  AUTH_MFA_REQUIRED: { status: 401, retryable: false },
  // Wrong password, TOTP or recovery code; never says which of email or password was wrong.
  AUTH_INVALID_CREDENTIALS: { status: 401, retryable: false },
  // Too many failed attempts: refused until `details.retryAfterMs` has passed (not for automatic retries).
  AUTH_LOCKED: { status: 429, retryable: false },
  // A rotated refresh token was presented again: its whole session family has been revoked (theft detection).
  AUTH_TOKEN_REUSED: { status: 401, retryable: false },
  // A Sign-In with Ethereum message failed a check; `details.reason` says which.
  AUTH_SIWE_INVALID: { status: 401, retryable: false },
  QUOTA_EXCEEDED: { status: 429, retryable: false },
  RATE_LIMITED: { status: 429, retryable: true },
  TASK_LEASE_LOST: { status: 409, retryable: false },
  CRYPTO_AUTH_FAILED: { status: 400, retryable: false },
  // Key material that parses but cannot be used (not RSA, modulus below 2048 bits, public key where a private one is needed).
  CRYPTO_KEY_INVALID: { status: 400, retryable: false },
  // A key reached its message limit (NIST SP 800-38D §8.3) and the keyring is set to refuse: rotate, then retry.
  CRYPTO_KEY_EXHAUSTED: { status: 503, retryable: false },
  ADAPTER_UNAVAILABLE: { status: 503, retryable: true },
  ADAPTER_SCHEMA_MISMATCH: { status: 500, retryable: false },
  ADAPTER_CLOSED: { status: 503, retryable: false },
  PAYLOAD_TOO_LARGE: { status: 413, retryable: false },
  // The route exists but not with this HTTP method; the response's `Allow` header lists the methods it has.
  METHOD_NOT_ALLOWED: { status: 405, retryable: false },
  // A request body in a media type the route does not accept (the HTTP layer takes `application/json` only).
  UNSUPPORTED_MEDIA_TYPE: { status: 415, retryable: false },
  INTERNAL: { status: 500, retryable: false },
};

/** Options accepted by every {@link FabricaError} constructor. */
export interface FabricaErrorOptions {
  /** Structured, secret-free context (e.g. the zod issues, the remaining quota). */
  readonly details?: Readonly<Record<string, unknown>>;
  /** The underlying error (driver error, zod error). Kept for debugging; never rendered to clients. */
  readonly cause?: unknown;
  /** Overrides the code's default HTTP status. */
  readonly status?: number;
  /** Overrides the code's default retryability. */
  readonly retryable?: boolean;
}

// A registry-wide symbol, so two copies of the package (e.g. ESM and CJS, or two versions) recognise each other's errors.
const BRAND: unique symbol = Symbol.for('digital-fabrica.error') as never;

/**
 * Base class of every error the SDK throws.
 *
 * @example
 * ```ts
 * import { FabricaError, isFabricaError } from 'digital-fabrica/errors';
 * try {
 *   throw new FabricaError('NOT_FOUND', 'no such user');
 * } catch (err) {
 *   if (isFabricaError(err) && err.code === 'NOT_FOUND') console.log(err.status); // 404
 * }
 * ```
 */
export class FabricaError extends Error {
  /** Stable machine-readable code. */
  readonly code: FabricaErrorCode;
  /** HTTP status the HTTP layer renders this error with. */
  readonly status: number;
  /** Whether repeating the same operation may succeed (transient failure). */
  readonly retryable: boolean;
  /** Structured, secret-free context. */
  readonly details: Readonly<Record<string, unknown>> | undefined;
  /** @internal */
  readonly [BRAND] = true;

  constructor(code: FabricaErrorCode, message: string, options: FabricaErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = options.status ?? ERROR_DEFAULTS[code].status;
    this.retryable = options.retryable ?? ERROR_DEFAULTS[code].retryable;
    this.details = options.details;
  }

  /** A plain, serialisable view (no stack, no cause) safe to log or send. */
  toJSON(): { name: string; code: FabricaErrorCode; message: string; status: number; retryable: boolean; details?: Readonly<Record<string, unknown>> } {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      status: this.status,
      retryable: this.retryable,
      ...(this.details === undefined ? {} : { details: this.details }),
    };
  }
}

/**
 * True for any error thrown by any copy of this package.
 *
 * @example
 * ```ts
 * import { isFabricaError } from 'digital-fabrica/errors';
 * isFabricaError(new Error('x')); // false
 * ```
 */
export function isFabricaError(value: unknown): value is FabricaError {
  return typeof value === 'object' && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
}

/**
 * True when `value` is a {@link FabricaError} with the given code.
 *
 * @example
 * ```ts
 * import { hasErrorCode, NotFoundError } from 'digital-fabrica/errors';
 * hasErrorCode(new NotFoundError('gone'), 'NOT_FOUND'); // true
 * ```
 */
export function hasErrorCode(value: unknown, code: FabricaErrorCode): value is FabricaError {
  return isFabricaError(value) && value.code === code;
}

/** One issue of a failed validation, independent of zod's internal types. */
export interface ValidationIssue {
  /** Path to the offending field, e.g. `['user', 'email']`. */
  readonly path: readonly (string | number)[];
  /** Human-readable description. */
  readonly message: string;
  /** zod's issue code (e.g. `invalid_type`, `too_big`). */
  readonly code: string;
}

/** Input did not match its schema. `issues` lists every problem found. Status 400. */
export class ValidationError extends FabricaError {
  /** Every problem found, in schema order. */
  readonly issues: readonly ValidationIssue[];
  constructor(message: string, issues: readonly ValidationIssue[], options: Omit<FabricaErrorOptions, 'details'> = {}) {
    super('VALIDATION_FAILED', message, { ...options, details: { issues } });
    this.issues = issues;
  }
}

/** The addressed entity does not exist. Status 404. */
export class NotFoundError extends FabricaError {
  constructor(message: string, options: FabricaErrorOptions = {}) {
    super('NOT_FOUND', message, options);
  }
}

/** A precondition (version, uniqueness, state) did not hold; nothing was changed. Status 409. */
export class ConflictError extends FabricaError {
  constructor(message: string, options: FabricaErrorOptions = {}) {
    super('CONFLICT', message, options);
  }
}

/** A backend (database, cache, broker) could not be reached or dropped the connection. Retryable. Status 503. */
export class AdapterUnavailableError extends FabricaError {
  constructor(message: string, options: FabricaErrorOptions = {}) {
    super('ADAPTER_UNAVAILABLE', message, options);
  }
}

/** The backend's schema is missing or at a different version than this package expects. Status 500. */
export class SchemaMismatchError extends FabricaError {
  constructor(message: string, options: FabricaErrorOptions = {}) {
    super('ADAPTER_SCHEMA_MISMATCH', message, options);
  }
}

/** The adapter was closed; create a new one. Status 503. */
export class AdapterClosedError extends FabricaError {
  constructor(message = 'adapter is closed', options: FabricaErrorOptions = {}) {
    super('ADAPTER_CLOSED', message, options);
  }
}

/** A value or message exceeds a size the backend can carry. Status 413. */
export class PayloadTooLargeError extends FabricaError {
  constructor(message: string, options: FabricaErrorOptions = {}) {
    super('PAYLOAD_TOO_LARGE', message, options);
  }
}
