import type { HttpUser } from './services.js';

/** CORS configuration (Fetch standard §3.2). Without it, no CORS headers are sent (same-origin only). */
export interface CorsOptions {
  /** Allowed origins: `'*'`, a list of exact origins (`https://app.example`), or a predicate. */
  readonly origins: '*' | readonly string[] | ((origin: string) => boolean);
  /** Allow credentials (cookies, Authorization from browsers); never combined with `'*'` (the origin is echoed instead). */
  readonly credentials?: boolean;
  /** How long browsers may cache a preflight, seconds (default 600). */
  readonly maxAgeSeconds?: number;
}

/** Connection facts a runtime knows and a `Request` does not carry. */
export interface HttpRequestInfo {
  /** The peer's IP address (the rate-limit key of anonymous requests). */
  readonly remoteAddress?: string;
}

/**
 * Options of {@link createHttpHandler}.
 *
 * @example
 * ```ts
 * import type { HttpHandlerOptions } from 'digital-fabrica/http';
 * const options: HttpHandlerOptions = {
 *   maxBodyBytes: 256 * 1024,
 *   cors: { origins: ['https://app.example'], credentials: true },
 *   compression: { thresholdBytes: 1024 },
 *   defaultTenant: 'acme',
 * };
 * ```
 */
export interface HttpHandlerOptions {
  /** Largest accepted request body, bytes (default 1 MiB); larger ones get 413 `PAYLOAD_TOO_LARGE`. */
  readonly maxBodyBytes?: number;
  /** Tenant of requests without an `X-Tenant-Id` header (default `default`). */
  readonly defaultTenant?: string;
  /** Tenant holding platform resources: users (`users/<id>`), system metrics, the optimiser (default `platform`). */
  readonly platformTenant?: string;
  /**
   * `open` (default): anyone may `POST /api/users` (sign-up; `tier` and `status` still need
   * `users:admin`). `closed`: creating users needs `create` on `tenants/<platform>/users`.
   */
  readonly signup?: 'open' | 'closed';
  /** Take the client address from `X-Forwarded-For` (only behind a proxy you run). Default false. */
  readonly trustProxy?: boolean;
  /** CORS; omitted: no CORS headers. */
  readonly cors?: CorsOptions;
  /** Compression of responses by `Accept-Encoding` (default enabled, above 1024 bytes). */
  readonly compression?: { readonly enabled?: boolean; readonly thresholdBytes?: number };
  /** GET response caching through the CacheAdapter (default TTL 30 s, key prefix `http:v1:`). */
  readonly cache?: { readonly ttlMs?: number; readonly prefix?: string };
  /** Most index entries one task listing page may scan to fill a filtered page (default 1000). */
  readonly taskListScanLimit?: number;
  /** Host hooks. */
  readonly hooks?: {
    /** Runs after `POST /api/users` created a user, e.g. to bind a default role. Errors fail the request. */
    readonly userCreated?: (user: HttpUser) => Promise<void>;
  };
  /** OpenAPI document metadata. */
  readonly openapi?: { readonly title?: string; readonly version?: string; readonly servers?: readonly string[] };
}
