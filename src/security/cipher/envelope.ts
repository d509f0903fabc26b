/**
 * The versioned, self-describing envelope shared by symmetric and hybrid encryption.
 *
 * Byte layout, version 1 (all integers big-endian):
 *
 * ```
 * offset  size  field
 * 0       1     version            0x01
 * 1       1     algorithm          0x01 AES-256-GCM under a named key
 *                                  0x11 / 0x12 / 0x13 RSA-OAEP-SHA-256 / -384 / -512 wrapping a fresh AES-256-GCM key
 * 2       1     key id length L    0..255
 * 3       L     key id             ASCII (A-Z a-z 0-9 . _ ~ -); empty for a raw key
 * hybrid only:
 * 3+L     2     wrapped key length W
 * 5+L     W     RSA-OAEP ciphertext of the 32-byte content key
 * then:
 * …       12    nonce              96 random bits (SP 800-38D §8.2.2)
 * …       n     ciphertext
 * last    16    GCM tag
 * ```
 *
 * Everything before the ciphertext (the "header") is authenticated: GCM's associated data is
 * `header || caller AAD`. The header is self-delimiting, so that concatenation is unambiguous, and
 * changing any header byte (version, algorithm, key id, wrapped key, nonce) fails authentication.
 */
import { z } from 'zod';
import { parseInput } from '../../core/validation.js';
import { decodeBase64url } from '../internal/bytes.js';
import { authFailed, invalidInput } from '../internal/errors.js';
import { bytesSchema } from '../internal/schemas.js';
import { GCM_TAG_BYTES } from './engines.js';

/** Current envelope format version. */
export const ENVELOPE_VERSION = 1;

/** GCM nonce length of every envelope: 96 bits, the length SP 800-38D recommends (§5.2.1.1). */
export const NONCE_BYTES = 12;

/** What an envelope's algorithm byte says it holds: AES-256-GCM, or RSA-OAEP (hash) wrapping an AES-256-GCM key. */
export type EnvelopeAlgorithm = 'A256GCM' | 'RSA-OAEP-256+A256GCM' | 'RSA-OAEP-384+A256GCM' | 'RSA-OAEP-512+A256GCM';

/** Algorithm byte values. @internal */
export const ALGORITHM: Readonly<Record<EnvelopeAlgorithm, number>> = {
  A256GCM: 0x01,
  'RSA-OAEP-256+A256GCM': 0x11,
  'RSA-OAEP-384+A256GCM': 0x12,
  'RSA-OAEP-512+A256GCM': 0x13,
};

const ALGORITHM_NAMES = new Map<number, EnvelopeAlgorithm>(
  (Object.entries(ALGORITHM) as [EnvelopeAlgorithm, number][]).map(([name, value]) => [value, name]),
);

/** The smallest possible envelope: header with an empty key id, nonce, empty ciphertext, tag. */
export const MIN_ENVELOPE_BYTES = 3 + NONCE_BYTES + GCM_TAG_BYTES;

// Key id bytes allowed in a header: A-Z a-z 0-9 . _ ~ - (the keyIdSchema alphabet).
const KEY_ID_BYTE = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~-') KEY_ID_BYTE[c.charCodeAt(0)] = 1;

// The id decoded last. Envelopes mostly name the same few keys, and building the string a
// character at a time leaves one short-lived string per character (~1 KB of garbage for a 43-byte
// thumbprint id) on every decryption; comparing against the last id allocates nothing.
let lastKeyId = '';

/**
 * Decodes an ASCII key id, or `null` when a byte is outside the alphabet. A byte loop: this runs
 * on every decryption, and spreading into String.fromCharCode plus a regex cost ~1 µs.
 * @internal
 */
export function readKeyId(bytes: Uint8Array, offset: number, length: number): string | null {
  if (length === lastKeyId.length && sameAscii(bytes, offset, lastKeyId)) return lastKeyId; // its bytes passed the check below
  let id = '';
  for (let i = offset; i < offset + length; i++) {
    const b = bytes[i]!;
    if (KEY_ID_BYTE[b] !== 1) return null;
    id += String.fromCharCode(b);
  }
  lastKeyId = id;
  return id;
}

function sameAscii(bytes: Uint8Array, offset: number, text: string): boolean {
  for (let i = 0; i < text.length; i++) if (bytes[offset + i] !== text.charCodeAt(i)) return false;
  return true;
}

/** A parsed envelope; every field is a view into the input bytes. @internal */
export interface ParsedEnvelope {
  readonly algorithm: EnvelopeAlgorithm;
  readonly keyId: string;
  readonly wrappedKey: Uint8Array | null;
  readonly nonce: Uint8Array;
  /** The authenticated header: everything before the ciphertext. */
  readonly header: Uint8Array;
  /** Ciphertext followed by the tag. */
  readonly sealed: Uint8Array;
}

/**
 * Serialises a header; the caller places it in front of the ciphertext and uses it as AAD prefix.
 * @internal
 */
export function encodeHeader(algorithm: EnvelopeAlgorithm, keyId: string, nonce: Uint8Array, wrappedKey?: Uint8Array): Uint8Array {
  const wrapped = wrappedKey === undefined ? 0 : 2 + wrappedKey.length;
  const header = new Uint8Array(3 + keyId.length + wrapped + nonce.length);
  header[0] = ENVELOPE_VERSION;
  header[1] = ALGORITHM[algorithm];
  header[2] = keyId.length;
  for (let i = 0; i < keyId.length; i++) header[3 + i] = keyId.charCodeAt(i);
  let offset = 3 + keyId.length;
  if (wrappedKey !== undefined) {
    header[offset] = wrappedKey.length >>> 8;
    header[offset + 1] = wrappedKey.length & 0xff;
    header.set(wrappedKey, offset + 2);
    offset += 2 + wrappedKey.length;
  }
  header.set(nonce, offset);
  return header;
}

const envelopeSchema = z.union([bytesSchema, z.string()]);

/**
 * Accepts an envelope as bytes or base64url text and returns its bytes.
 * Input that cannot be an envelope at all (wrong type, not base64url, shorter than the smallest
 * envelope) is `VALIDATION_FAILED`; anything of plausible shape that later fails is an
 * authentication failure, so tampering with any single byte always reads `CRYPTO_AUTH_FAILED`.
 * @internal
 */
export function envelopeBytes(input: unknown, what: string): Uint8Array {
  const value = input instanceof Uint8Array ? input : parseInput(envelopeSchema, input, what);
  const bytes = typeof value === 'string' ? decodeBase64url(value) : value;
  if (bytes === null) throw invalidInput(`invalid ${what}: not canonical base64url`);
  if (bytes.length < MIN_ENVELOPE_BYTES) throw invalidInput(`invalid ${what}: shorter than the smallest envelope (${MIN_ENVELOPE_BYTES} bytes)`);
  return bytes;
}

/**
 * Splits envelope bytes into their fields.
 * @throws `CRYPTO_AUTH_FAILED` (reason `unsupported_version`, `unsupported_algorithm`, `malformed`).
 * @internal
 */
export function parseEnvelope(bytes: Uint8Array, what: string): ParsedEnvelope {
  if (bytes[0] !== ENVELOPE_VERSION) throw authFailed(what, 'unsupported_version');
  const algorithm = ALGORITHM_NAMES.get(bytes[1]!);
  if (algorithm === undefined) throw authFailed(what, 'unsupported_algorithm');
  const idLength = bytes[2]!;
  let offset = 3 + idLength;
  let wrappedKey: Uint8Array | null = null;
  if (algorithm !== 'A256GCM') {
    if (bytes.length < offset + 2) throw authFailed(what, 'malformed');
    const w = (bytes[offset]! << 8) | bytes[offset + 1]!;
    wrappedKey = bytes.subarray(offset + 2, offset + 2 + w);
    offset += 2 + w;
  }
  if (bytes.length < offset + NONCE_BYTES + GCM_TAG_BYTES) throw authFailed(what, 'malformed');
  const keyId = readKeyId(bytes, 3, idLength);
  if (keyId === null) throw authFailed(what, 'malformed');
  const nonce = bytes.subarray(offset, offset + NONCE_BYTES);
  offset += NONCE_BYTES;
  return { algorithm, keyId, wrappedKey, nonce, header: bytes.subarray(0, offset), sealed: bytes.subarray(offset) };
}

/** What {@link readEnvelopeHeader} reports. */
export interface EnvelopeInfo {
  /** Format version (1). */
  readonly version: number;
  /** How the content is protected. */
  readonly algorithm: EnvelopeAlgorithm;
  /** Id of the key that sealed it; empty when a raw key without id was used. */
  readonly keyId: string;
  /** Ciphertext length, which equals the plaintext length. */
  readonly ciphertextBytes: number;
}

/**
 * Reads an envelope's unauthenticated header (version, algorithm, key id) without decrypting:
 * for routing and diagnostics only, since nothing here is verified until decryption succeeds.
 *
 * @throws `VALIDATION_FAILED` when the input cannot be an envelope; `CRYPTO_AUTH_FAILED` when its
 *   header is malformed or of an unknown version or algorithm.
 * @example
 * ```ts
 * import { AesKey, encrypt, readEnvelopeHeader } from 'digital-fabrica/security';
 * const envelope = await encrypt(AesKey.generate({ id: 'k1' }), 'hi');
 * console.log(readEnvelopeHeader(envelope)); // { version: 1, algorithm: 'A256GCM', keyId: 'k1', ciphertextBytes: 2 }
 * ```
 */
export function readEnvelopeHeader(envelope: Uint8Array | string): EnvelopeInfo {
  const parsed = parseEnvelope(envelopeBytes(envelope, 'envelope'), 'envelope');
  return {
    version: ENVELOPE_VERSION,
    algorithm: parsed.algorithm,
    keyId: parsed.keyId,
    ciphertextBytes: parsed.sealed.length - GCM_TAG_BYTES,
  };
}
