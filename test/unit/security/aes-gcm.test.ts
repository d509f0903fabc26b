import { inspect } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { availableAesGcmEngines, NODE_SLICE_BYTES, resolveAesGcmEngine } from '../../../src/security/cipher/engines.js';
import { KeyMaterial } from '../../../src/security/cipher/key-material.js';
import { randomBytes } from '../../../src/security/internal/bytes.js';
import {
  AES_GCM_MAX_MESSAGE_BYTES,
  AesKey,
  decrypt,
  decryptText,
  encrypt,
  encryptToBase64url,
  readEnvelopeHeader,
} from '../../../src/security/primitives.js';
import { expectCode } from './support/errors.js';
import { sameBytes } from '../../support/vectors.js';

const engines = availableAesGcmEngines();
const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });

describe('AES-GCM engines', () => {
  it('offers node, webcrypto and noble on Node, fastest first', () => {
    expect(engines).toEqual(['node', 'webcrypto', 'noble']);
    expect(resolveAesGcmEngine('auto').name).toBe('node');
  });

  it('rejects an unknown engine name with VALIDATION_FAILED', async () => {
    await expectCode(() => resolveAesGcmEngine('openssl'), 'VALIDATION_FAILED');
    await expectCode(() => encrypt(AesKey.generate(), 'x', { engine: 'fast' as never }), 'VALIDATION_FAILED');
  });

  it('property: every engine produces the same bytes and opens every other engine\'s output', async () => {
    await fc.assert(
      fc.asyncProperty(bytes(32, 32), bytes(12, 12), bytes(0, 3000), bytes(0, 64), async (key, nonce, plaintext, aad) => {
        const outputs = await Promise.all(engines.map((name) => resolveAesGcmEngine(name).seal(new KeyMaterial(key), nonce, plaintext, aad, 0)));
        for (const out of outputs) expect(out).toEqual(outputs[0]);
        for (const name of engines) {
          expect(await resolveAesGcmEngine(name).open(new KeyMaterial(key), nonce, outputs[0]!, aad)).toEqual(plaintext);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('property: engines agree on large inputs that span several node slices, with headroom', async () => {
    const sizes = fc.oneof(
      fc.integer({ min: NODE_SLICE_BYTES - 4096, max: 3 * NODE_SLICE_BYTES + 4096 }),
      fc.constantFrom(NODE_SLICE_BYTES - 1, NODE_SLICE_BYTES, NODE_SLICE_BYTES + 1, 2 * NODE_SLICE_BYTES),
    );
    await fc.assert(
      fc.asyncProperty(bytes(32, 32), bytes(12, 12), sizes, fc.integer({ min: 0, max: 300 }), async (key, nonce, size, headroom) => {
        const plaintext = randomBytes(size);
        const outputs = await Promise.all(engines.map((name) => resolveAesGcmEngine(name).seal(new KeyMaterial(key), nonce, plaintext, new Uint8Array(0), headroom)));
        for (const out of outputs) {
          expect(out.length).toBe(headroom + size + 16);
          expect(out.subarray(0, headroom).every((b) => b === 0)).toBe(true);
          expect(sameBytes(out, outputs[0])).toBe(true);
        }
      }),
      { numRuns: 8 },
    );
  });
});

describe('encrypt / decrypt', () => {
  const key = AesKey.generate({ id: 'k1' });

  it('property: round-trips any bytes and AAD, across engines', async () => {
    await fc.assert(
      fc.asyncProperty(bytes(0, 2000), bytes(0, 100), fc.constantFrom(...engines), fc.constantFrom(...engines), async (plaintext, aad, a, b) => {
        const envelope = await encrypt(key, plaintext, { aad, engine: a });
        expect(envelope.length).toBe(3 + 2 + 12 + plaintext.length + 16);
        expect(await decrypt(key, envelope, { aad, engine: b })).toEqual(plaintext);
      }),
      { numRuns: 100 },
    );
  });

  it('property: round-trips any well-formed string, as bytes and as base64url text', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'grapheme', maxLength: 200 }), fc.string({ maxLength: 20 }), async (text, aad) => {
        fc.pre(aad.isWellFormed());
        expect(await decryptText(key, await encrypt(key, text, { aad }), { aad })).toBe(text);
        const token = await encryptToBase64url(key, text, { aad });
        expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
        expect(await decryptText(key, token, { aad })).toBe(text);
      }),
      { numRuns: 60 },
    );
  });

  it('uses a fresh nonce every time: two encryptions of one message differ', async () => {
    const a = await encrypt(key, 'same');
    const b = await encrypt(key, 'same');
    expect(a).not.toEqual(b);
  });

  it('accepts 32 raw key bytes (empty key id in the envelope)', async () => {
    const raw = crypto.getRandomValues(new Uint8Array(32));
    const envelope = await encrypt(raw, 'raw');
    expect(readEnvelopeHeader(envelope)).toEqual({ version: 1, algorithm: 'A256GCM', keyId: '', ciphertextBytes: 3 });
    expect(await decryptText(raw, envelope)).toBe('raw');
    expect(await decryptText(AesKey.fromBytes(raw), envelope)).toBe('raw');
  });

  it('writes version, algorithm, key id and nonce in the header', async () => {
    const envelope = await encrypt(key, 'abc');
    expect([...envelope.subarray(0, 5)]).toEqual([1, 1, 2, 'k'.charCodeAt(0), '1'.charCodeAt(0)]);
    expect(readEnvelopeHeader(envelope)).toEqual({ version: 1, algorithm: 'A256GCM', keyId: 'k1', ciphertextBytes: 3 });
  });

  it('reads each envelope\'s own key id when ids of the same length alternate, and refuses a bad id byte after a good one', async () => {
    const [k1, k2] = [AesKey.generate({ id: 'k1' }), AesKey.generate({ id: 'k2' })];
    const [e1, e2] = [await encrypt(k1, 'one'), await encrypt(k2, 'two')];
    for (let i = 0; i < 3; i++) {
      expect(readEnvelopeHeader(e1).keyId).toBe('k1');
      expect(readEnvelopeHeader(e2).keyId).toBe('k2');
    }
    await expectCode(() => decrypt(k1, e2), 'CRYPTO_AUTH_FAILED').then((e) => expect(e.details).toMatchObject({ reason: 'key_id_mismatch', keyId: 'k2' }));
    expect(await decryptText(k1, e1)).toBe('one');
    const bad = e1.slice();
    bad[4] = 0x20; // 'k ': a space is outside the key id alphabet
    await expectCode(() => decrypt(k1, bad), 'CRYPTO_AUTH_FAILED').then((e) => expect(e.details).toMatchObject({ reason: 'malformed' }));
  });

  it('property: altering any single byte of an envelope fails with CRYPTO_AUTH_FAILED and no plaintext', async () => {
    await fc.assert(
      fc.asyncProperty(bytes(0, 300), bytes(0, 30), fc.nat(), fc.integer({ min: 1, max: 255 }), fc.constantFrom(...engines), async (plaintext, aad, at, mask, engine) => {
        const envelope = await encrypt(key, plaintext, { aad });
        const i = at % envelope.length;
        envelope[i]! ^= mask;
        await expectCode(() => decrypt(key, envelope, { aad, engine }), 'CRYPTO_AUTH_FAILED');
      }),
      { numRuns: 300 },
    );
  });

  it('rejects every one-bit flip at every position of one envelope, on every engine', async () => {
    const envelope = await encrypt(key, 'flip every bit of me', { aad: 'ctx' });
    for (const engine of engines) {
      for (let i = 0; i < envelope.length; i++) {
        for (let bit = 0; bit < 8; bit++) {
          const copy = envelope.slice();
          copy[i]! ^= 1 << bit;
          await expectCode(() => decrypt(key, copy, { aad: 'ctx', engine }), 'CRYPTO_AUTH_FAILED');
        }
      }
    }
  });

  it('property: any change to the AAD (byte, length) fails with CRYPTO_AUTH_FAILED', async () => {
    await fc.assert(
      fc.asyncProperty(bytes(0, 100), bytes(1, 40), fc.nat(), fc.integer({ min: 1, max: 255 }), async (plaintext, aad, at, mask) => {
        const envelope = await encrypt(key, plaintext, { aad });
        const changed = aad.slice();
        changed[at % aad.length]! ^= mask;
        await expectCode(() => decrypt(key, envelope, { aad: changed }), 'CRYPTO_AUTH_FAILED');
        await expectCode(() => decrypt(key, envelope, { aad: aad.subarray(0, aad.length - 1) }), 'CRYPTO_AUTH_FAILED');
        await expectCode(() => decrypt(key, envelope), 'CRYPTO_AUTH_FAILED');
      }),
      { numRuns: 100 },
    );
  });

  it('fails with CRYPTO_AUTH_FAILED under another key, and names the reason for another key id', async () => {
    const envelope = await encrypt(key, 'x');
    await expectCode(() => decrypt(AesKey.generate(), envelope), 'CRYPTO_AUTH_FAILED').then((e) => expect(e.details).toMatchObject({ reason: 'key_id_mismatch' }));
    await expectCode(() => decrypt(crypto.getRandomValues(new Uint8Array(32)), envelope), 'CRYPTO_AUTH_FAILED').then((e) =>
      expect(e.details).toMatchObject({ reason: 'tag_mismatch' }),
    );
  });

  it('treats a truncated or extended envelope as forged when it can still be an envelope', async () => {
    const envelope = await encrypt(key, 'some plaintext');
    await expectCode(() => decrypt(key, envelope.subarray(0, envelope.length - 1)), 'CRYPTO_AUTH_FAILED');
    const longer = new Uint8Array(envelope.length + 1);
    longer.set(envelope);
    await expectCode(() => decrypt(key, longer), 'CRYPTO_AUTH_FAILED');
  });

  it('rejects input that cannot be an envelope with VALIDATION_FAILED', async () => {
    await expectCode(() => decrypt(key, new Uint8Array(30)), 'VALIDATION_FAILED');
    await expectCode(() => decrypt(key, ''), 'VALIDATION_FAILED');
    await expectCode(() => decrypt(key, 'not base64url!'), 'VALIDATION_FAILED');
    await expectCode(() => decrypt(key, 42 as never), 'VALIDATION_FAILED');
    // Non-canonical base64url (non-zero unused bits) and padded forms are refused, not decoded.
    const token = await encryptToBase64url(key, 'ab'); // 35 bytes: 47 characters, the last carries 2 unused bits
    expect(token.length % 4).toBe(3);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sloppy = token.slice(0, -1) + alphabet[alphabet.indexOf(token.at(-1)!) | 1]!;
    await expectCode(() => decrypt(key, sloppy), 'VALIDATION_FAILED');
    await expectCode(() => decrypt(key, `${token}=`), 'VALIDATION_FAILED');
  });

  it('rejects bad keys and inputs with VALIDATION_FAILED', async () => {
    await expectCode(() => encrypt(new Uint8Array(16), 'x'), 'VALIDATION_FAILED');
    await expectCode(() => encrypt(new Uint8Array(0), 'x'), 'VALIDATION_FAILED');
    await expectCode(() => encrypt('secret-key' as never, 'x'), 'VALIDATION_FAILED');
    await expectCode(() => encrypt({ id: 'fake' } as never, 'x'), 'VALIDATION_FAILED');
    await expectCode(() => encrypt(key, 12 as never), 'VALIDATION_FAILED');
    await expectCode(() => encrypt(key, null as never), 'VALIDATION_FAILED');
    await expectCode(() => encrypt(key, 'x', { aad: 5 } as never), 'VALIDATION_FAILED');
    await expectCode(() => encrypt(key, 'x', { extra: true } as never), 'VALIDATION_FAILED');
    // A lone surrogate would silently become U+FFFD: refused instead.
    await expectCode(() => encrypt(key, 'a\uD800b'), 'VALIDATION_FAILED');
  });

  it('accepts a Buffer (a Uint8Array subclass) as key, plaintext and envelope, with the same result as plain bytes', async () => {
    const raw = randomBytes(32);
    const plaintext = randomBytes(300);
    const envelope = await encrypt(Buffer.from(raw), Buffer.from(plaintext), { aad: Buffer.from('ctx') });
    expect(envelope.constructor).toBe(Uint8Array);
    expect(await decrypt(raw, Buffer.from(envelope), { aad: 'ctx' })).toEqual(plaintext);
    expect(await decrypt(AesKey.fromBytes(raw), envelope, { aad: new TextEncoder().encode('ctx') })).toEqual(plaintext);
  });

  it('rejects an engine choice that is not a known name with VALIDATION_FAILED, whatever its type', async () => {
    for (const engine of [5, null, 'NODE', 'auto ', {}]) {
      await expectCode(() => encrypt(key, 'x', { engine: engine as never }), 'VALIDATION_FAILED');
      await expectCode(() => resolveAesGcmEngine(engine), 'VALIDATION_FAILED');
    }
    await expectCode(() => encrypt(key, 'x', null as never), 'VALIDATION_FAILED');
  });

  it('rejects plaintext above 1 GiB with PAYLOAD_TOO_LARGE (before touching it)', async () => {
    // calloc-backed: the pages are never touched, so this costs no real memory.
    const huge = new Uint8Array(AES_GCM_MAX_MESSAGE_BYTES + 1);
    await expectCode(() => encrypt(key, huge), 'PAYLOAD_TOO_LARGE');
    await expectCode(() => encrypt(key, 'x', { aad: huge }), 'PAYLOAD_TOO_LARGE');
  });

  it('encrypts and decrypts an empty message', async () => {
    expect(await decrypt(key, await encrypt(key, new Uint8Array(0)))).toEqual(new Uint8Array(0));
  });

  it('reports non-UTF-8 plaintext from decryptText with VALIDATION_FAILED', async () => {
    await expectCode(async () => decryptText(key, await encrypt(key, new Uint8Array([0xff, 0xfe]))), 'VALIDATION_FAILED');
  });

  it('keeps plaintext and key material out of error messages', async () => {
    const secret = 'TOP-SECRET-PLAINTEXT';
    const envelope = await encrypt(key, secret);
    envelope[envelope.length - 1]! ^= 1;
    const err = await expectCode(() => decryptText(key, envelope), 'CRYPTO_AUTH_FAILED');
    const text = `${err.message} ${JSON.stringify(err)}`;
    expect(text).not.toContain(secret);
    expect(text).not.toContain(key.toJwk().k);
  });
});

describe('AesKey', () => {
  it('never shows its bytes in JSON or util.inspect', () => {
    const key = AesKey.generate({ id: 'shown' });
    const { k } = key.toJwk();
    expect(JSON.stringify(key)).toBe('{"id":"shown"}');
    expect(inspect(key, { showHidden: true, depth: 5 })).not.toContain(k);
    expect(inspect(key)).toContain('shown');
  });

  it('round-trips through JWK (kty oct, A256GCM) and keeps its id', async () => {
    const key = AesKey.generate({ id: 'jwk-1' });
    const jwk = key.toJwk();
    expect(jwk).toMatchObject({ kty: 'oct', alg: 'A256GCM', kid: 'jwk-1', use: 'enc', key_ops: ['encrypt', 'decrypt'], ext: true });
    const copy = AesKey.fromJwk(JSON.parse(JSON.stringify(jwk)));
    expect(copy.id).toBe('jwk-1');
    expect(copy.exportBytes()).toEqual(key.exportBytes());
    expect(await decryptText(copy, await encrypt(key, 'moved'))).toBe('moved');
  });

  it('derives a stable default id (RFC 7638 thumbprint) from the key bytes', () => {
    const raw = new Uint8Array(32).fill(7);
    expect(AesKey.fromBytes(raw).id).toBe(AesKey.fromBytes(raw.slice()).id);
    expect(AesKey.fromBytes(raw).id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const { kid, ...withoutKid } = AesKey.fromBytes(raw).toJwk();
    expect(AesKey.fromJwk(withoutKid).id).toBe(kid);
  });

  it('copies the bytes it is given', async () => {
    const raw = crypto.getRandomValues(new Uint8Array(32));
    const key = AesKey.fromBytes(raw);
    const envelope = await encrypt(key, 'x');
    raw.fill(0);
    expect(await decryptText(key, envelope)).toBe('x');
    key.exportBytes().fill(0);
    expect(await decryptText(key, envelope)).toBe('x');
  });

  it('rejects malformed JWKs and ids with VALIDATION_FAILED', async () => {
    const good = AesKey.generate().toJwk();
    await expectCode(() => AesKey.fromJwk({ ...good, kty: 'RSA' }), 'VALIDATION_FAILED');
    await expectCode(() => AesKey.fromJwk({ ...good, alg: 'A128GCM' }), 'VALIDATION_FAILED');
    await expectCode(() => AesKey.fromJwk({ ...good, use: 'sig' }), 'VALIDATION_FAILED');
    await expectCode(() => AesKey.fromJwk({ ...good, key_ops: ['sign'] }), 'VALIDATION_FAILED');
    await expectCode(() => AesKey.fromJwk({ ...good, k: good.k.slice(0, 22) }), 'VALIDATION_FAILED');
    await expectCode(() => AesKey.fromJwk({ ...good, k: `${good.k}=` }), 'VALIDATION_FAILED');
    await expectCode(() => AesKey.fromJwk('{"kty":"oct"}'), 'VALIDATION_FAILED');
    await expectCode(() => AesKey.generate({ id: 'has space' }), 'VALIDATION_FAILED');
    await expectCode(() => AesKey.generate({ id: 'x'.repeat(129) }), 'VALIDATION_FAILED');
    await expectCode(() => AesKey.fromBytes(new Uint8Array(24)), 'VALIDATION_FAILED');
  });
});
