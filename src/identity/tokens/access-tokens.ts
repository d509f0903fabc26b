import { z } from 'zod';
import type { JsonValue } from '../../adapters/storage.js';
import type { Clock } from '../../core/clock.js';
import { systemClock } from '../../core/clock.js';
import { createUuidV7Generator, type IdGenerator } from '../../core/ids.js';
import { parseInput } from '../../core/validation.js';
import { clockSchema, durationMs, idSchema } from '../internal/options.js';
import type { SigningAlgorithm } from './algorithms.js';
import { signJwt, verifyJwt, type JwtProfile } from './jwt.js';
import { SigningKeySet } from './key-set.js';

/**
 * The `typ` of access tokens (RFC 9068 §2.1).
 *
 * @example
 * ```ts
 * import { ACCESS_TOKEN_TYPE } from 'digital-fabrica/identity';
 * console.log(ACCESS_TOKEN_TYPE); // 'at+jwt'
 * ```
 */
export const ACCESS_TOKEN_TYPE = 'at+jwt';

/**
 * Claims callers may not set: the service owns them.
 *
 * @example
 * ```ts
 * import { RESERVED_CLAIMS } from 'digital-fabrica/identity';
 * console.log(RESERVED_CLAIMS.includes('sub')); // true
 * ```
 */
export const RESERVED_CLAIMS: readonly string[] = Object.freeze(['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'sid', 'amr', 'typ', 'cnf', 'client_id']);

/** Options of {@link createAccessTokenService}. */
export interface AccessTokenServiceOptions {
  /** The keys that sign and verify. */
  readonly keys: SigningKeySet;
  /** `iss` of issued tokens, required on verification (e.g. `https://auth.example.com`). */
  readonly issuer: string;
  /** `aud` of issued tokens, required on verification (e.g. `https://api.example.com`). */
  readonly audience: string;
  /** Lifetime, 10 s – 24 h (default 15 minutes). */
  readonly ttlMs?: number;
  /** Allowed clock skew for `exp`, `nbf` and `iat`, 0 – 5 minutes (default 5 s). */
  readonly clockToleranceMs?: number;
  /** Time source (default: system clock). */
  readonly clock?: Clock;
}

/** What to put in an access token. */
export interface IssueAccessTokenInput {
  /** The user id (`sub`). */
  readonly subject: string;
  /** The session (refresh token family) the token belongs to (`sid`). */
  readonly sessionId?: string;
  /** How the user authenticated (RFC 8176 values: `pwd`, `otp`, `mfa`, `swk`, ...). */
  readonly amr?: readonly string[];
  /** Extra claims (roles, tier, ...); registered claims are refused. */
  readonly claims?: Readonly<Record<string, JsonValue>>;
}

/** A freshly signed access token. */
export interface IssuedAccessToken {
  /** The compact JWS. Bearer secret: never log it. */
  readonly token: string;
  /** `exp`, epoch ms. */
  readonly expiresAt: number;
  /** `jti`. */
  readonly jti: string;
  /** Key that signed it. */
  readonly kid: string;
}

/** The claims of a verified access token. */
export interface AccessTokenClaims {
  /** Issuer. */
  readonly iss: string;
  /** User id. */
  readonly sub: string;
  /** Audience. */
  readonly aud: string | readonly string[];
  /** Expiry, epoch seconds. */
  readonly exp: number;
  /** Issue time, epoch seconds. */
  readonly iat: number;
  /** Token id. */
  readonly jti: string;
  /** Session id, when the token belongs to one. */
  readonly sid?: string;
  /** Authentication methods. */
  readonly amr?: readonly string[];
  /** Extra claims. */
  readonly [claim: string]: JsonValue | readonly string[] | undefined;
}

/** A verified access token. */
export interface VerifiedAccessToken {
  /** Its claims. */
  readonly claims: AccessTokenClaims;
  /** Key that signed it. */
  readonly kid: string;
  /** Its algorithm. */
  readonly alg: SigningAlgorithm;
}

const optionsSchema = z.strictObject({
  keys: z.instanceof(SigningKeySet),
  issuer: z.string().min(1).max(512),
  audience: z.string().min(1).max(512),
  ttlMs: durationMs(10_000, 86_400_000).optional(),
  clockToleranceMs: durationMs(0, 300_000).optional(),
  clock: clockSchema.optional(),
});
const amrSchema = z.array(z.string().regex(/^[A-Za-z0-9_-]{1,32}$/)).max(16);
const issueSchema = z.strictObject({
  subject: idSchema,
  sessionId: idSchema.optional(),
  amr: amrSchema.optional(),
  claims: z
    .record(z.string().min(1).max(128), z.custom<JsonValue>((v) => v !== undefined))
    .refine((c) => Object.keys(c).every((k) => !RESERVED_CLAIMS.includes(k)), { message: `claims may not set ${RESERVED_CLAIMS.join(', ')}` })
    .optional(),
});

/**
 * Issues and verifies access tokens: short-lived JWTs (`typ: at+jwt`) signed by the newest key
 * of a {@link SigningKeySet}, with `kid` in the header. Verification is strict and stateless:
 * canonical base64url only; `alg` pinned to the key found by `kid` (so `none`, RS/HS confusion and
 * header-supplied keys cannot work); unknown `crit` refused; `exp`, `iss`, `aud` required and
 * checked; `nbf`/`iat` checked; all with a small clock tolerance. For revocation (logout, deleted
 * users), use `Identity.authenticate`, which also checks the session.
 *
 * @example
 * ```ts
 * import { createAccessTokenService, createSigningKeySet } from 'digital-fabrica/identity';
 * const tokens = createAccessTokenService({ keys: await createSigningKeySet(), issuer: 'https://auth.example', audience: 'https://api.example' });
 * const { token } = await tokens.issue({ subject: 'user-1', amr: ['pwd'] });
 * const { claims } = await tokens.verify(token);
 * console.log(claims.sub); // 'user-1'
 * ```
 */
export class AccessTokenService {
  readonly #keys: SigningKeySet;
  readonly #profile: JwtProfile;
  readonly #clock: Clock;
  readonly #ids: IdGenerator;

  /** @internal Use {@link createAccessTokenService}. */
  constructor(options: AccessTokenServiceOptions) {
    this.#keys = options.keys;
    this.#clock = options.clock ?? systemClock;
    this.#ids = createUuidV7Generator({ clock: this.#clock });
    this.#profile = {
      typ: ACCESS_TOKEN_TYPE,
      issuer: options.issuer,
      audience: options.audience,
      ttlMs: options.ttlMs ?? 900_000,
      clockToleranceMs: options.clockToleranceMs ?? 5_000,
      requiredClaims: [],
    };
  }

  /** The key set. */
  get keys(): SigningKeySet {
    return this.#keys;
  }

  /** Token lifetime in ms. */
  get ttlMs(): number {
    return this.#profile.ttlMs;
  }

  /** Clock tolerance in ms. */
  get clockToleranceMs(): number {
    return this.#profile.clockToleranceMs;
  }

  /**
   * Signs an access token.
   *
   * @throws `VALIDATION_FAILED` for a bad subject, session id, amr or a registered claim in `claims`.
   * @example
   * ```ts
   * import { createAccessTokenService, createSigningKeySet } from 'digital-fabrica/identity';
   * const tokens = createAccessTokenService({ keys: await createSigningKeySet(), issuer: 'i', audience: 'a' });
   * const issued = await tokens.issue({ subject: 'u1', sessionId: 's1', claims: { tier: 2 } });
   * console.log(issued.expiresAt > Date.now()); // true
   * ```
   */
  async issue(input: IssueAccessTokenInput): Promise<IssuedAccessToken> {
    const { subject, sessionId, amr, claims } = parseInput(issueSchema, input, 'access token input');
    const extra: Record<string, unknown> = { ...claims };
    if (sessionId !== undefined) extra.sid = sessionId;
    if (amr !== undefined) extra.amr = amr;
    const signed = await signJwt(this.#keys, this.#profile, subject, extra, this.#clock, this.#ids);
    return { token: signed.token, expiresAt: signed.expiresAt, jti: signed.jti, kid: signed.kid };
  }

  /**
   * Verifies an access token (signature and claims, no storage access).
   *
   * @throws `AUTH_TOKEN_EXPIRED` past `exp`; `AUTH_TOKEN_INVALID` for anything else (see
   * `TokenInvalidError.reason`), including a non-string or oversized token.
   * @example
   * ```ts
   * import { createAccessTokenService, createSigningKeySet } from 'digital-fabrica/identity';
   * import { hasErrorCode } from 'digital-fabrica/errors';
   * const tokens = createAccessTokenService({ keys: await createSigningKeySet(), issuer: 'i', audience: 'a' });
   * try {
   *   await tokens.verify('eyJhbGciOiJub25lIn0.e30.');
   * } catch (err) {
   *   console.log(hasErrorCode(err, 'AUTH_TOKEN_INVALID')); // true
   * }
   * ```
   */
  async verify(token: string): Promise<VerifiedAccessToken> {
    const { payload, kid, alg } = await verifyJwt(this.#keys, this.#profile, token, this.#clock);
    return { claims: payload as unknown as AccessTokenClaims, kid, alg };
  }
}

/**
 * Creates an {@link AccessTokenService}.
 *
 * @throws `VALIDATION_FAILED` for bad options.
 * @example
 * ```ts
 * import { createAccessTokenService, createSigningKeySet } from 'digital-fabrica/identity';
 * const tokens = createAccessTokenService({ keys: await createSigningKeySet({ algorithm: 'EdDSA' }), issuer: 'https://auth.example', audience: 'api', ttlMs: 300_000 });
 * console.log(tokens.ttlMs); // 300000
 * ```
 */
export function createAccessTokenService(options: AccessTokenServiceOptions): AccessTokenService {
  return new AccessTokenService(parseInput(optionsSchema, options, 'access token options') as AccessTokenServiceOptions);
}
