/**
 * The AES-GCM engines behind one API: `node:crypto` (OpenSSL, fastest on Node), WebCrypto (native
 * on Deno, Bun, browsers and edge runtimes) and `@noble/ciphers` (audited pure JS, runs anywhere).
 * All three implement NIST SP 800-38D with a 128-bit tag and must produce identical bytes; the
 * property tests and the Wycheproof vectors check that.
 */
import { gcm } from '@noble/ciphers/aes.js';
import { z } from 'zod';
import { parseInput } from '../../core/validation.js';
import { invalidInput } from '../internal/errors.js';
import { nodeCrypto, plainView, subtleCrypto, type NodeCrypto } from '../internal/node.js';
import type { KeyMaterial } from './key-material.js';

/** Names of the AES-GCM implementations. */
export type AesGcmEngineName = 'node' | 'webcrypto' | 'noble';

/** An engine name, or `'auto'` for the fastest one this runtime has (node, then webcrypto, then noble). */
export type AesGcmEngineChoice = AesGcmEngineName | 'auto';

/** GCM's tag length. Shorter tags (SP 800-38D §5.2.1.2) weaken forgery bounds and are not offered. */
export const GCM_TAG_BYTES = 16;

/**
 * A result, or a promise of it. The node engine answers synchronously: every caller awaits anyway,
 * and two promises fewer per call is most of the JS-heap garbage a small message leaves behind.
 * @internal
 */
export type MaybePromise<T> = T | Promise<T>;

/**
 * One AES-GCM implementation. `seal` returns `headroom` zero bytes, then ciphertext, then tag, so
 * an envelope header can be written in front without a second large allocation (at 1 MiB the
 * extra allocation alone would halve throughput). `open` returns `null` on any authentication
 * failure and never releases unauthenticated plaintext. Either may answer synchronously, and may
 * throw instead of rejecting: callers await them inside async functions.
 * @internal
 */
export interface AesGcmEngine {
  readonly name: AesGcmEngineName;
  /** Nonce lengths in bytes this implementation accepts. */
  readonly nonceBytes: { readonly min: number; readonly max: number };
  seal(key: KeyMaterial, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array, headroom: number): MaybePromise<Uint8Array>;
  open(key: KeyMaterial, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): MaybePromise<Uint8Array | null>;
}

// node's update() cannot write into a given buffer: it returns a fresh one, so the ciphertext is
// copied once into the envelope, behind the header. Each slice's output is copied while still in
// L2; each update() call also costs two allocations and a Buffer object, so slices much smaller
// than this lose more in calls than they gain in cache, and one call for a whole 1 MiB message
// copies from colder memory. Measured at 1 MiB against raw node:crypto (same process, per
// CPU-second): 64 KiB 0.90-0.93x, 128 KiB 0.91-0.97x, 256 KiB 0.89-0.94x, 1 MiB 0.79x.
/** @internal Exported for the tests that cross slice boundaries. */
export const NODE_SLICE_BYTES = 128 * 1024;

function nodeAlgorithm(key: KeyMaterial): 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm' {
  return key.bytes.length === 16 ? 'aes-128-gcm' : key.bytes.length === 24 ? 'aes-192-gcm' : 'aes-256-gcm';
}

function allocate(length: number): Uint8Array {
  // Uninitialised memory is fine: seal() writes every byte (headroom is zeroed explicitly).
  const B = (globalThis as { Buffer?: { allocUnsafeSlow(size: number): Uint8Array } }).Buffer;
  return B ? plainView(B.allocUnsafeSlow(length)) : new Uint8Array(length);
}

// Shared by every call (node only reads it): one object less per message.
const NODE_GCM_OPTIONS = Object.freeze({ authTagLength: GCM_TAG_BYTES });

function createNodeEngine(crypto: NodeCrypto): AesGcmEngine {
  const keyOf = (key: KeyMaterial) => (key.nodeKey ??= crypto.createSecretKey(key.bytes));
  return {
    name: 'node',
    nonceBytes: { min: 1, max: 256 },
    seal(key, nonce, plaintext, aad, headroom) {
      const cipher = crypto.createCipheriv(nodeAlgorithm(key), keyOf(key), nonce, NODE_GCM_OPTIONS);
      if (aad.length > 0) cipher.setAAD(aad);
      const out = allocate(headroom + plaintext.length + GCM_TAG_BYTES);
      out.fill(0, 0, headroom);
      let offset = headroom;
      if (plaintext.length <= NODE_SLICE_BYTES) {
        const part = cipher.update(plaintext);
        out.set(part, offset);
        offset += part.length;
      } else {
        for (let i = 0; i < plaintext.length; i += NODE_SLICE_BYTES) {
          const part = cipher.update(plaintext.subarray(i, i + NODE_SLICE_BYTES));
          out.set(part, offset);
          offset += part.length;
        }
      }
      const rest = cipher.final(); // empty for GCM (a stream mode), kept for correctness
      out.set(rest, offset);
      out.set(cipher.getAuthTag(), offset + rest.length);
      return out;
    },
    open(key, nonce, sealed, aad) {
      if (sealed.length < GCM_TAG_BYTES) return null;
      const body = sealed.length - GCM_TAG_BYTES;
      const decipher = crypto.createDecipheriv(nodeAlgorithm(key), keyOf(key), nonce, NODE_GCM_OPTIONS);
      decipher.setAuthTag(sealed.subarray(body));
      if (aad.length > 0) decipher.setAAD(aad);
      const plaintext = decipher.update(sealed.subarray(0, body));
      try {
        decipher.final();
      } catch {
        plaintext.fill(0); // nothing unauthenticated leaves this function
        return null;
      }
      return plainView(plaintext);
    },
  };
}

function createWebCryptoEngine(subtle: SubtleCrypto): AesGcmEngine {
  const keyOf = (key: KeyMaterial) =>
    (key.webKey ??= subtle.importKey('raw', key.bytes as BufferSource, { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']));
  const params = (nonce: Uint8Array, aad: Uint8Array): AesGcmParams => ({
    name: 'AES-GCM',
    iv: nonce as BufferSource,
    tagLength: GCM_TAG_BYTES * 8,
    ...(aad.length > 0 ? { additionalData: aad as BufferSource } : {}),
  });
  return {
    name: 'webcrypto',
    // Node's WebCrypto rejects nonces shorter than 96 bits; other runtimes vary, so stay conservative.
    nonceBytes: { min: 12, max: 256 },
    async seal(key, nonce, plaintext, aad, headroom) {
      const sealed = new Uint8Array(await subtle.encrypt(params(nonce, aad), await keyOf(key), plaintext as BufferSource));
      const out = new Uint8Array(headroom + sealed.length);
      out.set(sealed, headroom);
      return out;
    },
    async open(key, nonce, sealed, aad) {
      if (sealed.length < GCM_TAG_BYTES) return null;
      try {
        return new Uint8Array(await subtle.decrypt(params(nonce, aad), await keyOf(key), sealed as BufferSource));
      } catch {
        return null;
      }
    },
  };
}

const nobleEngine: AesGcmEngine = {
  name: 'noble',
  // noble derives J0 through GHASH for any nonce of at least 64 bits.
  nonceBytes: { min: 8, max: 1 << 16 },
  async seal(key, nonce, plaintext, aad, headroom) {
    const sealed = gcm(key.bytes, nonce, aad.length > 0 ? aad : undefined).encrypt(plaintext);
    if (headroom === 0) return sealed;
    const out = new Uint8Array(headroom + sealed.length);
    out.set(sealed, headroom);
    return out;
  },
  async open(key, nonce, sealed, aad) {
    if (sealed.length < GCM_TAG_BYTES) return null;
    try {
      return gcm(key.bytes, nonce, aad.length > 0 ? aad : undefined).decrypt(sealed);
    } catch {
      return null;
    }
  },
};

let engines: Partial<Record<AesGcmEngineName, AesGcmEngine>> | undefined;

function detect(): Partial<Record<AesGcmEngineName, AesGcmEngine>> {
  if (engines) return engines;
  const found: Partial<Record<AesGcmEngineName, AesGcmEngine>> = {};
  const node = nodeCrypto();
  if (node && node.getCiphers().includes('aes-256-gcm')) found.node = createNodeEngine(node);
  const subtle = subtleCrypto();
  if (subtle) found.webcrypto = createWebCryptoEngine(subtle);
  found.noble = nobleEngine;
  engines = found;
  return found;
}

/** @internal */
export const engineChoiceSchema = z.enum(['auto', 'node', 'webcrypto', 'noble']);

const ENGINE_CHOICES: ReadonlySet<unknown> = new Set(engineChoiceSchema.options);

/** Whether `choice` is an engine name or `'auto'` (what {@link engineChoiceSchema} accepts). @internal */
export function isAesGcmEngineChoice(choice: unknown): choice is AesGcmEngineChoice {
  return ENGINE_CHOICES.has(choice);
}

/**
 * Lists the AES-GCM engines this runtime offers, fastest first. `noble` is always present.
 *
 * @example
 * ```ts
 * import { availableAesGcmEngines } from 'digital-fabrica/security';
 * console.log(availableAesGcmEngines()); // on Node: ['node', 'webcrypto', 'noble']
 * ```
 */
export function availableAesGcmEngines(): AesGcmEngineName[] {
  const found = detect();
  return (['node', 'webcrypto', 'noble'] as const).filter((name) => found[name] !== undefined);
}

/**
 * Resolves an engine choice to an implementation.
 * @throws `VALIDATION_FAILED` for an unknown name, or a forced engine this runtime lacks.
 * @internal
 */
export function resolveAesGcmEngine(choice: unknown = 'auto'): AesGcmEngine {
  // Valid names skip zod (this runs on every call); anything else gets its VALIDATION_FAILED from it.
  const name = isAesGcmEngineChoice(choice) ? choice : parseInput(engineChoiceSchema, choice, 'AES-GCM engine');
  const found = detect();
  if (name === 'auto') return found.node ?? found.webcrypto ?? nobleEngine;
  const engine = found[name];
  if (!engine) throw invalidInput(`AES-GCM engine '${name}' is not available in this runtime`, { engine: name });
  return engine;
}
