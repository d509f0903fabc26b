/**
 * Signing and verifying JWTs of one profile (type, issuer, audience, lifetime) with a
 * {@link SigningKeySet}. Access tokens and MFA challenge tokens are two profiles of this: distinct
 * `typ` (RFC 8725 §3.11 explicit typing) and audience, so one can never pass for the other.
 * @internal
 */
import { jwtVerify, SignJWT } from 'jose';
import type { Clock } from '../../core/clock.js';
import type { IdGenerator } from '../../core/ids.js';
import { TokenInvalidError } from '../errors.js';
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from './algorithms.js';
import type { SigningKeySet } from './key-set.js';
import { fromJoseError, inspect, MAX_TOKEN_BYTES, pin } from './verify.js';

/** What one kind of token looks like. */
export interface JwtProfile {
  /** `typ` header, e.g. `at+jwt` (RFC 9068 §2.1). */
  readonly typ: string;
  readonly issuer: string;
  readonly audience: string;
  readonly ttlMs: number;
  readonly clockToleranceMs: number;
  /** Claims that must be present besides iss, aud, exp, iat, jti, sub. */
  readonly requiredClaims: readonly string[];
}

/** A verified payload. */
export type JwtPayload = Readonly<Record<string, unknown>> & {
  readonly iss: string;
  readonly sub: string;
  readonly aud: string | readonly string[];
  readonly exp: number;
  readonly iat: number;
  readonly jti: string;
};

const BASE_REQUIRED = ['iss', 'aud', 'exp', 'iat', 'jti', 'sub'];

/** Signs `claims` (which must not contain registered claims) as a JWT of `profile`. */
export async function signJwt(
  keys: SigningKeySet,
  profile: JwtProfile,
  subject: string,
  claims: Readonly<Record<string, unknown>>,
  clock: Clock,
  ids: IdGenerator,
): Promise<{ token: string; jti: string; kid: string; alg: SigningAlgorithm; issuedAt: number; expiresAt: number }> {
  const { kid, alg, privateKey } = await keys.signer();
  const now = clock.now();
  const iat = Math.floor(now / 1000);
  const exp = Math.floor((now + profile.ttlMs) / 1000);
  const jti = ids.next();
  const token = await new SignJWT({ ...claims, iss: profile.issuer, sub: subject, aud: profile.audience, iat, exp, jti })
    .setProtectedHeader({ alg, kid, typ: profile.typ })
    .sign(privateKey);
  return { token, jti, kid, alg, issuedAt: iat * 1000, expiresAt: exp * 1000 };
}

/**
 * Verifies a JWT of `profile`: the strict JWS pipeline (see `verifyJws`), a key of the set by
 * `kid` (never from the token), then jose with the algorithm pinned to that key and every claim
 * check switched on: `exp` required, `iss` and `aud` must match, `nbf` honoured, `iat` not in
 * the future, all within `clockToleranceMs`.
 */
export async function verifyJwt(keys: SigningKeySet, profile: JwtProfile, token: string, clock: Clock): Promise<{ payload: JwtPayload; kid: string; alg: SigningAlgorithm }> {
  const parsed = inspect(token, { algorithms: SIGNING_ALGORITHMS, typ: profile.typ, requireKid: true, maxTokenBytes: MAX_TOKEN_BYTES });
  // Synchronous lookup for the common case (a loaded, fresh key set); a storage read only for an
  // unknown kid or a stale set. Every await on this path costs measurable verify throughput.
  const key = keys.cachedVerificationKey(parsed.kid) ?? (await keys.verificationKey(parsed.kid));
  pin(parsed, key);
  const now = clock.now();
  const tolerance = profile.clockToleranceMs / 1000;
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, key.material, {
      algorithms: [key.alg],
      issuer: profile.issuer,
      audience: profile.audience,
      typ: profile.typ,
      clockTolerance: tolerance,
      currentDate: new Date(now),
      requiredClaims: [...BASE_REQUIRED, ...profile.requiredClaims],
    }));
  } catch (err) {
    throw fromJoseError(err);
  }
  // jose checks iat only with maxTokenAge; a token "issued" in the future is forged or from a
  // badly skewed clock either way.
  if (typeof payload.iat !== 'number' || payload.iat > now / 1000 + tolerance) {
    throw new TokenInvalidError('claims', 'token claim "iat" is in the future', { details: { claim: 'iat' } });
  }
  if (typeof payload.sub !== 'string' || payload.sub.length === 0) throw new TokenInvalidError('claims', 'token claim "sub" is missing', { details: { claim: 'sub' } });
  if (typeof payload.jti !== 'string' || payload.jti.length === 0) throw new TokenInvalidError('claims', 'token claim "jti" is missing', { details: { claim: 'jti' } });
  return { payload: payload as JwtPayload, kid: key.kid!, alg: key.alg as SigningAlgorithm };
}
