/**
 * Builds tokens by hand (headers jose refuses to write, tampered segments), signed with a real
 * key, for the attack tests.
 */
import { encodeBase64url } from '../../../../src/identity/internal/base64url.js';
import type { SigningAlgorithm } from '../../../../src/identity/index.js';

const text = new TextEncoder();

/** base64url of the JSON of `value`. */
export function b64json(value: unknown): string {
  return encodeBase64url(text.encode(JSON.stringify(value)));
}

function params(alg: string): AlgorithmIdentifier | RsaPssParams | EcdsaParams {
  if (alg.startsWith('RS')) return { name: 'RSASSA-PKCS1-v1_5' };
  if (alg.startsWith('PS')) return { name: 'RSA-PSS', saltLength: Number(alg.slice(2)) / 8 };
  if (alg.startsWith('ES')) return { name: 'ECDSA', hash: `SHA-${alg === 'ES512' ? 512 : alg.slice(2)}` };
  if (alg === 'EdDSA') return { name: 'Ed25519' };
  throw new Error(`no params for ${alg}`);
}

/** Signs `header.payload` with `privateKey` as `alg` says, whatever the header contains. */
export async function forge(header: Record<string, unknown>, payload: Record<string, unknown>, privateKey: CryptoKey, alg: SigningAlgorithm): Promise<string> {
  const input = `${b64json(header)}.${b64json(payload)}`;
  const algorithm = params(alg);
  let key = privateKey;
  if (key.algorithm.name !== (algorithm as Algorithm).name) {
    // Same key material under another algorithm (e.g. an RS256 key signing PS256): re-import it.
    const jwk = await crypto.subtle.exportKey('jwk', key);
    delete jwk.alg;
    key = await crypto.subtle.importKey('jwk', jwk, { ...(algorithm as Algorithm), hash: `SHA-${alg.slice(2)}` } as RsaHashedImportParams, false, ['sign']);
  }
  const signature = new Uint8Array(await crypto.subtle.sign(algorithm, key, text.encode(input)));
  return `${input}.${encodeBase64url(signature)}`;
}

/** An HS256 token whose HMAC key is `secret` (for confusion attacks). */
export async function forgeHmac(header: Record<string, unknown>, payload: Record<string, unknown>, secret: Uint8Array): Promise<string> {
  const key = await crypto.subtle.importKey('raw', new Uint8Array(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const input = `${b64json(header)}.${b64json(payload)}`;
  const signature = new Uint8Array(await crypto.subtle.sign('HMAC', key, text.encode(input)));
  return `${input}.${encodeBase64url(signature)}`;
}
