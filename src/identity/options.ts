import { z } from 'zod';
import type { JsonValue, StorageAdapter } from '../adapters/storage.js';
import type { Clock } from '../core/clock.js';
import type { FabricaEventBus } from '../core/events.js';
import type { Logger } from '../core/logger.js';
import type { Keyring, PasswordPolicy } from '../security/primitives.js';
import type { ThrottlePolicy } from './auth/throttle.js';
import { clockSchema, durationMs, eventsSchema, keyringSchema, loggerSchema, storageSchema } from './internal/options.js';
import type { OtpAlgorithm } from './mfa/otp.js';
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from './tokens/algorithms.js';
import type { User } from './users/schemas.js';

/** Options of {@link createIdentity}. Only `storage`, `issuer` and `audience` are required. */
export interface IdentityOptions {
  /** Where everything persists (memory, PostgreSQL, Redis). */
  readonly storage: StorageAdapter;
  /** `iss` of tokens, e.g. `https://auth.example.com`. When it is a URL, SIWE defaults derive from it. */
  readonly issuer: string;
  /** `aud` of access tokens, e.g. `https://api.example.com`. */
  readonly audience: string;
  /**
   * Encrypts private signing keys, TOTP secrets and wallet mnemonics at rest. Without it an
   * in-memory keyring with a random key is used (and a warning logged): data encrypted with it
   * is unreadable after a restart or in another process, so pass one in production.
   */
  readonly keyring?: Keyring;
  /** Time source (default: system clock). */
  readonly clock?: Clock;
  /** Logger (default: silent). Receives ids and codes, never secrets. */
  readonly logger?: Logger;
  /** Event bus for security alerts (`system:alerts`: refresh token reuse, lockouts). */
  readonly events?: FabricaEventBus;
  /** Prefix of the storage namespaces (default `identity`): separates identity instances on one storage. */
  readonly namespacePrefix?: string;
  /** Access tokens and their keys. */
  readonly tokens?: {
    /** Default `'RS256'`. */
    readonly algorithm?: SigningAlgorithm;
    /** RSA modulus for RS/PS keys (default 2048). */
    readonly modulusLength?: 2048 | 3072 | 4096;
    /** Access token lifetime, ms (default 15 minutes). */
    readonly accessTokenTtlMs?: number;
    /** Clock tolerance for token time claims, ms (default 5 s, at most 5 minutes). */
    readonly clockToleranceMs?: number;
    /** How often each process re-reads the key set, ms (default 60 s). */
    readonly keyRefreshIntervalMs?: number;
  };
  /** Session and refresh token lifetimes. */
  readonly sessions?: {
    /** Idle timeout of a refresh token, ms (default 14 days). */
    readonly refreshTtlMs?: number;
    /** Absolute session lifetime, ms (default 30 days). */
    readonly sessionMaxAgeMs?: number;
  };
  /** Password hashing policy (default: the security module's argon2id parameters). */
  readonly password?: PasswordPolicy;
  /** Throttling of password attempts per email (default 5 per 15 minutes, then 15 minutes locked). */
  readonly loginThrottle?: Partial<ThrottlePolicy>;
  /** TOTP settings. */
  readonly mfa?: {
    /** Issuer shown in authenticator apps (default: the issuer's host, or the issuer). */
    readonly issuer?: string;
    /** Default `'SHA1'`. */
    readonly algorithm?: OtpAlgorithm;
    /** Default 6. */
    readonly digits?: 6 | 7 | 8;
    /** Default 30 seconds. */
    readonly period?: number;
    /** Accepted steps either side (default 1). */
    readonly window?: number;
    /** Enrolment confirmation deadline, ms (default 10 minutes). */
    readonly enrollmentTtlMs?: number;
    /** Recovery codes per user (default 10). */
    readonly recoveryCodes?: number;
    /** MFA challenge token lifetime, ms (default 5 minutes). */
    readonly challengeTtlMs?: number;
    /** Throttling of second-factor attempts per user (default 5 per 15 minutes, then 15 minutes locked). */
    readonly throttle?: Partial<ThrottlePolicy>;
  };
  /** Sign-In with Ethereum; defaults from `issuer` when it is a URL (domain = its host, URI = its origin, chain 1). */
  readonly siwe?: {
    readonly domain: string;
    readonly uris: readonly string[];
    readonly chainIds?: readonly number[];
    readonly scheme?: string;
    readonly nonceTtlMs?: number;
    readonly clockToleranceMs?: number;
    readonly statement?: string;
  };
  /** Extra access-token claims per user (roles, tier, ...); registered claims are refused. */
  readonly claims?: (user: User) => Readonly<Record<string, JsonValue>>;
}

const throttleSchema = z
  .strictObject({ maxAttempts: z.number().int().min(1).max(1000).optional(), windowMs: durationMs(1_000, 86_400_000).optional(), lockoutMs: durationMs(1_000, 30 * 86_400_000).optional() })
  .optional();

/** @internal */
export const identityOptionsSchema = z.strictObject({
  storage: storageSchema,
  issuer: z.string().min(1).max(512),
  audience: z.string().min(1).max(512),
  keyring: keyringSchema.optional(),
  clock: clockSchema.optional(),
  logger: loggerSchema.optional(),
  events: eventsSchema.optional(),
  namespacePrefix: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/).optional(),
  tokens: z
    .strictObject({
      algorithm: z.enum(SIGNING_ALGORITHMS as [SigningAlgorithm, ...SigningAlgorithm[]]).optional(),
      modulusLength: z.union([z.literal(2048), z.literal(3072), z.literal(4096)]).optional(),
      accessTokenTtlMs: durationMs(10_000, 86_400_000).optional(),
      clockToleranceMs: durationMs(0, 300_000).optional(),
      keyRefreshIntervalMs: durationMs(100, 86_400_000).optional(),
    })
    .optional(),
  sessions: z
    .strictObject({ refreshTtlMs: durationMs(60_000, 365 * 86_400_000).optional(), sessionMaxAgeMs: durationMs(60_000, 365 * 86_400_000).optional() })
    .optional(),
  password: z.record(z.string(), z.unknown()).optional(),
  loginThrottle: throttleSchema,
  mfa: z
    .strictObject({
      issuer: z.string().min(1).max(128).optional(),
      algorithm: z.enum(['SHA1', 'SHA256', 'SHA512']).optional(),
      digits: z.union([z.literal(6), z.literal(7), z.literal(8)]).optional(),
      period: z.number().int().min(15).max(300).optional(),
      window: z.number().int().min(0).max(3).optional(),
      enrollmentTtlMs: durationMs(60_000, 86_400_000).optional(),
      recoveryCodes: z.number().int().min(1).max(50).optional(),
      challengeTtlMs: durationMs(30_000, 3_600_000).optional(),
      throttle: throttleSchema,
    })
    .optional(),
  siwe: z
    .strictObject({
      domain: z.string().min(1).max(255),
      uris: z.array(z.url()).min(1).max(32),
      chainIds: z.array(z.number().int().min(1)).min(1).max(256).optional(),
      scheme: z.string().regex(/^[a-z][a-z0-9+.-]*$/).optional(),
      nonceTtlMs: durationMs(10_000, 86_400_000).optional(),
      clockToleranceMs: durationMs(0, 300_000).optional(),
      statement: z.string().min(1).max(1024).optional(),
    })
    .optional(),
  claims: z.custom<(user: User) => Readonly<Record<string, JsonValue>>>((v) => typeof v === 'function', { message: 'claims must be a function' }).optional(),
});
