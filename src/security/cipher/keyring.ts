import { z } from 'zod';
import type { StorageAdapter } from '../../adapters/storage.js';
import { ConflictError, FabricaError, NotFoundError } from '../../core/errors.js';
import { parseInput } from '../../core/validation.js';
import { decodeUtf8, encodeBase64url, wipe } from '../internal/bytes.js';
import { authFailed } from '../internal/errors.js';
import { bytesOrText, keyIdSchema } from '../internal/schemas.js';
import { messageBytes, openEnvelope, sealEnvelope, type DecryptOptions, type EncryptOptions } from './aes-gcm.js';
import { engineChoiceSchema, resolveAesGcmEngine, type AesGcmEngine, type AesGcmEngineChoice } from './engines.js';
import { envelopeBytes, parseEnvelope, type ParsedEnvelope } from './envelope.js';
import { AesKey, materialOf, type AesJwk } from './key.js';
import { decryptTransform, encryptTransform, STREAM_DEFAULT_SEGMENT_BYTES, STREAM_MAX_SEGMENT_BYTES, STREAM_MIN_SEGMENT_BYTES } from './stream.js';
import { localCounters, storageCounters, UsageLedger } from './usage.js';

/** NIST SP 800-38D §8.3: at most 2^32 random-nonce GCM messages per key. The default limit. */
export const GCM_RANDOM_NONCE_MESSAGE_LIMIT = 2 ** 32;

/** Options of {@link Keyring}. */
export interface KeyringOptions {
  /** Initial keys. Ids must be unique. */
  readonly keys?: readonly AesKey[];
  /** Which key encrypts (default: the last of `keys`). */
  readonly activeKeyId?: string;
  /**
   * Where per-key message counters live, shared by every process that uses this keyring `name`
   * on the same storage. Without it, counts live in this object only and restart at 0.
   */
  readonly storage?: StorageAdapter;
  /** Separates the counters of several keyrings on one storage (default `'default'`). */
  readonly name?: string;
  /** Storage namespace of the counters (default `'security.keyring'`). */
  readonly namespace?: string;
  /**
   * Messages a key may seal, 1 – 2^32 (default 2^32, NIST SP 800-38D §8.3). Lower it for a tighter
   * nonce-collision bound: the probability is about n²/2^97 after n messages.
   */
  readonly maxMessagesPerKey?: number;
  /**
   * At the limit: `'refuse'` (default) fails with `CRYPTO_KEY_EXHAUSTED` until the host rotates;
   * `'rotate'` generates a new key, hands it to `onRotate`, makes it active and carries on.
   */
  readonly onLimit?: 'refuse' | 'rotate';
  /**
   * Called with every key the keyring creates ({@link Keyring.rotate} and automatic rotation),
   * before it becomes active: persist or distribute it here (other processes need it to decrypt).
   * If it throws, the key is discarded and the error propagates.
   */
  readonly onRotate?: (key: AesKey) => void | Promise<void>;
  /**
   * Counter slots reserved per storage round trip (default 1, at most 65 536). Larger blocks save
   * round trips; a block left unused when the process stops is lost budget, never overspent.
   */
  readonly reserveBatch?: number;
  /** Force an AES-GCM engine for every operation (default `'auto'`). */
  readonly engine?: AesGcmEngineChoice;
}

/** A JWK Set of keyring keys, with the active key's id (RFC 7517 §5 allows extra members). */
export interface KeyringJwks {
  /** Every key, secrets included. */
  readonly keys: readonly AesJwk[];
  /** Id of the key that encrypts. */
  readonly active?: string;
}

/** How much of a key's message budget is spent. */
export interface KeyUsage {
  /** The key. */
  readonly keyId: string;
  /** Messages counted (reserved) so far, across processes sharing the storage. */
  readonly used: number;
  /** The configured limit. */
  readonly limit: number;
  /** `limit - used`, never negative. */
  readonly remaining: number;
}

/** Options of {@link Keyring.reencrypt}. */
export interface ReencryptOptions {
  /** AAD the envelope was sealed with. */
  readonly aad?: Uint8Array | string;
  /** AAD for the new envelope (default: the same as `aad`). */
  readonly newAad?: Uint8Array | string;
}

/** Options of {@link Keyring.createEncryptStream}. */
export interface KeyringStreamOptions {
  /** Associated data bound to the whole stream. */
  readonly aad?: Uint8Array | string;
  /** Plaintext bytes per segment, 16 B – 16 MiB (default 64 KiB). Ignored when decrypting. */
  readonly segmentSize?: number;
}

const storageSchema = z.custom<StorageAdapter>(
  (v) => typeof v === 'object' && v !== null && typeof (v as StorageAdapter).add === 'function',
  { message: 'expected a StorageAdapter' },
);

const optionsSchema = z
  .strictObject({
    keys: z.array(z.custom<AesKey>((v) => v instanceof AesKey, { message: 'expected an AesKey' })).optional(),
    activeKeyId: keyIdSchema.optional(),
    storage: storageSchema.optional(),
    name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/).optional(),
    namespace: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/).optional(),
    maxMessagesPerKey: z.number().int().min(1).max(GCM_RANDOM_NONCE_MESSAGE_LIMIT).optional(),
    onLimit: z.enum(['refuse', 'rotate']).optional(),
    onRotate: z.custom<(key: AesKey) => void | Promise<void>>((v) => typeof v === 'function').optional(),
    reserveBatch: z.number().int().min(1).max(65_536).optional(),
    engine: engineChoiceSchema.optional(),
  })
  .optional();

const addOptionsSchema = z.strictObject({ activate: z.boolean().optional() }).optional();
const rotateOptionsSchema = z.strictObject({ id: keyIdSchema.optional() }).optional();
// The engine is chosen once for the whole keyring, so per-call options carry only the AAD.
const aadOptionsSchema = z.strictObject({ aad: bytesOrText.optional() }).optional();
const reencryptOptionsSchema = z.strictObject({ aad: bytesOrText.optional(), newAad: bytesOrText.optional() }).optional();
const streamOptionsSchema = z
  .strictObject({ aad: bytesOrText.optional(), segmentSize: z.number().int().min(STREAM_MIN_SEGMENT_BYTES).max(STREAM_MAX_SEGMENT_BYTES).optional() })
  .optional();
const jwksSchema = z.looseObject({ keys: z.array(z.unknown()).min(1), active: keyIdSchema.optional() });
const EMPTY = new Uint8Array(0);

/**
 * Named AES-256 keys: one active key encrypts, every key decrypts (the envelope names its key),
 * so keys can be rotated without re-encrypting everything at once. Counts messages per key and
 * enforces the random-nonce limit of NIST SP 800-38D §8.3, across processes when given a
 * StorageAdapter. The keyring keeps keys in memory only: persist them with {@link Keyring.exportJwks}
 * (in a secrets manager) or the `onRotate` hook.
 *
 * @example
 * ```ts
 * import { Keyring } from 'digital-fabrica/security';
 * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
 *
 * const keyring = new Keyring({ storage: createMemoryStorage(), onLimit: 'rotate' });
 * await keyring.rotate(); // first key
 * const envelope = await keyring.encrypt('card 4242', { aad: 'user:7' });
 * await keyring.rotate(); // new writes use the new key; old envelopes still decrypt
 * console.log(await keyring.decryptText(envelope, { aad: 'user:7' })); // 'card 4242'
 * const fresh = await keyring.reencrypt(envelope, { aad: 'user:7' }); // now under the active key
 * ```
 */
export class Keyring {
  readonly #keys = new Map<string, AesKey>();
  #activeId: string | undefined;
  readonly #ledger: UsageLedger;
  readonly #onLimit: 'refuse' | 'rotate';
  readonly #onRotate: ((key: AesKey) => void | Promise<void>) | undefined;
  readonly #engine: AesGcmEngine;
  #rotation: Promise<void> | undefined;

  /**
   * Creates a keyring; does no I/O.
   * @throws `VALIDATION_FAILED` for bad options, `CONFLICT` for duplicate key ids, `NOT_FOUND`
   *   when `activeKeyId` names no key.
   */
  constructor(options?: KeyringOptions) {
    const parsed = parseInput(optionsSchema, options, 'keyring options') ?? {};
    const limit = parsed.maxMessagesPerKey ?? GCM_RANDOM_NONCE_MESSAGE_LIMIT;
    const source = parsed.storage
      ? storageCounters(parsed.storage, parsed.namespace ?? 'security.keyring', `${parsed.name ?? 'default'}/`)
      : localCounters();
    this.#ledger = new UsageLedger(source, limit, parsed.reserveBatch ?? 1);
    this.#onLimit = parsed.onLimit ?? 'refuse';
    this.#onRotate = parsed.onRotate;
    this.#engine = resolveAesGcmEngine(parsed.engine ?? 'auto');
    for (const key of parsed.keys ?? []) this.#insert(key);
    const active = parsed.activeKeyId ?? parsed.keys?.at(-1)?.id;
    if (active !== undefined) this.activate(active);
  }

  /**
   * Builds a keyring from a JWK Set (as {@link Keyring.exportJwks} writes it). The active key is
   * `options.activeKeyId`, else the set's `active` member, else the last key.
   * @throws `VALIDATION_FAILED` for a malformed set or key, plus the constructor's errors.
   * @example
   * ```ts
   * import { Keyring, AesKey } from 'digital-fabrica/security';
   * const original = new Keyring({ keys: [AesKey.generate({ id: 'k1' })] });
   * const restored = Keyring.fromJwks(original.exportJwks());
   * console.log(restored.activeKeyId); // 'k1'
   * ```
   */
  static fromJwks(jwks: unknown, options?: Omit<KeyringOptions, 'keys'>): Keyring {
    const set = parseInput(jwksSchema, jwks, 'keyring JWK set');
    const keys = set.keys.map((jwk) => AesKey.fromJwk(jwk));
    const activeKeyId = options?.activeKeyId ?? set.active;
    return new Keyring({ ...options, keys, ...(activeKeyId === undefined ? {} : { activeKeyId }) });
  }

  /** Id of the key that encrypts, or `undefined` for an empty keyring. */
  get activeKeyId(): string | undefined {
    return this.#activeId;
  }

  /** Ids of every key, in insertion order. */
  keyIds(): string[] {
    return [...this.#keys.keys()];
  }

  /**
   * Adds a key for decryption, and for encryption too with `{ activate: true }`.
   * @throws `VALIDATION_FAILED` (not an AesKey), `CONFLICT` (id already present).
   * @example
   * ```ts
   * import { Keyring, AesKey } from 'digital-fabrica/security';
   * const keyring = new Keyring();
   * keyring.add(AesKey.generate({ id: 'old' }));
   * keyring.add(AesKey.generate({ id: 'new' }), { activate: true });
   * console.log(keyring.activeKeyId); // 'new'
   * ```
   */
  add(key: AesKey, options?: { activate?: boolean }): void {
    const parsedKey = parseInput(z.custom<AesKey>((v) => v instanceof AesKey, { message: 'expected an AesKey' }), key, 'key');
    const { activate } = parseInput(addOptionsSchema, options, 'add options') ?? {};
    this.#insert(parsedKey);
    if (activate === true || this.#activeId === undefined) this.#activeId = parsedKey.id;
  }

  #insert(key: AesKey): void {
    if (this.#keys.has(key.id)) throw new ConflictError(`keyring already holds a key with id '${key.id}'`, { details: { keyId: key.id } });
    this.#keys.set(key.id, key);
  }

  /**
   * Makes an existing key the one that encrypts.
   * @throws `NOT_FOUND` when no key has this id.
   * @example
   * ```ts
   * import { Keyring, AesKey } from 'digital-fabrica/security';
   * const keyring = new Keyring({ keys: [AesKey.generate({ id: 'a' }), AesKey.generate({ id: 'b' })] });
   * keyring.activate('a');
   * ```
   */
  activate(keyId: string): void {
    const id = parseInput(keyIdSchema, keyId, 'key id');
    if (!this.#keys.has(id)) throw new NotFoundError(`keyring has no key '${id}'`, { details: { keyId: id } });
    this.#activeId = id;
  }

  /**
   * Removes a retired key: envelopes sealed with it can no longer be decrypted.
   * @throws `NOT_FOUND` (no such key), `CONFLICT` (it is the active key).
   * @example
   * ```ts
   * import { Keyring, AesKey } from 'digital-fabrica/security';
   * const keyring = new Keyring({ keys: [AesKey.generate({ id: 'a' }), AesKey.generate({ id: 'b' })] });
   * keyring.remove('a');
   * ```
   */
  remove(keyId: string): void {
    const id = parseInput(keyIdSchema, keyId, 'key id');
    if (!this.#keys.has(id)) throw new NotFoundError(`keyring has no key '${id}'`, { details: { keyId: id } });
    if (this.#activeId === id) throw new ConflictError('cannot remove the active key; activate another first', { details: { keyId: id } });
    this.#keys.delete(id);
    this.#ledger.forget(id);
  }

  /**
   * Generates a new key, passes it to `onRotate`, then makes it active. Older keys stay for
   * decryption.
   * @throws `VALIDATION_FAILED` (bad id), `CONFLICT` (id taken), whatever `onRotate` throws.
   * @example
   * ```ts
   * import { Keyring } from 'digital-fabrica/security';
   * const keyring = new Keyring();
   * const key = await keyring.rotate({ id: '2026-07' });
   * console.log(keyring.activeKeyId === key.id); // true
   * ```
   */
  async rotate(options?: { id?: string }): Promise<AesKey> {
    const { id } = parseInput(rotateOptionsSchema, options, 'rotate options') ?? {};
    const key = AesKey.generate(id === undefined ? undefined : { id });
    if (this.#keys.has(key.id)) throw new ConflictError(`keyring already holds a key with id '${key.id}'`, { details: { keyId: key.id } });
    await this.#onRotate?.(key);
    this.add(key, { activate: true });
    return key;
  }

  /**
   * Messages counted against a key's budget (default: the active key).
   * @throws `NOT_FOUND` (unknown key or empty keyring), `ADAPTER_UNAVAILABLE` (storage down).
   * @example
   * ```ts
   * import { Keyring } from 'digital-fabrica/security';
   * const keyring = new Keyring({ maxMessagesPerKey: 1000 });
   * await keyring.rotate();
   * await keyring.encrypt('x');
   * console.log((await keyring.usage()).remaining); // 999
   * ```
   */
  async usage(keyId?: string): Promise<KeyUsage> {
    const id = keyId === undefined ? this.#active().id : parseInput(keyIdSchema, keyId, 'key id');
    if (!this.#keys.has(id)) throw new NotFoundError(`keyring has no key '${id}'`, { details: { keyId: id } });
    const used = await this.#ledger.used(id);
    return { keyId: id, used, limit: this.#ledger.limit, remaining: Math.max(0, this.#ledger.limit - used) };
  }

  /**
   * Encrypts under the active key (see {@link encrypt}), after counting the message.
   * @throws `VALIDATION_FAILED`, `PAYLOAD_TOO_LARGE` (as {@link encrypt}), `NOT_FOUND` (empty
   *   keyring), `CRYPTO_KEY_EXHAUSTED` (limit reached with `onLimit: 'refuse'`),
   *   `ADAPTER_UNAVAILABLE` (storage down).
   * @example
   * ```ts
   * import { Keyring, AesKey } from 'digital-fabrica/security';
   * const keyring = new Keyring({ keys: [AesKey.generate()] });
   * const envelope = await keyring.encrypt(new Uint8Array([1, 2, 3]));
   * ```
   */
  async encrypt(plaintext: Uint8Array | string, options?: Omit<EncryptOptions, 'engine'>): Promise<Uint8Array> {
    const data = messageBytes(plaintext, 'plaintext');
    const aad = this.#aad(options);
    const key = await this.#reserve();
    return sealEnvelope(this.#engine, materialOf(key), key.id, data, aad);
  }

  /**
   * Like {@link Keyring.encrypt}, returning base64url text.
   * @throws as {@link Keyring.encrypt}.
   * @example
   * ```ts
   * import { Keyring, AesKey } from 'digital-fabrica/security';
   * const keyring = new Keyring({ keys: [AesKey.generate()] });
   * const token = await keyring.encryptToBase64url('session 7');
   * ```
   */
  async encryptToBase64url(plaintext: Uint8Array | string, options?: Omit<EncryptOptions, 'engine'>): Promise<string> {
    return encodeBase64url(await this.encrypt(plaintext, options));
  }

  /**
   * Decrypts an envelope with the key its header names.
   * @throws `VALIDATION_FAILED` (not an envelope), `CRYPTO_AUTH_FAILED` (unknown key id — reason
   *   `unknown_key_id` —, wrong AAD, any altered byte; no plaintext is released).
   * @example
   * ```ts
   * import { Keyring, AesKey } from 'digital-fabrica/security';
   * const keyring = new Keyring({ keys: [AesKey.generate()] });
   * const plain = await keyring.decrypt(await keyring.encrypt('x'));
   * ```
   */
  async decrypt(envelope: Uint8Array | string, options?: Omit<DecryptOptions, 'engine'>): Promise<Uint8Array> {
    const bytes = envelopeBytes(envelope, 'envelope');
    const aad = this.#aad(options);
    const { parsed, key } = this.#lookup(bytes);
    return openEnvelope(this.#engine, materialOf(key), parsed, aad, 'envelope');
  }

  /**
   * Decrypts an envelope and decodes it as UTF-8.
   * @throws as {@link Keyring.decrypt}, plus `VALIDATION_FAILED` when the plaintext is not UTF-8.
   * @example
   * ```ts
   * import { Keyring, AesKey } from 'digital-fabrica/security';
   * const keyring = new Keyring({ keys: [AesKey.generate()] });
   * console.log(await keyring.decryptText(await keyring.encrypt('hi'))); // 'hi'
   * ```
   */
  async decryptText(envelope: Uint8Array | string, options?: Omit<DecryptOptions, 'engine'>): Promise<string> {
    const plaintext = await this.decrypt(envelope, options);
    try {
      return decodeUtf8(plaintext, 'plaintext');
    } finally {
      wipe(plaintext);
    }
  }

  /**
   * Returns the envelope sealed under the active key: the input bytes themselves when it already
   * is (after verifying it, and without spending budget), else a fresh envelope. Run it over
   * stored ciphertexts after a rotation, then {@link Keyring.remove} the old key.
   * @throws as {@link Keyring.decrypt} and {@link Keyring.encrypt}.
   * @example
   * ```ts
   * import { Keyring, AesKey } from 'digital-fabrica/security';
   * const keyring = new Keyring({ keys: [AesKey.generate({ id: 'old' })] });
   * const envelope = await keyring.encrypt('x');
   * await keyring.rotate();
   * const fresh = await keyring.reencrypt(envelope);
   * keyring.remove('old');
   * ```
   */
  async reencrypt(envelope: Uint8Array | string, options?: ReencryptOptions): Promise<Uint8Array> {
    const bytes = envelopeBytes(envelope, 'envelope');
    const parsedOptions = parseInput(reencryptOptionsSchema, options, 're-encrypt options');
    const aad = parsedOptions?.aad === undefined ? EMPTY : messageBytes(parsedOptions.aad, 'associated data');
    const newAad = parsedOptions?.newAad === undefined ? aad : messageBytes(parsedOptions.newAad, 'associated data');
    const { parsed, key } = this.#lookup(bytes);
    const plaintext = await openEnvelope(this.#engine, materialOf(key), parsed, aad, 'envelope');
    try {
      if (key.id === this.#activeId && newAad === aad) return bytes;
      const target = await this.#reserve();
      return await sealEnvelope(this.#engine, materialOf(target), target.id, plaintext, newAad);
    } finally {
      wipe(plaintext);
    }
  }

  /**
   * A `TransformStream` encrypting under the active key (see {@link createEncryptStream}).
   * Streams use a per-stream HKDF subkey, so they do not count against the key's message budget.
   * @throws `VALIDATION_FAILED` (bad options), `NOT_FOUND` (empty keyring).
   * @example
   * ```ts
   * import { Keyring, AesKey } from 'digital-fabrica/security';
   * const keyring = new Keyring({ keys: [AesKey.generate()] });
   * const sealed = new Blob(['big data']).stream().pipeThrough(keyring.createEncryptStream());
   * const plain = await new Response(sealed.pipeThrough(keyring.createDecryptStream())).text();
   * ```
   */
  createEncryptStream(options?: KeyringStreamOptions): TransformStream<Uint8Array, Uint8Array> {
    const parsed = parseInput(streamOptionsSchema, options, 'stream options');
    const aad = parsed?.aad === undefined ? EMPTY : messageBytes(parsed.aad, 'associated data');
    const key = this.#active();
    return encryptTransform(this.#engine, materialOf(key), key.id, aad, parsed?.segmentSize ?? STREAM_DEFAULT_SEGMENT_BYTES);
  }

  /**
   * A `TransformStream` decrypting a stream sealed under any key of this keyring
   * (see {@link createDecryptStream}).
   * @throws `VALIDATION_FAILED` (bad options); the stream errors with `CRYPTO_AUTH_FAILED`.
   * @example
   * ```ts
   * import { Keyring, AesKey } from 'digital-fabrica/security';
   * const keyring = new Keyring({ keys: [AesKey.generate()] });
   * const decrypting = keyring.createDecryptStream({ aad: 'file:9' });
   * ```
   */
  createDecryptStream(options?: Omit<KeyringStreamOptions, 'segmentSize'>): TransformStream<Uint8Array, Uint8Array> {
    const parsed = parseInput(streamOptionsSchema, options, 'stream options');
    const aad = parsed?.aad === undefined ? EMPTY : messageBytes(parsed.aad, 'associated data');
    return decryptTransform(this.#engine, (keyId) => {
      const key = this.#keys.get(keyId);
      return key === undefined ? undefined : materialOf(key);
    }, aad, STREAM_MAX_SEGMENT_BYTES);
  }

  /**
   * Exports every key as a JWK Set with the active key's id. Contains SECRETS: store it in a
   * secrets manager or encrypted, never in logs.
   * @example
   * ```ts
   * import { Keyring, AesKey } from 'digital-fabrica/security';
   * const jwks = new Keyring({ keys: [AesKey.generate({ id: 'k1' })] }).exportJwks();
   * console.log(jwks.active, jwks.keys.length); // 'k1' 1
   * ```
   */
  exportJwks(): KeyringJwks {
    const keys = [...this.#keys.values()].map((key) => key.toJwk());
    return this.#activeId === undefined ? { keys } : { keys, active: this.#activeId };
  }

  #aad(options: unknown): Uint8Array {
    const parsed = parseInput(aadOptionsSchema, options, 'cipher options');
    return parsed?.aad === undefined ? EMPTY : messageBytes(parsed.aad, 'associated data');
  }

  #active(): AesKey {
    const key = this.#activeId === undefined ? undefined : this.#keys.get(this.#activeId);
    if (!key) throw new NotFoundError('keyring has no active key; add a key or call rotate()');
    return key;
  }

  #lookup(bytes: Uint8Array): { parsed: ParsedEnvelope; key: AesKey } {
    const parsed = parseEnvelope(bytes, 'envelope');
    if (parsed.algorithm !== 'A256GCM') throw authFailed('envelope', 'unsupported_algorithm');
    const key = this.#keys.get(parsed.keyId);
    if (!key) throw authFailed('envelope', 'unknown_key_id', { keyId: parsed.keyId });
    return { parsed, key };
  }

  /** Takes a message slot on the active key, rotating or refusing at the limit. */
  async #reserve(): Promise<AesKey> {
    for (;;) {
      const key = this.#active();
      if (await this.#ledger.reserve(key.id)) return key;
      if (this.#onLimit === 'refuse') {
        throw new FabricaError('CRYPTO_KEY_EXHAUSTED', 'the active key reached its message limit; rotate the keyring', {
          details: { keyId: key.id, limit: this.#ledger.limit },
        });
      }
      // Concurrent encrypts that all hit the limit share one rotation.
      if (this.#activeId === key.id) {
        this.#rotation ??= this.rotate()
          .then(() => undefined)
          .finally(() => {
            this.#rotation = undefined;
          });
        await this.#rotation;
      }
    }
  }
}
