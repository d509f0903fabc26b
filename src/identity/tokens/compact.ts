/**
 * The strict front half of JWS verification: everything that can be decided from the token's
 * text before any key or crypto is involved. Tokens are rejected here for being malformed
 * (RFC 7515 §7.1 compact form only, canonical base64url per §2), for an algorithm we never accept
 * (`none`, RFC 7518 §3.6), or for headers that let the token choose its own key or processing
 * rules (`jwk`, `jku`, `x5u`, `x5c` — RFC 7515 §4.1.2–4.1.6 — and `crit`/`b64`, §4.1.11 and
 * RFC 7797). Only then is the token handed to jose.
 * @internal
 */
import { TokenInvalidError } from '../errors.js';
import { decodeBase64url, isCanonicalBase64url } from '../internal/base64url.js';
import { decodeUtf8Strict } from '../internal/bytes.js';

/** The protected header as parsed, plus where its parts are. */
export interface ParsedCompact {
  readonly header: Readonly<Record<string, unknown>>;
  readonly alg: string;
  readonly kid: string | undefined;
  /** Length in bytes of the decoded signature. */
  readonly signatureBytes: number;
  /** The payload segment (base64url), possibly empty. */
  readonly payloadSegment: string;
}

/** Header parameters that would let a token bring or point at its own key: never honoured. */
const KEY_CARRYING_HEADERS = ['jwk', 'jku', 'x5u', 'x5c'] as const;

/** The text of a canonical base64url segment holding UTF-8, or `null`. */
function decodeText(segment: string): string | null {
  if (!isCanonicalBase64url(segment)) return null;
  // Fast path for the usual all-ASCII header: the native forgiving-base64 decoder (safe here,
  // the segment was just proven canonical) yields the text directly.
  const binary = atob(segment.replaceAll('-', '+').replaceAll('_', '/'));
  if (!/[^\x00-\x7f]/.test(binary)) return binary;
  const bytes = decodeBase64url(segment);
  return bytes ? decodeUtf8Strict(bytes) : null;
}

/** Parses a JSON object strictly (canonical base64url of UTF-8, an object at the top). */
export function decodeJsonObject(segment: string): Record<string, unknown> | null {
  const text = decodeText(segment);
  if (text === null) return null;
  let value: unknown;
  try {
    // JSON.parse keeps the last of duplicate members, which RFC 7515 §4 explicitly permits.
    value = JSON.parse(text);
  } catch {
    return null;
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

/** True when a `typ` header matches `expected` (RFC 7515 §4.1.9: case-insensitive, optional `application/`). */
export function typMatches(typ: unknown, expected: string): boolean {
  if (typeof typ !== 'string') return false;
  const a = typ.toLowerCase();
  const b = expected.toLowerCase();
  return a === b || a === `application/${b}` || `application/${a}` === b;
}

/**
 * Splits and checks a compact JWS. Throws `AUTH_TOKEN_INVALID` with reason `malformed`,
 * `algorithm`, `header` or `type`.
 */
export function parseCompact(token: string, options: { readonly maxBytes: number; readonly typ?: string; readonly requireKid?: boolean }): ParsedCompact {
  if (typeof token !== 'string' || token.length === 0 || token.length > options.maxBytes) {
    throw new TokenInvalidError('malformed', 'token is empty, too long or not a string');
  }
  const first = token.indexOf('.');
  const second = first < 0 ? -1 : token.indexOf('.', first + 1);
  // Exactly three segments: the JSON serialisation and JWE's five segments are not accepted.
  if (second < 0 || token.indexOf('.', second + 1) >= 0) throw new TokenInvalidError('malformed', 'token is not a compact JWS of three segments');
  const headerSegment = token.slice(0, first);
  const payloadSegment = token.slice(first + 1, second);
  const signatureSegment = token.slice(second + 1);
  const header = headerSegment.length === 0 ? null : decodeJsonObject(headerSegment);
  if (!header) throw new TokenInvalidError('malformed', 'token header is not canonical base64url of a JSON object');
  const alg = header.alg;
  if (typeof alg !== 'string' || alg.length === 0) throw new TokenInvalidError('algorithm', 'token header has no "alg"');
  if (alg.toLowerCase() === 'none') throw new TokenInvalidError('algorithm', 'unsecured tokens (alg "none") are never accepted');
  if (signatureSegment.length === 0) throw new TokenInvalidError('malformed', 'token has no signature');
  if (!isCanonicalBase64url(payloadSegment) || !isCanonicalBase64url(signatureSegment)) {
    throw new TokenInvalidError('malformed', 'token segment is not canonical base64url (RFC 7515 §2)');
  }
  for (const name of KEY_CARRYING_HEADERS) {
    if (name in header) throw new TokenInvalidError('header', `token header "${name}" is not accepted: keys come from the verifier's key set only`);
  }
  // No extension is understood, so any "crit" must be rejected (RFC 7515 §4.1.11); "b64" only
  // has meaning under "crit" (RFC 7797 §6) and unencoded payloads are not supported.
  if ('crit' in header) throw new TokenInvalidError('header', 'token header "crit" lists extensions this verifier does not understand');
  if ('b64' in header) throw new TokenInvalidError('header', 'token header "b64" is not supported');
  const kid = header.kid;
  if (kid !== undefined && typeof kid !== 'string') throw new TokenInvalidError('header', 'token header "kid" is not a string');
  if (options.requireKid && kid === undefined) throw new TokenInvalidError('header', 'token header has no "kid"');
  if (options.typ !== undefined && !typMatches(header.typ, options.typ)) throw new TokenInvalidError('type', `token "typ" is not "${options.typ}"`);
  return {
    header,
    alg,
    kid,
    signatureBytes: Math.floor((signatureSegment.length * 3) / 4),
    payloadSegment,
  };
}
