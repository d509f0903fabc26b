/**
 * The shape of a route: its OpenAPI description and its schemas live next to its handler, so the
 * document at `/api/openapi.json` cannot drift from what the pipeline validates.
 */
import type { z } from 'zod';
import type { FabricaErrorCode } from '../../core/errors.js';
import type { AccessResource } from '../../security/index.js';
import type { HttpPrincipal, HttpServices } from '../services.js';
import type { ResolvedHttpOptions } from './options.js';

/** What a route's handler receives once authentication and validation passed. */
export interface RouteContext<P, Q, B> {
  readonly request: Request;
  readonly requestId: string;
  readonly params: P;
  readonly query: Q;
  readonly body: B;
  /** The authenticated caller, if any. */
  readonly principal: HttpPrincipal | undefined;
  /** The tenant the request acts in: `X-Tenant-Id`, else the configured default. */
  readonly tenant: string;
  readonly services: HttpServices;
  readonly options: ResolvedHttpOptions;
  /** The caller. @throws `AUTH_REQUIRED` when the request is anonymous. */
  user(): HttpPrincipal;
  /**
   * Authorises the caller for `action` on `resource` (recorded, so a cached response is
   * re-authorised with the same checks). @throws `AUTH_REQUIRED`, `ACCESS_DENIED`
   */
  authorize(resource: AccessResource, action: string): Promise<void>;
  /**
   * {@link authorize} for an object the caller named by id: a caller who may neither do `action`
   * nor `read` it gets `NOT_FOUND` with `notFound` as its message — the answer a missing id gets —
   * so ids of other tenants' objects cannot be probed; a caller who may read it but not do `action`
   * gets `ACCESS_DENIED`. Recorded like `authorize`, and a cached response replays the same rule.
   * @throws `AUTH_REQUIRED`, `NOT_FOUND`, `ACCESS_DENIED`
   */
  authorizeVisible(resource: AccessResource, action: string, notFound: string): Promise<void>;
  /** Whether the caller may do `action` on `resource`, without throwing. */
  allowed(resource: AccessResource, action: string): Promise<boolean>;
}

/** What a handler returns. */
export interface RouteResult {
  /** Default 200. */
  readonly status?: number;
  /** JSON-serialisable body; omitted for 204. */
  readonly body?: unknown;
  /** Extra headers. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Cache keys this write makes stale. */
  readonly invalidate?: readonly string[];
}

/** A documented response. */
export interface RouteResponse {
  readonly status: number;
  readonly description: string;
  readonly schema?: z.ZodType;
}

/** A route: method, path, schemas, documentation and handler. */
export interface RouteSpec<P extends z.ZodType = z.ZodType, Q extends z.ZodType = z.ZodType, B extends z.ZodType = z.ZodType> {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly tags: readonly string[];
  /** `required`: 401 without a valid token; `optional`: anonymous allowed; `none`: tokens ignored. */
  readonly auth: 'required' | 'optional' | 'none';
  /** The access-control check(s), for the documentation (`x-authorization`). */
  readonly authorization?: string;
  readonly params?: P;
  readonly query?: Q;
  readonly body?: B;
  readonly responses: readonly RouteResponse[];
  readonly errors: readonly FabricaErrorCode[];
  /** For GETs: the shared cache key of the response, when it may be cached. */
  readonly cacheKey?: (ctx: RouteContext<z.output<P>, z.output<Q>, z.output<B>>) => string | undefined;
  readonly handle: (ctx: RouteContext<z.output<P>, z.output<Q>, z.output<B>>) => Promise<RouteResult>;
}

/** A route with its types erased, for the table. */
export type AnyRoute = RouteSpec<z.ZodType, z.ZodType, z.ZodType>;

/** Declares a route, keeping the handler's types tied to its schemas. */
export function defineRoute<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType>(spec: RouteSpec<P, Q, B>): AnyRoute {
  return spec as unknown as AnyRoute;
}
