import { sha256 } from '@noble/hashes/sha2.js';
import { z } from 'zod';
import { parseInput } from '../../core/validation.js';
import { decodeBase64url, encodeBase64url, randomBytes, utf8 } from '../internal/bytes.js';
import { invalidInput } from '../internal/errors.js';
import { bytesSchema, keyIdSchema } from '../internal/schemas.js';
import { KeyMaterial } from './key-material.js';

/** AES-256: the only key size the high-level API offers (32 bytes). */
export const AES_KEY_BYTES = 32;

/**
 * A symmetric key as a JSON Web Key (RFC 7517 §4, RFC 7518 §6.4: `kty: "oct"`). It holds the
 * secret in `k`: store it like a password, never log it.
 */
export interface AesJwk {
  /** Key type: octet sequence. */
  readonly kty: 'oct';
  /** The key bytes, base64url without padding. SECRET. */
  readonly k: string;
  /** Key id; the envelope carries it so a keyring knows which key to use. */
  readonly kid: string;
  /** `A256GCM` (RFC 7518 §5.3). */
  readonly alg: 'A256GCM';
  /** Public key use: encryption. */
  readonly use: 'enc';
  /** Operations this key is meant for. */
  readonly key_ops: readonly ('encrypt' | 'decrypt')[];
  /** Whether the key may be exported (always true for a JWK we produced). */
  readonly ext: true;
}

/** Options naming a key. */
export interface AesKeyOptions {
  /**
   * Key id (1–128 characters of `A-Z a-z 0-9 . _ ~ -`). Default: the RFC 7638 JWK thumbprint,
   * so importing the same bytes twice yields the same id.
   */
  readonly id?: string;
}

const materials = new WeakMap<AesKey, KeyMaterial>();

const optionsSchema = z.strictObject({ id: keyIdSchema.optional() }).optional();

const jwkSchema = z.looseObject({
  kty: z.literal('oct'),
  k: z.string().min(1),
  kid: keyIdSchema.optional(),
  // RFC 7517 §4.4/§4.2/§4.3: when present, they must allow AES-256-GCM content encryption.
  alg: z.literal('A256GCM').optional(),
  use: z.literal('enc').optional(),
  key_ops: z
    .array(z.string())
    .refine((ops) => ops.includes('encrypt') || ops.includes('decrypt'), { message: 'key_ops must include encrypt or decrypt' })
    .optional(),
});

/** RFC 7638 thumbprint of `{"k":…,"kty":"oct"}` (members in lexicographic order, no spaces). */
function thumbprint(k: string): string {
  return encodeBase64url(sha256(utf8(`{"k":"${k}","kty":"oct"}`)));
}

/**
 * An AES-256 key with an id. The bytes live outside the object (a module-private WeakMap), so
 * `console.log(key)` and `JSON.stringify(key)` show the id only.
 *
 * @example
 * ```ts
 * import { AesKey, encrypt, decryptText } from 'digital-fabrica/security';
 * const key = AesKey.generate();
 * const envelope = await encrypt(key, 'hello');
 * console.log(await decryptText(key, envelope)); // 'hello'
 * ```
 */
export class AesKey {
  /** The key id written into every envelope this key seals. */
  readonly id: string;

  private constructor(id: string, material: KeyMaterial) {
    this.id = id;
    materials.set(this, material);
  }

  /**
   * Creates a fresh random key from the platform CSPRNG.
   * @throws `VALIDATION_FAILED` for a malformed id.
   * @example
   * ```ts
   * import { AesKey } from 'digital-fabrica/security';
   * const key = AesKey.generate({ id: '2026-01' });
   * console.log(key.id); // '2026-01'
   * ```
   */
  static generate(options?: AesKeyOptions): AesKey {
    const { id } = parseInput(optionsSchema, options, 'AES key options') ?? {};
    const bytes = randomBytes(AES_KEY_BYTES);
    return new AesKey(id ?? thumbprint(encodeBase64url(bytes)), new KeyMaterial(bytes));
  }

  /**
   * Wraps existing key bytes (copied, so later changes to `bytes` do not affect the key).
   * @throws `VALIDATION_FAILED` unless `bytes` is exactly 32 bytes, or for a malformed id.
   * @example
   * ```ts
   * import { AesKey } from 'digital-fabrica/security';
   * const key = AesKey.fromBytes(crypto.getRandomValues(new Uint8Array(32)), { id: 'primary' });
   * ```
   */
  static fromBytes(bytes: Uint8Array, options?: AesKeyOptions): AesKey {
    const raw = parseInput(bytesSchema.refine((b) => b.length === AES_KEY_BYTES, { message: 'AES-256 keys are 32 bytes' }), bytes, 'AES key');
    const { id } = parseInput(optionsSchema, options, 'AES key options') ?? {};
    const copy = raw.slice();
    return new AesKey(id ?? thumbprint(encodeBase64url(copy)), new KeyMaterial(copy));
  }

  /**
   * Imports a JWK (`kty: "oct"`, 32-byte `k`). `kid` becomes the id unless `options.id` is given.
   * @throws `VALIDATION_FAILED` for anything else (other `kty`, `alg` other than `A256GCM`, `use`
   *   other than `enc`, wrong key length, malformed base64url).
   * @example
   * ```ts
   * import { AesKey } from 'digital-fabrica/security';
   * const key = AesKey.generate();
   * const copy = AesKey.fromJwk(key.toJwk());
   * console.log(copy.id === key.id); // true
   * ```
   */
  static fromJwk(jwk: unknown, options?: AesKeyOptions): AesKey {
    const parsed = parseInput(jwkSchema, jwk, 'AES JWK');
    const { id } = parseInput(optionsSchema, options, 'AES key options') ?? {};
    const bytes = decodeBase64url(parsed.k);
    if (bytes === null) throw invalidInput('invalid AES JWK at k: not canonical base64url');
    if (bytes.length !== AES_KEY_BYTES) throw invalidInput('invalid AES JWK at k: AES-256 keys are 32 bytes');
    return new AesKey(id ?? parsed.kid ?? thumbprint(parsed.k), new KeyMaterial(bytes));
  }

  /**
   * Exports the key as a JWK, secret included: store it encrypted or in a secrets manager.
   * @example
   * ```ts
   * import { AesKey } from 'digital-fabrica/security';
   * const jwk = AesKey.generate({ id: 'k1' }).toJwk();
   * console.log(jwk.kty, jwk.kid, jwk.alg); // 'oct' 'k1' 'A256GCM'
   * ```
   */
  toJwk(): AesJwk {
    return {
      kty: 'oct',
      k: encodeBase64url(materialOf(this).bytes),
      kid: this.id,
      alg: 'A256GCM',
      use: 'enc',
      key_ops: ['encrypt', 'decrypt'],
      ext: true,
    };
  }

  /**
   * Returns a copy of the 32 key bytes. SECRET.
   * @example
   * ```ts
   * import { AesKey } from 'digital-fabrica/security';
   * console.log(AesKey.generate().exportBytes().length); // 32
   * ```
   */
  exportBytes(): Uint8Array {
    return materialOf(this).bytes.slice();
  }

  /** Only the id: keeps the secret out of logs that serialise objects. */
  toJSON(): { id: string } {
    return { id: this.id };
  }
}

/**
 * The engine-facing material of a key (raw bytes are wrapped on every call).
 * @internal
 */
export function materialOf(key: AesKey): KeyMaterial {
  const material = materials.get(key);
  // Only reachable with an object that is not a real AesKey (e.g. a structural look-alike).
  if (!material) throw invalidInput('expected an AesKey created by this package');
  return material;
}

/** An `AesKey`, or 32 raw key bytes. */
export type AesKeyInput = AesKey | Uint8Array;

/** @internal */
export const aesKeyInputSchema = z.union([
  z.custom<AesKey>((value) => value instanceof AesKey, { message: 'expected an AesKey' }),
  bytesSchema.refine((b) => b.length === AES_KEY_BYTES, { message: 'AES-256 keys are 32 bytes' }),
]);

/**
 * Resolves a key argument to its id (empty for raw bytes) and engine material.
 * @internal
 */
export function resolveKey(input: AesKeyInput): { id: string; material: KeyMaterial } {
  // The schema's first branch, without zod: this runs on every encryption and decryption.
  if (input instanceof AesKey) return { id: input.id, material: materialOf(input) };
  const key = parseInput(aesKeyInputSchema, input, 'AES key');
  if (key instanceof AesKey) return { id: key.id, material: materialOf(key) };
  return { id: '', material: new KeyMaterial(key.slice()) };
}
