/**
 * CORS (Fetch standard §3.2). Origins are matched exactly; with credentials the origin is echoed,
 * never `*` (browsers refuse `*` with credentials, §3.2.5). Every response that depends on the
 * Origin says so with `Vary: Origin`, so shared caches do not mix them up.
 */
import type { CorsOptions } from '../options.js';

const ALLOW_HEADERS = 'authorization, content-type, if-none-match, x-request-id, x-tenant-id';
const EXPOSE_HEADERS = 'etag, location, retry-after, ratelimit, ratelimit-policy, x-request-id, cache-status';

function allowed(cors: CorsOptions, origin: string): boolean {
  if (cors.origins === '*') return true;
  if (typeof cors.origins === 'function') return cors.origins(origin);
  return cors.origins.includes(origin);
}

/** Adds the CORS headers of an actual request; returns whether the origin is allowed. */
export function applyCors(cors: CorsOptions | undefined, origin: string | null, headers: Headers): boolean {
  if (cors === undefined || origin === null) return false;
  headers.append('vary', 'Origin');
  if (!allowed(cors, origin)) return false;
  headers.set('access-control-allow-origin', cors.origins === '*' && !cors.credentials ? '*' : origin);
  if (cors.credentials) headers.set('access-control-allow-credentials', 'true');
  headers.set('access-control-expose-headers', EXPOSE_HEADERS);
  return true;
}

/** The answer to a preflight (`OPTIONS` with `Access-Control-Request-Method`). */
export function preflight(cors: CorsOptions | undefined, request: Request, allow: readonly string[], headers: Headers): Response {
  const origin = request.headers.get('origin');
  if (applyCors(cors, origin, headers)) {
    headers.set('access-control-allow-methods', allow.join(', '));
    headers.set('access-control-allow-headers', ALLOW_HEADERS);
    headers.set('access-control-max-age', String(cors?.maxAgeSeconds ?? 600));
  }
  return new Response(null, { status: 204, headers });
}
