/**
 * EIP-4361 (Sign-In with Ethereum) messages: building and strict parsing. The text format, from
 * the EIP's ABNF:
 *
 * ```text
 * [scheme://]domain wants you to sign in with your Ethereum account:
 * address
 *
 * [statement
 * ]
 * URI: uri
 * Version: 1
 * Chain ID: chain-id
 * Nonce: nonce
 * Issued At: issued-at
 * [Expiration Time: expiration-time]
 * [Not Before: not-before]
 * [Request ID: request-id]
 * [Resources:
 * - uri
 * - uri]
 * ```
 *
 * The parser accepts exactly this (LF line ends, fields in this order, nothing after), so a message
 * a wallet displayed and the message verified are the same text; `buildSiweMessage(parse(m)) === m`
 * for every message it accepts.
 */
import { getAddress } from 'ethers';
import { z } from 'zod';
import { parseInput } from '../../core/validation.js';
import { SiweError } from '../errors.js';

/** The fields of a Sign-In with Ethereum message. */
export interface SiweMessage {
  /** URI scheme of the requesting origin, when stated (e.g. `https`). */
  readonly scheme?: string;
  /** RFC 3986 authority of the requesting site, e.g. `example.com` or `localhost:3000`. */
  readonly domain: string;
  /** EIP-55 checksummed address doing the signing. */
  readonly address: string;
  /** Human-readable assertion the user signs; one line, no LF. */
  readonly statement?: string;
  /** RFC 3986 URI the sign-in is for (usually the origin). */
  readonly uri: string;
  /** Always `1`. */
  readonly version: '1';
  /** EIP-155 chain id. */
  readonly chainId: number;
  /** At least 8 alphanumeric characters, from the server. */
  readonly nonce: string;
  /** RFC 3339 date-time. */
  readonly issuedAt: string;
  /** RFC 3339 date-time after which the message is invalid. */
  readonly expirationTime?: string;
  /** RFC 3339 date-time before which the message is invalid. */
  readonly notBefore?: string;
  /** Opaque request id. */
  readonly requestId?: string;
  /** URIs the user also authorises. */
  readonly resources?: readonly string[];
}

const HEADER = ' wants you to sign in with your Ethereum account:';
// RFC 3986 authority: host (reg-name, IPv4 or [IPv6]) and optional port. userinfo is refused:
// `user@evil.example` shown in a wallet prompt is a phishing aid.
const AUTHORITY = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*$/;
// RFC 3986 reserved / unreserved / space (the EIP's statement rule): printable ASCII minus " < > \ ^ ` { | } %.
const STATEMENT = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;= ]*$/;
const NONCE = /^[A-Za-z0-9]{8,}$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;
const REQUEST_ID = /^[\x21-\x7e]*$/; // pchar-ish: printable ASCII, no spaces

const isUri = (v: string): boolean => {
  if (/[\s]/.test(v)) return false;
  try {
    new URL(v);
    return true;
  } catch {
    return false;
  }
};
const isDateTime = (v: string): boolean => RFC3339.test(v) && !Number.isNaN(Date.parse(v));
const isChecksummed = (v: string): boolean => {
  try {
    return getAddress(v) === v;
  } catch {
    return false;
  }
};

const fieldsSchema = z.strictObject({
  scheme: z.string().regex(SCHEME).max(32).optional(),
  domain: z.string().max(255).regex(AUTHORITY, { message: 'domain must be an RFC 3986 authority (host[:port])' }),
  address: z.string().refine(isChecksummed, { message: 'address must be EIP-55 checksummed' }),
  statement: z.string().min(1).max(1024).regex(STATEMENT, { message: 'statement may hold RFC 3986 reserved/unreserved characters and spaces only' }).optional(),
  uri: z.string().max(2048).refine(isUri, { message: 'uri must be an absolute RFC 3986 URI' }),
  version: z.literal('1'),
  chainId: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  nonce: z.string().max(128).regex(NONCE, { message: 'nonce must be at least 8 alphanumeric characters' }),
  issuedAt: z.string().max(64).refine(isDateTime, { message: 'issuedAt must be an RFC 3339 date-time' }),
  expirationTime: z.string().max(64).refine(isDateTime, { message: 'expirationTime must be an RFC 3339 date-time' }).optional(),
  notBefore: z.string().max(64).refine(isDateTime, { message: 'notBefore must be an RFC 3339 date-time' }).optional(),
  requestId: z.string().max(256).regex(REQUEST_ID).optional(),
  resources: z.array(z.string().max(2048).refine(isUri, { message: 'resources must be absolute URIs' })).max(64).optional(),
});

function render(m: SiweMessage): string {
  const lines = [`${m.scheme ? `${m.scheme}://` : ''}${m.domain}${HEADER}`, m.address, ''];
  if (m.statement !== undefined) lines.push(m.statement, '');
  else lines.push('');
  lines.push(`URI: ${m.uri}`, `Version: ${m.version}`, `Chain ID: ${m.chainId}`, `Nonce: ${m.nonce}`, `Issued At: ${m.issuedAt}`);
  if (m.expirationTime !== undefined) lines.push(`Expiration Time: ${m.expirationTime}`);
  if (m.notBefore !== undefined) lines.push(`Not Before: ${m.notBefore}`);
  if (m.requestId !== undefined) lines.push(`Request ID: ${m.requestId}`);
  if (m.resources !== undefined && m.resources.length > 0) lines.push('Resources:', ...m.resources.map((r) => `- ${r}`));
  return lines.join('\n');
}

/**
 * Renders an EIP-4361 message from its fields, after validating every one of them.
 *
 * @throws `VALIDATION_FAILED` for a field outside the EIP's grammar (e.g. a non-checksummed
 * address, a statement with a line break, a nonce under 8 characters).
 * @example
 * ```ts
 * import { buildSiweMessage } from 'digital-fabrica/identity';
 * const text = buildSiweMessage({
 *   domain: 'example.com', address: '0x9858EfFD232B4033E47d90003D41EC34EcaEda94', statement: 'Sign in to Example',
 *   uri: 'https://example.com', version: '1', chainId: 1, nonce: 'f3a7c9e1b2d4', issuedAt: '2026-01-01T00:00:00Z',
 * });
 * console.log(text.split('\n')[0]); // 'example.com wants you to sign in with your Ethereum account:'
 * ```
 */
export function buildSiweMessage(fields: SiweMessage): string {
  return render(parseInput(fieldsSchema, fields, 'SIWE message') as SiweMessage);
}

/**
 * Parses an EIP-4361 message strictly (see the module comment).
 *
 * @throws `AUTH_SIWE_INVALID` with reason `malformed` for anything that is not exactly such a
 * message (field values are not echoed).
 * @example
 * ```ts
 * import { buildSiweMessage, parseSiweMessage } from 'digital-fabrica/identity';
 * const text = buildSiweMessage({ domain: 'example.com', address: '0x9858EfFD232B4033E47d90003D41EC34EcaEda94',
 *   uri: 'https://example.com', version: '1', chainId: 10, nonce: 'f3a7c9e1b2d4', issuedAt: '2026-01-01T00:00:00Z' });
 * console.log(parseSiweMessage(text).chainId); // 10
 * ```
 */
export function parseSiweMessage(text: string): SiweMessage {
  const malformed = (what: string): SiweError => new SiweError('malformed', `not an EIP-4361 message: ${what}`);
  if (typeof text !== 'string' || text.length > 16_384) throw malformed('not a string of at most 16 KiB');
  const lines = text.split('\n');
  let i = 0;
  const next = (): string | undefined => lines[i++];
  const first = next() ?? '';
  if (!first.endsWith(HEADER)) throw malformed('first line');
  let origin = first.slice(0, -HEADER.length);
  let scheme: string | undefined;
  const sep = origin.indexOf('://');
  if (sep >= 0) {
    scheme = origin.slice(0, sep);
    origin = origin.slice(sep + 3);
  }
  const address = next();
  if (next() !== '') throw malformed('blank line after the address');
  let statement: string | undefined;
  const maybeStatement = next();
  if (maybeStatement !== '') {
    statement = maybeStatement;
    if (next() !== '') throw malformed('blank line after the statement');
  }
  const field = (name: string, optional: boolean): string | undefined => {
    const line = lines[i];
    if (line !== undefined && line.startsWith(`${name}: `)) {
      i++;
      return line.slice(name.length + 2);
    }
    if (optional) return undefined;
    throw malformed(`missing "${name}"`);
  };
  const uri = field('URI', false)!;
  const version = field('Version', false)!;
  const chainId = field('Chain ID', false)!;
  const nonce = field('Nonce', false)!;
  const issuedAt = field('Issued At', false)!;
  const expirationTime = field('Expiration Time', true);
  const notBefore = field('Not Before', true);
  const requestId = field('Request ID', true);
  let resources: string[] | undefined;
  if (lines[i] === 'Resources:') {
    i++;
    resources = [];
    while (i < lines.length && lines[i]!.startsWith('- ')) resources.push(lines[i++]!.slice(2));
  }
  if (i !== lines.length) throw malformed('unexpected trailing content');
  if (!/^[0-9]{1,16}$/.test(chainId)) throw malformed('chain id');
  const candidate = {
    ...(scheme !== undefined ? { scheme } : {}),
    domain: origin,
    address: address ?? '',
    ...(statement !== undefined ? { statement } : {}),
    uri,
    version,
    chainId: Number(chainId),
    nonce,
    issuedAt,
    ...(expirationTime !== undefined ? { expirationTime } : {}),
    ...(notBefore !== undefined ? { notBefore } : {}),
    ...(requestId !== undefined ? { requestId } : {}),
    ...(resources !== undefined ? { resources } : {}),
  };
  const parsed = fieldsSchema.safeParse(candidate);
  if (!parsed.success) {
    const path = parsed.error.issues[0]?.path.join('.') ?? 'field';
    if (path === 'version') throw new SiweError('version', 'unsupported SIWE message version');
    throw malformed(`invalid ${path}`);
  }
  const message = parsed.data as SiweMessage;
  // Canonical form only: what was signed must be exactly what we would render.
  if (render(message) !== text) throw malformed('not in canonical form');
  return message;
}
