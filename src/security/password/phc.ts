/**
 * PHC string format (https://github.com/P-H-C/phc-string-format/blob/master/phc-sf-spec.md):
 * `$<id>[$v=<version>][$<param>=<value>(,<param>=<value>)*]$<salt>$<hash>`, salt and hash in
 * standard base64 without padding ("B64"), decimals without leading zeros. Parsing is strict so
 * two spellings of one hash cannot exist.
 * @internal
 */
import { decodeBase64Unpadded, encodeBase64 } from '../internal/bytes.js';
import { invalidInput } from '../internal/errors.js';

/** A parsed PHC string. */
export interface PhcHash {
  readonly id: string;
  readonly version: number | undefined;
  readonly params: ReadonlyMap<string, number>;
  readonly salt: Uint8Array;
  readonly hash: Uint8Array;
}

const PHC = /^\$([a-z0-9-]{1,32})(?:\$v=(0|[1-9][0-9]{0,8}))?(?:\$([a-z0-9-]{1,32}=[^$,]*(?:,[a-z0-9-]{1,32}=[^$,]*)*))?\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;
const DECIMAL = /^(?:0|[1-9][0-9]{0,14})$/;

/** Serialises a hash as a PHC string. */
export function formatPhc(id: string, version: number | undefined, params: readonly (readonly [string, number])[], salt: Uint8Array, hash: Uint8Array): string {
  const b64 = (bytes: Uint8Array) => encodeBase64(bytes).replace(/=+$/, '');
  const v = version === undefined ? '' : `$v=${version}`;
  const p = params.length === 0 ? '' : `$${params.map(([k, value]) => `${k}=${value}`).join(',')}`;
  return `$${id}${v}${p}$${b64(salt)}$${b64(hash)}`;
}

/**
 * Parses a PHC string whose parameters are all decimal integers.
 * @throws `VALIDATION_FAILED` ("invalid password hash"; the string itself is never echoed).
 */
export function parsePhc(text: string): PhcHash {
  const match = PHC.exec(text);
  if (!match) throw invalidInput('invalid password hash: not a PHC string');
  const params = new Map<string, number>();
  for (const pair of match[3] === undefined ? [] : match[3].split(',')) {
    const [name, value] = pair.split('=') as [string, string];
    if (!DECIMAL.test(value) || params.has(name)) throw invalidInput('invalid password hash: malformed parameters');
    params.set(name, Number(value));
  }
  const salt = decodeBase64Unpadded(match[4]!);
  const hash = decodeBase64Unpadded(match[5]!);
  if (salt === null || hash === null) throw invalidInput('invalid password hash: salt or hash is not canonical base64');
  return { id: match[1]!, version: match[2] === undefined ? undefined : Number(match[2]), params, salt, hash };
}
