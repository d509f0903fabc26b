/**
 * Password hashing with self-describing PHC strings. argon2id is the default; scrypt and
 * PBKDF2-HMAC-SHA3-256 are there for hosts that need them (FIPS-leaning stacks, existing data).
 *
 * Default parameters follow the OWASP Password Storage Cheat Sheet:
 * - argon2id: m = 19 MiB (19 456 KiB), t = 2, p = 1 (RFC 9106 §4 "second recommended option" is
 *   stronger but needs 64 MiB per login);
 * - scrypt: N = 2^17, r = 8, p = 1;
 * - PBKDF2: 600 000 iterations, OWASP's figure for HMAC-SHA-256. HMAC-SHA3-256 costs more per
 *   iteration than HMAC-SHA-256 on CPUs and GPUs alike, so the same count is at least as strong.
 *
 * Strings are normalised to NFKC before hashing (NIST SP 800-63B §5.1.1.2), so the same password
 * typed on two keyboards (composed vs decomposed accents, full-width digits) verifies; bytes are
 * hashed as given.
 */
import { z } from 'zod';
import { FabricaError } from '../../core/errors.js';
import { parseInput } from '../../core/validation.js';
import { randomBytes, utf8, wipe } from '../internal/bytes.js';
import { invalidInput } from '../internal/errors.js';
import { bytesSchema, wellFormedText } from '../internal/schemas.js';
import { equalBytes } from '../hash/compare.js';
import { deriveArgon2id, derivePbkdf2, deriveScrypt } from './kdf.js';
import { formatPhc, parsePhc, type PhcHash } from './phc.js';

/** The password hashing schemes. */
export type PasswordAlgorithm = 'argon2id' | 'scrypt' | 'pbkdf2-sha3-256';

/** argon2id cost (RFC 9106 §3.1). */
export interface Argon2idParams {
  /** Memory in KiB (default 19 456 = 19 MiB). */
  readonly memoryKiB: number;
  /** Passes over memory (default 2). */
  readonly iterations: number;
  /** Lanes (default 1). */
  readonly parallelism: number;
}

/** scrypt cost (RFC 7914 §2). */
export interface ScryptParams {
  /** log2 of N, the CPU/memory cost (default 17). */
  readonly logN: number;
  /** Block size r (default 8). */
  readonly blockSize: number;
  /** Parallelisation p (default 1). */
  readonly parallelism: number;
}

/** PBKDF2 cost (RFC 8018 §5.2). */
export interface Pbkdf2Params {
  /** Iteration count (default 600 000). */
  readonly iterations: number;
}

/** What {@link hashPassword} produces and {@link needsRehash} compares against. */
export interface PasswordPolicy {
  /** Scheme for new hashes (default `'argon2id'`). */
  readonly algorithm?: PasswordAlgorithm;
  /** argon2id cost; omitted fields keep their defaults. */
  readonly argon2id?: Partial<Argon2idParams>;
  /** scrypt cost; omitted fields keep their defaults. */
  readonly scrypt?: Partial<ScryptParams>;
  /** PBKDF2 cost; omitted fields keep their defaults. */
  readonly pbkdf2?: Partial<Pbkdf2Params>;
}

/** The defaults (OWASP, see the module comment). */
export const PASSWORD_DEFAULTS: {
  readonly algorithm: PasswordAlgorithm;
  readonly argon2id: Argon2idParams;
  readonly scrypt: ScryptParams;
  readonly pbkdf2: Pbkdf2Params;
} = Object.freeze({
  algorithm: 'argon2id',
  argon2id: Object.freeze({ memoryKiB: 19_456, iterations: 2, parallelism: 1 }),
  scrypt: Object.freeze({ logN: 17, blockSize: 8, parallelism: 1 }),
  pbkdf2: Object.freeze({ iterations: 600_000 }),
});

/** Longest password accepted, in UTF-8 bytes: long passphrases fit, megabyte "passwords" do not. */
export const PASSWORD_MAX_BYTES = 4096;

const SALT_BYTES = 16;
const HASH_BYTES = 32;
const ARGON2_VERSION = 0x13;

// Policy bounds: the floors stop accidental "iterations: 1" configs; the ceilings (also applied to
// stored hashes on verify) stop a planted hash from making one login take minutes or gigabytes.
const argonSchema = z.strictObject({
  memoryKiB: z.number().int().min(1024).max(1_048_576).optional(),
  iterations: z.number().int().min(1).max(64).optional(),
  parallelism: z.number().int().min(1).max(16).optional(),
});
const scryptSchema = z.strictObject({
  logN: z.number().int().min(10).max(20).optional(),
  blockSize: z.number().int().min(1).max(32).optional(),
  parallelism: z.number().int().min(1).max(16).optional(),
});
const pbkdf2Schema = z.strictObject({ iterations: z.number().int().min(10_000).max(10_000_000).optional() });
const policySchema = z
  .strictObject({
    algorithm: z.enum(['argon2id', 'scrypt', 'pbkdf2-sha3-256']).optional(),
    argon2id: argonSchema.optional(),
    scrypt: scryptSchema.optional(),
    pbkdf2: pbkdf2Schema.optional(),
  })
  .optional();
const passwordSchema = z.union([wellFormedText, bytesSchema]);
const hashStringSchema = z.string().max(1024);

interface ResolvedPolicy {
  readonly algorithm: PasswordAlgorithm;
  readonly argon2id: Argon2idParams;
  readonly scrypt: ScryptParams;
  readonly pbkdf2: Pbkdf2Params;
}

function resolvePolicy(policy: unknown): ResolvedPolicy {
  const parsed = parseInput(policySchema, policy, 'password policy') ?? {};
  return {
    algorithm: parsed.algorithm ?? PASSWORD_DEFAULTS.algorithm,
    argon2id: { ...PASSWORD_DEFAULTS.argon2id, ...parsed.argon2id },
    scrypt: { ...PASSWORD_DEFAULTS.scrypt, ...parsed.scrypt },
    pbkdf2: { ...PASSWORD_DEFAULTS.pbkdf2, ...parsed.pbkdf2 },
  };
}

function passwordBytes(password: unknown): Uint8Array {
  const value = parseInput(passwordSchema, password, 'password');
  const bytes = typeof value === 'string' ? utf8(value.normalize('NFKC')) : value;
  if (bytes.length === 0) throw invalidInput('invalid password: empty');
  if (bytes.length > PASSWORD_MAX_BYTES) throw new FabricaError('PAYLOAD_TOO_LARGE', `password exceeds ${PASSWORD_MAX_BYTES} bytes`, { details: { limit: PASSWORD_MAX_BYTES } });
  return bytes;
}

/** A stored hash, parsed and checked against the verify-time bounds. */
type StoredHash =
  | { readonly algorithm: 'argon2id'; readonly params: Argon2idParams; readonly salt: Uint8Array; readonly hash: Uint8Array }
  | { readonly algorithm: 'scrypt'; readonly params: ScryptParams; readonly salt: Uint8Array; readonly hash: Uint8Array }
  | { readonly algorithm: 'pbkdf2-sha3-256'; readonly params: Pbkdf2Params; readonly salt: Uint8Array; readonly hash: Uint8Array };

function exactParams(phc: PhcHash, names: readonly string[]): void {
  if (phc.params.size !== names.length || names.some((n) => !phc.params.has(n))) {
    throw invalidInput(`invalid password hash: ${phc.id} needs exactly the parameters ${names.join(', ')}`);
  }
}

function within(value: number, min: number, max: number, what: string): number {
  if (value < min || value > max) throw invalidInput(`invalid password hash: ${what} outside ${min}–${max}`);
  return value;
}

function parseStored(text: unknown): StoredHash {
  const phc = parsePhc(parseInput(hashStringSchema, text, 'password hash'));
  // Stored salts and hashes may come from other libraries: accept common sizes, not just ours.
  within(phc.salt.length, 8, 64, 'salt length');
  within(phc.hash.length, 16, 64, 'hash length');
  const p = (name: string) => phc.params.get(name)!;
  switch (phc.id) {
    case 'argon2id': {
      if (phc.version !== ARGON2_VERSION) throw invalidInput('invalid password hash: argon2id needs v=19');
      exactParams(phc, ['m', 't', 'p']);
      const parallelism = within(p('p'), 1, 16, 'argon2id p');
      const params = {
        memoryKiB: within(p('m'), 8 * parallelism, 1_048_576, 'argon2id m'),
        iterations: within(p('t'), 1, 64, 'argon2id t'),
        parallelism,
      };
      return { algorithm: 'argon2id', params, salt: phc.salt, hash: phc.hash };
    }
    case 'scrypt': {
      if (phc.version !== undefined) throw invalidInput('invalid password hash: scrypt has no version');
      exactParams(phc, ['ln', 'r', 'p']);
      const params = { logN: within(p('ln'), 1, 20, 'scrypt ln'), blockSize: within(p('r'), 1, 32, 'scrypt r'), parallelism: within(p('p'), 1, 16, 'scrypt p') };
      return { algorithm: 'scrypt', params, salt: phc.salt, hash: phc.hash };
    }
    case 'pbkdf2-sha3-256': {
      if (phc.version !== undefined) throw invalidInput('invalid password hash: pbkdf2 has no version');
      exactParams(phc, ['i']);
      return { algorithm: 'pbkdf2-sha3-256', params: { iterations: within(p('i'), 1, 10_000_000, 'pbkdf2 i') }, salt: phc.salt, hash: phc.hash };
    }
    default:
      throw invalidInput('invalid password hash: unsupported algorithm', { algorithm: phc.id });
  }
}

async function derive(stored: Omit<StoredHash, 'hash'>, password: Uint8Array, dkLen: number): Promise<Uint8Array> {
  switch (stored.algorithm) {
    case 'argon2id': {
      const { memoryKiB, iterations, parallelism } = stored.params as Argon2idParams;
      return deriveArgon2id(password, stored.salt, { m: memoryKiB, t: iterations, p: parallelism }, dkLen);
    }
    case 'scrypt': {
      const { logN, blockSize, parallelism } = stored.params as ScryptParams;
      return deriveScrypt(password, stored.salt, { logN, r: blockSize, p: parallelism }, dkLen);
    }
    case 'pbkdf2-sha3-256':
      return derivePbkdf2('SHA3-256', password, stored.salt, (stored.params as Pbkdf2Params).iterations, dkLen);
  }
}

function format(stored: StoredHash): string {
  switch (stored.algorithm) {
    case 'argon2id':
      return formatPhc('argon2id', ARGON2_VERSION, [['m', stored.params.memoryKiB], ['t', stored.params.iterations], ['p', stored.params.parallelism]], stored.salt, stored.hash);
    case 'scrypt':
      return formatPhc('scrypt', undefined, [['ln', stored.params.logN], ['r', stored.params.blockSize], ['p', stored.params.parallelism]], stored.salt, stored.hash);
    case 'pbkdf2-sha3-256':
      return formatPhc('pbkdf2-sha3-256', undefined, [['i', stored.params.iterations]], stored.salt, stored.hash);
  }
}

/**
 * Hashes a password with a fresh 16-byte salt and returns a PHC string, e.g.
 * `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`, `$scrypt$ln=17,r=8,p=1$…` or
 * `$pbkdf2-sha3-256$i=600000$…`. Takes ~150–400 ms at the defaults, by design.
 *
 * @throws `VALIDATION_FAILED` (empty password, wrong type, lone surrogate, policy out of bounds),
 *   `PAYLOAD_TOO_LARGE` (password above 4096 UTF-8 bytes).
 * @example
 * ```ts
 * import { hashPassword, verifyPassword } from 'digital-fabrica/security';
 * const stored = await hashPassword('correct horse battery staple');
 * console.log(stored.startsWith('$argon2id$v=19$m=19456,t=2,p=1$')); // true
 * console.log(await verifyPassword(stored, 'correct horse battery staple')); // true
 * ```
 */
export async function hashPassword(password: string | Uint8Array, policy?: PasswordPolicy): Promise<string> {
  const bytes = passwordBytes(password);
  const resolved = resolvePolicy(policy);
  const salt = randomBytes(SALT_BYTES);
  const base =
    resolved.algorithm === 'argon2id'
      ? { algorithm: 'argon2id' as const, params: resolved.argon2id, salt }
      : resolved.algorithm === 'scrypt'
        ? { algorithm: 'scrypt' as const, params: resolved.scrypt, salt }
        : { algorithm: 'pbkdf2-sha3-256' as const, params: resolved.pbkdf2, salt };
  const hash = await derive(base, bytes, HASH_BYTES);
  if (typeof password === 'string') wipe(bytes);
  return format({ ...base, hash } as StoredHash);
}

/**
 * Checks a password against a stored PHC string in constant time (the derived hash is compared
 * with {@link constantTimeEqual}). Returns `false` for a wrong password; throws only when the
 * stored string is unusable, which is a bug or corruption on the host's side, not a login failure.
 *
 * @throws `VALIDATION_FAILED` (malformed or unsupported PHC string, parameters beyond the safety
 *   ceilings, empty password), `PAYLOAD_TOO_LARGE` (password above 4096 bytes).
 * @example
 * ```ts
 * import { hashPassword, verifyPassword } from 'digital-fabrica/security';
 * const stored = await hashPassword('hunter2 but longer', { algorithm: 'scrypt' });
 * console.log(await verifyPassword(stored, 'wrong guess')); // false
 * ```
 */
export async function verifyPassword(hash: string, password: string | Uint8Array): Promise<boolean> {
  const stored = parseStored(hash);
  const bytes = passwordBytes(password);
  const derived = await derive(stored, bytes, stored.hash.length);
  try {
    return equalBytes(derived, stored.hash);
  } finally {
    wipe(derived);
    if (typeof password === 'string') wipe(bytes);
  }
}

/**
 * True when a stored hash does not match the current policy (another algorithm, other cost
 * parameters, a shorter salt or hash): after a successful {@link verifyPassword}, hash the
 * password again and store the new string. Cheap: parses only.
 *
 * @throws `VALIDATION_FAILED` (malformed PHC string or policy).
 * @example
 * ```ts
 * import { hashPassword, needsRehash } from 'digital-fabrica/security';
 * const old = await hashPassword('s3cret passphrase', { algorithm: 'pbkdf2-sha3-256', pbkdf2: { iterations: 10_000 } });
 * console.log(needsRehash(old)); // true: the default policy is argon2id
 * ```
 */
export function needsRehash(hash: string, policy?: PasswordPolicy): boolean {
  const stored = parseStored(hash);
  const target = resolvePolicy(policy);
  if (stored.algorithm !== target.algorithm || stored.salt.length < SALT_BYTES || stored.hash.length !== HASH_BYTES) return true;
  const wanted: Readonly<Record<string, number>> = target[stored.algorithm === 'pbkdf2-sha3-256' ? 'pbkdf2' : stored.algorithm] as never;
  const have: Readonly<Record<string, number>> = stored.params as never;
  return Object.keys(wanted).some((name) => have[name] !== wanted[name]);
}
