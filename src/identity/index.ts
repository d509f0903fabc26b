export * from './errors.js';
export { JWS_ALGORITHMS, SIGNING_ALGORITHMS, type JwsAlgorithm, type SigningAlgorithm } from './tokens/algorithms.js';
export { importJwsKey, JwsKey, type Jwk, type PublicJwk, type ImportJwsKeyOptions } from './tokens/jws-key.js';
export { verifyJws, MAX_TOKEN_BYTES, type JwsKeyResolver, type VerifyJwsOptions, type VerifiedJws } from './tokens/verify.js';
export {
  createSigningKeySet,
  SigningKeySet,
  type SigningKeySetOptions,
  type SigningKeyInfo,
  type SigningKeyStatus,
  type JwksDocument,
  type RotateOptions,
} from './tokens/key-set.js';
export {
  createAccessTokenService,
  AccessTokenService,
  ACCESS_TOKEN_TYPE,
  RESERVED_CLAIMS,
  type AccessTokenServiceOptions,
  type IssueAccessTokenInput,
  type IssuedAccessToken,
  type AccessTokenClaims,
  type VerifiedAccessToken,
} from './tokens/access-tokens.js';
