/**
 * RFC 4648 §6 base32, the encoding authenticator apps expect for TOTP secrets (Google's Key Uri
 * Format). Encoding writes no padding; decoding accepts upper or lower case, and ignores spaces
 * and `=` padding, because people type these secrets by hand.
 */

import { z } from 'zod';
import { parseInput } from '../../core/validation.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const bytesSchema = z.custom<Uint8Array>((v) => v instanceof Uint8Array, { message: 'expected a Uint8Array' });
const textSchema = z.string().max(65_536);

/**
 * Encodes bytes as unpadded base32.
 *
 * @throws `VALIDATION_FAILED` when `bytes` is not a Uint8Array.
 * @example
 * ```ts
 * import { base32Encode } from 'digital-fabrica/identity';
 * console.log(base32Encode(new TextEncoder().encode('foobar'))); // 'MZXW6YTBOI'
 * ```
 */
export function base32Encode(bytes: Uint8Array): string {
  parseInput(bytesSchema, bytes, 'bytes');
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(buffer >>> bits) & 31];
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}

/**
 * Decodes base32 (case-insensitive, spaces and padding ignored), or returns `null` for any other
 * character or an impossible length.
 *
 * @throws `VALIDATION_FAILED` when `text` is not a string (or longer than 64 KiB).
 * @example
 * ```ts
 * import { base32Decode } from 'digital-fabrica/identity';
 * console.log(new TextDecoder().decode(base32Decode('mzxw 6ytb oi======')!)); // 'foobar'
 * ```
 */
export function base32Decode(text: string): Uint8Array | null {
  const clean = parseInput(textSchema, text, 'base32 text').replace(/[\s=]/g, '').toUpperCase();
  // 1, 3 or 6 leftover characters can never come out of an encoder.
  if ([1, 3, 6].includes(clean.length % 8)) return null;
  const out = new Uint8Array(Math.floor((clean.length * 5) / 8));
  let buffer = 0;
  let bits = 0;
  let o = 0;
  for (const char of clean) {
    const value = ALPHABET.indexOf(char);
    if (value < 0) return null;
    buffer = ((buffer << 5) | value) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (buffer >>> bits) & 0xff;
    }
  }
  return out;
}
