/**
 * Lazy access to `node:crypto` for the fast paths (bulk AES-GCM, scrypt, PBKDF2, SHA-3).
 *
 * `process.getBuiltinModule` (Node >= 20.16, also Bun and Deno 2) returns the module
 * synchronously without any `import` statement, so bundles for browsers and edge runtimes never
 * see a `node:` specifier and simply fall back to WebCrypto or noble.
 * @internal
 */
import type * as NodeCryptoModule from 'node:crypto';

/** The parts of `node:crypto` the fast paths use. */
export type NodeCrypto = typeof NodeCryptoModule;

let cached: NodeCrypto | null | undefined;

/** `node:crypto`, or `null` on runtimes without it. Resolved once, on first use. */
export function nodeCrypto(): NodeCrypto | null {
  if (cached !== undefined) return cached;
  cached = null;
  try {
    const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
    const mod = proc?.getBuiltinModule?.('node:crypto') as NodeCrypto | undefined;
    if (mod && typeof mod.createCipheriv === 'function' && typeof mod.getCiphers === 'function') cached = mod;
  } catch {
    cached = null;
  }
  return cached;
}

/** WebCrypto's `SubtleCrypto`, or `null` when the runtime has none (or only in insecure contexts). */
export function subtleCrypto(): SubtleCrypto | null {
  return (globalThis.crypto as Crypto | undefined)?.subtle ?? null;
}

/** Views any Uint8Array subclass (e.g. Node's Buffer) as a plain Uint8Array without copying. */
export function plainView(bytes: Uint8Array): Uint8Array {
  return bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
