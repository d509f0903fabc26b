/**
 * The HTTP API and WebSocket events: the spec's REST endpoints and request pipeline as a
 * framework-agnostic Fetch-API handler, and a bridge pushing the spec's events to authorised
 * WebSocket clients.
 *
 * ```ts
 * import { createHttpHandler, createWebSocketBridge } from 'digital-fabrica/http';
 * import { toNodeListener, attachWebSocketServer } from 'digital-fabrica/http/node'; // Node only
 * ```
 *
 * - {@link createHttpHandler}: `(request: Request) => Promise<Response>` for Next.js route
 *   handlers, Hono, Bun and Deno; `toNodeListener` adapts it to `node:http` and Express.
 * - Pipeline: authentication (bearer access token) → rate limiting (per user, else per client
 *   address) → validation (zod) → authorization (access control, on every protected route) →
 *   execution → logging (request id, route, status, latency; never tokens, bodies or queries).
 *   GET responses carry weak ETags (`304` on `If-None-Match`) and, for single tasks and users,
 *   are cached through the CacheAdapter — re-authorised on every hit, invalidated on writes and on
 *   `task:*` events. Responses above a threshold are compressed (br, gzip, deflate).
 * - Errors are RFC 9457 `application/problem+json` with the SDK's stable `code`.
 * - The OpenAPI 3.1 document, generated from the same zod schemas, is at `GET /api/openapi.json`.
 * - {@link createWebSocketBridge}: token checked on connect, subscriptions by event and resource,
 *   per-event `read` checks, heartbeats, slow consumers dropped (close 1013); across processes
 *   through the event bus's PubSub.
 *
 * See docs/guides/http.md.
 *
 * @module
 */
export { createHttpHandler, type HttpHandler } from './handler.js';
export type { HttpHandlerOptions, HttpRequestInfo, CorsOptions } from './options.js';
export type {
  HttpServices,
  HttpIdentity,
  HttpAccessControl,
  HttpTasks,
  HttpTaskListQuery,
  HttpResources,
  HttpMonitoring,
  HttpRateLimiter,
  HttpPrincipal,
  HttpUser,
  HttpTokens,
  HttpSignInResult,
  HttpAuthenticated,
  HttpCreateUser,
  HttpUpdateUser,
  HttpJwks,
  HttpReservation,
  HttpQuotaSubject,
  HttpOptimizeInput,
  HttpAdjustment,
} from './services.js';
export { toProblem, problemResponse, PROBLEM_CONTENT_TYPE, type ProblemDetails } from './problem.js';
export type { OpenApiDocument } from './openapi.js';
export {
  createWebSocketBridge,
  WS_CLOSE,
  type WebSocketBridge,
  type WebSocketBridgeOptions,
  type BridgeSocket,
  type BridgeConnection,
} from './ws/bridge.js';
