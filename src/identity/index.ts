/**
 * Identity: users, sign-in with passwords, TOTP and Sign-In with Ethereum, sessions with rotating
 * refresh tokens, strict JWT access tokens with rotating keys and a JWKS, and HD wallets.
 *
 * ```ts
 * import { createIdentity } from 'digital-fabrica/identity';
 * ```
 *
 * - {@link createIdentity}: the composed service on a `StorageAdapter` (memory, PostgreSQL,
 *   Redis); everything stateful (email uniqueness, refresh rotation and reuse detection, TOTP
 *   replay, SIWE nonces, keys) is an atomic storage operation, so several processes share it.
 * - Tokens: {@link createSigningKeySet} (RS256 by default; PS256, ES256, EdDSA and more; rotation;
 *   JWKS), {@link createAccessTokenService}, and {@link verifyJws}, the strict verifier every token
 *   goes through: canonical base64url only, algorithm pinned by the key, no `none`, no `crit`,
 *   no header-supplied keys, `exp`/`iss`/`aud` always required.
 * - Pure helpers: {@link hotp}, {@link totp}, {@link verifyTotp}, {@link otpauthUri}, base32,
 *   BIP-39/BIP-44 ({@link generateMnemonic}, {@link deriveEthereumAccount}), EIP-4361
 *   ({@link buildSiweMessage}, {@link parseSiweMessage}).
 *
 * Errors: `AUTH_TOKEN_INVALID` (with a `reason`), `AUTH_TOKEN_EXPIRED`, `AUTH_TOKEN_REUSED`,
 * `AUTH_INVALID_CREDENTIALS`, `AUTH_LOCKED`, `AUTH_MFA_REQUIRED`, `AUTH_SIWE_INVALID`,
 * `VALIDATION_FAILED`, `NOT_FOUND`, `CONFLICT`, `ACCESS_DENIED`. Messages, logs and events never
 * contain passwords, tokens, codes, TOTP secrets or mnemonics. See docs/guides/identity.md.
 *
 * @module
 */
export { createIdentity, Identity, type AuthTokens, type Authenticated, type MfaChallenge, type SignInResult, type Principal, type AuthenticateOptions } from './identity.js';
export type { IdentityOptions } from './options.js';
export * from './errors.js';
export type { ThrottlePolicy } from './auth/throttle.js';

export {
  USER_STATUSES,
  emailSchema,
  displayNameSchema,
  tierSchema,
  userStatusSchema,
  tenantIdSchema,
  roleNameSchema,
  tenantRolesSchema,
  passwordSchema,
  ethereumAddressSchema,
  userSchema,
  createUserInputSchema,
  updateUserInputSchema,
  listUsersInputSchema,
  type User,
  type UserStatus,
  type CreateUserInput,
  type UpdateUserInput,
  type ListUsersInput,
  type UserPage,
} from './users/schemas.js';
export { UserService, type WriteOptions, type SetPasswordOptions } from './users/service.js';

export { SessionService, REFRESH_TOKEN_PREFIX, type Session, type IssuedRefreshToken, type SessionPolicy } from './refresh/sessions.js';

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

export { hotp, totp, totpStep, verifyTotp, type OtpAlgorithm, type HotpOptions, type TotpOptions, type VerifyTotpOptions } from './mfa/otp.js';
export { base32Encode, base32Decode } from './mfa/base32.js';
export { otpauthUri, type OtpauthUriInput } from './mfa/otpauth.js';
export { MfaService, type MfaPolicy, type MfaEnrollment, type MfaStatus, type MfaProof } from './mfa/service.js';

export {
  generateMnemonic,
  isValidMnemonic,
  normaliseMnemonic,
  mnemonicToSeed,
  rootExtendedKey,
  deriveEthereumAccount,
  ETHEREUM_ACCOUNT_PATH,
  MAX_ACCOUNT_INDEX,
  type WalletAccount,
} from './wallets/hd.js';
export { WalletService, type Wallet, type TypedDataInput, type WalletSignature } from './wallets/service.js';

export { buildSiweMessage, parseSiweMessage, type SiweMessage } from './siwe/message.js';
export { SiweService, type SiwePolicy, type SiweNonce, type CreateSiweMessageInput, type VerifiedSiweMessage } from './siwe/service.js';
