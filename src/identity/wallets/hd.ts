/**
 * BIP-39 mnemonics and BIP-32/BIP-44 derivation of Ethereum accounts, on ethers.
 *
 * The ethers pitfall this closes (ethers#4848, #4709, #5047): `HDNodeWallet.fromPhrase()` returns
 * the node at the default path m/44'/60'/0'/0/0 (depth 5), not the root. Calling
 * `derivePath("m/44'/60'/0'/0/1")` on it throws, and dropping the `m/` silently derives
 * m/44'/60'/0'/0/0/44'/60'/0'/0/1 — a valid-looking, wrong address. Here every derivation starts
 * from the root node built from the seed (`HDNodeWallet.fromSeed`, depth 0), paths are built from
 * an index (never from caller text), and the derived node's depth and path are asserted.
 */
import { HDNodeWallet, Mnemonic, getBytes } from 'ethers';
import { z } from 'zod';
import { FabricaError } from '../../core/errors.js';
import { parseInput } from '../../core/validation.js';
import { randomBytes } from '../internal/bytes.js';
import { invalidInput } from '../internal/options.js';

/**
 * BIP-44 external chain of the first Ethereum account: coin type 60 (SLIP-44), account 0', change 0.
 *
 * @example
 * ```ts
 * import { ETHEREUM_ACCOUNT_PATH } from 'digital-fabrica/identity';
 * console.log(`${ETHEREUM_ACCOUNT_PATH}/3`); // "m/44'/60'/0'/0/3"
 * ```
 */
export const ETHEREUM_ACCOUNT_PATH = "m/44'/60'/0'/0";

/**
 * Largest non-hardened child index (BIP-32 §"Child key derivation").
 *
 * @example
 * ```ts
 * import { MAX_ACCOUNT_INDEX } from 'digital-fabrica/identity';
 * console.log(MAX_ACCOUNT_INDEX); // 2147483647
 * ```
 */
export const MAX_ACCOUNT_INDEX = 2 ** 31 - 1;

/** An account derived from a wallet. */
export interface WalletAccount {
  /** Child index under {@link ETHEREUM_ACCOUNT_PATH}. */
  readonly index: number;
  /** Full derivation path, e.g. `m/44'/60'/0'/0/3`. */
  readonly path: string;
  /** EIP-55 checksummed address. */
  readonly address: string;
}

const wordsSchema = z.union([z.literal(12), z.literal(15), z.literal(18), z.literal(21), z.literal(24)]);
const phraseSchema = z.string().min(1).max(1024);
const passphraseSchema = z.string().max(1024).optional();
const indexSchema = z.number().int().min(0).max(MAX_ACCOUNT_INDEX);

/**
 * The canonical form of a phrase: NFKD (BIP-39 §"From mnemonic to seed"), lower case, single spaces.
 *
 * @throws `VALIDATION_FAILED` for a non-string or oversized phrase.
 * @example
 * ```ts
 * import { normaliseMnemonic } from 'digital-fabrica/identity';
 * console.log(normaliseMnemonic('  Abandon   ABOUT ')); // 'abandon about'
 * ```
 */
export function normaliseMnemonic(phrase: string): string {
  return parseInput(phraseSchema, phrase, 'mnemonic').normalize('NFKD').trim().toLowerCase().split(/\s+/u).join(' ');
}

/**
 * A new BIP-39 English mnemonic from the platform CSPRNG: 12 words (128 bits) up to 24 (256 bits,
 * the default).
 *
 * @throws `VALIDATION_FAILED` for an unsupported length.
 * @example
 * ```ts
 * import { generateMnemonic, isValidMnemonic } from 'digital-fabrica/identity';
 * const phrase = generateMnemonic({ words: 12 });
 * console.log(phrase.split(' ').length, isValidMnemonic(phrase)); // 12 true
 * ```
 */
export function generateMnemonic(options?: { words?: 12 | 15 | 18 | 21 | 24 }): string {
  const { words = 24 } = parseInput(z.strictObject({ words: wordsSchema.optional() }).optional(), options, 'mnemonic options') ?? {};
  const entropy = randomBytes((words / 3) * 4);
  try {
    return Mnemonic.entropyToPhrase(entropy);
  } finally {
    entropy.fill(0);
  }
}

/**
 * Whether a phrase is a valid BIP-39 English mnemonic (words and checksum). Never throws: any
 * non-string or oversized input is simply not a mnemonic.
 *
 * @throws nothing.
 * @example
 * ```ts
 * import { isValidMnemonic } from 'digital-fabrica/identity';
 * console.log(isValidMnemonic('abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about')); // true
 * console.log(isValidMnemonic('abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon')); // false
 * ```
 */
export function isValidMnemonic(phrase: string): boolean {
  if (typeof phrase !== 'string' || phrase.length > 1024) return false;
  return Mnemonic.isValidMnemonic(normaliseMnemonic(phrase));
}

function mnemonicOf(phrase: string, passphrase: string | undefined): Mnemonic {
  const normalised = normaliseMnemonic(phrase);
  if (!Mnemonic.isValidMnemonic(normalised)) {
    // Never echo the phrase: it is the wallet.
    throw invalidInput('mnemonic', 'not a BIP-39 English phrase with a valid checksum');
  }
  return Mnemonic.fromPhrase(normalised, parseInput(passphraseSchema, passphrase, 'passphrase') ?? '');
}

/**
 * The 64-byte BIP-39 seed of a mnemonic and optional passphrase (PBKDF2-HMAC-SHA512, 2048 rounds).
 *
 * @throws `VALIDATION_FAILED` for an invalid mnemonic (the phrase is never echoed).
 * @example
 * ```ts
 * import { mnemonicToSeed } from 'digital-fabrica/identity';
 * const seed = mnemonicToSeed('abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about', 'TREZOR');
 * console.log(seed.length); // 64
 * ```
 */
export function mnemonicToSeed(phrase: string, passphrase?: string): Uint8Array {
  return getBytes(mnemonicOf(phrase, passphrase).computeSeed());
}

/** The BIP-32 root node (depth 0) of a mnemonic. */
function rootOf(phrase: string, passphrase: string | undefined): HDNodeWallet {
  const seed = mnemonicToSeed(phrase, passphrase);
  try {
    const root = HDNodeWallet.fromSeed(seed);
    if (root.depth !== 0) throw new FabricaError('INTERNAL', 'BIP-32 root node is not at depth 0');
    return root;
  } finally {
    seed.fill(0);
  }
}

/**
 * The BIP-32 root extended private key (`xprv…`) of a mnemonic. SECRET: it controls every account.
 *
 * @throws `VALIDATION_FAILED` for an invalid mnemonic.
 * @example
 * ```ts
 * import { rootExtendedKey } from 'digital-fabrica/identity';
 * const xprv = rootExtendedKey('abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about', 'TREZOR');
 * console.log(xprv.startsWith('xprv9s21ZrQH143K3h3fDYiay8mocZ3afhfULfb5GX8kCBdno77K4HiA15Tg23wpbeF1pLfs1c5SPmYHrEpTuuRhxMwvKDwqdKiGJS9XFKzUsAF')); // true
 * ```
 */
export function rootExtendedKey(phrase: string, passphrase?: string): string {
  return rootOf(phrase, passphrase).extendedKey;
}

/**
 * @internal The signer of account `index`: derived from the root along m/44'/60'/0'/0/index,
 * with depth and path asserted.
 */
export function accountNode(phrase: string, index: number, passphrase?: string): HDNodeWallet {
  const i = parseInput(indexSchema, index, 'account index');
  const path = `${ETHEREUM_ACCOUNT_PATH}/${i}`;
  const node = rootOf(phrase, passphrase).derivePath(path);
  if (node.depth !== 5 || node.path !== path) throw new FabricaError('INTERNAL', 'derived node is not at the requested BIP-44 path');
  return node;
}

/**
 * The Ethereum account at m/44'/60'/0'/0/`index` of a mnemonic (MetaMask, Ledger Live and most
 * wallets use this path).
 *
 * @throws `VALIDATION_FAILED` for an invalid mnemonic or an index outside 0 – 2^31−1.
 * @example
 * ```ts
 * import { deriveEthereumAccount } from 'digital-fabrica/identity';
 * const phrase = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';
 * console.log(deriveEthereumAccount(phrase, 0).address); // '0x9858EfFD232B4033E47d90003D41EC34EcaEda94'
 * ```
 */
export function deriveEthereumAccount(phrase: string, index: number, passphrase?: string): WalletAccount {
  const node = accountNode(phrase, index, passphrase);
  return { index, path: node.path!, address: node.address };
}
