import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK } from 'jose';
import { z } from 'zod';
import type { StorageAdapter } from '../../adapters/storage.js';
import type { Clock } from '../../core/clock.js';
import { systemClock } from '../../core/clock.js';
import { FabricaError, hasErrorCode } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { silentLogger } from '../../core/logger.js';
import { parseInput } from '../../core/validation.js';
import type { Keyring } from '../../security/primitives.js';
import { TokenInvalidError } from '../errors.js';
import { clockSchema, durationMs, keyringSchema, loggerSchema, namespaceSchema, storageSchema } from '../internal/options.js';
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from './algorithms.js';
import { importJwsKey, type JwsKey, type PublicJwk } from './jws-key.js';

/** Where a key is in its life, at a given time. */
export type SigningKeyStatus =
  /** Published in the JWKS and verifying, not signing yet (`activatesAt` in the future). */
  | 'pending'
  /** The key new tokens are signed with. */
  | 'active'
  /** Replaced: no longer signs, still verifies until `verifyUntil`. */
  | 'verifying'
  /** Past `verifyUntil`: tokens signed with it are rejected; not in the JWKS. */
  | 'retired';

/** Public facts about one key of a {@link SigningKeySet}. */
export interface SigningKeyInfo {
  /** Key id: the RFC 7638 thumbprint of the public key. */
  readonly kid: string;
  /** Signature algorithm. */
  readonly alg: SigningAlgorithm;
  /** Creation time, epoch ms. */
  readonly createdAt: number;
  /** From when the key signs, epoch ms. */
  readonly activatesAt: number;
  /** Until when tokens signed with it verify (exclusive), or `null` while it is the newest key. */
  readonly verifyUntil: number | null;
  /** Status at the time of the call. */
  readonly status: SigningKeyStatus;
}

/** A JWK Set (RFC 7517 §5) of public keys, for `/.well-known/jwks.json`. */
export interface JwksDocument {
  /** Public keys: pending, active and verifying ones, newest first. */
  readonly keys: readonly PublicJwk[];
}

/** Options of {@link createSigningKeySet}. */
export interface SigningKeySetOptions {
  /** Algorithm of new keys (default `'RS256'`). */
  readonly algorithm?: SigningAlgorithm;
  /** RSA modulus of new RSA keys: 2048 (default), 3072 or 4096 bits. */
  readonly modulusLength?: 2048 | 3072 | 4096;
  /**
   * Where keys live, shared by every process using the same `name` (default: this object only).
   * Private keys are stored encrypted with `keyring`, which is then required.
   */
  readonly storage?: StorageAdapter;
  /** Encrypts private keys at rest (AES-256-GCM); required with `storage`. */
  readonly keyring?: Keyring;
  /** Storage namespace (default `'identity.keys'`). */
  readonly namespace?: string;
  /** Separates several key sets on one storage (default `'access-tokens'`). */
  readonly name?: string;
  /** Time source (default: system clock). */
  readonly clock?: Clock;
  /** Logger (default: silent). Never receives key material. */
  readonly logger?: Logger;
  /**
   * How long a replaced key keeps verifying after it stops signing, in ms (default 1 hour). Must
   * cover the longest token lifetime plus clock tolerance plus `refreshIntervalMs`, or tokens
   * signed just before a rotation are rejected before they expire.
   */
  readonly verifyForMs?: number;
  /** How often a process re-reads the key set from storage, in ms (default 60 000). */
  readonly refreshIntervalMs?: number;
  /** How long retired keys stay on record (reported as `retired_key` rather than `unknown_key`), in ms (default 7 days). */
  readonly retainRetiredMs?: number;
}

/** Options of {@link SigningKeySet.rotate}. */
export interface RotateOptions {
  /**
   * Publish the new key this long before it starts signing (default 0), so every verifier — also
   * third parties caching the JWKS — knows it before the first token signed with it arrives.
   */
  readonly publishAheadMs?: number;
}

/** What is stored per key. @internal */
interface KeyRecord {
  kid: string;
  alg: SigningAlgorithm;
  createdAt: number;
  activatesAt: number;
  verifyUntil: number | null;
  publicJwk: PublicJwk;
  /** Keyring envelope (base64url) of the private JWK; `null` once retired (crypto-shredded). */
  privateKey: string | null;
}

interface Entry {
  record: KeyRecord;
  readonly verifyKey: JwsKey;
  privateKey?: Promise<CryptoKey>;
}

const DOC_VERSION = 1;
const MAX_CAS_ATTEMPTS = 8;

const optionsSchema = z
  .strictObject({
    algorithm: z.enum(SIGNING_ALGORITHMS as [SigningAlgorithm, ...SigningAlgorithm[]]).optional(),
    modulusLength: z.union([z.literal(2048), z.literal(3072), z.literal(4096)]).optional(),
    storage: storageSchema.optional(),
    keyring: keyringSchema.optional(),
    namespace: namespaceSchema.optional(),
    name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/).optional(),
    clock: clockSchema.optional(),
    logger: loggerSchema.optional(),
    verifyForMs: durationMs(1_000, 30 * 86_400_000).optional(),
    refreshIntervalMs: durationMs(100, 86_400_000).optional(),
    retainRetiredMs: durationMs(0, 365 * 86_400_000).optional(),
  })
  .refine((o) => o.storage === undefined || o.keyring !== undefined, { message: 'a keyring is required with storage: private keys are never stored in clear', path: ['keyring'] })
  .optional();
const rotateSchema = z.strictObject({ publishAheadMs: durationMs(0, 30 * 86_400_000).optional() }).optional();
const maxAgeSchema = durationMs(1, 10 * 365 * 86_400_000);

const recordSchema = z.object({
  kid: z.string(),
  alg: z.enum(SIGNING_ALGORITHMS as [SigningAlgorithm, ...SigningAlgorithm[]]),
  createdAt: z.number(),
  activatesAt: z.number(),
  verifyUntil: z.number().nullable(),
  publicJwk: z.looseObject({ kty: z.enum(['RSA', 'EC', 'OKP']), kid: z.string(), alg: z.string(), use: z.literal('sig') }),
  privateKey: z.string().nullable(),
});
const docSchema = z.object({ v: z.literal(DOC_VERSION), keys: z.array(recordSchema) });

/** Parses the stored document (a corrupt one fails loudly rather than signing with garbage). */
function parseDoc(value: unknown): KeyRecord[] {
  return parseInput(docSchema, value, 'stored signing keys').keys as unknown as KeyRecord[];
}

function statusAt(record: KeyRecord, now: number, signerKid: string | undefined): SigningKeyStatus {
  if (record.verifyUntil !== null && record.verifyUntil <= now) return 'retired';
  if (record.kid === signerKid) return 'active';
  if (record.activatesAt > now) return 'pending';
  return 'verifying';
}

/**
 * The key that signs at `now`: among activated, unretired keys, one not yet replaced (no
 * `verifyUntil`) wins over replaced ones (which sign only while their successor is pending), then
 * the latest `activatesAt`, then the latest added (records are kept in insertion order).
 */
function signerOf(records: Iterable<KeyRecord>, now: number): KeyRecord | undefined {
  let best: KeyRecord | undefined;
  for (const r of records) {
    if (r.activatesAt > now || (r.verifyUntil !== null && r.verifyUntil <= now)) continue;
    if (!best) {
      best = r;
      continue;
    }
    const current = r.verifyUntil === null;
    const bestCurrent = best.verifyUntil === null;
    if (current !== bestCurrent ? current : r.activatesAt >= best.activatesAt) best = r;
  }
  return best;
}

/**
 * The signing keys of access tokens, with rotation: the newest key signs, replaced keys keep
 * verifying until `verifyUntil` (then they are retired and rejected), and {@link jwks} publishes
 * every key that may still verify. With a StorageAdapter the set is shared by every process: a
 * rotation is one compare-and-set on one document; other processes re-read it every
 * `refreshIntervalMs` and at once when a token names a `kid` they do not know.
 *
 * Create it with {@link createSigningKeySet}.
 *
 * @example
 * ```ts
 * import { createSigningKeySet } from 'digital-fabrica/identity';
 * const keys = await createSigningKeySet({ algorithm: 'EdDSA' });
 * const next = await keys.rotate();
 * console.log(keys.jwks().keys.length, next.status); // 2 'active'
 * ```
 */
export class SigningKeySet {
  readonly #algorithm: SigningAlgorithm;
  readonly #modulusLength: number;
  readonly #storage: StorageAdapter | undefined;
  readonly #keyring: Keyring | undefined;
  readonly #namespace: string;
  readonly #name: string;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #verifyForMs: number;
  readonly #refreshIntervalMs: number;
  readonly #retainRetiredMs: number;
  readonly #entries = new Map<string, Entry>();
  // Without storage, private keys stay here (never serialised).
  readonly #localPrivate = new Map<string, CryptoKey>();
  #loadedAt = Number.NEGATIVE_INFINITY;
  #lastUnknownReload = Number.NEGATIVE_INFINITY;
  #reloading: Promise<void> | undefined;

  /** @internal Use {@link createSigningKeySet}. */
  constructor(options: SigningKeySetOptions) {
    this.#algorithm = options.algorithm ?? 'RS256';
    this.#modulusLength = options.modulusLength ?? 2048;
    this.#storage = options.storage;
    this.#keyring = options.keyring;
    this.#namespace = options.namespace ?? 'identity.keys';
    this.#name = options.name ?? 'access-tokens';
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
    this.#verifyForMs = options.verifyForMs ?? 3_600_000;
    this.#refreshIntervalMs = options.refreshIntervalMs ?? 60_000;
    this.#retainRetiredMs = options.retainRetiredMs ?? 7 * 86_400_000;
  }

  /** Algorithm of new keys. */
  get algorithm(): SigningAlgorithm {
    return this.#algorithm;
  }

  /** How long a replaced key keeps verifying, in ms. */
  get verifyForMs(): number {
    return this.#verifyForMs;
  }

  /**
   * Every key on record with its status now, newest first.
   *
   * @example
   * ```ts
   * import { createSigningKeySet } from 'digital-fabrica/identity';
   * const keys = await createSigningKeySet({ algorithm: 'ES256' });
   * console.log(keys.list()[0]?.status); // 'active'
   * ```
   */
  list(): SigningKeyInfo[] {
    const now = this.#clock.now();
    const records = [...this.#entries.values()].map((e) => e.record);
    const signer = signerOf(records, now)?.kid;
    return records
      .sort((a, b) => b.activatesAt - a.activatesAt || b.createdAt - a.createdAt)
      .map((r) => ({ kid: r.kid, alg: r.alg, createdAt: r.createdAt, activatesAt: r.activatesAt, verifyUntil: r.verifyUntil, status: statusAt(r, now, signer) }));
  }

  /**
   * The JWKS document: public keys that may still verify (pending, active, verifying). Serve it at
   * `/.well-known/jwks.json`; cache it for less than `publishAheadMs` if you publish ahead.
   *
   * @example
   * ```ts
   * import { createSigningKeySet } from 'digital-fabrica/identity';
   * const keys = await createSigningKeySet();
   * const body = JSON.stringify(keys.jwks()); // { "keys": [{ "kty": "RSA", "kid": "…", "alg": "RS256", "use": "sig", … }] }
   * ```
   */
  jwks(): JwksDocument {
    return {
      keys: this.list()
        .filter((k) => k.status !== 'retired')
        .map((k) => this.#entries.get(k.kid)!.record.publicJwk),
    };
  }

  /**
   * Creates a key and makes it the signer (after `publishAheadMs`); every other unretired key
   * stops signing then and verifies for `verifyForMs` more. Safe to call from several processes:
   * each call adds one key.
   *
   * @throws `VALIDATION_FAILED` for bad options; `CONFLICT` if storage kept changing under us;
   * storage errors (`ADAPTER_UNAVAILABLE`, ...).
   * @example
   * ```ts
   * import { createSigningKeySet } from 'digital-fabrica/identity';
   * const keys = await createSigningKeySet();
   * const info = await keys.rotate({ publishAheadMs: 60_000 });
   * console.log(info.status); // 'pending' for a minute, then 'active'
   * ```
   */
  async rotate(options?: RotateOptions): Promise<SigningKeyInfo> {
    const { publishAheadMs = 0 } = parseInput(rotateSchema, options, 'rotation options') ?? {};
    const created = await this.#rotateWhen(() => true, publishAheadMs);
    return created!;
  }

  /**
   * Rotates only if the newest key is older than `maxAgeMs`: run it on a schedule in every
   * process; the compare-and-set makes exactly one rotation happen.
   *
   * @returns the new key, or `null` when no rotation was due.
   * @throws as {@link rotate}.
   * @example
   * ```ts
   * import { createSigningKeySet } from 'digital-fabrica/identity';
   * const keys = await createSigningKeySet();
   * console.log(await keys.rotateIfOlderThan(30 * 86_400_000)); // null: the key is new
   * ```
   */
  async rotateIfOlderThan(maxAgeMs: number, options?: RotateOptions): Promise<SigningKeyInfo | null> {
    const maxAge = parseInput(maxAgeSchema, maxAgeMs, 'maximum key age');
    const { publishAheadMs = 0 } = parseInput(rotateSchema, options, 'rotation options') ?? {};
    return this.#rotateWhen((records, now) => {
      const newest = records.reduce<KeyRecord | undefined>((a, r) => (!a || r.createdAt > a.createdAt ? r : a), undefined);
      return !newest || now - newest.createdAt >= maxAge;
    }, publishAheadMs);
  }

  /**
   * Re-reads the key set from storage now (no-op without storage).
   *
   * @throws storage errors (`ADAPTER_UNAVAILABLE`, ...).
   * @example
   * ```ts
   * import { createSigningKeySet } from 'digital-fabrica/identity';
   * const keys = await createSigningKeySet();
   * await keys.refresh();
   * ```
   */
  async refresh(): Promise<void> {
    if (!this.#storage) return;
    // Coalesce: a burst of unknown kids triggers one read.
    this.#reloading ??= this.#load().finally(() => {
      this.#reloading = undefined;
    });
    await this.#reloading;
  }

  /** @internal Loads the set, creating the first key when there is none that can sign. */
  async init(): Promise<void> {
    await this.refresh();
    if (!signerOf(this.#records(), this.#clock.now())) await this.#rotateWhen((records, now) => !signerOf(records, now), 0);
  }

  /** @internal The key that signs now, with its private key. */
  async signer(): Promise<{ kid: string; alg: SigningAlgorithm; privateKey: CryptoKey }> {
    await this.#refreshIfStale();
    let now = this.#clock.now();
    let record = signerOf(this.#records(), now);
    if (!record) {
      // Every key retired (a process idle for longer than verifyForMs) or none yet: make one.
      await this.#rotateWhen((records, at) => !signerOf(records, at), 0);
      now = this.#clock.now();
      record = signerOf(this.#records(), now);
      if (!record) throw new FabricaError('INTERNAL', 'no signing key is available');
    }
    const entry = this.#entries.get(record.kid)!;
    entry.privateKey ??= this.#privateKeyOf(record).catch((err: unknown) => {
      entry.privateKey = undefined;
      throw err;
    });
    return { kid: record.kid, alg: record.alg, privateKey: await entry.privateKey };
  }

  /**
   * @internal The verification key for `kid` when it can be answered without I/O (the set is
   * fresh and knows the kid), else `undefined`. Throws for retired keys.
   */
  cachedVerificationKey(kid: string | undefined): JwsKey | undefined {
    if (kid === undefined) return undefined;
    const entry = this.#entries.get(kid);
    if (!entry) return undefined;
    const now = this.#clock.now();
    if (this.#storage && now - this.#loadedAt >= this.#refreshIntervalMs) return undefined;
    const { verifyUntil } = entry.record;
    if (verifyUntil !== null && verifyUntil <= now) throw new TokenInvalidError('retired_key', 'the token was signed with a retired key');
    return entry.verifyKey;
  }

  /**
   * @internal The verification key for `kid`. Unknown kids cause one storage re-read (at most
   * once per second), so keys rotated by another process are found; retired keys are rejected.
   */
  async verificationKey(kid: string | undefined): Promise<JwsKey> {
    if (kid === undefined) throw new TokenInvalidError('header', 'token header has no "kid"');
    await this.#refreshIfStale();
    let entry = this.#entries.get(kid);
    if (!entry && this.#storage) {
      const now = this.#clock.now();
      if (now - this.#lastUnknownReload >= 1_000) {
        this.#lastUnknownReload = now;
        await this.refresh();
        entry = this.#entries.get(kid);
      }
    }
    if (!entry) throw new TokenInvalidError('unknown_key', 'no signing key has the token\'s "kid"');
    const { verifyUntil } = entry.record;
    if (verifyUntil !== null && verifyUntil <= this.#clock.now()) throw new TokenInvalidError('retired_key', 'the token was signed with a retired key');
    return entry.verifyKey;
  }

  #records(): KeyRecord[] {
    return [...this.#entries.values()].map((e) => e.record);
  }

  async #refreshIfStale(): Promise<void> {
    if (this.#storage && this.#clock.now() - this.#loadedAt >= this.#refreshIntervalMs) await this.refresh();
  }

  async #load(): Promise<void> {
    const doc = await this.#storage!.get(this.#namespace, this.#name);
    await this.#apply(doc ? parseDoc(doc.value) : []);
  }

  /** Replaces in-memory state with `records`, reusing imported keys. */
  async #apply(records: readonly KeyRecord[]): Promise<void> {
    const next = new Map<string, Entry>();
    for (const record of records) {
      const existing = this.#entries.get(record.kid);
      if (existing) {
        existing.record = record;
        next.set(record.kid, existing);
      } else {
        next.set(record.kid, { record, verifyKey: await importJwsKey(record.publicJwk) });
      }
    }
    const now = this.#clock.now();
    this.#entries.clear();
    for (const [kid, entry] of next) {
      this.#entries.set(kid, entry);
      // A retired key never signs again: drop its private key from memory.
      if (entry.record.verifyUntil !== null && entry.record.verifyUntil <= now) {
        entry.privateKey = undefined;
        this.#localPrivate.delete(kid);
      }
    }
    for (const kid of this.#localPrivate.keys()) if (!next.has(kid)) this.#localPrivate.delete(kid);
    this.#loadedAt = now;
  }

  async #privateKeyOf(record: KeyRecord): Promise<CryptoKey> {
    const local = this.#localPrivate.get(record.kid);
    if (local) return local;
    if (!record.privateKey || !this.#keyring) throw new FabricaError('INTERNAL', 'the signing key has no private key on record');
    const jwk = JSON.parse(await this.#keyring.decryptText(record.privateKey, { aad: this.#aad(record.kid) })) as Record<string, unknown>;
    return (await importJWK(jwk, record.alg)) as CryptoKey;
  }

  #aad(kid: string): string {
    return `digital-fabrica/identity/signing-key/${this.#name}/${kid}`;
  }

  async #generate(now: number, activatesAt: number): Promise<{ record: KeyRecord; privateKey: CryptoKey }> {
    const alg = this.#algorithm;
    const { publicKey, privateKey } = await generateKeyPair(alg, {
      extractable: true,
      ...(alg.startsWith('RS') || alg.startsWith('PS') ? { modulusLength: this.#modulusLength } : {}),
      ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}),
    });
    const exported = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(exported);
    const publicJwk = { ...exported, kid, alg, use: 'sig' } as PublicJwk;
    let sealed: string | null = null;
    if (this.#storage) {
      const privateJwk = await exportJWK(privateKey);
      sealed = await this.#keyring!.encryptToBase64url(JSON.stringify(privateJwk), { aad: this.#aad(kid) });
    }
    return { record: { kid, alg, createdAt: now, activatesAt, verifyUntil: null, publicJwk, privateKey: sealed }, privateKey };
  }

  /** Adds a key when `due(records, now)` holds, atomically against other processes. */
  async #rotateWhen(due: (records: readonly KeyRecord[], now: number) => boolean, publishAheadMs: number): Promise<SigningKeyInfo | null> {
    let generated: { record: KeyRecord; privateKey: CryptoKey } | undefined;
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const stored = this.#storage ? await this.#storage.get(this.#namespace, this.#name) : null;
      const current = this.#storage ? (stored ? parseDoc(stored.value) : []) : this.#records();
      const now = this.#clock.now();
      if (!due(current, now)) {
        await this.#apply(current);
        return null;
      }
      const activatesAt = now + publishAheadMs;
      generated ??= await this.#generate(now, activatesAt);
      const fresh: KeyRecord = { ...generated.record, createdAt: now, activatesAt };
      const next: KeyRecord[] = [];
      for (const r of current) {
        if (r.verifyUntil !== null && r.verifyUntil + this.#retainRetiredMs <= now) continue; // long retired: forget it
        const retired = r.verifyUntil !== null && r.verifyUntil <= now;
        // Every key that still signs (or would) stops when the new one activates, and verifies
        // for verifyForMs after that: tokens it signed until then expire before it retires.
        const verifyUntil = r.verifyUntil === null ? activatesAt + this.#verifyForMs : r.verifyUntil;
        next.push({ ...r, verifyUntil, privateKey: retired ? null : r.privateKey } as KeyRecord);
      }
      next.push(fresh);
      if (this.#storage) {
        try {
          await this.#storage.put(this.#namespace, this.#name, { v: DOC_VERSION, keys: next } as never, { ifVersion: stored?.version ?? 0 });
        } catch (err) {
          if (hasErrorCode(err, 'CONFLICT')) continue; // another process rotated: re-read and decide again
          throw err;
        }
      } else {
        this.#localPrivate.set(fresh.kid, generated.privateKey);
      }
      await this.#apply(next);
      this.#logger.info('signing key rotated', { keySet: this.#name, kid: fresh.kid, alg: fresh.alg, activatesAt });
      return this.list().find((k) => k.kid === fresh.kid)!;
    }
    throw new FabricaError('CONFLICT', 'the signing key set kept changing during rotation; retry');
  }
}

/**
 * Creates a {@link SigningKeySet}: loads the shared set from storage (or starts an in-memory
 * one) and creates the first key if none can sign.
 *
 * @throws `VALIDATION_FAILED` for bad options (e.g. storage without a keyring); storage errors.
 * @example
 * ```ts
 * import { createSigningKeySet } from 'digital-fabrica/identity';
 * import { AesKey, Keyring } from 'digital-fabrica/security';
 * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
 * const keys = await createSigningKeySet({
 *   storage: createMemoryStorage(),
 *   keyring: new Keyring({ keys: [AesKey.generate()] }),
 *   algorithm: 'PS256',
 * });
 * console.log(keys.list()[0]?.alg); // 'PS256'
 * ```
 */
export async function createSigningKeySet(options?: SigningKeySetOptions): Promise<SigningKeySet> {
  const opts = parseInput(optionsSchema, options, 'signing key set options') ?? {};
  const set = new SigningKeySet(opts as SigningKeySetOptions);
  await set.init();
  return set;
}
