import { z } from 'zod';
import type { JsonValue, StorageAdapter } from '../../adapters/storage.js';
import type { Clock } from '../../core/clock.js';
import { ConflictError, hasErrorCode, NotFoundError } from '../../core/errors.js';
import type { IdGenerator } from '../../core/ids.js';
import type { Logger } from '../../core/logger.js';
import { parseInput } from '../../core/validation.js';
import type { Keyring } from '../../security/primitives.js';
import type { IdentityNamespaces, Doc } from '../internal/namespaces.js';
import { idSchema, invalidInput } from '../internal/options.js';
import type { UserService } from '../users/service.js';
import { accountNode, ETHEREUM_ACCOUNT_PATH, generateMnemonic, isValidMnemonic, MAX_ACCOUNT_INDEX, normaliseMnemonic, type WalletAccount } from './hd.js';

/** An HD wallet as returned (never with its mnemonic). */
export interface Wallet {
  /** Wallet id. */
  readonly id: string;
  /** Owner. */
  readonly userId: string;
  /** Free text label. */
  readonly label: string;
  /** `generated` here, or `imported` from an existing phrase. */
  readonly source: 'generated' | 'imported';
  /** Words in the mnemonic. */
  readonly words: number;
  /** Accounts derived so far (index 0 always). */
  readonly accounts: readonly WalletAccount[];
  /** Epoch ms. */
  readonly createdAt: number;
}

/** EIP-712 typed data to sign (the `EIP712Domain` type is implied by `domain`). */
export interface TypedDataInput {
  /** EIP-712 domain. */
  readonly domain: {
    readonly name?: string;
    readonly version?: string;
    readonly chainId?: number | string;
    readonly verifyingContract?: string;
    readonly salt?: string;
  };
  /** Struct definitions, e.g. `{ Mail: [{ name: 'to', type: 'address' }, ...] }`. */
  readonly types: Readonly<Record<string, readonly { readonly name: string; readonly type: string }[]>>;
  /** The message. */
  readonly value: Readonly<Record<string, unknown>>;
}

/** A signature and who made it. */
export interface WalletSignature {
  /** Signing address (EIP-55). */
  readonly address: string;
  /** 65-byte r‖s‖v signature, 0x-hex. */
  readonly signature: string;
}

/** @internal */
interface WalletRecord {
  id: string;
  userId: string;
  label: string;
  source: 'generated' | 'imported';
  words: number;
  /** Keyring envelope (base64url) of `{ phrase, passphrase }`, bound to user and wallet ids. */
  secret: string;
  accounts: WalletAccount[];
  createdAt: number;
}

/** Dependencies of {@link WalletService}. @internal */
export interface WalletServiceDeps {
  readonly storage: StorageAdapter;
  readonly keyring: Keyring;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly ids: IdGenerator;
  readonly namespaces: IdentityNamespaces;
  readonly users: UserService;
}

const labelSchema = z.string().trim().min(1).max(100);
const createSchema = z.strictObject({ label: labelSchema.optional(), words: z.union([z.literal(12), z.literal(24)]).optional() }).optional();
const importSchema = z.strictObject({ mnemonic: z.string().min(1).max(1024), passphrase: z.string().max(1024).optional(), label: labelSchema.optional() });
const indexSchema = z.number().int().min(0).max(MAX_ACCOUNT_INDEX);
const messageSchema = z.union([z.string().max(65_536), z.custom<Uint8Array>((v) => v instanceof Uint8Array && v.length <= 65_536, { message: 'expected a string or bytes up to 64 KiB' })]);
const typedDataSchema = z.strictObject({
  domain: z.strictObject({
    name: z.string().max(256).optional(),
    version: z.string().max(64).optional(),
    chainId: z.union([z.number().int().min(0), z.string().regex(/^[0-9]{1,78}$/)]).optional(),
    verifyingContract: z.string().regex(/^0x[0-9a-fA-F]{40}$/).optional(),
    salt: z.string().regex(/^0x[0-9a-fA-F]{64}$/).optional(),
  }),
  types: z.record(
    z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/),
    z.array(z.strictObject({ name: z.string().min(1).max(64), type: z.string().min(1).max(128) })).max(64),
  ),
  value: z.record(z.string(), z.unknown()),
});
const MAX_WALLETS_PER_USER = 100;
const MAX_CAS_ATTEMPTS = 8;

function toWallet(r: WalletRecord): Wallet {
  return { id: r.id, userId: r.userId, label: r.label, source: r.source, words: r.words, accounts: r.accounts, createdAt: r.createdAt };
}

/**
 * HD wallets for users: BIP-39 mnemonics generated here or imported, Ethereum accounts derived
 * along BIP-44 m/44'/60'/0'/0/i from the root (never from a depth-5 node), messages (EIP-191)
 * and typed data (EIP-712) signed with a derived account. The mnemonic is encrypted at rest with
 * the keyring (AES-256-GCM, bound to user and wallet ids as AAD), decrypted only for the duration
 * of a derivation or signature, and never logged or returned after creation.
 *
 * Signing is a sensitive operation: guard it with `Identity.authenticate(token, { requireMfa: true })`.
 *
 * Obtain it from `createIdentity(...).wallets`.
 *
 * @example
 * ```ts
 * import { createIdentity } from 'digital-fabrica/identity';
 * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
 * const identity = await createIdentity({ storage: createMemoryStorage(), issuer: 'i', audience: 'a' });
 * const user = await identity.users.create({ displayName: 'Ada' });
 * const { wallet, mnemonic } = await identity.wallets.create(user.id, { words: 12 });
 * console.log(mnemonic.split(' ').length, wallet.accounts[0]?.path); // 12 "m/44'/60'/0'/0/0"
 * ```
 */
export class WalletService {
  readonly #deps: WalletServiceDeps;

  /** @internal Obtain it from `createIdentity`. */
  constructor(deps: WalletServiceDeps) {
    this.#deps = deps;
  }

  /**
   * Generates a wallet (24 words by default) for a user. The mnemonic is returned this once, for
   * the user to back up; afterwards only its ciphertext exists.
   *
   * @throws `NOT_FOUND` for an unknown user; `CONFLICT` beyond 100 wallets per user; `VALIDATION_FAILED`.
   * @example
   * ```ts
   * import { createIdentity } from 'digital-fabrica/identity';
   * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
   * const identity = await createIdentity({ storage: createMemoryStorage(), issuer: 'i', audience: 'a' });
   * const user = await identity.users.create({ displayName: 'Ada' });
   * const { wallet } = await identity.wallets.create(user.id, { label: 'main' });
   * console.log(wallet.words, wallet.accounts[0]?.address.startsWith('0x')); // 24 true
   * ```
   */
  async create(userId: string, options?: { label?: string; words?: 12 | 24 }): Promise<{ wallet: Wallet; mnemonic: string }> {
    const id = parseInput(idSchema, userId, 'user id');
    const { label, words = 24 } = parseInput(createSchema, options, 'wallet options') ?? {};
    const mnemonic = generateMnemonic({ words });
    const wallet = await this.#store(id, mnemonic, undefined, label ?? 'Wallet', 'generated', words);
    return { wallet, mnemonic };
  }

  /**
   * Imports an existing BIP-39 mnemonic (and optional BIP-39 passphrase, stored encrypted too).
   *
   * @throws `VALIDATION_FAILED` for an invalid mnemonic (never echoed); `NOT_FOUND` for an
   * unknown user; `CONFLICT` beyond 100 wallets per user.
   * @example
   * ```ts
   * import { createIdentity } from 'digital-fabrica/identity';
   * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
   * const identity = await createIdentity({ storage: createMemoryStorage(), issuer: 'i', audience: 'a' });
   * const user = await identity.users.create({ displayName: 'Ada' });
   * const wallet = await identity.wallets.import(user.id, { mnemonic: 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about' });
   * console.log(wallet.accounts[0]?.address); // '0x9858EfFD232B4033E47d90003D41EC34EcaEda94'
   * ```
   */
  async import(userId: string, input: { mnemonic: string; passphrase?: string; label?: string }): Promise<Wallet> {
    const id = parseInput(idSchema, userId, 'user id');
    const { mnemonic, passphrase, label } = parseInput(importSchema, input, 'wallet import');
    const phrase = normaliseMnemonic(mnemonic);
    if (!isValidMnemonic(phrase)) {
      throw invalidInput('mnemonic', 'not a BIP-39 English phrase with a valid checksum');
    }
    return this.#store(id, phrase, passphrase, label ?? 'Imported wallet', 'imported', phrase.split(' ').length);
  }

  /**
   * A user's wallets.
   *
   * @throws `VALIDATION_FAILED`.
   * @example
   * ```ts
   * import { createIdentity } from 'digital-fabrica/identity';
   * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
   * const identity = await createIdentity({ storage: createMemoryStorage(), issuer: 'i', audience: 'a' });
   * console.log(await identity.wallets.list('nobody')); // []
   * ```
   */
  async list(userId: string): Promise<Wallet[]> {
    const id = parseInput(idSchema, userId, 'user id');
    const page = await this.#deps.storage.list<JsonValue>(this.#deps.namespaces.wallets, { prefix: `${id}/`, limit: MAX_WALLETS_PER_USER });
    return page.items.map((doc) => toWallet(doc.value as unknown as WalletRecord));
  }

  /**
   * One wallet.
   *
   * @throws `NOT_FOUND`; `VALIDATION_FAILED`.
   * @example
   * ```ts
   * import { createIdentity } from 'digital-fabrica/identity';
   * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
   * const identity = await createIdentity({ storage: createMemoryStorage(), issuer: 'i', audience: 'a' });
   * const user = await identity.users.create({ displayName: 'Ada' });
   * const { wallet } = await identity.wallets.create(user.id);
   * console.log((await identity.wallets.get(user.id, wallet.id)).label); // 'Wallet'
   * ```
   */
  async get(userId: string, walletId: string): Promise<Wallet> {
    return toWallet((await this.#doc(parseInput(idSchema, userId, 'user id'), parseInput(idSchema, walletId, 'wallet id'))).value);
  }

  /**
   * Derives the account at m/44'/60'/0'/0/`index` and records its address on the wallet.
   *
   * @throws `NOT_FOUND`; `VALIDATION_FAILED` for an index outside 0 – 2^31−1.
   * @example
   * ```ts
   * import { createIdentity } from 'digital-fabrica/identity';
   * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
   * const identity = await createIdentity({ storage: createMemoryStorage(), issuer: 'i', audience: 'a' });
   * const user = await identity.users.create({ displayName: 'Ada' });
   * const wallet = await identity.wallets.import(user.id, { mnemonic: 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about' });
   * console.log((await identity.wallets.deriveAccount(user.id, wallet.id, 1)).address); // '0x6Fac4D18c912343BF86fa7049364Dd4E424Ab9C0'
   * ```
   */
  async deriveAccount(userId: string, walletId: string, index: number): Promise<WalletAccount> {
    const uid = parseInput(idSchema, userId, 'user id');
    const wid = parseInput(idSchema, walletId, 'wallet id');
    const i = parseInput(indexSchema, index, 'account index');
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const doc = await this.#doc(uid, wid);
      const known = doc.value.accounts.find((a) => a.index === i);
      if (known) return known;
      const node = await this.#withSecret(doc.value, (phrase, passphrase) => accountNode(phrase, i, passphrase));
      const account: WalletAccount = { index: i, path: node.path!, address: node.address };
      const accounts = [...doc.value.accounts, account].sort((a, b) => a.index - b.index);
      try {
        await this.#deps.storage.put(this.#deps.namespaces.wallets, doc.key, { ...doc.value, accounts } as unknown as JsonValue, { ifVersion: doc.version });
        return account;
      } catch (err) {
        if (!hasErrorCode(err, 'CONFLICT')) throw err;
      }
    }
    throw new ConflictError('the wallet kept changing; retry');
  }

  /**
   * Signs a message with account `index` (EIP-191 `personal_sign`: what `eth_sign`-style wallet
   * prompts and Sign-In with Ethereum use).
   *
   * @throws `NOT_FOUND`; `VALIDATION_FAILED` (message over 64 KiB, bad index).
   * @example
   * ```ts
   * import { verifyMessage } from 'ethers';
   * import { createIdentity } from 'digital-fabrica/identity';
   * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
   * const identity = await createIdentity({ storage: createMemoryStorage(), issuer: 'i', audience: 'a' });
   * const user = await identity.users.create({ displayName: 'Ada' });
   * const { wallet } = await identity.wallets.create(user.id);
   * const { address, signature } = await identity.wallets.signMessage(user.id, wallet.id, 0, 'hello');
   * console.log(verifyMessage('hello', signature) === address); // true
   * ```
   */
  async signMessage(userId: string, walletId: string, index: number, message: string | Uint8Array): Promise<WalletSignature> {
    const uid = parseInput(idSchema, userId, 'user id');
    const wid = parseInput(idSchema, walletId, 'wallet id');
    const i = parseInput(indexSchema, index, 'account index');
    const body = parseInput(messageSchema, message, 'message');
    const doc = await this.#doc(uid, wid);
    const node = await this.#withSecret(doc.value, (phrase, passphrase) => accountNode(phrase, i, passphrase));
    return { address: node.address, signature: await node.signMessage(body) };
  }

  /**
   * Signs EIP-712 typed data with account `index`.
   *
   * @throws `NOT_FOUND`; `VALIDATION_FAILED` for malformed typed data (also when ethers cannot
   * encode it against `types`).
   * @example
   * ```ts
   * import { verifyTypedData } from 'ethers';
   * import { createIdentity } from 'digital-fabrica/identity';
   * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
   * const identity = await createIdentity({ storage: createMemoryStorage(), issuer: 'i', audience: 'a' });
   * const user = await identity.users.create({ displayName: 'Ada' });
   * const { wallet } = await identity.wallets.create(user.id);
   * const data = {
   *   domain: { name: 'Fabrica', version: '1', chainId: 1 },
   *   types: { Grant: [{ name: 'tenant', type: 'string' }, { name: 'units', type: 'uint256' }] },
   *   value: { tenant: 'acme', units: 42 },
   * };
   * const { address, signature } = await identity.wallets.signTypedData(user.id, wallet.id, 0, data);
   * console.log(verifyTypedData(data.domain, data.types, data.value, signature) === address); // true
   * ```
   */
  async signTypedData(userId: string, walletId: string, index: number, data: TypedDataInput): Promise<WalletSignature> {
    const uid = parseInput(idSchema, userId, 'user id');
    const wid = parseInput(idSchema, walletId, 'wallet id');
    const i = parseInput(indexSchema, index, 'account index');
    const { domain, types, value } = parseInput(typedDataSchema, data, 'typed data');
    const doc = await this.#doc(uid, wid);
    const node = await this.#withSecret(doc.value, (phrase, passphrase) => accountNode(phrase, i, passphrase));
    try {
      return { address: node.address, signature: await node.signTypedData(domain, types as Record<string, { name: string; type: string }[]>, value) };
    } catch (err) {
      throw invalidInput('typed data', 'the value does not match its types', err);
    }
  }

  /**
   * Deletes a wallet; its encrypted mnemonic is gone for good.
   *
   * @returns whether it existed.
   * @throws `VALIDATION_FAILED`.
   * @example
   * ```ts
   * import { createIdentity } from 'digital-fabrica/identity';
   * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
   * const identity = await createIdentity({ storage: createMemoryStorage(), issuer: 'i', audience: 'a' });
   * const user = await identity.users.create({ displayName: 'Ada' });
   * const { wallet } = await identity.wallets.create(user.id);
   * console.log(await identity.wallets.delete(user.id, wallet.id)); // true
   * ```
   */
  async delete(userId: string, walletId: string): Promise<boolean> {
    const key = `${parseInput(idSchema, userId, 'user id')}/${parseInput(idSchema, walletId, 'wallet id')}`;
    const removed = await this.#deps.storage.delete(this.#deps.namespaces.wallets, key);
    if (removed) this.#deps.logger.info('wallet deleted', { userId, walletId });
    return removed;
  }

  /** @internal Deletes every wallet of a user (user deletion). */
  async deleteAll(userId: string): Promise<number> {
    let removed = 0;
    for (;;) {
      const page = await this.#deps.storage.list(this.#deps.namespaces.wallets, { prefix: `${userId}/`, limit: 100 });
      if (page.items.length === 0) return removed;
      const result = await this.#deps.storage.txn({ success: page.items.map((d) => ({ type: 'delete' as const, namespace: this.#deps.namespaces.wallets, key: d.key })) });
      removed += result.results.filter((r) => r.existed).length;
    }
  }

  async #store(userId: string, phrase: string, passphrase: string | undefined, label: string, source: WalletRecord['source'], words: number): Promise<Wallet> {
    await this.#deps.users.get(userId);
    const existing = await this.#deps.storage.list(this.#deps.namespaces.wallets, { prefix: `${userId}/`, limit: MAX_WALLETS_PER_USER });
    if (existing.items.length >= MAX_WALLETS_PER_USER) throw new ConflictError(`a user may hold at most ${MAX_WALLETS_PER_USER} wallets`);
    const id = this.#deps.ids.next();
    const first = accountNode(phrase, 0, passphrase);
    const record: WalletRecord = {
      id,
      userId,
      label,
      source,
      words,
      secret: await this.#deps.keyring.encryptToBase64url(JSON.stringify({ phrase, passphrase: passphrase ?? '' }), { aad: this.#aad(userId, id) }),
      accounts: [{ index: 0, path: `${ETHEREUM_ACCOUNT_PATH}/0`, address: first.address }],
      createdAt: this.#deps.clock.now(),
    };
    await this.#deps.storage.put(this.#deps.namespaces.wallets, `${userId}/${id}`, record as unknown as JsonValue, { ifVersion: 0 });
    this.#deps.logger.info('wallet stored', { userId, walletId: id, source });
    return toWallet(record);
  }

  async #withSecret<T>(record: WalletRecord, use: (phrase: string, passphrase: string) => T): Promise<T> {
    const json = await this.#deps.keyring.decryptText(record.secret, { aad: this.#aad(record.userId, record.id) });
    const { phrase, passphrase } = JSON.parse(json) as { phrase: string; passphrase: string };
    return use(phrase, passphrase);
  }

  async #doc(userId: string, walletId: string): Promise<Doc<WalletRecord>> {
    const doc = (await this.#deps.storage.get(this.#deps.namespaces.wallets, `${userId}/${walletId}`)) as Doc<WalletRecord> | null;
    if (!doc) throw new NotFoundError('no such wallet');
    return doc;
  }

  #aad(userId: string, walletId: string): string {
    return `digital-fabrica/identity/wallet/${userId}/${walletId}`;
  }
}
