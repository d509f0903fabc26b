/**
 * Byte helpers shared by the security modules: UTF-8, strict base64/base64url, big-endian
 * integers. Web APIs only (TextEncoder, atob/btoa), so the core runs on every runtime.
 * @internal
 */
import { FabricaError } from '../../core/errors.js';

const encoder = new TextEncoder();
const fatalDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * UTF-8 bytes of a string. Callers validate `isWellFormed()` first: TextEncoder would silently
 * replace a lone surrogate with U+FFFD, changing the data without telling anyone.
 */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Decodes UTF-8 strictly, or throws `VALIDATION_FAILED` (never echoing the bytes). */
export function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    return fatalDecoder.decode(bytes);
  } catch {
    throw new FabricaError('VALIDATION_FAILED', `${what} is not valid UTF-8`);
  }
}

/** Text is UTF-8 encoded; bytes pass through unchanged (no copy). */
export function toBytes(input: Uint8Array | string): Uint8Array {
  return typeof input === 'string' ? utf8(input) : input;
}

/** Concatenates byte arrays into one new array. */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.byteLength;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

/** Random bytes from the platform CSPRNG (`crypto.getRandomValues`, at most 65 536 per call by spec). */
export function randomBytes(length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let offset = 0; offset < length; offset += 65_536) {
    globalThis.crypto.getRandomValues(out.subarray(offset, Math.min(length, offset + 65_536)));
  }
  return out;
}

// One CSPRNG call costs ~2 µs on Node whatever the size, more than sealing 1 KiB; nonces are
// therefore cut from a pooled block. Every byte is handed out once, then the block is refilled.
const NONCE_POOL_BYTES = 4096;
let noncePool: Uint8Array = new Uint8Array(0);
let noncePoolOffset = 0;

/** Fresh random bytes for public, never-reused values (GCM nonces), served from a CSPRNG pool. */
export function randomNonce(length: number): Uint8Array {
  if (length > NONCE_POOL_BYTES) return randomBytes(length);
  if (noncePoolOffset + length > noncePool.length) {
    noncePool = randomBytes(NONCE_POOL_BYTES);
    noncePoolOffset = 0;
  }
  const out = noncePool.slice(noncePoolOffset, noncePoolOffset + length);
  noncePoolOffset += length;
  return out;
}

/** Overwrites secret bytes once they are no longer needed (best effort: JS may hold copies). */
export function wipe(...arrays: readonly (Uint8Array | undefined)[]): void {
  for (const a of arrays) a?.fill(0);
}

// btoa/atob work on "binary strings"; build them in slices so String.fromCharCode never gets
// more arguments than the engine's call-stack limit allows.
function toBinaryString(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    out += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000) as unknown as number[]);
  }
  return out;
}

function fromBinaryString(binary: string): Uint8Array {
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** Standard base64 (RFC 4648 §4) with `=` padding. */
export function encodeBase64(bytes: Uint8Array): string {
  return btoa(toBinaryString(bytes));
}

/** base64url without padding (RFC 4648 §5), as JWK and JOSE use it. */
export function encodeBase64url(bytes: Uint8Array): string {
  return encodeBase64(bytes).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;
const BASE64_UNPADDED = /^[A-Za-z0-9+/]*$/;
const BASE64_PADDED = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Rejects non-canonical encodings (RFC 4648 §3.5): the unused low bits of the last character must
 * be zero, else two different strings would decode to the same bytes (jose accepts such JWS, see
 * ANCHORS.md; we do not).
 */
function canonicalTail(unpadded: string): boolean {
  const rem = unpadded.length % 4;
  if (rem === 1) return false;
  if (rem === 0) return true;
  const last = unpadded.charCodeAt(unpadded.length - 1);
  const value = sextet(last);
  return rem === 2 ? (value & 0x0f) === 0 : (value & 0x03) === 0;
}

function sextet(code: number): number {
  if (code >= 65 && code <= 90) return code - 65; // A-Z
  if (code >= 97 && code <= 122) return code - 71; // a-z
  if (code >= 48 && code <= 57) return code + 4; // 0-9
  if (code === 43 || code === 45) return 62; // + or -
  return 63; // / or _
}

/** Strict base64url (no padding, no whitespace, canonical), or `null` when the text is not one. */
export function decodeBase64url(text: string): Uint8Array | null {
  if (!BASE64URL.test(text) || !canonicalTail(text)) return null;
  return fromBinaryString(atob(text.replace(/-/g, '+').replace(/_/g, '/')));
}

/** Strict standard base64 without padding (the PHC string format's "B64"), or `null`. */
export function decodeBase64Unpadded(text: string): Uint8Array | null {
  if (!BASE64_UNPADDED.test(text) || !canonicalTail(text)) return null;
  return fromBinaryString(atob(text));
}

/** Strict standard base64 with padding (PEM bodies once line breaks are removed), or `null`. */
export function decodeBase64Padded(text: string): Uint8Array | null {
  if (!BASE64_PADDED.test(text)) return null;
  const unpadded = text.replace(/=+$/, '');
  if (!canonicalTail(unpadded)) return null;
  return fromBinaryString(atob(text));
}

/** Writes `value` as a big-endian unsigned 32-bit integer. */
export function writeUint32(target: Uint8Array, offset: number, value: number): void {
  target[offset] = (value >>> 24) & 0xff;
  target[offset + 1] = (value >>> 16) & 0xff;
  target[offset + 2] = (value >>> 8) & 0xff;
  target[offset + 3] = value & 0xff;
}

/** Reads a big-endian unsigned 32-bit integer. */
export function readUint32(source: Uint8Array, offset: number): number {
  return ((source[offset]! << 24) | (source[offset + 1]! << 16) | (source[offset + 2]! << 8) | source[offset + 3]!) >>> 0;
}
