import { importJWK } from 'jose';
import { z } from 'zod';
import { FabricaError } from '../../core/errors.js';
import { parseInput } from '../../core/validation.js';
import { decodeBase64url } from '../internal/base64url.js';
import { invalidInput } from '../internal/options.js';
import { isJwsAlgorithm, keyRequirement, JWS_ALGORITHMS, type JwsAlgorithm } from './algorithms.js';

/** A JSON Web Key (RFC 7517) as accepted by {@link importJwsKey}; unknown members are ignored. */
export interface Jwk {
  /** Key type: `RSA`, `EC`, `OKP` or `oct`. */
  readonly kty: string;
  /** Key id, matched against a token's `kid` header. */
  readonly kid?: string;
  /** The one algorithm this key is for. */
  readonly alg?: string;
  /** Intended use (RFC 7517 §4.2); must be `sig` when present. */
  readonly use?: string;
  /** Permitted operations (RFC 7517 §4.3); must include the operation when present. */
  readonly key_ops?: readonly string[];
  /** RSA modulus. */
  readonly n?: string;
  /** RSA public exponent. */
  readonly e?: string;
  /** Curve of an EC or OKP key. */
  readonly crv?: string;
  /** Public point x (EC, OKP). */
  readonly x?: string;
  /** Public point y (EC). */
  readonly y?: string;
  /** Private exponent / scalar (SECRET). */
  readonly d?: string;
  /** Symmetric key bytes (SECRET). */
  readonly k?: string;
}

/** A public JWK as published in a JWKS document. */
export interface PublicJwk {
  /** Key type. */
  readonly kty: 'RSA' | 'EC' | 'OKP';
  /** Key id (RFC 7638 thumbprint for generated keys). */
  readonly kid: string;
  /** The algorithm the key signs with. */
  readonly alg: JwsAlgorithm;
  /** Always `sig`. */
  readonly use: 'sig';
  /** RSA modulus. */
  readonly n?: string;
  /** RSA exponent. */
  readonly e?: string;
  /** Curve. */
  readonly crv?: string;
  /** Public x. */
  readonly x?: string;
  /** Public y. */
  readonly y?: string;
}

/** Options of {@link importJwsKey}. */
export interface ImportJwsKeyOptions {
  /**
   * The algorithm to bind the key to when the JWK has no `alg`. A JWK whose `alg` differs is
   * refused: a key is never used with two algorithms.
   */
  readonly alg?: JwsAlgorithm;
  /** What the key will do (default `'verify'`). Verification keys keep only the public members. */
  readonly purpose?: 'verify' | 'sign';
}

const jwkSchema = z.looseObject({
  kty: z.enum(['RSA', 'EC', 'OKP', 'oct']),
  kid: z.string().min(1).max(256).optional(),
  alg: z.string().min(1).max(32).optional(),
  use: z.string().optional(),
  key_ops: z.array(z.string()).optional(),
  n: z.string().optional(),
  e: z.string().optional(),
  crv: z.string().optional(),
  x: z.string().optional(),
  y: z.string().optional(),
  d: z.string().optional(),
  k: z.string().optional(),
});
const optionsSchema = z
  .strictObject({ alg: z.enum(JWS_ALGORITHMS as [JwsAlgorithm, ...JwsAlgorithm[]]).optional(), purpose: z.enum(['verify', 'sign']).optional() })
  .optional();

const keyInvalid = (message: string, cause?: unknown): FabricaError =>
  new FabricaError('CRYPTO_KEY_INVALID', message, cause === undefined ? {} : { cause });

/**
 * A key bound to one JWS algorithm, made by {@link importJwsKey}. Verification with a key only
 * ever uses its `alg`, whatever a token's header says.
 *
 * @example
 * ```ts
 * import { importJwsKey } from 'digital-fabrica/identity';
 * const key = await importJwsKey({ kty: 'oct', k: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', alg: 'HS256' });
 * console.log(key.alg, key.type); // 'HS256' 'secret'
 * ```
 */
export class JwsKey {
  /** Key id, if the JWK had one. */
  readonly kid: string | undefined;
  /** The only algorithm this key is used with. */
  readonly alg: JwsAlgorithm;
  /** `public` (verify), `private` (sign) or `secret` (HMAC, both). */
  readonly type: 'public' | 'private' | 'secret';
  /** Exact signature length in bytes for this key and algorithm (checked before any crypto). */
  readonly signatureBytes: number;
  /** @internal The WebCrypto key (or HMAC bytes) handed to jose. */
  readonly material: CryptoKey | Uint8Array;

  /** @internal Use {@link importJwsKey}. */
  constructor(init: { kid: string | undefined; alg: JwsAlgorithm; type: 'public' | 'private' | 'secret'; signatureBytes: number; material: CryptoKey | Uint8Array }) {
    this.kid = init.kid;
    this.alg = init.alg;
    this.type = init.type;
    this.signatureBytes = init.signatureBytes;
    this.material = init.material;
  }

  /** Never prints key material. */
  toJSON(): { kid: string | undefined; alg: JwsAlgorithm; type: string } {
    return { kid: this.kid, alg: this.alg, type: this.type };
  }
}

function bytesOf(member: string | undefined, name: string): Uint8Array {
  const bytes = member === undefined ? null : decodeBase64url(member);
  if (!bytes || bytes.length === 0) throw keyInvalid(`JWK member "${name}" is missing or not canonical base64url`);
  return bytes;
}

/** Bit length of a big-endian unsigned integer. */
function bitLength(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length && bytes[i] === 0) i++;
  if (i === bytes.length) return 0;
  return (bytes.length - i - 1) * 8 + (32 - Math.clz32(bytes[i]!));
}

/**
 * Imports a JWK as a key bound to one JWS algorithm, after the checks RFC 7517 and RFC 7518 ask
 * for: `use` must be `sig` and `key_ops` must allow the operation when present; the key type and
 * curve must fit the algorithm; RSA moduli are at least 2048 bits (RFC 7518 §3.3) with an odd
 * exponent above 1; HMAC keys are at least as long as the hash (RFC 7518 §3.2). For verification
 * only the public members are imported, so a private JWK can be passed safely.
 *
 * @throws `VALIDATION_FAILED` for a JWK that is not an object of a known `kty`, or with no
 * algorithm; `CRYPTO_KEY_INVALID` for a key that may not or cannot be used (wrong use, conflicting
 * `alg`, weak or malformed material).
 * @example
 * ```ts
 * import { importJwsKey } from 'digital-fabrica/identity';
 * const jwk = { kty: 'EC', crv: 'P-256', alg: 'ES256', kid: 'k1',
 *   x: '04N0xi21hshyvBp7I167sbE_bXqyqkAPfefdklMO7wY', y: 'UI8exy-C06a7DUnjIdENkxeFtHM4-l_41LqEw9nVgmw' };
 * const key = await importJwsKey(jwk);
 * console.log(key.kid, key.alg, key.signatureBytes); // 'k1' 'ES256' 64
 * ```
 */
export async function importJwsKey(jwk: Jwk, options?: ImportJwsKeyOptions): Promise<JwsKey> {
  const parsed = parseInput(jwkSchema, jwk, 'JWK');
  const opts = parseInput(optionsSchema, options, 'JWK import options') ?? {};
  const purpose = opts.purpose ?? 'verify';
  if (parsed.use !== undefined && parsed.use !== 'sig') throw keyInvalid(`JWK "use" is "${parsed.use}", not "sig" (RFC 7517 §4.2)`);
  if (parsed.key_ops !== undefined && !parsed.key_ops.includes(purpose)) throw keyInvalid(`JWK "key_ops" does not allow "${purpose}" (RFC 7517 §4.3)`);
  if (parsed.alg !== undefined && !isJwsAlgorithm(parsed.alg)) throw keyInvalid(`JWK "alg" is not a supported JWS algorithm`);
  if (parsed.alg !== undefined && opts.alg !== undefined && parsed.alg !== opts.alg) throw keyInvalid('JWK "alg" conflicts with the requested algorithm');
  const alg = (parsed.alg as JwsAlgorithm | undefined) ?? opts.alg;
  if (alg === undefined) {
    throw invalidInput('JWK', 'no "alg" (pass options.alg for a JWK without one)');
  }

  const need = keyRequirement(alg);
  if (parsed.kty !== need.kty) throw keyInvalid(`a ${alg} key must have kty "${need.kty}"`);
  let publicMembers: Record<string, string>;
  let signatureBytes: number;
  let type: JwsKey['type'];
  switch (need.kty) {
    case 'RSA': {
      const n = bytesOf(parsed.n, 'n');
      const e = bytesOf(parsed.e, 'e');
      const bits = bitLength(n);
      if (bits < 2048) throw keyInvalid('RSA modulus below 2048 bits (RFC 7518 §3.3)');
      if (e.length > 8 || (e[e.length - 1]! & 1) === 0 || bitLength(e) < 2) throw keyInvalid('RSA public exponent must be odd and greater than 1');
      publicMembers = { kty: 'RSA', n: parsed.n!, e: parsed.e! };
      signatureBytes = Math.ceil(bits / 8);
      type = purpose === 'sign' ? 'private' : 'public';
      break;
    }
    case 'EC':
    case 'OKP': {
      if (parsed.crv !== need.crv) throw keyInvalid(`a ${alg} key must be on curve ${need.crv}`);
      bytesOf(parsed.x, 'x');
      if (need.kty === 'EC') bytesOf(parsed.y, 'y');
      publicMembers = need.kty === 'EC' ? { kty: 'EC', crv: need.crv, x: parsed.x!, y: parsed.y! } : { kty: 'OKP', crv: need.crv, x: parsed.x! };
      signatureBytes = need.signatureBytes;
      type = purpose === 'sign' ? 'private' : 'public';
      break;
    }
    case 'oct': {
      const k = bytesOf(parsed.k, 'k');
      if (k.length < need.minKeyBytes) throw keyInvalid(`an ${alg} key needs at least ${need.minKeyBytes} bytes (RFC 7518 §3.2)`);
      publicMembers = { kty: 'oct', k: parsed.k! };
      signatureBytes = need.signatureBytes;
      type = 'secret';
      break;
    }
  }
  if (purpose === 'sign' && need.kty !== 'oct' && parsed.d === undefined) throw keyInvalid('a signing key needs its private member "d"');
  // Verification keys are rebuilt from the public members only: a private JWK passed for
  // verification never turns into a signing-capable key in memory.
  const material = purpose === 'sign' && need.kty !== 'oct' ? { ...(parsed as Record<string, unknown>) } : publicMembers;
  delete (material as Record<string, unknown>).use;
  delete (material as Record<string, unknown>).key_ops;
  delete (material as Record<string, unknown>).alg;
  try {
    const imported = await importJWK(material, alg);
    return new JwsKey({ kid: parsed.kid, alg, type, signatureBytes, material: imported });
  } catch (err) {
    throw keyInvalid(`the JWK cannot be imported as a ${alg} key`, err);
  }
}
