/**
 * Small byte helpers for the identity module: randomness from `crypto.getRandomValues` (Web API,
 * so the module runs on every runtime), hex, and strict UTF-8.
 * @internal
 */

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const encoder = new TextEncoder();
// fatal: malformed UTF-8 is an error, never silently replaced with U+FFFD (which could make two
// different byte strings decode to the same claims).
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** `length` bytes from the platform CSPRNG. */
export function randomBytes(length: number): Uint8Array {
  const out = new Uint8Array(length);
  // getRandomValues fills at most 65 536 bytes per call.
  for (let offset = 0; offset < length; offset += 65_536) {
    globalThis.crypto.getRandomValues(out.subarray(offset, Math.min(length, offset + 65_536)));
  }
  return out;
}

/** Lower-case hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]!]!;
  return out;
}

/** UTF-8 bytes of `text`. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Decodes UTF-8 strictly; `null` for malformed input. */
export function decodeUtf8Strict(bytes: Uint8Array): string | null {
  try {
    return strictDecoder.decode(bytes);
  } catch {
    return null;
  }
}

/**
 * A uniformly random string of `length` characters from `alphabet` (rejection sampling, so no
 * character is more likely than another: modulo bias would shave entropy off codes and nonces).
 */
export function randomString(alphabet: string, length: number): string {
  const n = alphabet.length;
  const limit = 256 - (256 % n);
  let out = '';
  while (out.length < length) {
    const bytes = randomBytes(length * 2);
    for (let i = 0; i < bytes.length && out.length < length; i++) {
      const b = bytes[i]!;
      if (b < limit) out += alphabet[b % n]!;
    }
  }
  return out;
}
