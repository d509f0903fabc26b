import { getAddress, verifyMessage } from 'ethers';
import { z } from 'zod';
import type { StorageAdapter } from '../../adapters/storage.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import { parseInput } from '../../core/validation.js';
import { SiweError } from '../errors.js';
import { randomString } from '../internal/bytes.js';
import { ttlUntil, type IdentityNamespaces } from '../internal/namespaces.js';
import { invalidInput } from '../internal/options.js';
import { buildSiweMessage, parseSiweMessage, type SiweMessage } from './message.js';

/** What this service accepts in Sign-In with Ethereum messages. */
export interface SiwePolicy {
  /** The only accepted `domain` (RFC 3986 authority of your site, e.g. `app.example.com`). */
  readonly domain: string;
  /** Accepted `URI`s: a message's URI must equal one of these or lie below it (`https://app.example.com`). */
  readonly uris: readonly string[];
  /** Accepted EIP-155 chain ids (default `[1]`, Ethereum mainnet). */
  readonly chainIds: readonly number[];
  /** Accepted `scheme` when a message states one (default `https`). */
  readonly scheme: string;
  /** Lifetime of a nonce and largest accepted age of `Issued At`, ms (default 5 minutes). */
  readonly nonceTtlMs: number;
  /** Allowed clock skew for the time fields, ms (default 30 s). */
  readonly clockToleranceMs: number;
  /** Statement put into messages built by {@link SiweService.createMessage}. */
  readonly statement?: string;
}

/** A freshly issued nonce. */
export interface SiweNonce {
  /** 17 alphanumeric characters (~101 bits), single use. */
  readonly nonce: string;
  /** It must be used before this time, epoch ms. */
  readonly expiresAt: number;
}

/** What {@link SiweService.createMessage} needs from the client. */
export interface CreateSiweMessageInput {
  /** The wallet's address (any case; written EIP-55 checksummed). */
  readonly address: string;
  /** Chain the wallet is on (default: the first accepted chain). */
  readonly chainId?: number;
  /** A nonce from {@link SiweService.issueNonce}. */
  readonly nonce: string;
  /** Default: the first accepted URI. */
  readonly uri?: string;
  /** Default: the policy's statement. */
  readonly statement?: string;
  /** Optional expiry of the message, epoch ms. */
  readonly expiresAt?: number;
  /** Optional resources. */
  readonly resources?: readonly string[];
}

/** A message that passed every check. */
export interface VerifiedSiweMessage {
  /** EIP-55 address that signed. */
  readonly address: string;
  /** The parsed message. */
  readonly message: SiweMessage;
}

/** Dependencies of {@link SiweService}. @internal */
export interface SiweServiceDeps {
  readonly storage: StorageAdapter;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly namespaces: IdentityNamespaces;
  /** `undefined` when Sign-In with Ethereum is not configured: every method then refuses. */
  readonly policy: SiwePolicy | undefined;
}

const NONCE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const createSchema = z.strictObject({
  address: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
  chainId: z.number().int().min(1).optional(),
  nonce: z.string().regex(/^[A-Za-z0-9]{8,128}$/),
  uri: z.string().max(2048).optional(),
  statement: z.string().max(1024).optional(),
  expiresAt: z.number().int().optional(),
  resources: z.array(z.string().max(2048)).max(64).optional(),
});
const verifySchema = z.strictObject({
  message: z.string().min(1).max(16_384),
  signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, { message: 'signature must be 65 bytes, 0x-hex' }),
  nonce: z.string().max(128).optional(),
});

function under(uri: string, allowed: string): boolean {
  if (uri === allowed) return true;
  const base = allowed.endsWith('/') ? allowed : `${allowed}/`;
  return uri.startsWith(base);
}

/**
 * Sign-In with Ethereum (EIP-4361), secure by default: every check is always on. The `siwe`
 * library verifies `domain` and `nonce` only when the caller passes them; here the domain, URI,
 * chain id and time bounds come from the policy and the nonce must be one this service issued,
 * unexpired and unused — it is consumed atomically (a storage transaction), so a signed message
 * works once, across every process sharing the storage.
 *
 * Signatures are EIP-191 `personal_sign` by externally owned accounts (recovered with ethers);
 * smart-contract wallets (EIP-1271) are not supported.
 *
 * Obtain it from `createIdentity(...).siwe`; `Identity.signInWithEthereum` turns a verified
 * message into a session.
 *
 * @example
 * ```ts
 * import { Wallet } from 'ethers';
 * import { createIdentity } from 'digital-fabrica/identity';
 * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
 * const identity = await createIdentity({ storage: createMemoryStorage(), issuer: 'https://app.example.com', audience: 'api' });
 * const wallet = Wallet.createRandom();
 * const { nonce } = await identity.siwe.issueNonce();
 * const message = identity.siwe.createMessage({ address: wallet.address, nonce });
 * const { address } = await identity.siwe.verify({ message, signature: await wallet.signMessage(message) });
 * console.log(address === wallet.address); // true
 * ```
 */
export class SiweService {
  readonly #deps: SiweServiceDeps;

  /** @internal Obtain it from `createIdentity`. */
  constructor(deps: SiweServiceDeps) {
    this.#deps = deps;
  }

  /**
   * The policy in force.
   *
   * @throws `VALIDATION_FAILED` when Sign-In with Ethereum is not configured.
   */
  get policy(): SiwePolicy {
    const policy = this.#deps.policy;
    if (!policy) throw invalidInput('identity options', 'Sign-In with Ethereum is not configured: pass options.siwe (or an issuer that is a URL)');
    return policy;
  }

  /**
   * Issues a single-use nonce for a message (hand it to the client).
   *
   * @throws storage errors.
   * @example
   * ```ts
   * import { createIdentity } from 'digital-fabrica/identity';
   * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
   * const identity = await createIdentity({ storage: createMemoryStorage(), issuer: 'https://app.example.com', audience: 'api' });
   * const { nonce } = await identity.siwe.issueNonce();
   * console.log(/^[A-Za-z0-9]{17}$/.test(nonce)); // true
   * ```
   */
  async issueNonce(): Promise<SiweNonce> {
    const policy = this.policy;
    const nonce = randomString(NONCE_ALPHABET, 17);
    const now = this.#deps.clock.now();
    const expiresAt = now + policy.nonceTtlMs;
    await this.#deps.storage.put(this.#deps.namespaces.nonces, `siwe/${nonce}`, { expiresAt }, { ttlMs: ttlUntil(expiresAt, now), ifVersion: 0 });
    return { nonce, expiresAt };
  }

  /**
   * Builds the message a wallet should sign, with this service's domain and defaults.
   *
   * @throws `VALIDATION_FAILED` for bad input.
   * @example
   * ```ts
   * import { createIdentity } from 'digital-fabrica/identity';
   * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
   * const identity = await createIdentity({ storage: createMemoryStorage(), issuer: 'https://app.example.com', audience: 'api' });
   * const text = identity.siwe.createMessage({ address: '0x9858effd232b4033e47d90003d41ec34ecaeda94', nonce: 'abcdefgh12345678' });
   * console.log(text.includes('0x9858EfFD232B4033E47d90003D41EC34EcaEda94')); // true: checksummed
   * ```
   */
  createMessage(input: CreateSiweMessageInput): string {
    const policy = this.policy;
    const { address, chainId, nonce, uri, statement, expiresAt, resources } = parseInput(createSchema, input, 'SIWE message input');
    const { clock } = this.#deps;
    let checksummed: string;
    try {
      // EIP-55: lower- or upper-case input gets its checksum; mixed case must already be right.
      checksummed = getAddress(address);
    } catch (err) {
      throw invalidInput('address', 'not a valid EIP-55 address', err);
    }
    return buildSiweMessage({
      domain: policy.domain,
      address: checksummed,
      ...(statement ?? policy.statement ? { statement: statement ?? policy.statement } : {}),
      uri: uri ?? policy.uris[0]!,
      version: '1',
      chainId: chainId ?? policy.chainIds[0]!,
      nonce,
      issuedAt: new Date(clock.now()).toISOString(),
      ...(expiresAt !== undefined ? { expirationTime: new Date(expiresAt).toISOString() } : {}),
      ...(resources !== undefined ? { resources } : {}),
    });
  }

  /**
   * Verifies a signed message, in order: EIP-4361 syntax; `Version` 1; `domain` (and `scheme`)
   * is ours; `URI` is accepted; `Chain ID` is accepted; `Issued At` is neither in the future nor
   * older than the nonce lifetime; `Expiration Time` has not passed; `Not Before` has; the nonce
   * matches `nonce` when given; the signature recovers to `address`; and finally the nonce is
   * consumed (it must have been issued here, be unexpired and unused).
   *
   * @throws `AUTH_SIWE_INVALID` with the failing check as `reason` (`malformed`, `version`,
   * `domain`, `uri`, `chain`, `issued_in_future`, `expired`, `not_yet_valid`, `nonce`,
   * `signature`); `VALIDATION_FAILED` for a non-hex signature.
   * @example
   * ```ts
   * import { Wallet } from 'ethers';
   * import { createIdentity } from 'digital-fabrica/identity';
   * import { hasErrorCode } from 'digital-fabrica/errors';
   * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
   * const identity = await createIdentity({ storage: createMemoryStorage(), issuer: 'https://app.example.com', audience: 'api' });
   * const wallet = Wallet.createRandom();
   * const message = identity.siwe.createMessage({ address: wallet.address, nonce: (await identity.siwe.issueNonce()).nonce });
   * const signature = await wallet.signMessage(message);
   * await identity.siwe.verify({ message, signature });
   * try {
   *   await identity.siwe.verify({ message, signature }); // replay
   * } catch (err) {
   *   console.log(hasErrorCode(err, 'AUTH_SIWE_INVALID')); // true, reason 'nonce'
   * }
   * ```
   */
  async verify(input: { message: string; signature: string; nonce?: string }): Promise<VerifiedSiweMessage> {
    const policy = this.policy;
    const { message: text, signature, nonce: expectedNonce } = parseInput(verifySchema, input, 'SIWE verification');
    const { clock } = this.#deps;
    const message = parseSiweMessage(text);
    if (message.domain !== policy.domain) throw new SiweError('domain', 'the message is for another domain');
    if (message.scheme !== undefined && message.scheme !== policy.scheme) throw new SiweError('domain', 'the message is for another scheme');
    if (!policy.uris.some((allowed) => under(message.uri, allowed))) throw new SiweError('uri', 'the message is for another URI');
    if (!policy.chainIds.includes(message.chainId)) throw new SiweError('chain', 'the message is for another chain');
    const now = clock.now();
    const tolerance = policy.clockToleranceMs;
    const issuedAt = Date.parse(message.issuedAt);
    if (issuedAt > now + tolerance) throw new SiweError('issued_in_future', 'the message was issued in the future');
    if (issuedAt < now - policy.nonceTtlMs - tolerance) throw new SiweError('expired', 'the message is older than a nonce lives');
    if (message.expirationTime !== undefined && Date.parse(message.expirationTime) <= now - tolerance) throw new SiweError('expired', 'the message has expired');
    if (message.notBefore !== undefined && Date.parse(message.notBefore) > now + tolerance) throw new SiweError('not_yet_valid', 'the message is not valid yet');
    if (expectedNonce !== undefined && expectedNonce !== message.nonce) throw new SiweError('nonce', 'the message carries another nonce');
    let recovered: string;
    try {
      recovered = verifyMessage(text, signature);
    } catch (err) {
      throw new SiweError('signature', 'the signature is malformed', { cause: err });
    }
    if (recovered !== message.address) throw new SiweError('signature', 'the signature is not from the message\'s address');
    // Last, so that a bad signature cannot burn someone else's nonce. The transaction makes
    // "exists, then delete" atomic: of two concurrent verifications of one message, one wins.
    const key = `siwe/${message.nonce}`;
    const stored = await this.#deps.storage.get<{ expiresAt: number }>(this.#deps.namespaces.nonces, key);
    if (!stored || stored.value.expiresAt <= now) throw new SiweError('nonce', 'the nonce is unknown, expired or used');
    const consumed = await this.#deps.storage.txn({
      compare: [{ namespace: this.#deps.namespaces.nonces, key, version: stored.version }],
      success: [{ type: 'delete', namespace: this.#deps.namespaces.nonces, key }],
    });
    if (!consumed.succeeded) throw new SiweError('nonce', 'the nonce is unknown, expired or used');
    this.#deps.logger.info('SIWE message verified', { address: message.address, chainId: message.chainId });
    return { address: message.address, message };
  }
}
