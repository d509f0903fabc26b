/**
 * The JWS algorithms (RFC 7518 §3.1, RFC 8037 §3.1) the verifier knows, and what each needs from
 * its key. A key is bound to exactly one algorithm for life, so a token can never pick how its
 * key is used (the root of RS256→HS256 and other algorithm-confusion attacks).
 */

/** Every JWS algorithm the strict verifier accepts. `none` is not one of them, ever. */
export type JwsAlgorithm =
  | 'RS256'
  | 'RS384'
  | 'RS512'
  | 'PS256'
  | 'PS384'
  | 'PS512'
  | 'ES256'
  | 'ES384'
  | 'ES512'
  | 'EdDSA'
  | 'HS256'
  | 'HS384'
  | 'HS512';

/**
 * Asymmetric algorithms, the only ones access tokens may use: their public keys can be published
 * in a JWKS for other services, and a verifier can never mint tokens.
 */
export type SigningAlgorithm = Exclude<JwsAlgorithm, 'HS256' | 'HS384' | 'HS512'>;

/**
 * All {@link JwsAlgorithm}s, for validation and iteration.
 *
 * @example
 * ```ts
 * import { JWS_ALGORITHMS } from 'digital-fabrica/identity';
 * console.log(JWS_ALGORITHMS.includes('RS256'), (JWS_ALGORITHMS as readonly string[]).includes('none')); // true false
 * ```
 */
export const JWS_ALGORITHMS: readonly JwsAlgorithm[] = Object.freeze([
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'HS256',
  'HS384',
  'HS512',
]);

/**
 * All {@link SigningAlgorithm}s.
 *
 * @example
 * ```ts
 * import { SIGNING_ALGORITHMS } from 'digital-fabrica/identity';
 * console.log(SIGNING_ALGORITHMS.length); // 10
 * ```
 */
export const SIGNING_ALGORITHMS: readonly SigningAlgorithm[] = Object.freeze(
  JWS_ALGORITHMS.filter((alg): alg is SigningAlgorithm => !alg.startsWith('HS')),
);

/** What a key for an algorithm must look like. @internal */
export type KeyRequirement =
  | { readonly kty: 'RSA' }
  | { readonly kty: 'EC'; readonly crv: 'P-256' | 'P-384' | 'P-521'; readonly signatureBytes: number }
  | { readonly kty: 'OKP'; readonly crv: 'Ed25519'; readonly signatureBytes: number }
  | { readonly kty: 'oct'; readonly minKeyBytes: number; readonly signatureBytes: number };

/** @internal */
export function keyRequirement(alg: JwsAlgorithm): KeyRequirement {
  switch (alg) {
    case 'RS256':
    case 'RS384':
    case 'RS512':
    case 'PS256':
    case 'PS384':
    case 'PS512':
      return { kty: 'RSA' };
    // RFC 7518 §3.4: the JWS signature is R || S, each as long as the curve order.
    case 'ES256':
      return { kty: 'EC', crv: 'P-256', signatureBytes: 64 };
    case 'ES384':
      return { kty: 'EC', crv: 'P-384', signatureBytes: 96 };
    case 'ES512':
      return { kty: 'EC', crv: 'P-521', signatureBytes: 132 };
    // RFC 8032 §5.1.6: an Ed25519 signature is 64 bytes. Ed448 is not supported.
    case 'EdDSA':
      return { kty: 'OKP', crv: 'Ed25519', signatureBytes: 64 };
    // RFC 7518 §3.2: an HMAC key must be at least as long as the hash output.
    case 'HS256':
      return { kty: 'oct', minKeyBytes: 32, signatureBytes: 32 };
    case 'HS384':
      return { kty: 'oct', minKeyBytes: 48, signatureBytes: 48 };
    case 'HS512':
      return { kty: 'oct', minKeyBytes: 64, signatureBytes: 64 };
  }
}

/** @internal */
export function isJwsAlgorithm(value: unknown): value is JwsAlgorithm {
  return typeof value === 'string' && (JWS_ALGORITHMS as readonly string[]).includes(value);
}
