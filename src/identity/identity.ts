import { z } from 'zod';
import type { JsonValue, StorageAdapter } from '../adapters/storage.js';
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import { FabricaError, hasErrorCode } from '../core/errors.js';
import type { FabricaEventBus } from '../core/events.js';
import { createUuidV7Generator, type IdGenerator } from '../core/ids.js';
import type { Logger } from '../core/logger.js';
import { silentLogger } from '../core/logger.js';
import { parseInput } from '../core/validation.js';
import { AesKey, Keyring, sha3_256, type PasswordPolicy } from '../security/primitives.js';
import { AttemptThrottle, DEFAULT_THROTTLE } from './auth/throttle.js';
import { InvalidCredentialsError, MfaRequiredError, SiweError, TokenInvalidError } from './errors.js';
import { toHex } from './internal/bytes.js';
import { identityNamespaces, ttlUntil, type IdentityNamespaces } from './internal/namespaces.js';
import { idSchema } from './internal/options.js';
import { MfaService, type MfaProof } from './mfa/service.js';
import { identityOptionsSchema, type IdentityOptions } from './options.js';
import { SessionService } from './refresh/sessions.js';
import { SiweService, type SiwePolicy } from './siwe/service.js';
import { AccessTokenService, type AccessTokenClaims } from './tokens/access-tokens.js';
import { signJwt, verifyJwt, type JwtProfile } from './tokens/jwt.js';
import { createSigningKeySet, type JwksDocument, type SigningKeySet } from './tokens/key-set.js';
import { emailSchema, type User } from './users/schemas.js';
import { toUser, UserService } from './users/service.js';
import { WalletService } from './wallets/service.js';

/** The tokens of an authenticated session. Both are bearer secrets: never log them. */
export interface AuthTokens {
  /** Always `Bearer` (RFC 6750). */
  readonly tokenType: 'Bearer';
  /** Short-lived JWT for API calls. */
  readonly accessToken: string;
  /** Its expiry, epoch ms. */
  readonly accessTokenExpiresAt: number;
  /** Opaque, single-use refresh token. */
  readonly refreshToken: string;
  /** Its idle expiry, epoch ms. */
  readonly refreshTokenExpiresAt: number;
  /** The session (the `sid` claim). */
  readonly sessionId: string;
}

/** A completed sign-in. */
export interface Authenticated {
  /** Discriminant. */
  readonly status: 'authenticated';
  /** Who signed in. */
  readonly user: User;
  /** The new session's tokens. */
  readonly tokens: AuthTokens;
}

/** The first factor passed; the user has MFA and must present a code with {@link Identity.completeSignIn}. */
export interface MfaChallenge {
  /** Discriminant. */
  readonly status: 'mfa_required';
  /** Who is signing in. */
  readonly userId: string;
  /** Short-lived JWT (`typ: mfa-challenge+jwt`) to send back with the code. It is NOT an access token. */
  readonly challenge: string;
  /** Its expiry, epoch ms. */
  readonly challengeExpiresAt: number;
}

/** The outcome of a first factor. */
export type SignInResult = Authenticated | MfaChallenge;

/** Who is calling, as established by {@link Identity.authenticate}. */
export interface Principal {
  /** User id. */
  readonly userId: string;
  /** Session id. */
  readonly sessionId: string;
  /** The user, as stored now. */
  readonly user: User;
  /** How they authenticated (RFC 8176 values). */
  readonly amr: readonly string[];
  /** The access token's claims. */
  readonly claims: AccessTokenClaims;
}

/** Options of {@link Identity.authenticate}. */
export interface AuthenticateOptions {
  /** Refuse sessions that did not pass MFA, with `AUTH_MFA_REQUIRED` (step-up for sensitive operations). */
  readonly requireMfa?: boolean;
}

/** @internal Everything {@link Identity} is made of. */
interface IdentityParts {
  readonly storage: StorageAdapter;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly events: FabricaEventBus | undefined;
  readonly ids: IdGenerator;
  readonly namespaces: IdentityNamespaces;
  readonly keys: SigningKeySet;
  readonly accessTokens: AccessTokenService;
  readonly users: UserService;
  readonly sessions: SessionService;
  readonly mfa: MfaService;
  readonly wallets: WalletService;
  readonly siwe: SiweService;
  readonly loginThrottle: AttemptThrottle;
  readonly challengeProfile: JwtProfile;
  readonly claims: ((user: User) => Readonly<Record<string, JsonValue>>) | undefined;
}

const signInSchema = z.strictObject({ email: z.string().max(320), password: z.string().min(1).max(4096) });
const completeSchema = z.union([
  z.strictObject({ challenge: z.string().min(1).max(16_384), code: z.string().max(64) }),
  z.strictObject({ challenge: z.string().min(1).max(16_384), recoveryCode: z.string().max(64) }),
]);
const siweInputSchema = z.strictObject({ message: z.string().min(1).max(16_384), signature: z.string().max(256), nonce: z.string().max(128).optional() });
const authenticateOptionsSchema = z.strictObject({ requireMfa: z.boolean().optional() }).optional();
const CHALLENGE_TYPE = 'mfa-challenge+jwt';
const CHALLENGE_AUDIENCE = 'urn:digital-fabrica:identity:mfa-challenge';


/**
 * The identity system: users, sign-in (password, MFA, Sign-In with Ethereum), sessions with
 * rotating refresh tokens, access tokens and their keys, wallets. Create it with
 * {@link createIdentity}; every part persists through the StorageAdapter it is given, so several
 * processes on one PostgreSQL or Redis share users, sessions, keys and replay state.
 *
 * The sign-in flow: {@link signIn} checks the password (throttled per email); a user without MFA
 * gets tokens, a user with MFA gets only a short-lived challenge token that is useless as an
 * access token (another `typ` and audience), and {@link completeSignIn} exchanges it plus a TOTP
 * or recovery code for tokens. {@link refresh} rotates refresh tokens; {@link authenticate}
 * verifies an access token and checks that its session and user are still alive.
 *
 * @example
 * ```ts
 * import { createIdentity } from 'digital-fabrica/identity';
 * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
 * const identity = await createIdentity({ storage: createMemoryStorage(), issuer: 'https://auth.example', audience: 'https://api.example' });
 * await identity.users.create({ email: 'ada@example.com', displayName: 'Ada', password: 'correct horse battery' });
 * const result = await identity.signIn({ email: 'ada@example.com', password: 'correct horse battery' });
 * if (result.status === 'authenticated') {
 *   const principal = await identity.authenticate(result.tokens.accessToken);
 *   console.log(principal.user.displayName); // 'Ada'
 * }
 * ```
 */
export class Identity {
  readonly #p: IdentityParts;

  /** @internal Use {@link createIdentity}. */
  constructor(parts: IdentityParts) {
    this.#p = parts;
  }

  /** Users: CRUD, passwords, roles, listing. */
  get users(): UserService {
    return this.#p.users;
  }

  /** Sessions and refresh tokens. */
  get sessions(): SessionService {
    return this.#p.sessions;
  }

  /** TOTP and recovery codes. */
  get mfa(): MfaService {
    return this.#p.mfa;
  }

  /** HD wallets. */
  get wallets(): WalletService {
    return this.#p.wallets;
  }

  /** Sign-In with Ethereum nonces, messages and verification. */
  get siwe(): SiweService {
    return this.#p.siwe;
  }

  /** The access-token signing keys (rotation, JWKS). */
  get keys(): SigningKeySet {
    return this.#p.keys;
  }

  /** Stateless access-token issue and verify. */
  get accessTokens(): AccessTokenService {
    return this.#p.accessTokens;
  }

  /**
   * The JWKS document for `/.well-known/jwks.json`.
   *
   * @example
   * ```ts
   * import { createIdentity } from 'digital-fabrica/identity';
   * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
   * const identity = await createIdentity({ storage: createMemoryStorage(), issuer: 'i', audience: 'a' });
   * console.log(identity.jwks().keys[0]?.alg); // 'RS256'
   * ```
   */
  jwks(): JwksDocument {
    return this.#p.keys.jwks();
  }

  /**
   * First factor: email and password. Throttled per email (`AUTH_LOCKED` when exhausted); an
   * unknown email costs the same password hash as a known one.
   *
   * @returns tokens, or an MFA challenge for users with MFA.
   * @throws `AUTH_INVALID_CREDENTIALS` (never saying whether the email exists); `AUTH_LOCKED`;
   * `ACCESS_DENIED` for a user who is not `active`; `VALIDATION_FAILED` for a malformed email.
   * @example
   * ```ts
   * import { createIdentity } from 'digital-fabrica/identity';
   * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
   * const identity = await createIdentity({ storage: createMemoryStorage(), issuer: 'i', audience: 'a' });
   * await identity.users.create({ email: 'ada@example.com', displayName: 'Ada', password: 'correct horse battery' });
   * const result = await identity.signIn({ email: 'ada@example.com', password: 'correct horse battery' });
   * console.log(result.status); // 'authenticated'
   * ```
   */
  async signIn(input: { email: string; password: string }): Promise<SignInResult> {
    const { email: rawEmail, password } = parseInput(signInSchema, input, 'sign-in');
    const email = parseInput(emailSchema, rawEmail, 'email');
    const throttle = this.#p.loginThrottle;
    await throttle.reserve(email);
    const doc = await this.#p.users.checkPassword(email, password);
    if (!doc) {
      await throttle.failure(email);
      throw new InvalidCredentialsError('password');
    }
    await throttle.success(email);
    this.#assertActive(doc.value);
    return this.#afterFirstFactor(toUser(doc.value, doc.version), ['pwd']);
  }

  /**
   * Second factor: exchanges an MFA challenge and a TOTP code (or a recovery code) for tokens.
   * A challenge yields at most one session; a failed code does not use it up (attempts are
   * throttled per user instead).
   *
   * @throws `AUTH_TOKEN_INVALID`/`AUTH_TOKEN_EXPIRED` for a bad, used or expired challenge;
   * `AUTH_INVALID_CREDENTIALS` (reason `code`, `replayed`, `recovery_code`); `AUTH_LOCKED`.
   * @example
   * ```ts
   * import { createIdentity, totp, base32Decode } from 'digital-fabrica/identity';
   * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
   * const identity = await createIdentity({ storage: createMemoryStorage(), issuer: 'i', audience: 'a' });
   * const user = await identity.users.create({ email: 'ada@example.com', displayName: 'Ada', password: 'correct horse battery' });
   * const { secret } = await identity.mfa.beginEnrollment(user.id);
   * const key = base32Decode(secret)!;
   * await identity.mfa.confirmEnrollment(user.id, totp(key, Date.now() - 30_000));
   * const first = await identity.signIn({ email: 'ada@example.com', password: 'correct horse battery' });
   * if (first.status === 'mfa_required') {
   *   const done = await identity.completeSignIn({ challenge: first.challenge, code: totp(key, Date.now()) });
   *   console.log(done.status); // 'authenticated'
   * }
   * ```
   */
  async completeSignIn(input: { challenge: string; code: string } | { challenge: string; recoveryCode: string }): Promise<Authenticated> {
    const parsed = parseInput(completeSchema, input, 'MFA completion');
    const { payload } = await verifyJwt(this.#p.keys, this.#p.challengeProfile, parsed.challenge, this.#p.clock);
    const userId = payload.sub;
    const firstFactor = Array.isArray(payload.amr) ? payload.amr.filter((m): m is string => typeof m === 'string') : [];
    const proof: MfaProof = 'code' in parsed ? { code: parsed.code } : { recoveryCode: parsed.recoveryCode };
    const key = `challenge/${payload.jti}`;
    // Fail fast on a used challenge, before a code is spent on it (the transaction below decides).
    if (await this.#p.storage.get(this.#p.namespaces.nonces, key)) throw new TokenInvalidError('unknown_token', 'the MFA challenge was already used');
    const { method } = await this.#p.mfa.verify(userId, proof);
    // One session per challenge: consuming its jti is the last step, so concurrent completions
    // with two valid codes still produce one session.
    const now = this.#p.clock.now();
    const consumed = await this.#p.storage.txn({
      compare: [{ namespace: this.#p.namespaces.nonces, key, exists: false }],
      success: [{ type: 'put', namespace: this.#p.namespaces.nonces, key, value: { usedAt: now }, ttlMs: ttlUntil(payload.exp * 1000, now) }],
    });
    if (!consumed.succeeded) throw new TokenInvalidError('unknown_token', 'the MFA challenge was already used');
    const doc = await this.#p.users.record(userId);
    if (!doc) throw new TokenInvalidError('revoked', 'the user no longer exists');
    this.#assertActive(doc.value);
    const amr = [...new Set([...firstFactor, ...(method === 'totp' ? ['otp'] : []), 'mfa'])];
    return this.#issue(toUser(doc.value, doc.version), amr);
  }

  /**
   * Rotates a refresh token: returns a new access token and a new refresh token; the old one is
   * spent. Presenting a spent one revokes the session.
   *
   * @throws `AUTH_TOKEN_INVALID` (unknown, revoked, or the user is gone or inactive);
   * `AUTH_TOKEN_EXPIRED`; `AUTH_TOKEN_REUSED` (the session is revoked).
   * @example
   * ```ts
   * import { createIdentity } from 'digital-fabrica/identity';
   * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
   * const identity = await createIdentity({ storage: createMemoryStorage(), issuer: 'i', audience: 'a' });
   * await identity.users.create({ email: 'ada@example.com', displayName: 'Ada', password: 'correct horse battery' });
   * const result = await identity.signIn({ email: 'ada@example.com', password: 'correct horse battery' });
   * if (result.status === 'authenticated') {
   *   const next = await identity.refresh(result.tokens.refreshToken);
   *   console.log(next.refreshToken !== result.tokens.refreshToken); // true
   * }
   * ```
   */
  async refresh(refreshToken: string): Promise<AuthTokens> {
    let user: User | undefined;
    const rotated = await this.#p.sessions.rotate(refreshToken, async (session) => {
      const doc = await this.#p.users.record(session.userId);
      if (!doc || doc.value.status !== 'active') {
        await this.#p.sessions.revoke(session.userId, session.id);
        throw new TokenInvalidError('revoked', 'the user of this session is gone or not active');
      }
      user = toUser(doc.value, doc.version);
    });
    const access = await this.#p.accessTokens.issue({ subject: rotated.session.userId, sessionId: rotated.session.id, amr: rotated.session.amr, claims: this.#claims(user!) });
    return {
      tokenType: 'Bearer',
      accessToken: access.token,
      accessTokenExpiresAt: access.expiresAt,
      refreshToken: rotated.refreshToken,
      refreshTokenExpiresAt: rotated.refreshExpiresAt,
      sessionId: rotated.session.id,
    };
  }

  /**
   * Logs out the session a refresh token belongs to.
   *
   * @returns whether a live session was revoked (unknown tokens are not an error: logout is idempotent).
   * @example
   * ```ts
   * import { createIdentity } from 'digital-fabrica/identity';
   * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
   * const identity = await createIdentity({ storage: createMemoryStorage(), issuer: 'i', audience: 'a' });
   * console.log(await identity.logout('dfrt_unknown')); // false
   * ```
   */
  async logout(refreshToken: string): Promise<boolean> {
    const session = await this.#p.sessions.findByToken(refreshToken);
    return session ? this.#p.sessions.revoke(session.userId, session.id) : false;
  }

  /**
   * Logs a user out everywhere: every session (and so every refresh token, and every access
   * token as far as {@link authenticate} is concerned) is revoked.
   *
   * @returns how many sessions were revoked.
   * @throws `VALIDATION_FAILED`.
   * @example
   * ```ts
   * import { createIdentity } from 'digital-fabrica/identity';
   * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
   * const identity = await createIdentity({ storage: createMemoryStorage(), issuer: 'i', audience: 'a' });
   * console.log(await identity.logoutEverywhere('nobody')); // 0
   * ```
   */
  async logoutEverywhere(userId: string): Promise<number> {
    return this.#p.sessions.revokeAll(parseInput(idSchema, userId, 'user id'));
  }

  /**
   * Authenticates a request: verifies the access token (strictly, see {@link AccessTokenService})
   * and checks that its session is alive and its user exists and is active — so logout, "log out
   * everywhere", refresh-token reuse, suspension and deletion take effect at once, not at `exp`.
   *
   * @throws `AUTH_TOKEN_EXPIRED`; `AUTH_TOKEN_INVALID` (reason `revoked` for a dead session or
   * user); `AUTH_MFA_REQUIRED` with `requireMfa` for a session without MFA.
   * @example
   * ```ts
   * import { createIdentity } from 'digital-fabrica/identity';
   * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
   * const identity = await createIdentity({ storage: createMemoryStorage(), issuer: 'i', audience: 'a' });
   * const user = await identity.users.create({ email: 'ada@example.com', displayName: 'Ada', password: 'correct horse battery' });
   * const result = await identity.signIn({ email: 'ada@example.com', password: 'correct horse battery' });
   * if (result.status === 'authenticated') {
   *   await identity.logoutEverywhere(user.id);
   *   await identity.authenticate(result.tokens.accessToken).catch((err) => console.log(err.code)); // 'AUTH_TOKEN_INVALID'
   * }
   * ```
   */
  async authenticate(accessToken: string, options?: AuthenticateOptions): Promise<Principal> {
    const { requireMfa = false } = parseInput(authenticateOptionsSchema, options, 'authentication options') ?? {};
    const { claims } = await this.#p.accessTokens.verify(accessToken);
    const sessionId = claims.sid;
    if (typeof sessionId !== 'string') throw new TokenInvalidError('claims', 'the access token has no session', { details: { claim: 'sid' } });
    const [session, doc] = await Promise.all([this.#p.sessions.get(claims.sub, sessionId).catch(() => null), this.#p.users.record(claims.sub)]);
    if (!session) throw new TokenInvalidError('revoked', 'the session was revoked or has ended');
    if (!doc || doc.value.status !== 'active') throw new TokenInvalidError('revoked', 'the user is gone or not active');
    const amr = Array.isArray(claims.amr) ? claims.amr : [];
    if (requireMfa && !amr.includes('mfa')) throw new MfaRequiredError('this operation needs a session that passed MFA');
    return { userId: claims.sub, sessionId, user: toUser(doc.value, doc.version), amr, claims };
  }

  /**
   * Signs in with an EIP-4361 message and its signature (see {@link SiweService.verify}). The
   * address's user signs in; an address seen for the first time gets a new user (no email, no
   * password). Users with MFA get a challenge, as with passwords.
   *
   * @throws `AUTH_SIWE_INVALID` (see its `reason`); `ACCESS_DENIED` for an inactive user.
   * @example
   * ```ts
   * import { Wallet } from 'ethers';
   * import { createIdentity } from 'digital-fabrica/identity';
   * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
   * const identity = await createIdentity({ storage: createMemoryStorage(), issuer: 'https://app.example.com', audience: 'api' });
   * const wallet = Wallet.createRandom();
   * const message = identity.siwe.createMessage({ address: wallet.address, nonce: (await identity.siwe.issueNonce()).nonce });
   * const result = await identity.signInWithEthereum({ message, signature: await wallet.signMessage(message) });
   * if (result.status === 'authenticated') console.log(result.user.addresses); // [wallet.address]
   * ```
   */
  async signInWithEthereum(input: { message: string; signature: string; nonce?: string }): Promise<SignInResult> {
    const parsed = parseInput(siweInputSchema, input, 'SIWE sign-in');
    const { address } = await this.#p.siwe.verify(parsed);
    const user = await this.#userForAddress(address);
    this.#assertActive(user);
    return this.#afterFirstFactor(user, ['swk']);
  }

  /**
   * Links the address that signed an EIP-4361 message to an existing (already authenticated)
   * user, so they can sign in with that wallet later.
   *
   * @throws `AUTH_SIWE_INVALID` (reason `address_taken` when another user holds the address);
   * `NOT_FOUND` for an unknown user.
   * @example
   * ```ts
   * import { Wallet } from 'ethers';
   * import { createIdentity } from 'digital-fabrica/identity';
   * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
   * const identity = await createIdentity({ storage: createMemoryStorage(), issuer: 'https://app.example.com', audience: 'api' });
   * const user = await identity.users.create({ email: 'ada@example.com', displayName: 'Ada' });
   * const wallet = Wallet.createRandom();
   * const message = identity.siwe.createMessage({ address: wallet.address, nonce: (await identity.siwe.issueNonce()).nonce });
   * const linked = await identity.linkEthereumAddress(user.id, { message, signature: await wallet.signMessage(message) });
   * console.log(linked.addresses[0] === wallet.address); // true
   * ```
   */
  async linkEthereumAddress(userId: string, input: { message: string; signature: string; nonce?: string }): Promise<User> {
    const id = parseInput(idSchema, userId, 'user id');
    const parsed = parseInput(siweInputSchema, input, 'SIWE link');
    await this.#p.users.get(id);
    const { address } = await this.#p.siwe.verify(parsed);
    try {
      return await this.#p.users.linkAddress(id, address);
    } catch (err) {
      if (hasErrorCode(err, 'CONFLICT') && err.details?.field === 'address') throw new SiweError('address_taken', 'the address is linked to another user', { cause: err });
      throw err;
    }
  }

  /** Releases nothing today (no timers, no connections of its own); kept for symmetry with other services. */
  async close(): Promise<void> {
    // The storage belongs to the host.
  }

  async #userForAddress(address: string): Promise<User> {
    for (let attempt = 0; attempt < 4; attempt++) {
      const existing = await this.#p.users.userIdByAddress(address);
      if (existing) {
        const doc = await this.#p.users.record(existing);
        if (doc) return toUser(doc.value, doc.version);
      }
      const now = this.#p.clock.now();
      try {
        return await this.#p.users.insert({
          id: this.#p.ids.next(),
          email: null,
          displayName: `${address.slice(0, 6)}…${address.slice(-4)}`,
          tier: 1,
          status: 'active',
          roles: {},
          addresses: [address],
          passwordHash: null,
          passwordChangedAt: null,
          createdAt: now,
          updatedAt: now,
        });
      } catch (err) {
        // Two first sign-ins with one address raced: the other created the user; read it.
        if (!hasErrorCode(err, 'CONFLICT')) throw err;
      }
    }
    throw new FabricaError('CONFLICT', 'the address kept changing hands; retry', { retryable: true });
  }

  async #afterFirstFactor(user: User, amr: string[]): Promise<SignInResult> {
    if (await this.#p.mfa.isEnabled(user.id)) {
      const challenge = await signJwt(this.#p.keys, this.#p.challengeProfile, user.id, { amr }, this.#p.clock, this.#p.ids);
      return { status: 'mfa_required', userId: user.id, challenge: challenge.token, challengeExpiresAt: challenge.expiresAt };
    }
    return this.#issue(user, amr);
  }

  async #issue(user: User, amr: string[]): Promise<Authenticated> {
    const { session, refreshToken, refreshExpiresAt } = await this.#p.sessions.create(user.id, { amr });
    const access = await this.#p.accessTokens.issue({ subject: user.id, sessionId: session.id, amr, claims: this.#claims(user) });
    return {
      status: 'authenticated',
      user,
      tokens: {
        tokenType: 'Bearer',
        accessToken: access.token,
        accessTokenExpiresAt: access.expiresAt,
        refreshToken,
        refreshTokenExpiresAt: refreshExpiresAt,
        sessionId: session.id,
      },
    };
  }

  #claims(user: User): Readonly<Record<string, JsonValue>> | undefined {
    return this.#p.claims?.(user);
  }

  #assertActive(user: Pick<User, 'status' | 'id'>): void {
    if (user.status !== 'active') throw new FabricaError('ACCESS_DENIED', 'the account is not active', { details: { status: user.status } });
  }
}

function defaultSiwe(issuer: string, options: IdentityOptions['siwe']): SiwePolicy | undefined {
  const base = { chainIds: [1], scheme: 'https', nonceTtlMs: 300_000, clockToleranceMs: 30_000 };
  if (options) return { ...base, ...options, chainIds: options.chainIds ?? base.chainIds };
  try {
    const url = new URL(issuer);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
    return { ...base, domain: url.host, uris: [url.origin], scheme: url.protocol.slice(0, -1) };
  } catch {
    return undefined;
  }
}

function hostOf(issuer: string): string {
  try {
    return new URL(issuer).host || issuer;
  } catch {
    return issuer;
  }
}

/**
 * Creates the identity system on a StorageAdapter: loads (or creates) the signing keys and wires
 * users, sessions, MFA, wallets and Sign-In with Ethereum together.
 *
 * @throws `VALIDATION_FAILED` for bad options; storage errors while loading keys.
 * @example
 * ```ts
 * import { createIdentity } from 'digital-fabrica/identity';
 * import { AesKey, Keyring } from 'digital-fabrica/security';
 * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
 * const identity = await createIdentity({
 *   storage: createMemoryStorage(),
 *   keyring: new Keyring({ keys: [AesKey.generate({ id: 'identity-2026' })] }),
 *   issuer: 'https://auth.example.com',
 *   audience: 'https://api.example.com',
 *   tokens: { algorithm: 'EdDSA', accessTokenTtlMs: 10 * 60_000 },
 *   claims: (user) => ({ tier: user.tier }),
 * });
 * console.log(identity.jwks().keys[0]?.alg); // 'EdDSA'
 * ```
 */
export async function createIdentity(options: IdentityOptions): Promise<Identity> {
  const opts = parseInput(identityOptionsSchema, options, 'identity options') as IdentityOptions;
  const clock = opts.clock ?? systemClock;
  const logger = opts.logger ?? silentLogger;
  const ids = createUuidV7Generator({ clock });
  const namespaces = identityNamespaces(opts.namespacePrefix);
  let keyring = opts.keyring;
  if (!keyring) {
    logger.warn('identity: no keyring given; secrets are encrypted with an ephemeral key and unreadable after a restart', {});
    keyring = new Keyring({ keys: [AesKey.generate({ id: 'ephemeral' })] });
  }
  const accessTtl = opts.tokens?.accessTokenTtlMs ?? 900_000;
  const tolerance = opts.tokens?.clockToleranceMs ?? 5_000;
  const refreshInterval = opts.tokens?.keyRefreshIntervalMs ?? 60_000;
  const challengeTtl = opts.mfa?.challengeTtlMs ?? 300_000;
  const keys = await createSigningKeySet({
    storage: opts.storage,
    keyring,
    namespace: namespaces.keys,
    name: 'access-tokens',
    algorithm: opts.tokens?.algorithm,
    modulusLength: opts.tokens?.modulusLength,
    clock,
    logger,
    // A replaced key must outlive every token it signed, including those signed by a process
    // that has not re-read the key set yet.
    verifyForMs: Math.max(accessTtl, challengeTtl) + tolerance + refreshInterval,
    refreshIntervalMs: refreshInterval,
  });
  const accessTokens = new AccessTokenService({ keys, issuer: opts.issuer, audience: opts.audience, ttlMs: accessTtl, clockToleranceMs: tolerance, clock });
  const users = new UserService({ storage: opts.storage, clock, logger, ids, namespaces, passwordPolicy: opts.password as PasswordPolicy | undefined });
  const sessions = new SessionService({
    storage: opts.storage,
    clock,
    logger,
    events: opts.events,
    ids,
    namespaces,
    policy: { refreshTtlMs: opts.sessions?.refreshTtlMs ?? 14 * 86_400_000, sessionMaxAgeMs: opts.sessions?.sessionMaxAgeMs ?? 30 * 86_400_000 },
  });
  // Lockouts are security signals: logged and sent as `system:alerts`, with ids only (an email
  // is reduced to a fingerprint, since alerts may be forwarded to dashboards).
  const alert = (name: string, message: string, details: Record<string, string | number>): void => {
    logger.warn(message, details);
    opts.events?.emit('system:alerts', { name, severity: 'warning', message, details, at: clock.now() });
  };
  const mfaThrottle = new AttemptThrottle(opts.storage, namespaces.throttle, 'mfa', clock, { ...DEFAULT_THROTTLE, ...opts.mfa?.throttle }, (userId, until) =>
    alert('identity.mfa_locked', 'second-factor attempts locked after repeated failures', { userId, until }),
  );
  const mfa = new MfaService({
    storage: opts.storage,
    keyring,
    clock,
    logger,
    namespaces,
    users,
    throttle: mfaThrottle,
    policy: {
      issuer: (opts.mfa?.issuer ?? hostOf(opts.issuer)).replaceAll(':', ' '),
      algorithm: opts.mfa?.algorithm ?? 'SHA1',
      digits: opts.mfa?.digits ?? 6,
      period: opts.mfa?.period ?? 30,
      window: opts.mfa?.window ?? 1,
      enrollmentTtlMs: opts.mfa?.enrollmentTtlMs ?? 600_000,
      recoveryCodes: opts.mfa?.recoveryCodes ?? 10,
    },
  });
  const wallets = new WalletService({ storage: opts.storage, keyring, clock, logger, ids, namespaces, users });
  const siwe = new SiweService({ storage: opts.storage, clock, logger, namespaces, policy: defaultSiwe(opts.issuer, opts.siwe) });
  users.addHook(async (event) => {
    await sessions.revokeAll(event.record.id);
    if (event.type === 'deleted') await wallets.deleteAll(event.record.id);
  });
  return new Identity({
    storage: opts.storage,
    clock,
    logger,
    events: opts.events,
    ids,
    namespaces,
    keys,
    accessTokens,
    users,
    sessions,
    mfa,
    wallets,
    siwe,
    loginThrottle: new AttemptThrottle(opts.storage, namespaces.throttle, 'password', clock, { ...DEFAULT_THROTTLE, ...opts.loginThrottle }, (email, until) =>
      alert('identity.login_locked', 'password attempts locked after repeated failures', { emailFingerprint: toHex(sha3_256(email)).slice(0, 16), until }),
    ),
    challengeProfile: { typ: CHALLENGE_TYPE, issuer: opts.issuer, audience: CHALLENGE_AUDIENCE, ttlMs: challengeTtl, clockToleranceMs: tolerance, requiredClaims: ['amr'] },
    claims: opts.claims,
  });
}
