/**
 * AES-256-GCM encryption into self-describing envelopes (see `envelope.ts` for the byte layout).
 *
 * Nonces are 96 random bits per message (NIST SP 800-38D §8.2.2). With random nonces a key must
 * not seal more than 2^32 messages (§8.3); a single key used directly has no counter, so hosts
 * that encrypt a lot should use a {@link Keyring}, which counts and rotates.
 */
import { z } from 'zod';
import { parseInput } from '../../core/validation.js';
import { concatBytes, decodeUtf8, encodeBase64url, randomNonce, toBytes, wipe } from '../internal/bytes.js';
import { authFailed, tooLarge } from '../internal/errors.js';
import { bytesOrText } from '../internal/schemas.js';
import { engineChoiceSchema, isAesGcmEngineChoice, resolveAesGcmEngine, type AesGcmEngine, type AesGcmEngineChoice, type MaybePromise } from './engines.js';
import { encodeHeader, envelopeBytes, NONCE_BYTES, parseEnvelope, type ParsedEnvelope } from './envelope.js';
import type { KeyMaterial } from './key-material.js';
import { resolveKey, type AesKeyInput } from './key.js';

/**
 * Largest plaintext (and associated data) one call seals: 1 GiB. GCM itself allows ~64 GiB per
 * message (SP 800-38D §5.2.1.1), but one buffer that large is a mistake in a server; stream it
 * with {@link createEncryptStream} instead.
 */
export const AES_GCM_MAX_MESSAGE_BYTES = 2 ** 30;

/** Options of {@link encrypt} and {@link encryptToBase64url}. */
export interface EncryptOptions {
  /**
   * Associated data: authenticated, not encrypted, not stored in the envelope. Decryption must
   * pass the same bytes (e.g. the record id, to stop an attacker moving ciphertexts between rows).
   */
  readonly aad?: Uint8Array | string;
  /** Force an engine (default `'auto'`: node:crypto, then WebCrypto, then noble). */
  readonly engine?: AesGcmEngineChoice;
}

/** Options of {@link decrypt} and {@link decryptText}. */
export type DecryptOptions = EncryptOptions;

const EMPTY = new Uint8Array(0);

/** @internal */
export const cipherOptionsSchema = z.strictObject({ aad: bytesOrText.optional(), engine: engineChoiceSchema.optional() }).optional();

/**
 * Parses a plaintext or AAD argument and applies the size limit.
 * @throws `VALIDATION_FAILED` (type), `PAYLOAD_TOO_LARGE` (size).
 * @internal
 */
export function messageBytes(input: unknown, what: string, limit = AES_GCM_MAX_MESSAGE_BYTES): Uint8Array {
  // Bytes are the common case and bytesSchema is exactly this instanceof check: skip zod for them.
  const bytes = input instanceof Uint8Array ? input : toBytes(parseInput(bytesOrText, input, what));
  if (bytes.length > limit) throw tooLarge(what, limit);
  return bytes;
}

/** True when every enumerable key of `options` is one {@link cipherOptionsSchema} knows. */
function onlyCipherOptionKeys(options: object): boolean {
  for (const key in options) if (key !== 'aad' && key !== 'engine') return false;
  return true;
}

/**
 * Parses cipher options. No options, or an object holding only byte AAD and a valid engine name,
 * skip zod (this runs on every call, and zod's parse leaves ~0.5 KB of garbage); anything else,
 * every invalid input included, is parsed by the schema, so the outcome is the same either way.
 * @internal
 */
export function parseCipherOptions(options: unknown): { aad: Uint8Array; engine: AesGcmEngine } {
  if (options === undefined) return { aad: EMPTY, engine: resolveAesGcmEngine('auto') };
  if (typeof options === 'object' && options !== null && !Array.isArray(options) && onlyCipherOptionKeys(options)) {
    const { aad, engine } = options as { aad?: unknown; engine?: unknown };
    if ((aad === undefined || aad instanceof Uint8Array) && (engine === undefined || isAesGcmEngineChoice(engine))) {
      return { aad: aad === undefined ? EMPTY : messageBytes(aad, 'associated data'), engine: resolveAesGcmEngine(engine ?? 'auto') };
    }
  }
  const parsed = parseInput(cipherOptionsSchema, options, 'cipher options');
  return {
    aad: parsed?.aad === undefined ? EMPTY : messageBytes(parsed.aad, 'associated data'),
    engine: resolveAesGcmEngine(parsed?.engine ?? 'auto'),
  };
}

/**
 * Seals `plaintext` into a symmetric envelope under `key`, named `keyId` in the header.
 * @internal
 */
export function sealEnvelope(engine: AesGcmEngine, key: KeyMaterial, keyId: string, plaintext: Uint8Array, aad: Uint8Array): MaybePromise<Uint8Array> {
  const nonce = randomNonce(NONCE_BYTES);
  const header = encodeHeader('A256GCM', keyId, nonce);
  const sealed = engine.seal(key, nonce, plaintext, aad.length > 0 ? concatBytes(header, aad) : header, header.length);
  return sealed instanceof Promise ? sealed.then((out) => withHeader(out, header)) : withHeader(sealed, header);
}

function withHeader(out: Uint8Array, header: Uint8Array): Uint8Array {
  out.set(header, 0);
  return out;
}

/**
 * Opens a parsed envelope (symmetric or hybrid) with its content key. May throw synchronously:
 * callers await it inside async functions.
 * @throws `CRYPTO_AUTH_FAILED` (reason `tag_mismatch`); no plaintext is returned or kept.
 * @internal
 */
export function openEnvelope(engine: AesGcmEngine, key: KeyMaterial, parsed: ParsedEnvelope, aad: Uint8Array, what: string): MaybePromise<Uint8Array> {
  const plaintext = engine.open(key, parsed.nonce, parsed.sealed, aad.length > 0 ? concatBytes(parsed.header, aad) : parsed.header);
  return plaintext instanceof Promise ? plaintext.then((result) => authentic(result, what)) : authentic(plaintext, what);
}

function authentic(plaintext: Uint8Array | null, what: string): Uint8Array {
  if (plaintext === null) throw authFailed(what, 'tag_mismatch');
  return plaintext;
}

/**
 * Encrypts bytes or text with AES-256-GCM under a fresh random nonce and returns the envelope
 * bytes (version, key id, nonce, ciphertext, tag).
 *
 * @throws `VALIDATION_FAILED` (key not an {@link AesKey} or 32 bytes, wrong types, text with a lone
 *   surrogate, unavailable engine), `PAYLOAD_TOO_LARGE` (plaintext or AAD above 1 GiB).
 * @example
 * ```ts
 * import { AesKey, encrypt, decrypt } from 'digital-fabrica/security';
 * const key = AesKey.generate();
 * const envelope = await encrypt(key, new Uint8Array([1, 2, 3]), { aad: 'invoice:42' });
 * const plain = await decrypt(key, envelope, { aad: 'invoice:42' });
 * console.log(plain); // Uint8Array [1, 2, 3]
 * ```
 */
export async function encrypt(key: AesKeyInput, plaintext: Uint8Array | string, options?: EncryptOptions): Promise<Uint8Array> {
  const { id, material } = resolveKey(key);
  const data = messageBytes(plaintext, 'plaintext');
  const { aad, engine } = parseCipherOptions(options);
  return sealEnvelope(engine, material, id, data, aad);
}

/**
 * Like {@link encrypt}, returning the envelope as base64url text (URL, cookie and JSON safe).
 *
 * @throws as {@link encrypt}.
 * @example
 * ```ts
 * import { AesKey, encryptToBase64url, decryptText } from 'digital-fabrica/security';
 * const key = AesKey.generate();
 * const token = await encryptToBase64url(key, 'session 7');
 * console.log(await decryptText(key, token)); // 'session 7'
 * ```
 */
export async function encryptToBase64url(key: AesKeyInput, plaintext: Uint8Array | string, options?: EncryptOptions): Promise<string> {
  return encodeBase64url(await encrypt(key, plaintext, options));
}

/**
 * Decrypts an envelope (bytes or base64url) made by {@link encrypt}. The envelope's key id is not
 * needed with a single key, but when `key` is an {@link AesKey} and the envelope names a different
 * non-empty id, decryption fails early with reason `key_id_mismatch`.
 *
 * @throws `VALIDATION_FAILED` (wrong types, not base64url, too short to be an envelope),
 *   `CRYPTO_AUTH_FAILED` (wrong key, wrong AAD, any altered byte; no plaintext is released).
 * @example
 * ```ts
 * import { isFabricaError } from 'digital-fabrica/errors';
 * import { AesKey, encrypt, decrypt } from 'digital-fabrica/security';
 * const key = AesKey.generate();
 * const envelope = await encrypt(key, 'secret');
 * envelope[envelope.length - 1]! ^= 1;
 * try {
 *   await decrypt(key, envelope);
 * } catch (err) {
 *   console.log(isFabricaError(err) && err.code); // 'CRYPTO_AUTH_FAILED'
 * }
 * ```
 */
export async function decrypt(key: AesKeyInput, envelope: Uint8Array | string, options?: DecryptOptions): Promise<Uint8Array> {
  const { id, material } = resolveKey(key);
  const bytes = envelopeBytes(envelope, 'envelope');
  const { aad, engine } = parseCipherOptions(options);
  const parsed = parseEnvelope(bytes, 'envelope');
  if (parsed.algorithm !== 'A256GCM') throw authFailed('envelope', 'unsupported_algorithm');
  if (id !== '' && parsed.keyId !== '' && parsed.keyId !== id) throw authFailed('envelope', 'key_id_mismatch', { keyId: parsed.keyId });
  return openEnvelope(engine, material, parsed, aad, 'envelope');
}

/**
 * Decrypts an envelope and decodes the plaintext as UTF-8.
 *
 * @throws as {@link decrypt}, plus `VALIDATION_FAILED` when the authentic plaintext is not UTF-8.
 * @example
 * ```ts
 * import { AesKey, encrypt, decryptText } from 'digital-fabrica/security';
 * const key = AesKey.generate();
 * console.log(await decryptText(key, await encrypt(key, 'héllo'))); // 'héllo'
 * ```
 */
export async function decryptText(key: AesKeyInput, envelope: Uint8Array | string, options?: DecryptOptions): Promise<string> {
  const plaintext = await decrypt(key, envelope, options);
  try {
    return decodeUtf8(plaintext, 'plaintext');
  } finally {
    wipe(plaintext);
  }
}
