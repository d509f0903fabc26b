import { z } from 'zod';
import type { JsonValue, StorageAdapter } from '../../adapters/storage.js';
import type { Clock } from '../../core/clock.js';
import { ConflictError, hasErrorCode, NotFoundError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { parseInput } from '../../core/validation.js';
import type { Keyring } from '../../security/primitives.js';
import type { AttemptThrottle } from '../auth/throttle.js';
import { InvalidCredentialsError } from '../errors.js';
import { randomBytes } from '../internal/bytes.js';
import type { IdentityNamespaces, Doc } from '../internal/namespaces.js';
import { idSchema } from '../internal/options.js';
import type { UserService } from '../users/service.js';
import { base32Encode } from './base32.js';
import { otpauthUri } from './otpauth.js';
import { verifyTotp, type OtpAlgorithm } from './otp.js';
import { generateRecoveryCode, hashRecoveryCode, normaliseRecoveryCode } from './recovery-codes.js';

/** TOTP parameters and enrolment rules. */
export interface MfaPolicy {
  /** Issuer shown in authenticator apps (default: the identity `issuer`). */
  readonly issuer: string;
  /** Default `'SHA1'`: the only hash every authenticator app supports. */
  readonly algorithm: OtpAlgorithm;
  /** Default 6. */
  readonly digits: number;
  /** Time step, seconds (default 30). */
  readonly period: number;
  /** Steps accepted either side of now (default 1). */
  readonly window: number;
  /** How long an enrolment may stay unconfirmed, ms (default 10 minutes). */
  readonly enrollmentTtlMs: number;
  /** Recovery codes issued at confirmation (default 10). */
  readonly recoveryCodes: number;
}

/** What {@link MfaService.beginEnrollment} returns, to show the user once. */
export interface MfaEnrollment {
  /** Base32 secret for manual entry. SECRET: show it, never log it. */
  readonly secret: string;
  /** `otpauth://` URI to render as a QR code. SECRET. */
  readonly otpauthUri: string;
  /** The enrolment must be confirmed before this time, epoch ms. */
  readonly expiresAt: number;
}

/** A user's MFA state. */
export interface MfaStatus {
  /** TOTP is confirmed and required at login. */
  readonly enabled: boolean;
  /** An enrolment is waiting for its first code. */
  readonly pending: boolean;
  /** Confirmation time, epoch ms, or `null`. */
  readonly confirmedAt: number | null;
  /** Unused recovery codes. */
  readonly recoveryCodesRemaining: number;
}

/** A second factor as presented: a TOTP code or a recovery code. */
export type MfaProof = { readonly code: string; readonly recoveryCode?: undefined } | { readonly recoveryCode: string; readonly code?: undefined };

/** @internal */
interface MfaRecord {
  status: 'pending' | 'active';
  /** Keyring envelope (base64url) of the TOTP secret. */
  secret: string;
  algorithm: OtpAlgorithm;
  digits: number;
  period: number;
  createdAt: number;
  pendingExpiresAt: number | null;
  confirmedAt: number | null;
  /** Highest time step accepted so far: codes at or below it are replays (RFC 6238 §5.2). */
  lastUsedStep: number;
  recoveryCodes: { hash: string; usedAt: number | null }[];
}

/** Dependencies of {@link MfaService}. @internal */
export interface MfaServiceDeps {
  readonly storage: StorageAdapter;
  readonly keyring: Keyring;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly namespaces: IdentityNamespaces;
  readonly users: UserService;
  readonly throttle: AttemptThrottle;
  readonly policy: MfaPolicy;
}

const codeSchema = z.string().max(64);
const proofSchema = z.union([z.strictObject({ code: codeSchema }), z.strictObject({ recoveryCode: codeSchema })]);
const beginSchema = z.strictObject({ accountName: z.string().min(1).max(128).optional() }).optional();
const MAX_CAS_ATTEMPTS = 8;
const SECRET_BYTES = 20; // RFC 4226 §4 R6: 160-bit shared secrets.

/**
 * TOTP second factor (RFC 6238) with recovery codes. Enrolment: {@link beginEnrollment} makes a
 * 160-bit secret (stored encrypted with the keyring, bound to the user id) and an `otpauth://`
 * URI; {@link confirmEnrollment} activates it with a first valid code and returns the recovery
 * codes (shown once, stored hashed). Verification accepts the current step ±`window`, and each
 * code only once: the highest accepted step is stored, and codes at or below it are refused
 * (RFC 6238 §5.2), with a compare-and-set so two concurrent requests cannot both use one code.
 * Failed attempts are throttled per user and lock the factor for a while (`AUTH_LOCKED`).
 *
 * Obtain it from `createIdentity(...).mfa`.
 *
 * @example
 * ```ts
 * import { createIdentity, totp, base32Decode } from 'digital-fabrica/identity';
 * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
 * const identity = await createIdentity({ storage: createMemoryStorage(), issuer: 'https://auth.example', audience: 'api' });
 * const user = await identity.users.create({ email: 'ada@example.com', displayName: 'Ada' });
 * const { secret } = await identity.mfa.beginEnrollment(user.id);
 * const { recoveryCodes } = await identity.mfa.confirmEnrollment(user.id, totp(base32Decode(secret)!, Date.now()));
 * console.log(recoveryCodes.length); // 10
 * ```
 */
export class MfaService {
  readonly #deps: MfaServiceDeps;

  /** @internal Obtain it from `createIdentity`. */
  constructor(deps: MfaServiceDeps) {
    this.#deps = deps;
  }

  /**
   * Starts (or restarts) TOTP enrolment for a user.
   *
   * @throws `NOT_FOUND` for an unknown user; `CONFLICT` when MFA is already enabled (disable it
   * first); `VALIDATION_FAILED`.
   * @example
   * ```ts
   * import { createIdentity } from 'digital-fabrica/identity';
   * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
   * const identity = await createIdentity({ storage: createMemoryStorage(), issuer: 'Example', audience: 'api' });
   * const user = await identity.users.create({ email: 'ada@example.com', displayName: 'Ada' });
   * const enrollment = await identity.mfa.beginEnrollment(user.id);
   * console.log(enrollment.otpauthUri.startsWith('otpauth://totp/Example:ada%40example.com?')); // true
   * ```
   */
  async beginEnrollment(userId: string, options?: { accountName?: string }): Promise<MfaEnrollment> {
    const id = parseInput(idSchema, userId, 'user id');
    const { accountName } = parseInput(beginSchema, options, 'enrolment options') ?? {};
    const user = await this.#deps.users.get(id);
    const { policy } = this.#deps;
    const existing = await this.#doc(id);
    if (existing?.value.status === 'active') throw new ConflictError('MFA is already enabled; disable it before enrolling again');
    const secret = randomBytes(SECRET_BYTES);
    const now = this.#deps.clock.now();
    const record: MfaRecord = {
      status: 'pending',
      secret: await this.#deps.keyring.encryptToBase64url(secret, { aad: this.#aad(id) }),
      algorithm: policy.algorithm,
      digits: policy.digits,
      period: policy.period,
      createdAt: now,
      pendingExpiresAt: now + policy.enrollmentTtlMs,
      confirmedAt: null,
      lastUsedStep: -1,
      recoveryCodes: [],
    };
    await this.#deps.storage.put(this.#deps.namespaces.mfa, id, record as unknown as JsonValue, { ifVersion: existing?.version ?? 0 }).catch((err: unknown) => {
      throw hasErrorCode(err, 'CONFLICT') ? new ConflictError('MFA enrolment changed concurrently; retry') : err;
    });
    const base32 = base32Encode(secret);
    secret.fill(0);
    const uri = otpauthUri({
      secret: base32,
      issuer: policy.issuer,
      accountName: (accountName ?? user.email ?? user.displayName).replaceAll(':', ' '),
      algorithm: record.algorithm,
      digits: record.digits,
      period: record.period,
    });
    this.#deps.logger.info('MFA enrolment started', { userId: id });
    return { secret: base32, otpauthUri: uri, expiresAt: record.pendingExpiresAt! };
  }

  /**
   * Confirms a pending enrolment with a code from the app; MFA is enabled from then on.
   *
   * @returns recovery codes, shown to the user once (only their hashes are kept).
   * @throws `AUTH_INVALID_CREDENTIALS` (reason `code`, `replayed` or `not_enrolled`);
   * `AUTH_LOCKED` after too many failures; `VALIDATION_FAILED`.
   * @example
   * ```ts
   * import { createIdentity, totp, base32Decode } from 'digital-fabrica/identity';
   * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
   * const identity = await createIdentity({ storage: createMemoryStorage(), issuer: 'i', audience: 'a' });
   * const user = await identity.users.create({ displayName: 'Ada' });
   * const { secret } = await identity.mfa.beginEnrollment(user.id);
   * const { recoveryCodes } = await identity.mfa.confirmEnrollment(user.id, totp(base32Decode(secret)!, Date.now()));
   * console.log(recoveryCodes[0]); // e.g. 'K7QM-3XWP-ZT9D-HV4R'
   * ```
   */
  async confirmEnrollment(userId: string, code: string): Promise<{ recoveryCodes: string[] }> {
    const id = parseInput(idSchema, userId, 'user id');
    const input = parseInput(codeSchema, code, 'TOTP code');
    const codes = Array.from({ length: this.#deps.policy.recoveryCodes }, generateRecoveryCode);
    await this.#acceptTotp(id, input, 'pending', (record, now) => ({
      ...record,
      status: 'active',
      confirmedAt: now,
      pendingExpiresAt: null,
      recoveryCodes: codes.map((c) => ({ hash: hashRecoveryCode(id, normaliseRecoveryCode(c)!), usedAt: null })),
    }));
    this.#deps.logger.info('MFA enabled', { userId: id });
    return { recoveryCodes: codes };
  }

  /**
   * Verifies a second factor: a TOTP code (each accepted once) or a recovery code (each usable
   * once).
   *
   * @throws `AUTH_INVALID_CREDENTIALS` (reason `code`, `replayed`, `recovery_code` or
   * `not_enrolled`); `AUTH_LOCKED` after too many failures; `VALIDATION_FAILED`.
   * @example
   * ```ts
   * import { createIdentity, totp, base32Decode } from 'digital-fabrica/identity';
   * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
   * const identity = await createIdentity({ storage: createMemoryStorage(), issuer: 'i', audience: 'a' });
   * const user = await identity.users.create({ displayName: 'Ada' });
   * const { secret } = await identity.mfa.beginEnrollment(user.id);
   * const { recoveryCodes } = await identity.mfa.confirmEnrollment(user.id, totp(base32Decode(secret)!, Date.now()));
   * console.log(await identity.mfa.verify(user.id, { recoveryCode: recoveryCodes[0]! })); // { method: 'recovery_code' }
   * ```
   */
  async verify(userId: string, proof: MfaProof): Promise<{ method: 'totp' | 'recovery_code' }> {
    const id = parseInput(idSchema, userId, 'user id');
    const input = parseInput(proofSchema, proof, 'MFA proof');
    if ('code' in input) {
      await this.#acceptTotp(id, input.code, 'active', (record) => record);
      return { method: 'totp' };
    }
    await this.#acceptRecoveryCode(id, input.recoveryCode);
    return { method: 'recovery_code' };
  }

  /**
   * A user's MFA state.
   *
   * @throws `VALIDATION_FAILED` for a malformed id.
   * @example
   * ```ts
   * import { createIdentity } from 'digital-fabrica/identity';
   * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
   * const identity = await createIdentity({ storage: createMemoryStorage(), issuer: 'i', audience: 'a' });
   * console.log(await identity.mfa.status('nobody')); // { enabled: false, pending: false, confirmedAt: null, recoveryCodesRemaining: 0 }
   * ```
   */
  async status(userId: string): Promise<MfaStatus> {
    const doc = await this.#doc(parseInput(idSchema, userId, 'user id'));
    const r = doc?.value;
    const now = this.#deps.clock.now();
    return {
      enabled: r?.status === 'active',
      pending: r?.status === 'pending' && (r.pendingExpiresAt ?? 0) > now,
      confirmedAt: r?.confirmedAt ?? null,
      recoveryCodesRemaining: r?.status === 'active' ? r.recoveryCodes.filter((c) => c.usedAt === null).length : 0,
    };
  }

  /**
   * Replaces all recovery codes with new ones (the old ones stop working).
   *
   * @throws `NOT_FOUND` when MFA is not enabled; `VALIDATION_FAILED`.
   * @example
   * ```ts
   * import { createIdentity, totp, base32Decode } from 'digital-fabrica/identity';
   * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
   * const identity = await createIdentity({ storage: createMemoryStorage(), issuer: 'i', audience: 'a' });
   * const user = await identity.users.create({ displayName: 'Ada' });
   * const { secret } = await identity.mfa.beginEnrollment(user.id);
   * await identity.mfa.confirmEnrollment(user.id, totp(base32Decode(secret)!, Date.now()));
   * console.log((await identity.mfa.regenerateRecoveryCodes(user.id)).length); // 10
   * ```
   */
  async regenerateRecoveryCodes(userId: string): Promise<string[]> {
    const id = parseInput(idSchema, userId, 'user id');
    const codes = Array.from({ length: this.#deps.policy.recoveryCodes }, generateRecoveryCode);
    await this.#update(id, (record) => {
      if (record.status !== 'active') throw new NotFoundError('MFA is not enabled');
      return { ...record, recoveryCodes: codes.map((c) => ({ hash: hashRecoveryCode(id, normaliseRecoveryCode(c)!), usedAt: null })) };
    });
    return codes;
  }

  /**
   * Turns MFA off (and cancels a pending enrolment). Ask for a fresh second factor before calling
   * this in a user-facing flow.
   *
   * @returns whether anything was removed.
   * @throws `VALIDATION_FAILED`.
   * @example
   * ```ts
   * import { createIdentity } from 'digital-fabrica/identity';
   * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
   * const identity = await createIdentity({ storage: createMemoryStorage(), issuer: 'i', audience: 'a' });
   * console.log(await identity.mfa.disable('nobody')); // false
   * ```
   */
  async disable(userId: string): Promise<boolean> {
    const id = parseInput(idSchema, userId, 'user id');
    const removed = await this.#deps.storage.delete(this.#deps.namespaces.mfa, id);
    if (removed) this.#deps.logger.info('MFA disabled', { userId: id });
    return removed;
  }

  /** @internal Whether the user must pass MFA at login. */
  async isEnabled(userId: string): Promise<boolean> {
    return (await this.#doc(userId))?.value.status === 'active';
  }

  async #acceptTotp(userId: string, code: string, expected: MfaRecord['status'], onAccept: (record: MfaRecord, now: number) => MfaRecord): Promise<void> {
    const { throttle } = this.#deps;
    await throttle.reserve(userId);
    const fail = async (reason: 'code' | 'replayed' | 'not_enrolled'): Promise<never> => {
      await throttle.failure(userId);
      throw new InvalidCredentialsError(reason);
    };
    const typed = code.replace(/\s/g, '');
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const doc = await this.#doc(userId);
      const now = this.#deps.clock.now();
      const record = doc?.value;
      if (!doc || !record || record.status !== expected || (record.status === 'pending' && (record.pendingExpiresAt ?? 0) <= now)) return fail('not_enrolled');
      const secret = await this.#deps.keyring.decrypt(record.secret, { aad: this.#aad(userId) });
      let step: number | null;
      try {
        step = verifyTotp(secret, typed, now, { algorithm: record.algorithm, digits: record.digits, period: record.period, window: this.#deps.policy.window });
      } finally {
        secret.fill(0);
      }
      if (step === null) return fail('code');
      if (step <= record.lastUsedStep) return fail('replayed');
      const next = { ...onAccept(record, now), lastUsedStep: step };
      try {
        await this.#deps.storage.put(this.#deps.namespaces.mfa, userId, next as unknown as JsonValue, { ifVersion: doc.version });
      } catch (err) {
        // Someone else wrote first (maybe accepting this very code): re-read and decide again.
        if (hasErrorCode(err, 'CONFLICT')) continue;
        throw err;
      }
      await throttle.success(userId);
      return;
    }
    return fail('replayed');
  }

  async #acceptRecoveryCode(userId: string, input: string): Promise<void> {
    const { throttle } = this.#deps;
    await throttle.reserve(userId);
    const fail = async (reason: 'recovery_code' | 'not_enrolled'): Promise<never> => {
      await throttle.failure(userId);
      throw new InvalidCredentialsError(reason);
    };
    const normalised = normaliseRecoveryCode(input);
    if (normalised === null) return fail('recovery_code');
    const hash = hashRecoveryCode(userId, normalised);
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const doc = await this.#doc(userId);
      if (!doc || doc.value.status !== 'active') return fail('not_enrolled');
      const index = doc.value.recoveryCodes.findIndex((c) => c.hash === hash && c.usedAt === null);
      if (index < 0) return fail('recovery_code');
      const recoveryCodes = doc.value.recoveryCodes.map((c, i) => (i === index ? { ...c, usedAt: this.#deps.clock.now() } : c));
      try {
        await this.#deps.storage.put(this.#deps.namespaces.mfa, userId, { ...doc.value, recoveryCodes } as unknown as JsonValue, { ifVersion: doc.version });
      } catch (err) {
        if (hasErrorCode(err, 'CONFLICT')) continue; // a concurrent use of the same code loses here
        throw err;
      }
      await throttle.success(userId);
      this.#deps.logger.info('recovery code used', { userId, remaining: recoveryCodes.filter((c) => c.usedAt === null).length });
      return;
    }
    return fail('recovery_code');
  }

  async #update(userId: string, change: (record: MfaRecord) => MfaRecord): Promise<void> {
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const doc = await this.#doc(userId);
      if (!doc) throw new NotFoundError('MFA is not enabled');
      try {
        await this.#deps.storage.put(this.#deps.namespaces.mfa, userId, change(doc.value) as unknown as JsonValue, { ifVersion: doc.version });
        return;
      } catch (err) {
        if (!hasErrorCode(err, 'CONFLICT')) throw err;
      }
    }
    throw new ConflictError('MFA settings kept changing; retry');
  }

  async #doc(userId: string): Promise<Doc<MfaRecord> | null> {
    return (await this.#deps.storage.get(this.#deps.namespaces.mfa, userId)) as Doc<MfaRecord> | null;
  }

  #aad(userId: string): string {
    return `digital-fabrica/identity/totp/${userId}`;
  }
}
