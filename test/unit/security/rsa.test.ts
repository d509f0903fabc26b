import { generateKeyPairSync } from 'node:crypto';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { availableAesGcmEngines } from '../../../src/security/cipher/engines.js';
import { randomBytes } from '../../../src/security/internal/bytes.js';
import {
  AesKey,
  decrypt,
  encrypt,
  generateRsaKeyPair,
  hybridDecrypt,
  hybridDecryptText,
  hybridEncrypt,
  hybridEncryptToBase64url,
  importRsaPrivateKey,
  importRsaPublicKey,
  readEnvelopeHeader,
  rsaOaepDecrypt,
  rsaOaepEncrypt,
  type RsaKeyPair,
} from '../../../src/security/primitives.js';
import { expectCode } from './support/errors.js';
import { hex, loadVectors, sameBytes, Tally, toHex, type WycheproofFile, type WycheproofResult } from '../../support/vectors.js';

interface OaepTest {
  readonly tcId: number;
  readonly msg: string;
  readonly ct: string;
  readonly label: string;
  readonly result: WycheproofResult;
  readonly comment: string;
}
interface OaepGroup {
  readonly keySize: number;
  readonly sha: string;
  readonly mgfSha: string;
  readonly privateKeyPkcs8: string;
  readonly privateKeyPem: string;
  readonly privateKeyJwk: Record<string, string>;
  readonly tests: readonly OaepTest[];
}

const oaepFile = loadVectors<WycheproofFile<OaepGroup>>('wycheproof/rsa_oaep_2048_sha256_mgf1sha256_test.json');

// Key generation is the slow part (~0.1 s for 2048, ~0.5 s for 4096): make each size once.
let rsa2048: RsaKeyPair;
let other2048: RsaKeyPair;
beforeAll(async () => {
  [rsa2048, other2048] = await Promise.all([generateRsaKeyPair({ modulusLength: 2048 }), generateRsaKeyPair({ modulusLength: 2048 })]);
});

describe.skipIf(oaepFile === undefined)('Wycheproof RSA-OAEP-2048 SHA-256/MGF1-SHA-256', () => {
  it('decrypts every valid case to its message and refuses every invalid one with CRYPTO_AUTH_FAILED, for the key imported as PKCS#8 DER, PEM and JWK', async () => {
    const group = oaepFile!.testGroups[0]!;
    expect([group.keySize, group.sha, group.mgfSha]).toEqual([2048, 'SHA-256', 'SHA-256']);
    const keys = {
      der: await importRsaPrivateKey(hex(group.privateKeyPkcs8)),
      pem: await importRsaPrivateKey(group.privateKeyPem),
      jwk: await importRsaPrivateKey(group.privateKeyJwk),
    };
    expect(keys.pem.id).toBe(keys.der.id);
    expect(keys.jwk.id).toBe(keys.der.id);
    expect(keys.jwk.hash).toBe('SHA-256'); // from the JWK's alg RSA-OAEP-256
    for (const [form, key] of Object.entries(keys)) {
      const tally = new Tally(`rsa_oaep_2048_sha256_mgf1sha256_test.json (key as ${form})`);
      for (const group of oaepFile!.testGroups) {
        for (const t of group.tests) {
          const options = t.label === '' ? undefined : { label: hex(t.label) };
          if (t.result === 'invalid') {
            await expectCode(() => rsaOaepDecrypt(key, hex(t.ct), options), 'CRYPTO_AUTH_FAILED');
          } else {
            expect(toHex(await rsaOaepDecrypt(key, hex(t.ct), options)), `tcId ${t.tcId} ${t.comment}`).toBe(t.msg);
          }
          tally.ran += 1;
        }
      }
      tally.print();
      expect(tally.ran).toBe(oaepFile!.numberOfTests);
    }
  });

  it('encrypts each valid message (labels included) so that the vector key decrypts it', async () => {
    const group = oaepFile!.testGroups[0]!;
    const privateKey = await importRsaPrivateKey(group.privateKeyJwk);
    for (const t of group.tests.filter((x) => x.result === 'valid')) {
      const options = t.label === '' ? undefined : { label: hex(t.label) };
      const ct = await rsaOaepEncrypt(privateKey.publicKey, hex(t.msg), options);
      expect(toHex(await rsaOaepDecrypt(privateKey, ct, options))).toBe(t.msg);
    }
  });
});

describe('RSA keys', () => {
  it('generates RSA-4096 with OAEP-SHA-256 by default', async () => {
    const { publicKey, privateKey } = await generateRsaKeyPair();
    expect([publicKey.modulusLength, publicKey.hash, privateKey.modulusLength]).toEqual([4096, 'SHA-256', 4096]);
    expect(publicKey.maxPlaintextBytes).toBe(512 - 2 * 32 - 2);
    const secret = randomBytes(publicKey.maxPlaintextBytes);
    expect(sameBytes(await rsaOaepDecrypt(privateKey, await rsaOaepEncrypt(publicKey, secret)), secret)).toBe(true);
    expect(await hybridDecryptText(privateKey, await hybridEncrypt(publicKey, 'four thousand ninety-six'))).toBe('four thousand ninety-six');
  });

  it('generates RSA-3072 and refuses anything but 2048/3072/4096 with VALIDATION_FAILED', async () => {
    const { publicKey } = await generateRsaKeyPair({ modulusLength: 3072, hash: 'SHA-384' });
    expect([publicKey.modulusLength, publicKey.hash, publicKey.maxPlaintextBytes]).toEqual([3072, 'SHA-384', 384 - 96 - 2]);
    for (const modulusLength of [1024, 1536, 2047, 8192]) {
      await expectCode(() => generateRsaKeyPair({ modulusLength: modulusLength as never }), 'VALIDATION_FAILED');
    }
    await expectCode(() => generateRsaKeyPair({ hash: 'SHA-1' as never }), 'VALIDATION_FAILED');
  });

  it('round-trips public and private keys through JWK and PEM (SPKI / PKCS#8), keeping the RFC 7638 id', async () => {
    const { publicKey, privateKey } = rsa2048;
    const publicJwk = await publicKey.exportJwk();
    expect(publicJwk).toMatchObject({ kty: 'RSA', alg: 'RSA-OAEP-256', use: 'enc', kid: publicKey.id });
    expect(publicJwk).not.toHaveProperty('d');
    const publicPem = await publicKey.exportPem();
    expect(publicPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n([A-Za-z0-9+/=]{1,64}\n)+-----END PUBLIC KEY-----\n$/);
    const privatePem = await privateKey.exportPem();
    expect(privatePem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const privateJwk = await privateKey.exportJwk();
    const imported = [
      await importRsaPublicKey(publicJwk),
      await importRsaPublicKey(publicPem),
      await importRsaPublicKey(publicPem.replace(/\n/g, '\r\n')),
    ];
    const importedPrivate = [await importRsaPrivateKey(privateJwk), await importRsaPrivateKey(privatePem)];
    for (const key of [...imported, ...importedPrivate]) expect(key.id).toBe(publicKey.id);
    for (const pub of imported) {
      for (const priv of importedPrivate) {
        expect(await hybridDecryptText(priv, await hybridEncrypt(pub, 'moved keys'))).toBe('moved keys');
      }
    }
  });

  it('binds a key to its OAEP hash: SHA-384/512 are selectable, a JWK pinned to another hash is CRYPTO_KEY_INVALID', async () => {
    const jwk = await rsa2048.privateKey.exportJwk();
    const { alg: _alg, ...unpinned } = jwk;
    const sha512 = await importRsaPrivateKey(unpinned, { hash: 'SHA-512' });
    expect([sha512.hash, sha512.publicKey.maxPlaintextBytes]).toEqual(['SHA-512', 256 - 128 - 2]);
    expect((await sha512.exportJwk()).alg).toBe('RSA-OAEP-512');
    const ct = await rsaOaepEncrypt(sha512.publicKey, 'sixty-four');
    expect(new TextDecoder().decode(await rsaOaepDecrypt(sha512, ct))).toBe('sixty-four');
    // Same key material, other hash: the ciphertext does not decrypt.
    await expectCode(() => rsaOaepDecrypt(rsa2048.privateKey, ct), 'CRYPTO_AUTH_FAILED');
    await expectCode(() => importRsaPrivateKey(jwk, { hash: 'SHA-512' }), 'CRYPTO_KEY_INVALID');
    const publicJwk = await rsa2048.publicKey.exportJwk();
    await expectCode(() => importRsaPublicKey({ ...publicJwk, alg: 'RSA-OAEP' } as never), 'VALIDATION_FAILED');
    // Hybrid envelopes record the hash; a key bound to another hash refuses them.
    const envelope = await hybridEncrypt(sha512.publicKey, 'x');
    expect(readEnvelopeHeader(envelope).algorithm).toBe('RSA-OAEP-512+A256GCM');
    expect(await hybridDecryptText(sha512, envelope)).toBe('x');
    await expectCode(() => hybridDecrypt(rsa2048.privateKey, envelope), 'CRYPTO_AUTH_FAILED');
  });

  it('refuses unusable keys with CRYPTO_KEY_INVALID: below 2048 bits, e = 3, not RSA, garbage DER, a private JWK as public', async () => {
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
    await expectCode(() => importRsaPublicKey(small.publicKey.export({ type: 'spki', format: 'pem' }) as string), 'CRYPTO_KEY_INVALID');
    await expectCode(() => importRsaPrivateKey(small.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string), 'CRYPTO_KEY_INVALID');
    await expectCode(() => importRsaPrivateKey(small.privateKey.export({ format: 'jwk' }) as never), 'CRYPTO_KEY_INVALID');
    const e3 = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 3 });
    await expectCode(() => importRsaPublicKey(e3.publicKey.export({ type: 'spki', format: 'der' })), 'CRYPTO_KEY_INVALID');
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await expectCode(() => importRsaPublicKey(ec.publicKey.export({ type: 'spki', format: 'pem' }) as string), 'CRYPTO_KEY_INVALID');
    await expectCode(() => importRsaPrivateKey(ec.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string), 'CRYPTO_KEY_INVALID');
    await expectCode(() => importRsaPublicKey('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----'), 'CRYPTO_KEY_INVALID');
    await expectCode(() => importRsaPrivateKey(randomBytes(100)), 'CRYPTO_KEY_INVALID');
    await expectCode(async () => importRsaPublicKey(await rsa2048.privateKey.exportJwk()), 'CRYPTO_KEY_INVALID');
  });

  it('rejects malformed key input with VALIDATION_FAILED, with hints for PKCS#1 and encrypted PEM', async () => {
    const pkcs1 = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
    const err = await expectCode(() => importRsaPrivateKey(pkcs1), 'VALIDATION_FAILED');
    expect(err.message).toContain('PKCS#1');
    expect(err.message).not.toContain(pkcs1.split('\n')[1]!);
    await expectCode(async () => importRsaPublicKey(await rsa2048.privateKey.exportPem()), 'VALIDATION_FAILED');
    await expectCode(async () => importRsaPrivateKey(await rsa2048.publicKey.exportPem()), 'VALIDATION_FAILED');
    await expectCode(() => importRsaPublicKey('not a pem'), 'VALIDATION_FAILED');
    await expectCode(() => importRsaPublicKey('-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----'), 'VALIDATION_FAILED');
    await expectCode(() => importRsaPublicKey('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PRIVATE KEY-----'), 'VALIDATION_FAILED');
    await expectCode(() => importRsaPublicKey({ kty: 'EC', x: 'a', y: 'b' } as never), 'VALIDATION_FAILED');
    await expectCode(() => importRsaPublicKey({ kty: 'RSA', n: 'a+b', e: 'AQAB' } as never), 'VALIDATION_FAILED');
    await expectCode(() => importRsaPrivateKey({ kty: 'RSA', n: 'AQAB', e: 'AQAB' } as never), 'VALIDATION_FAILED');
    await expectCode(() => importRsaPublicKey(42 as never), 'VALIDATION_FAILED');
    await expectCode(() => importRsaPublicKey(null as never), 'VALIDATION_FAILED');
    await expectCode(async () => importRsaPublicKey(await rsa2048.publicKey.exportPem(), { hash: 'MD5' as never }), 'VALIDATION_FAILED');
  });

  it('keeps private material out of JSON and util.inspect', async () => {
    const jwk = await rsa2048.privateKey.exportJwk();
    expect(JSON.stringify(rsa2048.privateKey)).toBe(JSON.stringify({ id: rsa2048.privateKey.id, modulusLength: 2048, hash: 'SHA-256' }));
    expect(inspect(rsa2048.privateKey, { depth: 5 })).not.toContain(jwk.d);
  });
});

describe('RSA-OAEP', () => {
  it('round-trips up to maxPlaintextBytes and refuses one byte more with PAYLOAD_TOO_LARGE', async () => {
    const { publicKey, privateKey } = rsa2048;
    for (const size of [0, 1, 32, publicKey.maxPlaintextBytes]) {
      const secret = randomBytes(size);
      expect(sameBytes(await rsaOaepDecrypt(privateKey, await rsaOaepEncrypt(publicKey, secret)), secret)).toBe(true);
    }
    await expectCode(() => rsaOaepEncrypt(publicKey, randomBytes(publicKey.maxPlaintextBytes + 1)), 'PAYLOAD_TOO_LARGE');
    await expectCode(() => rsaOaepEncrypt(publicKey, 'x', { label: randomBytes(64 * 1024 + 1) }), 'PAYLOAD_TOO_LARGE');
  });

  it('fails with CRYPTO_AUTH_FAILED for the wrong key, the wrong label, and any corrupted byte', async () => {
    const { publicKey, privateKey } = rsa2048;
    const ct = await rsaOaepEncrypt(publicKey, 'label me', { label: 'L1' });
    await expectCode(() => rsaOaepDecrypt(other2048.privateKey, ct, { label: 'L1' }), 'CRYPTO_AUTH_FAILED');
    await expectCode(() => rsaOaepDecrypt(privateKey, ct, { label: 'L2' }), 'CRYPTO_AUTH_FAILED');
    await expectCode(() => rsaOaepDecrypt(privateKey, ct), 'CRYPTO_AUTH_FAILED');
    await expectCode(() => rsaOaepDecrypt(privateKey, ct.subarray(1), { label: 'L1' }), 'CRYPTO_AUTH_FAILED');
    await expectCode(() => rsaOaepDecrypt(privateKey, new Uint8Array(0), { label: 'L1' }), 'CRYPTO_AUTH_FAILED');
    for (const i of [0, 1, 100, ct.length - 1]) {
      const bad = ct.slice();
      bad[i]! ^= 0x10;
      const err = await expectCode(() => rsaOaepDecrypt(privateKey, bad, { label: 'L1' }), 'CRYPTO_AUTH_FAILED');
      expect(err.details).toEqual({ reason: 'decryption_failed' }); // one indistinguishable answer
    }
  });

  it('rejects wrong argument types with VALIDATION_FAILED', async () => {
    await expectCode(() => rsaOaepEncrypt(rsa2048.privateKey as never, 'x'), 'VALIDATION_FAILED');
    await expectCode(() => rsaOaepDecrypt(rsa2048.publicKey as never, new Uint8Array(256)), 'VALIDATION_FAILED');
    await expectCode(() => rsaOaepDecrypt(rsa2048.privateKey, 'ciphertext' as never), 'VALIDATION_FAILED');
    await expectCode(() => rsaOaepEncrypt(rsa2048.publicKey, 'x', { label: 1 } as never), 'VALIDATION_FAILED');
  });
});

describe('hybrid encryption', () => {
  it('round-trips data of any size, with AAD, as bytes and base64url, on every AES engine', async () => {
    const { publicKey, privateKey } = rsa2048;
    for (const size of [0, 1, 1000, 3 * 1024 * 1024]) {
      const data = randomBytes(size);
      const envelope = await hybridEncrypt(publicKey, data, { aad: 'doc:1' });
      expect(readEnvelopeHeader(envelope)).toEqual({ version: 1, algorithm: 'RSA-OAEP-256+A256GCM', keyId: publicKey.id, ciphertextBytes: size });
      expect(sameBytes(await hybridDecrypt(privateKey, envelope, { aad: 'doc:1' }), data)).toBe(true);
    }
    for (const engine of availableAesGcmEngines()) {
      const token = await hybridEncryptToBase64url(publicKey, 'text', { engine });
      expect(await hybridDecryptText(privateKey, token, { engine: 'noble' })).toBe('text');
    }
  });

  it('property: altering any byte of a hybrid envelope or its AAD fails with CRYPTO_AUTH_FAILED', async () => {
    const { publicKey, privateKey } = rsa2048;
    const envelope = await hybridEncrypt(publicKey, 'hybrid payload', { aad: 'ctx' });
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: envelope.length - 1 }), fc.integer({ min: 1, max: 255 }), async (at, mask) => {
        const copy = envelope.slice();
        copy[at]! ^= mask;
        await expectCode(() => hybridDecrypt(privateKey, copy, { aad: 'ctx' }), 'CRYPTO_AUTH_FAILED');
      }),
      { numRuns: 150 },
    );
    await expectCode(() => hybridDecrypt(privateKey, envelope, { aad: 'ctX' }), 'CRYPTO_AUTH_FAILED');
    await expectCode(() => hybridDecrypt(privateKey, envelope), 'CRYPTO_AUTH_FAILED');
  });

  it('names the reason for an envelope made for another key; refuses symmetric envelopes and vice versa', async () => {
    const envelope = await hybridEncrypt(rsa2048.publicKey, 'for rsa2048');
    const err = await expectCode(() => hybridDecrypt(other2048.privateKey, envelope), 'CRYPTO_AUTH_FAILED');
    expect(err.details).toMatchObject({ reason: 'key_id_mismatch', keyId: rsa2048.publicKey.id });
    const key = AesKey.generate();
    await expectCode(() => decrypt(key, envelope), 'CRYPTO_AUTH_FAILED');
    await expectCode(async () => hybridDecrypt(rsa2048.privateKey, await encrypt(key, 'symmetric')), 'CRYPTO_AUTH_FAILED');
  });

  it('rejects bad input with typed errors', async () => {
    await expectCode(() => hybridEncrypt(rsa2048.privateKey as never, 'x'), 'VALIDATION_FAILED');
    await expectCode(() => hybridEncrypt(rsa2048.publicKey, 5 as never), 'VALIDATION_FAILED');
    await expectCode(() => hybridDecrypt(rsa2048.privateKey, new Uint8Array(10)), 'VALIDATION_FAILED');
    await expectCode(() => hybridDecrypt(rsa2048.privateKey, 'not+base64url'), 'VALIDATION_FAILED');
  });
});
