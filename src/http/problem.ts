/**
 * RFC 9457 problem details. Every failure leaves the handler as `application/problem+json`
 * carrying the SDK's stable error `code`; stack traces, causes and any detail not on the
 * allow-list below never reach a client (an ACCESS_DENIED explanation names rules and roles, which
 * an untrusted client should not learn).
 */
import { FabricaError, isFabricaError, type FabricaErrorCode } from '../core/errors.js';

/**
 * Media type of problem responses (RFC 9457 §3).
 *
 * @example
 * ```ts
 * import { PROBLEM_CONTENT_TYPE } from 'digital-fabrica/http';
 * const isProblem = (res: Response) => res.headers.get('content-type') === PROBLEM_CONTENT_TYPE;
 * ```
 */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** The body of a problem response. */
export interface ProblemDetails {
  /** `urn:digital-fabrica:error:<CODE>`: identifies the problem type. */
  readonly type: string;
  /** The HTTP reason phrase of `status`. */
  readonly title: string;
  /** The HTTP status. */
  readonly status: number;
  /** Human-readable explanation (not stable; match on `code`). */
  readonly detail: string;
  /** The SDK's stable error code. */
  readonly code: FabricaErrorCode;
  /** Whether repeating the request may succeed. */
  readonly retryable: boolean;
  /** The request id (also in the `X-Request-Id` header), for support. */
  readonly requestId: string;
  /** Validation issues, for `VALIDATION_FAILED`. */
  readonly issues?: readonly { readonly path: readonly (string | number)[]; readonly message: string; readonly code: string }[];
  /** Ms to wait before retrying, for `RATE_LIMITED` and `AUTH_LOCKED`. */
  readonly retryAfterMs?: number;
  /** Further allow-listed, secret-free context (e.g. `reason`, `remaining`, `allow`). */
  readonly [extension: string]: unknown;
}

const TITLES: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

// Details a client may see. Everything else (explanations, keys, internal ids) stays server-side.
const SAFE_DETAILS = ['issues', 'retryAfterMs', 'remaining', 'requested', 'reason', 'allow', 'limit', 'maxBytes'] as const;

/**
 * The problem details of an error: a `FabricaError` keeps its code and status; anything else
 * becomes `INTERNAL` (500) with a generic message.
 *
 * @example
 * ```ts
 * import { NotFoundError } from 'digital-fabrica/errors';
 * import { toProblem } from 'digital-fabrica/http';
 * console.log(toProblem(new NotFoundError('no such task'), 'req-1').status); // 404
 * ```
 */
export function toProblem(error: unknown, requestId: string): ProblemDetails {
  const err = isFabricaError(error) ? error : new FabricaError('INTERNAL', 'internal error');
  const extensions: Record<string, unknown> = {};
  if (err.details !== undefined) {
    for (const key of SAFE_DETAILS) {
      const value = err.details[key];
      if (value !== undefined) extensions[key] = value;
    }
  }
  return {
    type: `urn:digital-fabrica:error:${err.code}`,
    title: TITLES[err.status] ?? 'Error',
    status: err.status,
    // INTERNAL errors say nothing: their message may come from a driver.
    detail: err.code === 'INTERNAL' ? 'internal error' : err.message,
    code: err.code,
    retryable: err.retryable,
    requestId,
    ...extensions,
  };
}

/**
 * A problem+json `Response` for an error, with `Retry-After` when the error says when to retry
 * and `WWW-Authenticate` on 401 (RFC 6750 §3).
 *
 * @example
 * ```ts
 * import { FabricaError } from 'digital-fabrica/errors';
 * import { problemResponse } from 'digital-fabrica/http';
 * const res = problemResponse(new FabricaError('AUTH_REQUIRED', 'sign in'), 'req-1');
 * console.log(res.status, res.headers.get('content-type')); // 401 'application/problem+json'
 * ```
 */
export function problemResponse(error: unknown, requestId: string, headers?: Headers): Response {
  const problem = toProblem(error, requestId);
  const h = headers ?? new Headers();
  h.set('content-type', PROBLEM_CONTENT_TYPE);
  h.set('cache-control', 'no-store');
  if (typeof problem.retryAfterMs === 'number' && problem.retryAfterMs > 0) h.set('retry-after', String(Math.max(1, Math.ceil(problem.retryAfterMs / 1000))));
  if (problem.status === 401) {
    h.set('www-authenticate', problem.code === 'AUTH_REQUIRED' ? 'Bearer' : 'Bearer error="invalid_token"');
  }
  if (problem.code === 'METHOD_NOT_ALLOWED' && Array.isArray(problem.allow)) h.set('allow', (problem.allow as string[]).join(', '));
  return new Response(JSON.stringify(problem), { status: problem.status, headers: h });
}
