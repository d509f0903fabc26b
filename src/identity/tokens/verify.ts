import { compactVerify } from 'jose';
import { z } from 'zod';
import { parseInput } from '../../core/validation.js';
import { TokenExpiredError, TokenInvalidError } from '../errors.js';
import { JWS_ALGORITHMS, type JwsAlgorithm } from './algorithms.js';
import { parseCompact, type ParsedCompact } from './compact.js';
import { JwsKey } from './jws-key.js';

/**
 * Default and largest accepted token size: far above any sane JWT, far below a memory problem.
 *
 * @example
 * ```ts
 * import { MAX_TOKEN_BYTES } from 'digital-fabrica/identity';
 * console.log(MAX_TOKEN_BYTES); // 16384
 * ```
 */
export const MAX_TOKEN_BYTES = 16_384;

/** Finds the key for a token's header, or throws `AUTH_TOKEN_INVALID`. */
export type JwsKeyResolver = (header: { readonly alg: string; readonly kid: string | undefined }) => JwsKey | Promise<JwsKey>;

/** Options of {@link verifyJws}. */
export interface VerifyJwsOptions {
  /**
   * Algorithms accepted at all (default: every {@link JwsAlgorithm}). A token must also match the
   * `alg` its key is bound to.
   */
  readonly algorithms?: readonly JwsAlgorithm[];
  /** Required `typ` header (RFC 7515 §4.1.9), compared case-insensitively; default: not checked. */
  readonly typ?: string;
  /** Require a `kid` header (default false). */
  readonly requireKid?: boolean;
  /** Largest token accepted, in characters (default and maximum {@link MAX_TOKEN_BYTES}). */
  readonly maxTokenBytes?: number;
}

/** What {@link verifyJws} returns for a valid token. */
export interface VerifiedJws {
  /** The protected header. */
  readonly header: Readonly<Record<string, unknown>>;
  /** The decoded payload bytes. */
  readonly payload: Uint8Array;
  /** The key that verified it. */
  readonly key: JwsKey;
}

const algorithmSchema = z.enum(JWS_ALGORITHMS as [JwsAlgorithm, ...JwsAlgorithm[]]);
const optionsSchema = z
  .strictObject({
    algorithms: z.array(algorithmSchema).min(1).optional(),
    typ: z.string().min(1).max(64).optional(),
    requireKid: z.boolean().optional(),
    maxTokenBytes: z.number().int().min(16).max(MAX_TOKEN_BYTES).optional(),
  })
  .optional();
const keysSchema = z.union([
  z.instanceof(JwsKey),
  z.array(z.instanceof(JwsKey)).min(1),
  z.custom<JwsKeyResolver>((v) => typeof v === 'function', { message: 'expected a JwsKey, an array of them or a resolver' }),
]);

/**
 * Maps a jose failure to our errors; jose's error stays available as `cause` only.
 * @internal
 */
export function fromJoseError(err: unknown): TokenInvalidError | TokenExpiredError {
  const code = (err as { code?: unknown } | null)?.code;
  const claim = (err as { claim?: unknown } | null)?.claim;
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return new TokenExpiredError('token expired', { cause: err });
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (claim === 'nbf') return new TokenInvalidError('not_yet_valid', 'token is not valid yet', { cause: err });
      return new TokenInvalidError('claims', `token claim "${String(claim)}" is missing or invalid`, {
        cause: err,
        details: typeof claim === 'string' ? { claim } : {},
      });
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return new TokenInvalidError('signature', 'token signature does not verify', { cause: err });
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return new TokenInvalidError('algorithm', 'token algorithm is not allowed', { cause: err });
    default:
      return new TokenInvalidError('malformed', 'token is malformed', { cause: err });
  }
}

function selectFromList(keys: readonly JwsKey[], alg: string, kid: string | undefined): JwsKey {
  const byKid = kid === undefined ? keys : keys.filter((k) => k.kid === undefined || k.kid === kid);
  if (byKid.length === 0) throw new TokenInvalidError('unknown_key', 'no key has the token\'s "kid"');
  const byAlg = byKid.filter((k) => k.alg === alg);
  if (byAlg.length === 0) throw new TokenInvalidError('algorithm', 'the token\'s "alg" is not the algorithm its key is bound to');
  // Several candidates only happen without a kid; the first wins, the rest are never tried, so a
  // token cannot make the verifier run many signature checks.
  return byAlg[0]!;
}

/**
 * Step 1 of the shared pipeline, before any key is involved: strict parse and header policy,
 * and the algorithm allow-list.
 * @internal
 */
export function inspect(
  token: string,
  options: { readonly algorithms?: readonly string[]; readonly typ?: string; readonly requireKid?: boolean; readonly maxTokenBytes?: number },
): ParsedCompact {
  const parsed = parseCompact(token, { maxBytes: options.maxTokenBytes ?? MAX_TOKEN_BYTES, typ: options.typ, requireKid: options.requireKid });
  if (options.algorithms !== undefined && !options.algorithms.includes(parsed.alg)) {
    throw new TokenInvalidError('algorithm', 'token algorithm is not allowed');
  }
  return parsed;
}

/**
 * Step 2, once the key is chosen (by `kid`, never from the token): the header's algorithm must be
 * the key's, and the signature must have the key's exact length.
 * @internal
 */
export function pin(parsed: ParsedCompact, key: JwsKey): void {
  // Pinning: the key decides the algorithm. RS256→HS256 confusion needs the header to choose how
  // a key is used; here a header can only agree with its key or be rejected.
  if (key.alg !== parsed.alg) throw new TokenInvalidError('algorithm', 'the token\'s "alg" is not the algorithm its key is bound to');
  if (key.type === 'private') throw new TokenInvalidError('unknown_key', 'a signing key was offered for verification');
  // Exact lengths (RFC 7518 §3.3–3.5, RFC 8032): trailing bytes, DER-wrapped ECDSA signatures
  // and truncations are refused before any big-number work happens.
  if (parsed.signatureBytes !== key.signatureBytes) throw new TokenInvalidError('signature', 'token signature has the wrong length');
}

/**
 * The whole pre-jose pipeline: {@link inspect}, key resolution, {@link pin}.
 * @internal
 */
export async function preflight(
  token: string,
  resolve: JwsKeyResolver,
  options: { readonly algorithms?: readonly string[]; readonly typ?: string; readonly requireKid?: boolean; readonly maxTokenBytes?: number },
): Promise<{ parsed: ParsedCompact; key: JwsKey }> {
  const parsed = inspect(token, options);
  const key = await resolve({ alg: parsed.alg, kid: parsed.kid });
  pin(parsed, key);
  return { parsed, key };
}

/**
 * Verifies a compact JWS with keys the caller trusts. This is the strict pipeline every token of
 * the identity module goes through, exposed for other JWS uses (webhooks, service tokens):
 *
 * 1. compact serialisation only, three segments, each canonical base64url (no padding, spaces or
 *    other characters, zero pad bits — RFC 7515 §2 and §5.2);
 * 2. header is UTF-8 JSON object; `alg: none` is refused; `jwk`, `jku`, `x5u`, `x5c`, `crit`
 *    and `b64` are refused;
 * 3. the key is chosen by `kid` (never taken from the token), and the header's `alg` must be the
 *    one algorithm that key is bound to (and in `algorithms`);
 * 4. the signature must have the exact length for the key; then jose verifies it.
 *
 * It checks no claims: use the access-token service for JWTs.
 *
 * @throws `AUTH_TOKEN_INVALID` (see `reason`) for any rejected token; `VALIDATION_FAILED` for bad
 * options.
 * @example
 * ```ts
 * import { importJwsKey, verifyJws } from 'digital-fabrica/identity';
 * const key = await importJwsKey({ kty: 'oct', k: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', alg: 'HS256', kid: 'hs256-key' });
 * const token = 'eyJraWQiOiJoczI1Ni1rZXkiLCJhbGciOiJIUzI1NiJ9.VGVzdA.c1LROH7eNQwUT8KMVEO52VC3WZ9e_AnDWbZ7aMmowV8';
 * const { payload } = await verifyJws(token, key);
 * console.log(new TextDecoder().decode(payload)); // 'Test'
 * ```
 */
export async function verifyJws(token: string, keys: JwsKey | readonly JwsKey[] | JwsKeyResolver, options?: VerifyJwsOptions): Promise<VerifiedJws> {
  const opts = parseInput(optionsSchema, options, 'JWS verification options') ?? {};
  const keyInput = parseInput(keysSchema, keys, 'verification keys');
  const resolve: JwsKeyResolver =
    keyInput instanceof JwsKey
      ? ({ alg, kid }) => selectFromList([keyInput], alg, kid)
      : Array.isArray(keyInput)
        ? ({ alg, kid }) => selectFromList(keyInput, alg, kid)
        : (keyInput as JwsKeyResolver);
  const { parsed, key } = await preflight(token, resolve, opts);
  try {
    const result = await compactVerify(token, key.material, { algorithms: [key.alg] });
    return { header: parsed.header, payload: result.payload, key };
  } catch (err) {
    throw fromJoseError(err);
  }
}
