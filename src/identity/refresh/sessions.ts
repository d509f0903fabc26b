import { z } from 'zod';
import type { JsonValue, StorageAdapter } from '../../adapters/storage.js';
import type { Clock } from '../../core/clock.js';
import type { FabricaEventBus } from '../../core/events.js';
import { FabricaError } from '../../core/errors.js';
import type { IdGenerator } from '../../core/ids.js';
import type { Logger } from '../../core/logger.js';
import { parseInput } from '../../core/validation.js';
import { sha3_256 } from '../../security/primitives.js';
import { TokenExpiredError, TokenInvalidError, TokenReusedError } from '../errors.js';
import { encodeBase64url } from '../internal/base64url.js';
import { randomBytes, toHex } from '../internal/bytes.js';
import { ttlUntil, type IdentityNamespaces, type Doc } from '../internal/namespaces.js';
import { idSchema } from '../internal/options.js';

/**
 * Prefix of refresh tokens, so secret scanners can recognise leaked ones.
 *
 * @example
 * ```ts
 * import { REFRESH_TOKEN_PREFIX } from 'digital-fabrica/identity';
 * const looksLikeRefreshToken = (value: string): boolean => value.startsWith(REFRESH_TOKEN_PREFIX);
 * ```
 */
export const REFRESH_TOKEN_PREFIX = 'dfrt_';

/** A session: one login, carried on by one family of refresh tokens. */
export interface Session {
  /** Session id (the `sid` of its access tokens). */
  readonly id: string;
  /** Owner. */
  readonly userId: string;
  /** How the user authenticated (RFC 8176 `amr` values). */
  readonly amr: readonly string[];
  /** Login time, epoch ms. */
  readonly createdAt: number;
  /** Last refresh, epoch ms. */
  readonly lastUsedAt: number;
  /** Absolute end, epoch ms: no refresh extends a session past it. */
  readonly expiresAt: number;
  /** Refreshes so far (the family's generation). */
  readonly generation: number;
}

/** A refresh token as handed to a client, once. */
export interface IssuedRefreshToken {
  /** The session. */
  readonly session: Session;
  /** The opaque token (SECRET): `dfrt_` + 256 random bits, base64url. Stored only as a SHA3-256 hash. */
  readonly refreshToken: string;
  /** When this token stops working unless used (idle timeout), epoch ms. */
  readonly refreshExpiresAt: number;
}

/** Lifetimes of sessions and refresh tokens. */
export interface SessionPolicy {
  /** Idle timeout: a refresh token unused this long expires (default 14 days). */
  readonly refreshTtlMs: number;
  /** Absolute session lifetime (default 30 days). */
  readonly sessionMaxAgeMs: number;
}

/** @internal */
interface SessionRecord {
  id: string;
  userId: string;
  amr: string[];
  createdAt: number;
  lastUsedAt: number;
  expiresAt: number;
  generation: number;
  /** Hash of the one refresh token of this family that may be used next. */
  currentHash: string;
}

/** @internal */
interface RefreshRecord {
  sessionId: string;
  userId: string;
  generation: number;
  /** Idle expiry of this token. */
  expiresAt: number;
  /** Set once the token has been exchanged: presenting it again is reuse. */
  rotatedAt: number | null;
}

/** Dependencies of {@link SessionService}. @internal */
export interface SessionServiceDeps {
  readonly storage: StorageAdapter;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly events?: FabricaEventBus;
  readonly ids: IdGenerator;
  readonly namespaces: IdentityNamespaces;
  readonly policy: SessionPolicy;
}

const TOKEN_PATTERN = /^dfrt_[A-Za-z0-9_-]{43}$/;
const amrSchema = z.array(z.string().regex(/^[A-Za-z0-9_-]{1,32}$/)).max(16);
const createSchema = z.strictObject({ amr: amrSchema.optional() }).optional();
const MAX_CAS_ATTEMPTS = 8;

function toSession(r: SessionRecord): Session {
  return { id: r.id, userId: r.userId, amr: r.amr, createdAt: r.createdAt, lastUsedAt: r.lastUsedAt, expiresAt: r.expiresAt, generation: r.generation };
}

/** Storage key of a token: SHA3-256 of the token. 256 random bits need no salt or slow hash. */
function tokenHash(token: string): string {
  return toHex(sha3_256(token));
}

/**
 * Sessions and their refresh tokens. A session is created at login with an opaque, random
 * refresh token (stored only as its SHA3-256 hash). Every refresh *rotates*: the presented token
 * is marked used and a new one is issued, in one storage transaction with the session's
 * generation. Presenting a used token again — a thief or the victim, whoever comes second — is
 * reuse: the whole session is revoked (RFC 9700 §4.14.2, refresh token rotation). Logout revokes
 * one session, "log out everywhere" all of a user's sessions.
 *
 * Obtain it from `createIdentity(...).sessions`.
 *
 * @example
 * ```ts
 * import { createIdentity } from 'digital-fabrica/identity';
 * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
 * const { sessions } = await createIdentity({ storage: createMemoryStorage(), issuer: 'i', audience: 'a' });
 * const first = await sessions.create('user-1', { amr: ['pwd'] });
 * const second = await sessions.rotate(first.refreshToken);
 * console.log(second.session.generation); // 1
 * ```
 */
export class SessionService {
  readonly #deps: SessionServiceDeps;

  /** @internal Obtain it from `createIdentity`. */
  constructor(deps: SessionServiceDeps) {
    this.#deps = deps;
  }

  /**
   * Starts a session for a user and returns its first refresh token. (It does not check the user:
   * `Identity` does that before calling it.)
   *
   * @throws `VALIDATION_FAILED`; storage errors.
   * @example
   * ```ts
   * import { createIdentity } from 'digital-fabrica/identity';
   * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
   * const { sessions } = await createIdentity({ storage: createMemoryStorage(), issuer: 'i', audience: 'a' });
   * const { refreshToken, session } = await sessions.create('user-1');
   * console.log(refreshToken.startsWith('dfrt_'), session.generation); // true 0
   * ```
   */
  async create(userId: string, options?: { amr?: readonly string[] }): Promise<IssuedRefreshToken> {
    const user = parseInput(idSchema, userId, 'user id');
    const { amr = [] } = parseInput(createSchema, options, 'session options') ?? {};
    const ns = this.#deps.namespaces;
    const now = this.#deps.clock.now();
    const token = REFRESH_TOKEN_PREFIX + encodeBase64url(randomBytes(32));
    const hash = tokenHash(token);
    const session: SessionRecord = {
      id: this.#deps.ids.next(),
      userId: user,
      amr: [...amr],
      createdAt: now,
      lastUsedAt: now,
      expiresAt: now + this.#deps.policy.sessionMaxAgeMs,
      generation: 0,
      currentHash: hash,
    };
    const refresh: RefreshRecord = { sessionId: session.id, userId: user, generation: 0, expiresAt: this.#idleExpiry(now, session), rotatedAt: null };
    const ttlMs = ttlUntil(session.expiresAt, now);
    const result = await this.#deps.storage.txn({
      compare: [{ namespace: ns.refresh, key: hash, exists: false }],
      success: [
        { type: 'put', namespace: ns.sessions, key: this.#key(user, session.id), value: session as unknown as JsonValue, ttlMs },
        { type: 'put', namespace: ns.refresh, key: hash, value: refresh as unknown as JsonValue, ttlMs },
      ],
    });
    if (!result.succeeded) throw new FabricaError('INTERNAL', 'refresh token collision'); // 2^-256: never
    this.#deps.logger.info('session created', { userId: user, sessionId: session.id });
    return { session: toSession(session), refreshToken: token, refreshExpiresAt: refresh.expiresAt };
  }

  /**
   * Exchanges a refresh token for a new one (rotation). `beforeRotate` runs after the token was
   * found valid and before anything is written (`Identity` checks the user there).
   *
   * @throws `AUTH_TOKEN_INVALID` (reason `unknown_token` or `revoked`) for unknown, malformed or
   * revoked tokens; `AUTH_TOKEN_EXPIRED` past the idle timeout or the session's end;
   * `AUTH_TOKEN_REUSED` for a token that was already exchanged — the session is then revoked.
   * @example
   * ```ts
   * import { createIdentity } from 'digital-fabrica/identity';
   * import { hasErrorCode } from 'digital-fabrica/errors';
   * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
   * const { sessions } = await createIdentity({ storage: createMemoryStorage(), issuer: 'i', audience: 'a' });
   * const first = await sessions.create('user-1');
   * await sessions.rotate(first.refreshToken);
   * try {
   *   await sessions.rotate(first.refreshToken); // replayed
   * } catch (err) {
   *   console.log(hasErrorCode(err, 'AUTH_TOKEN_REUSED')); // true, and the session is gone
   * }
   * ```
   */
  async rotate(refreshToken: string, beforeRotate?: (session: Session) => Promise<void>): Promise<IssuedRefreshToken> {
    const ns = this.#deps.namespaces;
    const hash = this.#hashOf(refreshToken);
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const tokenDoc = (await this.#deps.storage.get(ns.refresh, hash)) as Doc<RefreshRecord> | null;
      if (!tokenDoc) throw new TokenInvalidError('unknown_token', 'unknown refresh token');
      const token = tokenDoc.value;
      const sessionKey = this.#key(token.userId, token.sessionId);
      const sessionDoc = (await this.#deps.storage.get(ns.sessions, sessionKey)) as Doc<SessionRecord> | null;
      if (!sessionDoc) throw new TokenInvalidError('revoked', 'the session of this refresh token was revoked');
      const session = sessionDoc.value;
      const now = this.#deps.clock.now();
      if (token.rotatedAt !== null || token.generation !== session.generation || session.currentHash !== hash) {
        await this.#revokeDoc(sessionDoc);
        this.#deps.logger.warn('refresh token reuse: session revoked', { userId: session.userId, sessionId: session.id });
        this.#deps.events?.emit('system:alerts', {
          name: 'identity.refresh_token_reused',
          severity: 'warning',
          message: 'a rotated refresh token was presented again; its session was revoked',
          details: { userId: session.userId, sessionId: session.id },
          at: now,
        });
        throw new TokenReusedError(session.id);
      }
      if (now >= session.expiresAt) {
        await this.#revokeDoc(sessionDoc);
        throw new TokenExpiredError('the session has ended');
      }
      if (now >= token.expiresAt) throw new TokenExpiredError('refresh token expired (idle timeout)');
      await beforeRotate?.(toSession(session));
      const nextToken = REFRESH_TOKEN_PREFIX + encodeBase64url(randomBytes(32));
      const nextHash = tokenHash(nextToken);
      const nextSession: SessionRecord = { ...session, generation: session.generation + 1, lastUsedAt: now, currentHash: nextHash };
      const nextRecord: RefreshRecord = { sessionId: session.id, userId: session.userId, generation: nextSession.generation, expiresAt: this.#idleExpiry(now, nextSession), rotatedAt: null };
      // The used token is kept (marked) until the session ends, so presenting it again is
      // recognised as reuse rather than as an unknown token.
      const ttlMs = ttlUntil(session.expiresAt, now);
      const result = await this.#deps.storage.txn({
        compare: [
          { namespace: ns.refresh, key: hash, version: tokenDoc.version },
          { namespace: ns.sessions, key: sessionKey, version: sessionDoc.version },
          { namespace: ns.refresh, key: nextHash, exists: false },
        ],
        success: [
          { type: 'put', namespace: ns.refresh, key: hash, value: { ...token, rotatedAt: now } as unknown as JsonValue, ttlMs },
          { type: 'put', namespace: ns.refresh, key: nextHash, value: nextRecord as unknown as JsonValue, ttlMs },
          { type: 'put', namespace: ns.sessions, key: sessionKey, value: nextSession as unknown as JsonValue, ttlMs },
        ],
      });
      // Lost a race: re-read. If another request exchanged this very token, that is reuse.
      if (!result.succeeded) continue;
      return { session: toSession(nextSession), refreshToken: nextToken, refreshExpiresAt: nextRecord.expiresAt };
    }
    throw new FabricaError('CONFLICT', 'the session kept changing; retry', { retryable: true });
  }

  /**
   * The session a refresh token belongs to, without using the token (e.g. to log out).
   *
   * @returns the session, or `null` when the token is unknown or its session is gone.
   * @example
   * ```ts
   * import { createIdentity } from 'digital-fabrica/identity';
   * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
   * const { sessions } = await createIdentity({ storage: createMemoryStorage(), issuer: 'i', audience: 'a' });
   * const { refreshToken, session } = await sessions.create('user-1');
   * console.log((await sessions.findByToken(refreshToken))?.id === session.id); // true
   * ```
   */
  async findByToken(refreshToken: string): Promise<Session | null> {
    if (typeof refreshToken !== 'string' || !TOKEN_PATTERN.test(refreshToken)) return null;
    const tokenDoc = await this.#deps.storage.get<RefreshRecord & JsonValue>(this.#deps.namespaces.refresh, tokenHash(refreshToken));
    if (!tokenDoc) return null;
    return this.get(tokenDoc.value.userId, tokenDoc.value.sessionId);
  }

  /**
   * A live session, or `null` (revoked, expired, or never existed).
   *
   * @throws `VALIDATION_FAILED` for malformed ids.
   * @example
   * ```ts
   * import { createIdentity } from 'digital-fabrica/identity';
   * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
   * const { sessions } = await createIdentity({ storage: createMemoryStorage(), issuer: 'i', audience: 'a' });
   * const { session } = await sessions.create('user-1');
   * console.log((await sessions.get('user-1', session.id))?.userId); // 'user-1'
   * ```
   */
  async get(userId: string, sessionId: string): Promise<Session | null> {
    const key = this.#key(parseInput(idSchema, userId, 'user id'), parseInput(idSchema, sessionId, 'session id'));
    const doc = (await this.#deps.storage.get(this.#deps.namespaces.sessions, key)) as Doc<SessionRecord> | null;
    if (!doc || doc.value.expiresAt <= this.#deps.clock.now()) return null;
    return toSession(doc.value);
  }

  /**
   * A user's live sessions (at most `limit`, newest last).
   *
   * @throws `VALIDATION_FAILED`.
   * @example
   * ```ts
   * import { createIdentity } from 'digital-fabrica/identity';
   * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
   * const { sessions } = await createIdentity({ storage: createMemoryStorage(), issuer: 'i', audience: 'a' });
   * await sessions.create('user-1');
   * console.log((await sessions.list('user-1')).length); // 1
   * ```
   */
  async list(userId: string, options?: { limit?: number }): Promise<Session[]> {
    const user = parseInput(idSchema, userId, 'user id');
    const { limit = 1000 } = parseInput(z.strictObject({ limit: z.number().int().min(1).max(10_000).optional() }).optional(), options, 'listing options') ?? {};
    const now = this.#deps.clock.now();
    const out: Session[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.#deps.storage.list<JsonValue>(this.#deps.namespaces.sessions, { prefix: `${user}/`, cursor, limit: Math.min(1000, limit) });
      for (const doc of page.items) {
        const record = doc.value as unknown as SessionRecord;
        if (record.expiresAt > now && out.length < limit) out.push(toSession(record));
      }
      cursor = page.cursor ?? undefined;
    } while (cursor && out.length < limit);
    return out;
  }

  /**
   * Revokes one session (logout): its refresh tokens and, through `Identity.authenticate`, its
   * access tokens stop working.
   *
   * @returns whether a live session was revoked.
   * @throws `VALIDATION_FAILED`.
   * @example
   * ```ts
   * import { createIdentity } from 'digital-fabrica/identity';
   * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
   * const { sessions } = await createIdentity({ storage: createMemoryStorage(), issuer: 'i', audience: 'a' });
   * const { session } = await sessions.create('user-1');
   * console.log(await sessions.revoke('user-1', session.id)); // true
   * ```
   */
  async revoke(userId: string, sessionId: string): Promise<boolean> {
    const key = this.#key(parseInput(idSchema, userId, 'user id'), parseInput(idSchema, sessionId, 'session id'));
    const doc = (await this.#deps.storage.get(this.#deps.namespaces.sessions, key)) as Doc<SessionRecord> | null;
    if (!doc) return false;
    await this.#revokeDoc(doc);
    return true;
  }

  /**
   * Revokes every session of a user ("log out everywhere").
   *
   * @returns how many sessions were revoked.
   * @throws `VALIDATION_FAILED`.
   * @example
   * ```ts
   * import { createIdentity } from 'digital-fabrica/identity';
   * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
   * const { sessions } = await createIdentity({ storage: createMemoryStorage(), issuer: 'i', audience: 'a' });
   * await sessions.create('user-1');
   * await sessions.create('user-1');
   * console.log(await sessions.revokeAll('user-1')); // 2
   * ```
   */
  async revokeAll(userId: string): Promise<number> {
    const user = parseInput(idSchema, userId, 'user id');
    const ns = this.#deps.namespaces;
    let revoked = 0;
    // Each pass deletes what it listed; new sessions created meanwhile are caught by the next
    // pass, and a pass that finds nothing ends the loop.
    for (;;) {
      const page = await this.#deps.storage.list<JsonValue>(ns.sessions, { prefix: `${user}/`, limit: 50 });
      if (page.items.length === 0) break;
      const ops = page.items.flatMap((doc) => [
        { type: 'delete' as const, namespace: ns.sessions, key: doc.key },
        { type: 'delete' as const, namespace: ns.refresh, key: (doc.value as unknown as SessionRecord).currentHash },
      ]);
      const result = await this.#deps.storage.txn({ success: ops });
      revoked += result.results.filter((r, i) => i % 2 === 0 && r.existed).length;
    }
    if (revoked > 0) this.#deps.logger.info('sessions revoked', { userId: user, count: revoked });
    return revoked;
  }

  async #revokeDoc(doc: Doc<SessionRecord>): Promise<void> {
    const ns = this.#deps.namespaces;
    await this.#deps.storage.txn({
      success: [
        { type: 'delete', namespace: ns.sessions, key: doc.key },
        { type: 'delete', namespace: ns.refresh, key: doc.value.currentHash },
      ],
    });
    this.#deps.logger.info('session revoked', { userId: doc.value.userId, sessionId: doc.value.id });
  }

  #hashOf(refreshToken: string): string {
    // Malformed tokens are unknown tokens: the answer a client gets must not depend on why.
    if (typeof refreshToken !== 'string' || !TOKEN_PATTERN.test(refreshToken)) throw new TokenInvalidError('unknown_token', 'unknown refresh token');
    return tokenHash(refreshToken);
  }

  #idleExpiry(now: number, session: SessionRecord): number {
    return Math.min(now + this.#deps.policy.refreshTtlMs, session.expiresAt);
  }

  #key(userId: string, sessionId: string): string {
    return `${userId}/${sessionId}`;
  }
}
