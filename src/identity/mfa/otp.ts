/**
 * HOTP (RFC 4226) and TOTP (RFC 6238), pure: no storage, no clock of their own. Replay
 * protection and attempt limits are not here but in the MFA service, because RFC 6238 §5.2 makes
 * them the verifier's duty and a pure function cannot remember anything.
 */
import { z } from 'zod';
import { parseInput } from '../../core/validation.js';
import { otpHmac } from '../internal/otp-hmac.js';

/** HMAC hash of an OTP (RFC 6238 §1.2). Authenticator apps universally support `SHA1`. */
export type OtpAlgorithm = 'SHA1' | 'SHA256' | 'SHA512';

/** Options of {@link hotp}. */
export interface HotpOptions {
  /** Code length, 6–8 (default 6; RFC 4226 §5.3). */
  readonly digits?: number;
  /** HMAC hash (default `'SHA1'`). */
  readonly algorithm?: OtpAlgorithm;
}

/** Options of {@link totp}. */
export interface TotpOptions extends HotpOptions {
  /** Time step in seconds (default 30; RFC 6238 §4.1 "X"). */
  readonly period?: number;
  /** Unix time the counting starts at, seconds (default 0; RFC 6238 §4.1 "T0"). */
  readonly t0?: number;
}

/** Options of {@link verifyTotp}. */
export interface VerifyTotpOptions extends TotpOptions {
  /** Steps accepted before and after the current one (default 1, at most 10; RFC 6238 §5.2). */
  readonly window?: number;
}

const hotpSchema = z.strictObject({ digits: z.number().int().min(6).max(8).optional(), algorithm: z.enum(['SHA1', 'SHA256', 'SHA512']).optional() }).optional();
const totpSchema = z
  .strictObject({
    digits: z.number().int().min(6).max(8).optional(),
    algorithm: z.enum(['SHA1', 'SHA256', 'SHA512']).optional(),
    period: z.number().int().min(1).max(3600).optional(),
    t0: z.number().int().min(0).optional(),
    window: z.number().int().min(0).max(10).optional(),
  })
  .optional();
const secretSchema = z.custom<Uint8Array>((v) => v instanceof Uint8Array && v.length >= 10 && v.length <= 128, {
  message: 'secret must be 10–128 bytes (RFC 4226 §4: at least 128 bits, 160 recommended)',
});
const counterSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const POWERS = [1e6, 1e7, 1e8];

function hotpUnchecked(secret: Uint8Array, counter: number, digits: number, algorithm: OtpAlgorithm): string {
  // RFC 4226 §5.1: the counter is an 8-byte big-endian integer.
  const message = new Uint8Array(8);
  let high = Math.floor(counter / 2 ** 32);
  let low = counter >>> 0;
  for (let i = 7; i >= 4; i--) {
    message[i] = low & 0xff;
    low >>>= 8;
  }
  for (let i = 3; i >= 0; i--) {
    message[i] = high & 0xff;
    high >>>= 8;
  }
  const mac = otpHmac(algorithm, secret, message);
  // RFC 4226 §5.3 dynamic truncation: the low nibble of the last byte picks 4 bytes; drop the sign bit.
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = ((mac[offset]! & 0x7f) << 24) | (mac[offset + 1]! << 16) | (mac[offset + 2]! << 8) | mac[offset + 3]!;
  return String(binary % POWERS[digits - 6]!).padStart(digits, '0');
}

/**
 * An HOTP code (RFC 4226 §5.3).
 *
 * @throws `VALIDATION_FAILED` for a secret under 10 bytes, a negative counter or bad options.
 * @example
 * ```ts
 * import { hotp } from 'digital-fabrica/identity';
 * const secret = new TextEncoder().encode('12345678901234567890');
 * console.log(hotp(secret, 0)); // '755224' (RFC 4226 Appendix D)
 * ```
 */
export function hotp(secret: Uint8Array, counter: number, options?: HotpOptions): string {
  const key = parseInput(secretSchema, secret, 'OTP secret');
  const c = parseInput(counterSchema, counter, 'HOTP counter');
  const { digits = 6, algorithm = 'SHA1' } = parseInput(hotpSchema, options, 'HOTP options') ?? {};
  return hotpUnchecked(key, c, digits, algorithm);
}

/**
 * The TOTP time step of `timeMs` (RFC 6238 §4.2: T = floor((unix time − T0) / X)).
 *
 * @throws `VALIDATION_FAILED` for bad options or a time before `t0`.
 * @example
 * ```ts
 * import { totpStep } from 'digital-fabrica/identity';
 * console.log(totpStep(59_000)); // 1
 * ```
 */
export function totpStep(timeMs: number, options?: TotpOptions): number {
  const { period = 30, t0 = 0 } = parseInput(totpSchema, options, 'TOTP options') ?? {};
  const step = Math.floor((Math.floor(timeMs / 1000) - t0) / period);
  return parseInput(counterSchema, step, 'TOTP time step');
}

/**
 * The TOTP code at `timeMs` (RFC 6238 §4).
 *
 * @throws `VALIDATION_FAILED` for a short secret, bad options or a time before `t0`.
 * @example
 * ```ts
 * import { totp } from 'digital-fabrica/identity';
 * const secret = new TextEncoder().encode('12345678901234567890');
 * console.log(totp(secret, 59_000, { digits: 8 })); // '94287082' (RFC 6238 Appendix B)
 * ```
 */
export function totp(secret: Uint8Array, timeMs: number, options?: TotpOptions): string {
  const key = parseInput(secretSchema, secret, 'OTP secret');
  const { digits = 6, algorithm = 'SHA1' } = parseInput(totpSchema, options, 'TOTP options') ?? {};
  return hotpUnchecked(key, totpStep(timeMs, options), digits, algorithm);
}

/**
 * Checks a TOTP code against the steps `current − window … current + window` and returns the
 * step it matched, or `null`. Every candidate is computed and compared in constant time, so the
 * time taken does not reveal which step (if any) matched. It does NOT stop replays: the caller
 * must reject steps at or below the last accepted one (the MFA service does).
 *
 * @throws `VALIDATION_FAILED` for a short secret or bad options.
 * @example
 * ```ts
 * import { totp, verifyTotp } from 'digital-fabrica/identity';
 * const secret = crypto.getRandomValues(new Uint8Array(20));
 * const now = Date.now();
 * const code = totp(secret, now - 30_000); // the previous step's code
 * console.log(verifyTotp(secret, code, now) !== null); // true: within the ±1 step window
 * ```
 */
export function verifyTotp(secret: Uint8Array, code: string, timeMs: number, options?: VerifyTotpOptions): number | null {
  const key = parseInput(secretSchema, secret, 'OTP secret');
  const { digits = 6, algorithm = 'SHA1', window = 1 } = parseInput(totpSchema, options, 'TOTP options') ?? {};
  if (typeof code !== 'string' || code.length !== digits || !/^[0-9]+$/.test(code)) return null;
  const current = totpStep(timeMs, options);
  let matched = -1;
  for (let step = current - window; step <= current + window; step++) {
    if (step < 0) continue;
    const candidate = hotpUnchecked(key, step, digits, algorithm);
    let diff = 0;
    for (let i = 0; i < digits; i++) diff |= candidate.charCodeAt(i) ^ code.charCodeAt(i);
    // Branch-free selection: keep the first match without an early exit.
    const hit = diff === 0 && matched < 0;
    matched = hit ? step : matched;
  }
  return matched < 0 ? null : matched;
}
