/**
 * Recovery codes: shown once, stored only as hashes, each usable once.
 *
 * A code is 16 characters from a 30-letter alphabet without look-alikes (no I, L, O, U, 0, 1),
 * about 78 bits of entropy, grouped `XXXX-XXXX-XXXX-XXXX`. That is far beyond guessing, so a fast
 * hash (SHA3-256, salted with the user id so equal codes of two users differ) is enough; a slow
 * password hash would only make login with a recovery code slow.
 * @internal
 */
import { sha3_256 } from '../../security/primitives.js';
import { randomString, toHex } from '../internal/bytes.js';

const ALPHABET = 'ABCDEFGHJKMNPQRSTVWXYZ23456789';

/** A fresh code, formatted for display. */
export function generateRecoveryCode(): string {
  const raw = randomString(ALPHABET, 16);
  return `${raw.slice(0, 4)}-${raw.slice(4, 8)}-${raw.slice(8, 12)}-${raw.slice(12)}`;
}

/** The canonical form of what a user typed: upper case, no separators or spaces. */
export function normaliseRecoveryCode(input: string): string | null {
  const clean = input.replace(/[\s-]/g, '').toUpperCase();
  if (clean.length !== 16) return null;
  for (const char of clean) if (!ALPHABET.includes(char)) return null;
  return clean;
}

/** The stored hash of a (normalised) code for a user. */
export function hashRecoveryCode(userId: string, normalised: string): string {
  return toHex(sha3_256(`digital-fabrica/identity/recovery-code\u0000${userId}\u0000${normalised}`));
}
