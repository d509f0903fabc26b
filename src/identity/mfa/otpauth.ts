import { z } from 'zod';
import { parseInput } from '../../core/validation.js';
import type { OtpAlgorithm } from './otp.js';

/** What goes into an `otpauth://` URI. */
export interface OtpauthUriInput {
  /** Base32 secret (as {@link base32Encode} writes it). SECRET. */
  readonly secret: string;
  /** Service name shown by the authenticator app, e.g. `Digital Fabrica`; no `:`. */
  readonly issuer: string;
  /** Account name shown next to it, e.g. the user's email; no `:`. */
  readonly accountName: string;
  /** Default `'SHA1'`. */
  readonly algorithm?: OtpAlgorithm;
  /** Default 6. */
  readonly digits?: number;
  /** Default 30. */
  readonly period?: number;
}

const label = z
  .string()
  .min(1)
  .max(128)
  .refine((v) => !v.includes(':') && v.isWellFormed() && !/\p{Cc}/u.test(v), { message: 'must not contain ":" or control characters' });
const inputSchema = z.strictObject({
  secret: z.string().regex(/^[A-Z2-7]{16,}$/, { message: 'secret must be unpadded upper-case base32' }),
  issuer: label,
  accountName: label,
  algorithm: z.enum(['SHA1', 'SHA256', 'SHA512']).optional(),
  digits: z.number().int().min(6).max(8).optional(),
  period: z.number().int().min(1).max(3600).optional(),
});

/**
 * Builds a Key URI for authenticator apps (Google's Key Uri Format, read by virtually every app):
 * `otpauth://totp/Issuer:account?secret=…&issuer=Issuer&algorithm=SHA1&digits=6&period=30`.
 * Render it as a QR code; it contains the secret, so never log it.
 *
 * @throws `VALIDATION_FAILED` for a bad secret, a label with `:` or bad parameters.
 * @example
 * ```ts
 * import { otpauthUri } from 'digital-fabrica/identity';
 * console.log(otpauthUri({ secret: 'JBSWY3DPEHPK3PXP', issuer: 'ACME Co', accountName: 'ada@example.com' }));
 * // 'otpauth://totp/ACME%20Co:ada%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=ACME%20Co&algorithm=SHA1&digits=6&period=30'
 * ```
 */
export function otpauthUri(input: OtpauthUriInput): string {
  const { secret, issuer, accountName, algorithm = 'SHA1', digits = 6, period = 30 } = parseInput(inputSchema, input, 'otpauth URI');
  const enc = encodeURIComponent;
  return `otpauth://totp/${enc(issuer)}:${enc(accountName)}?secret=${secret}&issuer=${enc(issuer)}&algorithm=${algorithm}&digits=${digits}&period=${period}`;
}
