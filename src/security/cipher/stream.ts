/**
 * Streaming AES-256-GCM for data too large for one buffer (files, request bodies), as Web
 * `TransformStream`s. The construction is the STREAM online AEAD of Hoang, Reyhanitabar, Rogaway
 * and Vizár ("Online Authenticated-Encryption and its Nonce-Reuse Misuse-Resistance", CRYPTO
 * 2015), in the form Tink's AES-GCM-HKDF streaming AEAD uses:
 *
 * ```
 * header   = 0x01 version | 0x21 algorithm | segment size (u32) | key id length L | key id
 *            | salt (32 random bytes) | nonce prefix (7 random bytes)
 * subkey   = HKDF-SHA-256(ikm = key, salt = salt, info = header || caller AAD)      (RFC 5869)
 * nonce_i  = nonce prefix (7) || i as u32 big-endian (4) || 0x01 if last else 0x00 (1)
 * segment_i = AES-256-GCM(subkey, nonce_i, plaintext_i) = ciphertext_i || tag_i (16)
 * stream   = header || segment_0 || ... || segment_last
 * ```
 *
 * Every plaintext segment holds exactly `segment size` bytes except the last (0..segment size;
 * empty only for an empty stream). Why each attack fails:
 * - reordering or duplicating segments: the counter in the nonce no longer matches the position;
 * - truncation at a segment boundary: the new last segment was sealed with flag 0, but is opened
 *   with flag 1; dropping everything after the header leaves no final segment at all;
 * - appending data: the real last segment is then opened with flag 0;
 * - splicing segments of another stream (even under the same key): its subkey and nonce prefix
 *   differ (fresh random salt per stream);
 * - altering the header (segment size, key id, salt) or using other AAD: a different subkey.
 *
 * The per-stream subkey means the master key never meets GCM directly, so streams do not draw
 * on the key's 2^32-message budget, and one stream can hold up to 2^32 segments (256 TiB at the
 * default 64 KiB).
 *
 * Memory stays flat: at most one segment is buffered, whatever the stream's length. Plaintext of
 * a segment is only released after its tag verified, but truncation is only detectable at the end:
 * a consumer must treat an errored stream as failed as a whole (write to a temporary file and
 * rename on success).
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { z } from 'zod';
import { FabricaError } from '../../core/errors.js';
import { parseInput } from '../../core/validation.js';
import { concatBytes, randomBytes, readUint32, wipe, writeUint32 } from '../internal/bytes.js';
import { authFailed, invalidInput } from '../internal/errors.js';
import { bytesOrText } from '../internal/schemas.js';
import { messageBytes } from './aes-gcm.js';
import { engineChoiceSchema, GCM_TAG_BYTES, resolveAesGcmEngine, type AesGcmEngine, type AesGcmEngineChoice, type MaybePromise } from './engines.js';
import { ENVELOPE_VERSION, readKeyId } from './envelope.js';
import { KeyMaterial } from './key-material.js';
import { resolveKey, type AesKeyInput } from './key.js';
import { Segmenter } from './segmenter.js';

/** Default plaintext bytes per segment: 64 KiB. */
export const STREAM_DEFAULT_SEGMENT_BYTES = 64 * 1024;
/** Smallest allowed segment size (tiny segments only make sense in tests). */
export const STREAM_MIN_SEGMENT_BYTES = 16;
/** Largest allowed segment size: 16 MiB, the most a decrypting peer ever has to buffer. */
export const STREAM_MAX_SEGMENT_BYTES = 16 * 1024 * 1024;

const ALGORITHM_STREAM = 0x21;
const SALT_BYTES = 32;
const PREFIX_BYTES = 7;
const FIXED_HEADER = 7; // version, algorithm, segment size, key id length
const MAX_SEGMENTS = 2 ** 32;
const EMPTY = new Uint8Array(0);

/** Options of {@link createEncryptStream}. */
export interface EncryptStreamOptions {
  /** Associated data bound to the whole stream; decryption must pass the same. */
  readonly aad?: Uint8Array | string;
  /** Plaintext bytes per segment, 16 B – 16 MiB (default 64 KiB). */
  readonly segmentSize?: number;
  /** Force an AES-GCM engine (default `'auto'`). */
  readonly engine?: AesGcmEngineChoice;
}

/** Options of {@link createDecryptStream}. */
export interface DecryptStreamOptions {
  /** The associated data the stream was encrypted with. */
  readonly aad?: Uint8Array | string;
  /** Refuse streams whose header announces larger segments (default 16 MiB): caps buffering. */
  readonly maxSegmentSize?: number;
  /** Force an AES-GCM engine (default `'auto'`). */
  readonly engine?: AesGcmEngineChoice;
}

const encryptOptionsSchema = z
  .strictObject({
    aad: bytesOrText.optional(),
    segmentSize: z.number().int().min(STREAM_MIN_SEGMENT_BYTES).max(STREAM_MAX_SEGMENT_BYTES).optional(),
    engine: engineChoiceSchema.optional(),
  })
  .optional();

const decryptOptionsSchema = z
  .strictObject({
    aad: bytesOrText.optional(),
    maxSegmentSize: z.number().int().min(STREAM_MIN_SEGMENT_BYTES).max(STREAM_MAX_SEGMENT_BYTES).optional(),
    engine: engineChoiceSchema.optional(),
  })
  .optional();

function segmentNonce(prefix: Uint8Array, index: number, last: boolean): Uint8Array {
  const nonce = new Uint8Array(PREFIX_BYTES + 5);
  nonce.set(prefix, 0);
  writeUint32(nonce, PREFIX_BYTES, index);
  nonce[PREFIX_BYTES + 4] = last ? 1 : 0;
  return nonce;
}

function deriveSubkey(key: KeyMaterial, salt: Uint8Array, header: Uint8Array, aad: Uint8Array): KeyMaterial {
  return new KeyMaterial(hkdf(sha256, key.bytes, salt, concatBytes(header, aad), 32));
}

function checkChunk(chunk: unknown): Uint8Array {
  if (!(chunk instanceof Uint8Array)) throw invalidInput('stream chunks must be Uint8Array (pipe text through TextEncoderStream)');
  return chunk;
}

/**
 * The encrypting transform for already-validated arguments (shared with {@link Keyring}).
 * @internal
 */
export function encryptTransform(engine: AesGcmEngine, key: KeyMaterial, keyId: string, aad: Uint8Array, segmentSize: number): TransformStream<Uint8Array, Uint8Array> {
  const salt = randomBytes(SALT_BYTES);
  const prefix = randomBytes(PREFIX_BYTES);
  const header = new Uint8Array(FIXED_HEADER + keyId.length + SALT_BYTES + PREFIX_BYTES);
  header[0] = ENVELOPE_VERSION;
  header[1] = ALGORITHM_STREAM;
  writeUint32(header, 2, segmentSize);
  header[6] = keyId.length;
  for (let i = 0; i < keyId.length; i++) header[FIXED_HEADER + i] = keyId.charCodeAt(i);
  header.set(salt, FIXED_HEADER + keyId.length);
  header.set(prefix, FIXED_HEADER + keyId.length + SALT_BYTES);

  const subkey = deriveSubkey(key, salt, header, aad);
  const segmenter = new Segmenter(segmentSize);
  let index = 0;
  const seal = (segment: Uint8Array, last: boolean): MaybePromise<Uint8Array> => {
    if (index >= MAX_SEGMENTS) throw new FabricaError('PAYLOAD_TOO_LARGE', 'stream exceeds 2^32 segments', { details: { limit: MAX_SEGMENTS } });
    return engine.seal(subkey, segmentNonce(prefix, index++, last), segment, EMPTY, 0);
  };
  return new TransformStream<Uint8Array, Uint8Array>({
    start(controller) {
      controller.enqueue(header);
    },
    async transform(chunk, controller) {
      for (const segment of segmenter.push(checkChunk(chunk))) controller.enqueue(await seal(segment, false));
    },
    async flush(controller) {
      controller.enqueue(await seal(segmenter.rest(), true));
      wipe(subkey.bytes);
    },
  });
}

/** Looks up the key named in a stream header; `undefined` when unknown. @internal */
export type StreamKeyResolver = (keyId: string) => KeyMaterial | undefined;

/**
 * The decrypting transform for already-validated arguments (shared with {@link Keyring}).
 * @internal
 */
export function decryptTransform(engine: AesGcmEngine, resolve: StreamKeyResolver, aad: Uint8Array, maxSegmentSize: number): TransformStream<Uint8Array, Uint8Array> {
  let pending: Uint8Array = EMPTY; // header bytes received so far
  let state: { subkey: KeyMaterial; prefix: Uint8Array; segmenter: Segmenter } | undefined;
  let index = 0;

  // Returns the bytes after the header once the header is complete, else undefined.
  const readHeader = (chunk: Uint8Array): Uint8Array | undefined => {
    pending = pending.length === 0 ? chunk : concatBytes(pending, chunk);
    if (pending.length >= 1 && pending[0] !== ENVELOPE_VERSION) throw authFailed('stream', 'unsupported_version');
    if (pending.length >= 2 && pending[1] !== ALGORITHM_STREAM) throw authFailed('stream', 'unsupported_algorithm');
    if (pending.length < FIXED_HEADER) return undefined;
    const segmentSize = readUint32(pending, 2);
    if (segmentSize < STREAM_MIN_SEGMENT_BYTES || segmentSize > maxSegmentSize) throw authFailed('stream', 'malformed');
    const idLength = pending[6]!;
    const headerLength = FIXED_HEADER + idLength + SALT_BYTES + PREFIX_BYTES;
    if (pending.length < headerLength) return undefined;
    const header = pending.slice(0, headerLength);
    const keyId = readKeyId(header, FIXED_HEADER, idLength);
    if (keyId === null) throw authFailed('stream', 'malformed');
    const key = resolve(keyId);
    if (key === undefined) throw authFailed('stream', 'unknown_key_id', { keyId });
    const salt = header.subarray(FIXED_HEADER + idLength, FIXED_HEADER + idLength + SALT_BYTES);
    state = {
      subkey: deriveSubkey(key, salt, header, aad),
      prefix: header.subarray(headerLength - PREFIX_BYTES),
      segmenter: new Segmenter(segmentSize + GCM_TAG_BYTES),
    };
    const rest = pending.subarray(headerLength);
    pending = EMPTY;
    return rest;
  };

  const open = async (segment: Uint8Array, last: boolean): Promise<Uint8Array> => {
    if (index >= MAX_SEGMENTS) throw authFailed('stream', 'malformed');
    const plaintext = await engine.open(state!.subkey, segmentNonce(state!.prefix, index, last), segment, EMPTY);
    if (plaintext === null) {
      // A last segment that opens as a middle one means the stream was cut at a segment boundary.
      const middle = last ? await engine.open(state!.subkey, segmentNonce(state!.prefix, index, false), segment, EMPTY) : null;
      if (middle !== null) wipe(middle);
      throw authFailed('stream', middle !== null ? 'truncated' : 'tag_mismatch', { segment: index });
    }
    index += 1;
    return plaintext;
  };

  return new TransformStream<Uint8Array, Uint8Array>({
    async transform(chunk, controller) {
      let body: Uint8Array | undefined = checkChunk(chunk);
      if (state === undefined) body = readHeader(body);
      if (body === undefined) return;
      for (const segment of state!.segmenter.push(body)) controller.enqueue(await open(segment, false));
    },
    async flush(controller) {
      if (state === undefined) throw authFailed('stream', 'truncated');
      const last = state.segmenter.rest();
      if (last.length < GCM_TAG_BYTES) throw authFailed('stream', 'truncated');
      controller.enqueue(await open(last, true));
      wipe(state.subkey.bytes);
    },
  });
}

/**
 * Creates a `TransformStream` that encrypts a byte stream into the segmented format described
 * above (header, then sealed segments of `segmentSize` plaintext bytes, the last one flagged).
 *
 * @throws `VALIDATION_FAILED` (bad key or options; a non-Uint8Array chunk errors the stream),
 *   `PAYLOAD_TOO_LARGE` (AAD above 1 GiB; more than 2^32 segments errors the stream).
 * @example
 * ```ts
 * import { AesKey, createEncryptStream, createDecryptStream } from 'digital-fabrica/security';
 * const key = AesKey.generate();
 * const source = new Blob(['a large file, chunk by chunk']).stream();
 * const decrypted = source.pipeThrough(createEncryptStream(key)).pipeThrough(createDecryptStream(key));
 * console.log(await new Response(decrypted).text()); // 'a large file, chunk by chunk'
 * ```
 */
export function createEncryptStream(key: AesKeyInput, options?: EncryptStreamOptions): TransformStream<Uint8Array, Uint8Array> {
  const { id, material } = resolveKey(key);
  const parsed = parseInput(encryptOptionsSchema, options, 'encrypt stream options');
  const aad = parsed?.aad === undefined ? EMPTY : messageBytes(parsed.aad, 'associated data');
  return encryptTransform(resolveAesGcmEngine(parsed?.engine), material, id, aad, parsed?.segmentSize ?? STREAM_DEFAULT_SEGMENT_BYTES);
}

/**
 * Creates a `TransformStream` that decrypts and verifies a stream made by
 * {@link createEncryptStream}, releasing each segment's plaintext once its tag verified.
 *
 * @throws `VALIDATION_FAILED` (bad key or options). The stream errors with `CRYPTO_AUTH_FAILED`
 *   on any altered, reordered, duplicated, spliced or missing segment, on truncation (reason
 *   `truncated`), a wrong key or AAD, or a header naming another key id than an {@link AesKey}'s.
 * @example
 * ```ts
 * import { AesKey, createEncryptStream, createDecryptStream } from 'digital-fabrica/security';
 * const key = AesKey.generate();
 * const sealed = new Blob(['hello']).stream().pipeThrough(createEncryptStream(key, { segmentSize: 1024 }));
 * const plain = await new Response(sealed.pipeThrough(createDecryptStream(key))).text();
 * console.log(plain); // 'hello'
 * ```
 */
export function createDecryptStream(key: AesKeyInput, options?: DecryptStreamOptions): TransformStream<Uint8Array, Uint8Array> {
  const { id, material } = resolveKey(key);
  const parsed = parseInput(decryptOptionsSchema, options, 'decrypt stream options');
  const aad = parsed?.aad === undefined ? EMPTY : messageBytes(parsed.aad, 'associated data');
  // Same rule as decrypt(): a named key refuses a stream that names another (non-empty) key id.
  const resolve: StreamKeyResolver = (keyId) => (id === '' || keyId === '' || keyId === id ? material : undefined);
  return decryptTransform(resolveAesGcmEngine(parsed?.engine), resolve, aad, parsed?.maxSegmentSize ?? STREAM_MAX_SEGMENT_BYTES);
}

