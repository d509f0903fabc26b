/**
 * PEM armour (RFC 7468) for SPKI public keys (`PUBLIC KEY`) and PKCS#8 private keys
 * (`PRIVATE KEY`). Strict: one block, the label we expect, canonical base64 body.
 * @internal
 */
import { decodeBase64Padded, encodeBase64 } from '../internal/bytes.js';
import { invalidInput } from '../internal/errors.js';

/** The two labels this package reads and writes. */
export type PemLabel = 'PUBLIC KEY' | 'PRIVATE KEY';

const PEM = /^-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n\t ]+?)\r?\n-----END ([A-Z0-9 ]+)-----\s*$/;

/** Wraps DER bytes in PEM with 64-character lines (RFC 7468 §2). */
export function encodePem(label: PemLabel, der: Uint8Array): string {
  const body = encodeBase64(der).replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

/**
 * Extracts the DER bytes of a PEM block with the expected label.
 * @throws `VALIDATION_FAILED` for anything else, with a hint for the usual mix-ups (PKCS#1,
 *   encrypted PKCS#8, a private key where a public one belongs); never echoes the text.
 */
export function decodePem(text: string, expected: PemLabel): Uint8Array {
  const match = PEM.exec(text.trim());
  if (!match || match[1] !== match[3]) throw invalidInput(`invalid PEM: expected one '${expected}' block`);
  const label = match[1]!;
  if (label !== expected) {
    const hint =
      label === 'RSA PRIVATE KEY' || label === 'RSA PUBLIC KEY'
        ? ' (PKCS#1; convert with `openssl pkcs8 -topk8 -nocrypt` or `openssl rsa -pubout`)'
        : label === 'ENCRYPTED PRIVATE KEY'
          ? ' (decrypt it first; this package does not read password-protected keys)'
          : '';
    throw invalidInput(`invalid PEM: found a '${label}' block, expected '${expected}'${hint}`, { label });
  }
  const der = decodeBase64Padded(match[2]!.replace(/[\r\n\t ]/g, ''));
  if (der === null || der.length === 0) throw invalidInput('invalid PEM: body is not canonical base64');
  return der;
}
