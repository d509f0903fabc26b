/**
 * BIP-39/BIP-32 against trezor's vectors (../shared/vectors/bip39/vectors.json: entropy →
 * mnemonic, mnemonic + "TREZOR" → seed → root xprv), the BIP-44 derivation path done from the
 * root, and the wallet service: mnemonics encrypted at rest, EIP-191 and EIP-712 signatures.
 */
import { HDNodeWallet, Mnemonic, verifyMessage, verifyTypedData } from 'ethers';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  deriveEthereumAccount,
  generateMnemonic,
  isValidMnemonic,
  mnemonicToSeed,
  normaliseMnemonic,
  rootExtendedKey,
} from '../../../src/identity/index.js';
import { failure, testIdentity, type TestIdentity } from './support/identity.js';
import { hex, loadVectors } from '../../support/vectors.js';

interface Bip39File {
  readonly passphrase: string;
  readonly english: readonly (readonly [entropy: string, mnemonic: string, seed: string, xprv: string])[];
}

const FILE = 'bip39/vectors.json';
const vectors = loadVectors<Bip39File>(FILE);
const ABANDON = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';

describe.skipIf(!vectors)('BIP-39 vectors (trezor, passphrase TREZOR)', () => {
  it('entropy → mnemonic → seed → BIP-32 root xprv for every vector', () => {
    const { passphrase, english } = vectors!;
    for (const [entropy, mnemonic, seed, xprv] of english) {
      expect(Mnemonic.entropyToPhrase(hex(entropy))).toBe(mnemonic);
      expect(isValidMnemonic(mnemonic)).toBe(true);
      expect(Buffer.from(mnemonicToSeed(mnemonic, passphrase)).toString('hex')).toBe(seed);
      expect(rootExtendedKey(mnemonic, passphrase)).toBe(xprv);
    }
    console.log(`[vectors] ${FILE}: ${english.length} cases ran (entropy→mnemonic, seed, root xprv each), 0 skipped`);
  });
});

describe('BIP-44 derivation from the root', () => {
  it('derives the well-known addresses of the "abandon … about" phrase', () => {
    expect(deriveEthereumAccount(ABANDON, 0)).toEqual({ index: 0, path: "m/44'/60'/0'/0/0", address: '0x9858EfFD232B4033E47d90003D41EC34EcaEda94' });
    expect(deriveEthereumAccount(ABANDON, 1).address).toBe('0x6Fac4D18c912343BF86fa7049364Dd4E424Ab9C0');
  });

  it('agrees with ethers at every index, and never with the silently wrong "dropped m/" path', () => {
    const depth5 = HDNodeWallet.fromPhrase(ABANDON); // ethers returns m/44'/60'/0'/0/0, depth 5
    expect(depth5.depth).toBe(5);
    expect(() => depth5.derivePath("m/44'/60'/0'/0/1")).toThrow(); // the pitfall, part 1
    const wrong = depth5.derivePath("44'/60'/0'/0/1"); // part 2: silently m/44'/60'/0'/0/0/44'/60'/0'/0/1
    const root = HDNodeWallet.fromSeed(Mnemonic.fromPhrase(ABANDON).computeSeed());
    for (const index of [0, 1, 2, 7, 2 ** 31 - 1]) {
      const ours = deriveEthereumAccount(ABANDON, index);
      expect(ours.address).toBe(root.derivePath(`m/44'/60'/0'/0/${index}`).address);
      expect(ours.path).toBe(`m/44'/60'/0'/0/${index}`);
    }
    expect(deriveEthereumAccount(ABANDON, 1).address).not.toBe(wrong.address);
  });

  it('uses the BIP-39 passphrase (a different wallet), normalises the phrase, and rejects bad input without echoing it', async () => {
    expect(deriveEthereumAccount(ABANDON, 0, 'TREZOR').address).not.toBe(deriveEthereumAccount(ABANDON, 0).address);
    expect(deriveEthereumAccount(`  ${ABANDON.toUpperCase().replaceAll(' ', '   ')} `, 0).address).toBe('0x9858EfFD232B4033E47d90003D41EC34EcaEda94');
    expect(normaliseMnemonic(' A  b ')).toBe('a b');
    const badChecksum = ABANDON.replace('about', 'abandon');
    const err = await failure(() => deriveEthereumAccount(badChecksum, 0));
    expect(err.code).toBe('VALIDATION_FAILED');
    expect(err.message).not.toContain('abandon');
    expect(JSON.stringify(err.details)).not.toContain('abandon');
    for (const index of [-1, 2 ** 31, 1.5]) expect((await failure(() => deriveEthereumAccount(ABANDON, index))).code).toBe('VALIDATION_FAILED');
  });

  it('generates valid 12- and 24-word phrases from fresh entropy', () => {
    const a = generateMnemonic({ words: 12 });
    const b = generateMnemonic();
    expect(a.split(' ')).toHaveLength(12);
    expect(b.split(' ')).toHaveLength(24);
    expect(isValidMnemonic(a) && isValidMnemonic(b)).toBe(true);
    expect(generateMnemonic()).not.toBe(b);
  });
});

describe('wallet service', () => {
  let t: TestIdentity;
  let userId: string;

  beforeAll(async () => {
    t = await testIdentity();
    userId = (await t.identity.users.create({ displayName: 'Ada' })).id;
  });

  it('stores the mnemonic only encrypted, and never logs it', async () => {
    const { wallet, mnemonic } = await t.identity.wallets.create(userId, { words: 12, label: 'main' });
    expect(isValidMnemonic(mnemonic)).toBe(true);
    expect(wallet.accounts).toEqual([deriveEthereumAccount(mnemonic, 0)]);
    const page = await t.storage.list('identity.wallets', { prefix: `${userId}/` });
    const raw = JSON.stringify(page.items);
    for (const word of new Set(mnemonic.split(' '))) expect(raw.includes(` ${word} `) || raw.includes(`"${word} `)).toBe(false);
    expect(raw).not.toContain(mnemonic);
    // Pairs of consecutive words: a single word can occur by chance (e.g. "source" is a BIP-39 word
    // and a log field name), a pair of the phrase's words only by leaking it.
    const words = mnemonic.split(' ');
    const pairs = words.slice(1).map((w, i) => `${words[i]} ${w}`);
    expect(t.recorder.leaks([mnemonic, ...pairs])).toEqual([]);
    expect(JSON.stringify(await t.identity.wallets.get(userId, wallet.id))).not.toContain(mnemonic.split(' ')[0]! + ' ' + mnemonic.split(' ')[1]!);
  });

  it('imports a phrase and derives, records and signs with accounts along m/44\'/60\'/0\'/0/i', async () => {
    const wallet = await t.identity.wallets.import(userId, { mnemonic: ABANDON, label: 'imported' });
    expect(wallet.accounts[0]!.address).toBe('0x9858EfFD232B4033E47d90003D41EC34EcaEda94');
    const second = await t.identity.wallets.deriveAccount(userId, wallet.id, 1);
    expect(second.address).toBe('0x6Fac4D18c912343BF86fa7049364Dd4E424Ab9C0');
    expect((await t.identity.wallets.get(userId, wallet.id)).accounts.map((a) => a.index)).toEqual([0, 1]);
    const signed = await t.identity.wallets.signMessage(userId, wallet.id, 1, 'hello fabrica');
    expect(signed.address).toBe(second.address);
    expect(verifyMessage('hello fabrica', signed.signature)).toBe(second.address);
  });

  it('signs EIP-712 typed data that verifies to the account', async () => {
    const wallet = await t.identity.wallets.import(userId, { mnemonic: ABANDON });
    const data = {
      domain: { name: 'Fabrica', version: '1', chainId: 1, verifyingContract: '0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC' },
      types: { Person: [{ name: 'name', type: 'string' }, { name: 'wallet', type: 'address' }], Mail: [{ name: 'from', type: 'Person' }, { name: 'contents', type: 'string' }] },
      value: { from: { name: 'Cow', wallet: '0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826' }, contents: 'Hello, Bob!' },
    };
    const { address, signature } = await t.identity.wallets.signTypedData(userId, wallet.id, 0, data);
    expect(verifyTypedData(data.domain, data.types, data.value, signature)).toBe(address);
    const bad = await failure(t.identity.wallets.signTypedData(userId, wallet.id, 0, { ...data, value: { contents: 1 } }));
    expect(bad.code).toBe('VALIDATION_FAILED');
  });

  it('refuses an invalid import without echoing it, unknown wallets and users, and a keyring that cannot open the mnemonic', async () => {
    const secretish = 'zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo';
    const err = await failure(t.identity.wallets.import(userId, { mnemonic: secretish }));
    expect(err.code).toBe('VALIDATION_FAILED');
    expect(JSON.stringify([err.message, err.details])).not.toContain('zoo zoo');
    expect((await failure(t.identity.wallets.get(userId, 'nope'))).code).toBe('NOT_FOUND');
    expect((await failure(t.identity.wallets.create('no-such-user'))).code).toBe('NOT_FOUND');
    const { wallet } = await t.identity.wallets.create(userId, { words: 12 });
    // Another keyring (another deployment's key) cannot decrypt: authentication fails, nothing leaks.
    const other = await testIdentity({}, t.storage);
    expect((await failure(other.identity.wallets.signMessage(userId, wallet.id, 0, 'x'))).code).toBe('CRYPTO_AUTH_FAILED');
  });

  it('deletes wallets, and all of a user\'s wallets with the user', async () => {
    const owner = await t.identity.users.create({ displayName: 'Owner' });
    const { wallet } = await t.identity.wallets.create(owner.id, { words: 12 });
    await t.identity.wallets.create(owner.id, { words: 12 });
    expect(await t.identity.wallets.delete(owner.id, wallet.id)).toBe(true);
    expect(await t.identity.wallets.list(owner.id)).toHaveLength(1);
    await t.identity.users.delete(owner.id);
    expect(await t.identity.wallets.list(owner.id)).toHaveLength(0);
  });
});
