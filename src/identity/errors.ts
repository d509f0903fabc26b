/**
 * Typed identity errors. Every one is a {@link FabricaError} with a stable `code` and a typed
 * `reason`; messages never carry tokens, passwords, codes, secrets or mnemonics, and library
 * internals (jose, ethers) only ever appear as `cause`.
 */
import { FabricaError, type FabricaErrorOptions } from '../core/errors.js';

/** Why a token was rejected with `AUTH_TOKEN_INVALID`. */
export type TokenInvalidReason =
  /** Not a compact JWS of three canonical base64url segments, or a header/payload that is not a JSON object. */
  | 'malformed'
  /** `alg` missing, `none`, not allowed, or not the algorithm the key is bound to. */
  | 'algorithm'
  /** A forbidden or unknown header: `crit`, `b64`, embedded `jwk`, `jku`, `x5u`, `x5c`, missing `kid`. */
  | 'header'
  /** `typ` is not the expected token type (e.g. an MFA challenge presented as an access token). */
  | 'type'
  /** No key with this `kid`. */
  | 'unknown_key'
  /** The key was rotated out and its verification window has ended. */
  | 'retired_key'
  /** The signature does not verify. */
  | 'signature'
  /** A claim is missing or wrong (`iss`, `aud`, `sub`, `iat` in the future, ...); `details.claim` names it. */
  | 'claims'
  /** `nbf` is in the future. */
  | 'not_yet_valid'
  /** The session behind the token was revoked (logout, user deleted, refresh token reuse). */
  | 'revoked'
  /** An opaque token (refresh token, challenge) is unknown or was already used. */
  | 'unknown_token';

/**
 * A token failed verification. `reason` says why; `details.claim` names a failing claim.
 *
 * @example
 * ```ts
 * import { TokenInvalidError } from 'digital-fabrica/identity';
 * const err = new TokenInvalidError('signature');
 * console.log(err.code, err.reason, err.status); // 'AUTH_TOKEN_INVALID' 'signature' 401
 * ```
 */
export class TokenInvalidError extends FabricaError {
  /** Why the token was rejected. */
  readonly reason: TokenInvalidReason;
  constructor(reason: TokenInvalidReason, message = `token rejected: ${reason}`, options: FabricaErrorOptions = {}) {
    super('AUTH_TOKEN_INVALID', message, { ...options, details: { reason, ...options.details } });
    this.reason = reason;
  }
}

/**
 * A token's `exp` has passed (beyond the clock tolerance). Status 401.
 *
 * @example
 * ```ts
 * import { TokenExpiredError } from 'digital-fabrica/identity';
 * console.log(new TokenExpiredError().code); // 'AUTH_TOKEN_EXPIRED'
 * ```
 */
export class TokenExpiredError extends FabricaError {
  constructor(message = 'token expired', options: FabricaErrorOptions = {}) {
    super('AUTH_TOKEN_EXPIRED', message, options);
  }
}

/**
 * A refresh token that had already been rotated was presented again. The whole session family it
 * belongs to has been revoked: either the client raced itself or the token was stolen (RFC 9700
 * §4.14.2). Status 401.
 *
 * @example
 * ```ts
 * import { TokenReusedError } from 'digital-fabrica/identity';
 * console.log(new TokenReusedError('s1').details); // { sessionId: 's1' }
 * ```
 */
export class TokenReusedError extends FabricaError {
  constructor(sessionId: string, options: Omit<FabricaErrorOptions, 'details'> = {}) {
    super('AUTH_TOKEN_REUSED', 'refresh token reused: the session was revoked', { ...options, details: { sessionId } });
  }
}

/** What kind of credential was wrong, in `details.reason` of `AUTH_INVALID_CREDENTIALS`. */
export type InvalidCredentialsReason =
  /** Email or password (deliberately not saying which). */
  | 'password'
  /** A TOTP code that matches no step in the window. */
  | 'code'
  /** A TOTP code that was valid but has been used already (RFC 6238 §5.2). */
  | 'replayed'
  /** An unknown or already used recovery code. */
  | 'recovery_code'
  /** MFA is not enrolled, or the enrolment expired. */
  | 'not_enrolled';

/**
 * A password, TOTP code or recovery code was wrong. Status 401.
 *
 * @example
 * ```ts
 * import { InvalidCredentialsError } from 'digital-fabrica/identity';
 * console.log(new InvalidCredentialsError('code').reason); // 'code'
 * ```
 */
export class InvalidCredentialsError extends FabricaError {
  /** What was wrong. */
  readonly reason: InvalidCredentialsReason;
  constructor(reason: InvalidCredentialsReason, options: Omit<FabricaErrorOptions, 'details'> = {}) {
    super('AUTH_INVALID_CREDENTIALS', reason === 'password' ? 'invalid email or password' : `invalid credentials: ${reason}`, {
      ...options,
      details: { reason },
    });
    this.reason = reason;
  }
}

/**
 * Too many failed attempts: refused until `retryAfterMs` has passed. Status 429.
 *
 * @example
 * ```ts
 * import { AccountLockedError } from 'digital-fabrica/identity';
 * console.log(new AccountLockedError(60_000).retryAfterMs); // 60000
 * ```
 */
export class AccountLockedError extends FabricaError {
  /** Milliseconds until attempts are accepted again. */
  readonly retryAfterMs: number;
  constructor(retryAfterMs: number, options: Omit<FabricaErrorOptions, 'details'> = {}) {
    super('AUTH_LOCKED', 'too many failed attempts: try again later', { ...options, details: { retryAfterMs } });
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * The operation needs a session that passed MFA (step-up). Status 401.
 *
 * @example
 * ```ts
 * import { MfaRequiredError } from 'digital-fabrica/identity';
 * console.log(new MfaRequiredError().code); // 'AUTH_MFA_REQUIRED'
 * ```
 */
export class MfaRequiredError extends FabricaError {
  constructor(message = 'multi-factor authentication required', options: FabricaErrorOptions = {}) {
    super('AUTH_MFA_REQUIRED', message, options);
  }
}

/** Which check of a Sign-In with Ethereum message failed. */
export type SiweFailureReason =
  /** Not an EIP-4361 message (or a field is malformed). */
  | 'malformed'
  /** The `domain` is not this service's. */
  | 'domain'
  /** The `URI` is not one this service accepts. */
  | 'uri'
  /** The `Chain ID` is not accepted. */
  | 'chain'
  /** `Version` is not `1`. */
  | 'version'
  /** `Expiration Time` has passed, or `Issued At` is older than the nonce lifetime. */
  | 'expired'
  /** `Not Before` is in the future. */
  | 'not_yet_valid'
  /** `Issued At` is in the future. */
  | 'issued_in_future'
  /** The nonce was not issued by this service, expired, or was used already (replay). */
  | 'nonce'
  /** The signature does not recover to the message's address. */
  | 'signature'
  /** The address is linked to another user. */
  | 'address_taken';

/**
 * A Sign-In with Ethereum message failed verification. Status 401.
 *
 * @example
 * ```ts
 * import { SiweError } from 'digital-fabrica/identity';
 * const err = new SiweError('nonce');
 * console.log(err.code, err.reason); // 'AUTH_SIWE_INVALID' 'nonce'
 * ```
 */
export class SiweError extends FabricaError {
  /** Which check failed. */
  readonly reason: SiweFailureReason;
  constructor(reason: SiweFailureReason, message = `sign-in with Ethereum rejected: ${reason}`, options: FabricaErrorOptions = {}) {
    super('AUTH_SIWE_INVALID', message, { ...options, details: { reason, ...options.details } });
    this.reason = reason;
  }
}
