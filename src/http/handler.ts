/**
 * The request pipeline, per the spec: authentication → validation → authorization → execution →
 * logging, with rate limiting (after authentication, so it is keyed by user when there is one),
 * GET caching with ETags, and compression. Every stage fails with a FabricaError code and the
 * catch at the end turns it into problem details, so no stage writes an error response itself.
 */
import type { z } from 'zod';
import { FabricaError, isFabricaError } from '../core/errors.js';
import { systemClock } from '../core/clock.js';
import { silentLogger } from '../core/logger.js';
import { createUuidV7Generator } from '../core/ids.js';
import { parseInput } from '../core/validation.js';
import type { AccessResource } from '../security/index.js';
import { availableCodings, compress, negotiate, type ContentCoding } from './internal/compression.js';
import { applyCors, preflight } from './internal/cors.js';
import { etagOf, ifNoneMatch } from './internal/etag.js';
import { readJsonBody } from './internal/body.js';
import { withBytes } from './internal/fast-body.js';
import { resolveOptions } from './internal/options.js';
import { Router } from './internal/router.js';
import type { AnyRoute, RouteContext, RouteResult } from './internal/route.js';
import { buildOpenApiDocument, type OpenApiDocument } from './openapi.js';
import type { HttpHandlerOptions, HttpRequestInfo } from './options.js';
import { problemResponse } from './problem.js';
import { authRoutes } from './routes/auth.js';
import { resourceRoutes } from './routes/resources.js';
import { systemRoutes } from './routes/system.js';
import { taskCacheKey, taskRoutes } from './routes/tasks.js';
import { userRoutes } from './routes/users.js';
import { tenantSchema } from './schemas.js';
import type { HttpPrincipal, HttpServices } from './services.js';

/**
 * A Fetch-API handler: `(request) => Promise<Response>`, for Next.js route handlers, Hono, Bun,
 * Deno and, through `toNodeListener`, node:http and Express.
 *
 * @example
 * ```ts
 * import type { HttpHandler } from 'digital-fabrica/http';
 * declare const handler: HttpHandler;
 * const res = await handler(new Request('http://localhost/api/openapi.json'));
 * console.log(handler.openapi().openapi); // '3.1.0'
 * ```
 */
export interface HttpHandler {
  /**
   * Answers one request. Never rejects: failures become problem+json responses.
   * @param info connection facts the `Request` does not carry (the peer address, for rate limiting).
   */
  (request: Request, info?: HttpRequestInfo): Promise<Response>;
  /** The OpenAPI 3.1 document of the API. */
  openapi(): OpenApiDocument;
  /** Detaches from the event bus (cache invalidation listeners). Idempotent. */
  close(): void;
}

// Every route but the system ones, in the order the OpenAPI document lists them.
const HTTP_ROUTES: readonly AnyRoute[] = Object.freeze([...userRoutes, ...authRoutes, ...taskRoutes, ...resourceRoutes]);

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const MAX_TOKEN = 8192;
const JSON_TYPE = 'application/json';
const encoder = new TextEncoder();

/** An access check a response depended on; `notFound` marks an `authorizeVisible` check. */
interface Guard {
  readonly resource: AccessResource;
  readonly action: string;
  readonly notFound?: string;
}

// v2: guards may carry `notFound`. A v1 entry would replay a hidden check as ACCESS_DENIED, so it reads as a miss.
const CACHE_VERSION = 2;

interface CachedEntry {
  readonly v: typeof CACHE_VERSION;
  readonly body: string;
  readonly etag: string;
  readonly guards: readonly Guard[];
}

/**
 * Creates the HTTP handler over the given services.
 *
 * @throws `VALIDATION_FAILED` for malformed options.
 * @example
 * ```ts
 * import { createHttpHandler, type HttpServices } from 'digital-fabrica/http';
 * declare const services: HttpServices; // identity, access, tasks, resources, events, cache, rateLimiter...
 * const handler = createHttpHandler(services, { cors: { origins: ['https://app.example'] } });
 * const res = await handler(new Request('http://localhost/api/health'));
 * console.log(res.status); // 200
 * // Next.js: export const GET = handler; export const POST = handler;
 * ```
 */
export function createHttpHandler(services: HttpServices, options?: HttpHandlerOptions): HttpHandler {
  const opts = resolveOptions(options);
  const logger = services.logger ?? silentLogger;
  const clock = services.clock ?? systemClock;
  // Request ids: a random per-handler prefix and a counter — unique across processes, and no
  // CSPRNG call per request (a UUIDv7 costs a getRandomValues syscall on the hot path).
  const idPrefix = createUuidV7Generator({ clock }).next().slice(-12);
  let idCounter = 0;
  const nextRequestId = (): string => `${idPrefix}-${(idCounter++).toString(36)}`;
  const cache = services.cache;
  let document: OpenApiDocument | undefined;
  const openapi = (): OpenApiDocument => (document ??= buildOpenApiDocument([...HTTP_ROUTES, ...systemRoutes(openapi)], opts.openapi));
  const routes = [...HTTP_ROUTES, ...systemRoutes(openapi)];
  const router = new Router<AnyRoute>();
  for (const route of routes) router.add(route.method, route.path, route);
  let codings: ContentCoding[] | undefined;
  const codingsReady = availableCodings().then((c) => (codings = c));

  // Task state also changes outside the API (workers, other processes): drop cached copies on every task event.
  const offs: (() => void)[] = [];
  if (cache) {
    for (const name of ['task:updated', 'task:completed', 'task:failed', 'task:dead'] as const) {
      offs.push(
        services.events.on(name, (event) => {
          cache.delete(taskCacheKey(opts.cache.prefix, event.taskId)).catch((err: unknown) => logger.warn('http cache: invalidation failed', { code: codeOf(err) }));
        }),
      );
    }
  }

  const handler = async (request: Request, info?: HttpRequestInfo): Promise<Response> => {
    const started = performance.now();
    const incoming = request.headers.get('x-request-id');
    const requestId = incoming !== null && REQUEST_ID.test(incoming) ? incoming : nextRequestId();
    const headers = new Headers({ 'x-request-id': requestId });
    const log: { route: string; userId?: string; cache?: string; code?: string } = { route: 'unmatched' };
    let response: Response;
    try {
      response = await pipeline(request, info, requestId, headers, log);
    } catch (err) {
      if (!isFabricaError(err)) logger.error('http request failed', { requestId, error: err instanceof Error ? err.name : typeof err, message: err instanceof Error ? err.message : undefined });
      log.code = isFabricaError(err) ? err.code : 'INTERNAL';
      response = problemResponse(err, requestId, headers);
    }
    const fields = {
      requestId,
      method: request.method,
      route: log.route,
      status: response.status,
      latencyMs: Math.round((performance.now() - started) * 100) / 100,
      ...(log.userId === undefined ? {} : { userId: log.userId }),
      ...(log.code === undefined ? {} : { code: log.code }),
      ...(log.cache === undefined ? {} : { cache: log.cache }),
    };
    if (response.status >= 500) logger.error('http request', fields);
    else logger.info('http request', fields);
    return response;
  };

  async function pipeline(
    request: Request,
    info: HttpRequestInfo | undefined,
    requestId: string,
    headers: Headers,
    log: { route: string; userId?: string; cache?: string; code?: string },
  ): Promise<Response> {
    const url = new URL(request.url);
    const method = request.method.toUpperCase();
    const origin = request.headers.get('origin');
    const match = router.match(method === 'OPTIONS' ? 'GET' : method, url.pathname);
    if (method === 'OPTIONS') {
      const any = router.match('__none__', url.pathname);
      if (any.kind === 'not-found') throw new FabricaError('NOT_FOUND', `no route for ${url.pathname}`);
      const allow = any.kind === 'method-not-allowed' ? [...any.allow, 'OPTIONS'] : ['OPTIONS'];
      if (request.headers.has('access-control-request-method')) return preflight(opts.cors, request, allow, headers);
      headers.set('allow', allow.join(', '));
      return new Response(null, { status: 204, headers });
    }
    applyCors(opts.cors, origin, headers);
    if (match.kind === 'not-found') throw new FabricaError('NOT_FOUND', `no route for ${request.method} ${url.pathname}`);
    if (match.kind === 'method-not-allowed') {
      throw new FabricaError('METHOD_NOT_ALLOWED', `${request.method} is not allowed on ${url.pathname}`, { details: { allow: match.allow } });
    }
    const route = match.route;
    log.route = `${route.method} ${match.pattern}`;

    // 1. Authentication.
    let principal: HttpPrincipal | undefined;
    const address = clientAddress(request, info);
    if (route.auth !== 'none') {
      try {
        principal = await authenticate(request);
      } catch (err) {
        // Failed authentications are charged to the client address, so token guessing is limited too.
        await rateLimit(`ip:${address}`, headers);
        throw err;
      }
      if (principal === undefined && route.auth === 'required') throw new FabricaError('AUTH_REQUIRED', 'this route needs a bearer access token');
    }
    if (principal !== undefined) log.userId = principal.userId;
    await rateLimit(principal === undefined ? `ip:${address}` : `user:${principal.userId}`, headers);

    // 2. Validation.
    const params = route.params ? parseInput(route.params, match.params, 'path parameters') : match.params;
    const query = route.query ? parseInput(route.query, queryObject(url.searchParams), 'query') : undefined;
    let body: unknown;
    if (route.body !== undefined) body = parseInput(route.body, await readJsonBody(request, opts.maxBodyBytes), 'request body');
    else if (request.body !== null) await request.body.cancel().catch(() => undefined);
    const tenantHeader = request.headers.get('x-tenant-id');
    const tenant = tenantHeader === null ? opts.defaultTenant : parseInput(tenantSchema, tenantHeader, 'X-Tenant-Id header');

    // 3. Authorization happens inside the handler (the resource may need loading first); every check is recorded.
    const guards: Guard[] = [];
    const ctx: RouteContext<unknown, unknown, unknown> = {
      request,
      requestId,
      params,
      query,
      body,
      principal,
      tenant,
      services,
      options: opts,
      user() {
        if (principal === undefined) throw new FabricaError('AUTH_REQUIRED', 'this route needs a bearer access token');
        return principal;
      },
      async authorize(resource, action) {
        const user = ctx.user();
        guards.push({ resource, action });
        if (!(await services.access.checkPermission(user.userId, resource, action))) {
          throw new FabricaError('ACCESS_DENIED', `not allowed to ${action} this resource`);
        }
      },
      async authorizeVisible(resource, action, notFound) {
        const user = ctx.user();
        guards.push({ resource, action, notFound });
        if (await services.access.checkPermission(user.userId, resource, action)) return;
        // Only a caller who may read the object learns that it exists; to anyone else it is missing.
        if (action !== 'read' && (await services.access.checkPermission(user.userId, resource, 'read'))) {
          throw new FabricaError('ACCESS_DENIED', `not allowed to ${action} this resource`);
        }
        throw new FabricaError('NOT_FOUND', notFound);
      },
      async allowed(resource, action) {
        return principal !== undefined && services.access.checkPermission(principal.userId, resource, action);
      },
    };

    // Cache lookup: the cached representation carries the checks that produced it; they run again.
    const cacheKey = (method === 'GET' || method === 'HEAD') && cache && route.cacheKey ? route.cacheKey(ctx) : undefined;
    if (cacheKey !== undefined) {
      // Marked a miss before the guards replay: a refused hit must answer exactly as the origin would.
      log.cache = 'miss';
      headers.set('cache-status', 'fabrica; fwd=miss');
      const hit = await readCache(cacheKey);
      if (hit !== null) {
        for (const g of hit.guards) await (g.notFound === undefined ? ctx.authorize(g.resource, g.action) : ctx.authorizeVisible(g.resource, g.action, g.notFound));
        log.cache = 'hit';
        headers.set('cache-status', 'fabrica; hit');
        return respond(request, method, { body: undefined }, hit.body, hit.etag, headers, principal !== undefined);
      }
    }

    // 4. Execution.
    const result = await route.handle(ctx as RouteContext<z.output<z.ZodType>, z.output<z.ZodType>, z.output<z.ZodType>>);
    const status = result.status ?? 200;
    if (result.invalidate && cache) {
      await Promise.all(result.invalidate.map((key) => cache.delete(key).catch((err: unknown) => logger.warn('http cache: invalidation failed', { code: codeOf(err) }))));
    }
    if (status === 204 || result.body === undefined) {
      for (const [k, v] of Object.entries(result.headers ?? {})) headers.set(k, v);
      return new Response(null, { status, headers });
    }
    const text = JSON.stringify(result.body);
    const etag = method === 'GET' || method === 'HEAD' ? etagOf(text) : undefined;
    if (cacheKey !== undefined && status === 200 && etag !== undefined && guards.length > 0) {
      const entry: CachedEntry = { v: CACHE_VERSION, body: text, etag, guards };
      cache!.set(cacheKey, encoder.encode(JSON.stringify(entry)), { ttlMs: opts.cache.ttlMs }).catch((err: unknown) => logger.warn('http cache: write failed', { code: codeOf(err) }));
    }
    return respond(request, method, result, text, etag, headers, principal !== undefined);
  }

  async function respond(request: Request, method: string, result: RouteResult, text: string, etag: string | undefined, headers: Headers, authenticated: boolean): Promise<Response> {
    for (const [k, v] of Object.entries(result.headers ?? {})) headers.set(k, v);
    if (!headers.has('cache-control')) headers.set('cache-control', authenticated ? 'private, no-cache' : 'no-cache');
    const status = result.status ?? 200;
    if (etag !== undefined) {
      headers.set('etag', etag);
      if (status === 200 && ifNoneMatch(request.headers.get('if-none-match'), etag)) return new Response(null, { status: 304, headers });
    }
    headers.set('content-type', JSON_TYPE);
    let bytes: Uint8Array = encoder.encode(text);
    if (opts.compression.enabled && bytes.byteLength >= opts.compression.thresholdBytes) {
      if (codings === undefined) await codingsReady;
      headers.append('vary', 'Accept-Encoding');
      const coding = negotiate(request.headers.get('accept-encoding'), codings ?? []);
      if (coding !== null) {
        bytes = await compress(bytes, coding);
        headers.set('content-encoding', coding);
      }
    }
    headers.set('content-length', String(bytes.byteLength));
    if (method === 'HEAD') return new Response(null, { status, headers });
    return withBytes(new Response(bytes as BodyInit, { status, headers }), bytes);
  }

  async function authenticate(request: Request): Promise<HttpPrincipal | undefined> {
    const header = request.headers.get('authorization');
    if (header === null) return undefined;
    const space = header.indexOf(' ');
    if (space < 0 || header.slice(0, space).toLowerCase() !== 'bearer') throw new FabricaError('AUTH_TOKEN_INVALID', 'the Authorization header must be "Bearer <token>"');
    const token = header.slice(space + 1).trim();
    if (token.length === 0 || token.length > MAX_TOKEN) throw new FabricaError('AUTH_TOKEN_INVALID', 'malformed bearer token');
    return services.identity.authenticate(token);
  }

  async function rateLimit(key: string, headers: Headers): Promise<void> {
    const limiter = services.rateLimiter;
    if (!limiter) return;
    const decision = await limiter.check(key);
    if (!decision.degraded) {
      headers.set('ratelimit-policy', limiter.limits.map((l) => `"${l.name}";q=${l.limit};w=${Math.max(1, Math.round(l.periodMs / 1000))}`).join(', '));
      let tightest = decision.limits[0];
      for (const l of decision.limits) if (tightest === undefined || l.remaining < tightest.remaining) tightest = l;
      if (tightest) headers.set('ratelimit', `"${tightest.name}";r=${tightest.remaining};t=${Math.ceil(tightest.resetMs / 1000)}`);
    }
    if (!decision.allowed) {
      if (decision.degraded) throw new FabricaError('ADAPTER_UNAVAILABLE', 'rate limit store unavailable');
      throw new FabricaError('RATE_LIMITED', 'too many requests', { details: { retryAfterMs: decision.retryAfterMs } });
    }
  }

  async function readCache(key: string): Promise<CachedEntry | null> {
    try {
      const bytes = await cache!.get(key);
      if (bytes === null) return null;
      const entry = JSON.parse(new TextDecoder().decode(bytes)) as CachedEntry;
      return entry.v === CACHE_VERSION && Array.isArray(entry.guards) && entry.guards.length > 0 ? entry : null;
    } catch (err) {
      // A cache outage degrades to a miss: the cache is an optimisation, never a dependency.
      logger.warn('http cache: read failed', { code: codeOf(err) });
      return null;
    }
  }

  function clientAddress(request: Request, info: HttpRequestInfo | undefined): string {
    if (opts.trustProxy) {
      const forwarded = request.headers.get('x-forwarded-for');
      const first = forwarded?.split(',')[0]?.trim();
      if (first) return first.slice(0, 64);
    }
    return info?.remoteAddress ?? 'unknown';
  }

  return Object.assign(handler, {
    openapi,
    close() {
      for (const off of offs.splice(0)) off();
    },
  });
}

function queryObject(params: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of params) {
    // A repeated parameter is ambiguous: refuse rather than silently pick one.
    if (Object.hasOwn(out, k)) throw new FabricaError('VALIDATION_FAILED', `query parameter "${k}" is repeated`, { details: { issues: [{ path: [k], message: 'repeated', code: 'custom' }] } });
    out[k] = v;
  }
  return out;
}

function codeOf(err: unknown): string {
  return isFabricaError(err) ? err.code : err instanceof Error ? err.name : 'UNKNOWN';
}

