import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMemoryStorage, MemoryStorageState } from '../../../src/adapters/memory/index.js';
import type { StorageAdapter } from '../../../src/adapters/storage.js';
import { AdapterUnavailableError } from '../../../src/errors.js';
import { AesKey, decryptText, encrypt, GCM_RANDOM_NONCE_MESSAGE_LIMIT, Keyring, readEnvelopeHeader } from '../../../src/security/primitives.js';
import { expectCode } from './support/errors.js';
import { concurrentEncrypts } from './support/keyring-scenarios.js';

async function streamRoundTrip(keyring: Keyring, text: string, aad?: string): Promise<string> {
  const opts = aad === undefined ? undefined : { aad };
  const sealed = new Blob([text]).stream().pipeThrough(keyring.createEncryptStream(opts));
  return new Response(sealed.pipeThrough(keyring.createDecryptStream(opts))).text();
}

describe('Keyring', () => {
  it('starts empty: encrypting needs a key (NOT_FOUND) until rotate() creates one', async () => {
    const keyring = new Keyring();
    expect(keyring.activeKeyId).toBeUndefined();
    await expectCode(() => keyring.encrypt('x'), 'NOT_FOUND');
    const key = await keyring.rotate();
    expect(keyring.activeKeyId).toBe(key.id);
    expect(await keyring.decryptText(await keyring.encrypt('x'))).toBe('x');
  });

  it('encrypts with the active key and decrypts with whichever key the envelope names', async () => {
    const keyring = new Keyring({ keys: [AesKey.generate({ id: 'a' }), AesKey.generate({ id: 'b' })] });
    expect(keyring.activeKeyId).toBe('b');
    const underB = await keyring.encrypt('one', { aad: 'ctx' });
    keyring.activate('a');
    const underA = await keyring.encrypt('two', { aad: 'ctx' });
    expect(readEnvelopeHeader(underB).keyId).toBe('b');
    expect(readEnvelopeHeader(underA).keyId).toBe('a');
    expect(await keyring.decryptText(underB, { aad: 'ctx' })).toBe('one');
    expect(await keyring.decryptText(await keyring.encryptToBase64url('three'))).toBe('three');
    await expectCode(() => keyring.decrypt(underA), 'CRYPTO_AUTH_FAILED');
  });

  it('interoperates with the single-key functions', async () => {
    const key = AesKey.generate({ id: 'shared' });
    const keyring = new Keyring({ keys: [key] });
    expect(await keyring.decryptText(await encrypt(key, 'from encrypt()'))).toBe('from encrypt()');
    expect(await decryptText(key, await keyring.encrypt('from keyring'))).toBe('from keyring');
  });

  it('rotates: old envelopes still decrypt, re-encrypt moves them to the active key, then the old key can go', async () => {
    const keyring = new Keyring({ keys: [AesKey.generate({ id: 'old' })] });
    const envelope = await keyring.encrypt('payload', { aad: 'row:1' });
    const fresh = await keyring.rotate({ id: 'new' });
    expect(keyring.keyIds()).toEqual(['old', 'new']);
    expect(await keyring.decryptText(envelope, { aad: 'row:1' })).toBe('payload');
    const moved = await keyring.reencrypt(envelope, { aad: 'row:1' });
    expect(readEnvelopeHeader(moved).keyId).toBe(fresh.id);
    // Already under the active key: returned as is, after verification.
    expect(await keyring.reencrypt(moved, { aad: 'row:1' })).toBe(moved);
    await expectCode(() => keyring.reencrypt(moved, { aad: 'row:2' }), 'CRYPTO_AUTH_FAILED');
    // A new AAD re-seals even under the active key.
    const rebound = await keyring.reencrypt(moved, { aad: 'row:1', newAad: 'row:9' });
    expect(await keyring.decryptText(rebound, { aad: 'row:9' })).toBe('payload');
    keyring.remove('old');
    expect(await keyring.decryptText(moved, { aad: 'row:1' })).toBe('payload');
    const err = await expectCode(() => keyring.decrypt(envelope, { aad: 'row:1' }), 'CRYPTO_AUTH_FAILED');
    expect(err.details).toMatchObject({ reason: 'unknown_key_id', keyId: 'old' });
  });

  it('guards key management: duplicates CONFLICT, unknown ids NOT_FOUND, the active key cannot be removed', async () => {
    const keyring = new Keyring({ keys: [AesKey.generate({ id: 'a' })] });
    await expectCode(() => keyring.add(AesKey.generate({ id: 'a' })), 'CONFLICT');
    await expectCode(() => new Keyring({ keys: [AesKey.generate({ id: 'x' }), AesKey.generate({ id: 'x' })] }), 'CONFLICT');
    await expectCode(() => new Keyring({ keys: [AesKey.generate({ id: 'x' })], activeKeyId: 'y' }), 'NOT_FOUND');
    await expectCode(() => keyring.activate('zzz'), 'NOT_FOUND');
    await expectCode(() => keyring.remove('zzz'), 'NOT_FOUND');
    await expectCode(() => keyring.remove('a'), 'CONFLICT');
    await expectCode(() => keyring.rotate({ id: 'a' }), 'CONFLICT');
    await expectCode(() => keyring.add({ id: 'fake' } as never), 'VALIDATION_FAILED');
    await expectCode(() => keyring.usage('zzz'), 'NOT_FOUND');
    keyring.add(AesKey.generate({ id: 'b' }));
    expect(keyring.activeKeyId).toBe('a'); // added for decryption only
    keyring.add(AesKey.generate({ id: 'c' }), { activate: true });
    expect(keyring.activeKeyId).toBe('c');
  });

  it('rejects bad options with VALIDATION_FAILED', async () => {
    await expectCode(() => new Keyring({ maxMessagesPerKey: 2 ** 32 + 1 }), 'VALIDATION_FAILED');
    await expectCode(() => new Keyring({ maxMessagesPerKey: 0 }), 'VALIDATION_FAILED');
    await expectCode(() => new Keyring({ onLimit: 'ignore' as never }), 'VALIDATION_FAILED');
    await expectCode(() => new Keyring({ storage: {} as never }), 'VALIDATION_FAILED');
    await expectCode(() => new Keyring({ name: 'no spaces' }), 'VALIDATION_FAILED');
    await expectCode(() => new Keyring({ reserveBatch: 0 }), 'VALIDATION_FAILED');
    await expectCode(() => new Keyring({ keys: [new Uint8Array(32)] as never }), 'VALIDATION_FAILED');
    const keyring = new Keyring({ keys: [AesKey.generate()] });
    await expectCode(() => keyring.encrypt('x', { engine: 'noble' } as never), 'VALIDATION_FAILED');
    await expectCode(() => keyring.decrypt(new Uint8Array(3)), 'VALIDATION_FAILED');
  });

  it('exports and imports a JWK Set with the active key', async () => {
    const keyring = new Keyring({ keys: [AesKey.generate({ id: 'k1' }), AesKey.generate({ id: 'k2' })], activeKeyId: 'k1' });
    const envelope = await keyring.encrypt('kept');
    const jwks = JSON.parse(JSON.stringify(keyring.exportJwks())) as unknown;
    expect(jwks).toMatchObject({ active: 'k1', keys: [{ kid: 'k1', kty: 'oct' }, { kid: 'k2', kty: 'oct' }] });
    const restored = Keyring.fromJwks(jwks);
    expect(restored.activeKeyId).toBe('k1');
    expect(await restored.decryptText(envelope)).toBe('kept');
    expect(Keyring.fromJwks(jwks, { activeKeyId: 'k2' }).activeKeyId).toBe('k2');
    await expectCode(() => Keyring.fromJwks({ keys: [] }), 'VALIDATION_FAILED');
    await expectCode(() => Keyring.fromJwks({ keys: [{ kty: 'oct', k: 'AAAA' }] }), 'VALIDATION_FAILED');
  });

  it('streams under the active key and decrypts streams of any of its keys', async () => {
    const keyring = new Keyring({ keys: [AesKey.generate({ id: 'first' })] });
    const sealed = new Uint8Array(await new Response(new Blob(['older stream']).stream().pipeThrough(keyring.createEncryptStream({ segmentSize: 16 }))).arrayBuffer());
    await keyring.rotate();
    expect(await streamRoundTrip(keyring, 'new stream', 'aad')).toBe('new stream');
    expect(await new Response(new Blob([sealed]).stream().pipeThrough(keyring.createDecryptStream())).text()).toBe('older stream');
    keyring.remove('first');
    await expect(new Response(new Blob([sealed]).stream().pipeThrough(keyring.createDecryptStream())).text()).rejects.toMatchObject({
      code: 'CRYPTO_AUTH_FAILED',
    });
  });

  describe('message budget (NIST SP 800-38D §8.3)', () => {
    it('defaults to 2^32 messages per key', async () => {
      const keyring = new Keyring({ keys: [AesKey.generate()] });
      expect(GCM_RANDOM_NONCE_MESSAGE_LIMIT).toBe(2 ** 32);
      expect(await keyring.usage()).toMatchObject({ used: 0, limit: 2 ** 32, remaining: 2 ** 32 });
    });

    it('refuses with CRYPTO_KEY_EXHAUSTED once the limit is reached, counting every message', async () => {
      const keyring = new Keyring({ keys: [AesKey.generate({ id: 'k' })], maxMessagesPerKey: 3 });
      for (let i = 0; i < 3; i++) await keyring.encrypt('x');
      const err = await expectCode(() => keyring.encrypt('x'), 'CRYPTO_KEY_EXHAUSTED');
      expect(err.details).toMatchObject({ keyId: 'k', limit: 3 });
      expect(await keyring.usage('k')).toEqual({ keyId: 'k', used: 3, limit: 3, remaining: 0 });
      // Decryption is unaffected; rotation restores encryption.
      await keyring.rotate();
      expect(await keyring.decryptText(await keyring.encrypt('y'))).toBe('y');
    });

    it('counts re-encryption into the active key but not a no-op re-encrypt', async () => {
      const keyring = new Keyring({ keys: [AesKey.generate({ id: 'k' })], maxMessagesPerKey: 2 });
      const envelope = await keyring.encrypt('x');
      await keyring.reencrypt(envelope);
      expect((await keyring.usage()).used).toBe(1);
    });

    it('persists the count in the StorageAdapter, so a restarted keyring continues from it', async () => {
      const storage = createMemoryStorage();
      const key = AesKey.generate({ id: 'persisted' });
      const first = new Keyring({ keys: [key], storage, maxMessagesPerKey: 5 });
      for (let i = 0; i < 4; i++) await first.encrypt('x');
      const second = new Keyring({ keys: [key], storage, maxMessagesPerKey: 5 });
      expect((await second.usage()).used).toBe(4);
      await second.encrypt('x');
      await expectCode(() => second.encrypt('x'), 'CRYPTO_KEY_EXHAUSTED');
      expect((await storage.get('security.keyring', 'default/persisted'))?.value).toBe(5);
      // Another keyring name on the same storage has its own counters.
      expect((await new Keyring({ keys: [key], storage, name: 'other' }).usage()).used).toBe(0);
    });

    it('enforces the limit under concurrent encrypts from several processes sharing one storage', async () => {
      const state = new MemoryStorageState();
      const storages = [0, 1, 2].map(() => createMemoryStorage({ state }));
      const outcome = await concurrentEncrypts(storages, { limit: 50, requests: 200, batch: 1, name: 'shared' });
      expect(outcome).toEqual({ succeeded: 50, exhausted: 150, stored: 50 });
      const batched = await concurrentEncrypts(storages, { limit: 50, requests: 200, batch: 8, name: 'batched' });
      expect(batched.succeeded).toBeLessThanOrEqual(50);
      expect(batched.stored).toBe(50);
      expect(batched.succeeded + batched.exhausted).toBe(200);
    });

    it('property: never seals more than the limit, whatever the limit, batch size, process count and load', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 40 }),
          fc.integer({ min: 1, max: 16 }),
          fc.integer({ min: 1, max: 4 }),
          fc.integer({ min: 0, max: 100 }),
          async (limit, batch, processes, requests) => {
            const state = new MemoryStorageState();
            const storages = Array.from({ length: processes }, () => createMemoryStorage({ state }));
            const outcome = await concurrentEncrypts(storages, { limit, requests, batch, name: 'prop' });
            expect(outcome.succeeded).toBeLessThanOrEqual(limit);
            expect(outcome.stored).toBeLessThanOrEqual(limit);
            expect(outcome.succeeded).toBeLessThanOrEqual(outcome.stored);
            expect(outcome.succeeded + outcome.exhausted).toBe(requests);
            // Exact accounting when slots are taken one by one or by a single process.
            if (batch === 1 || processes === 1) expect(outcome.succeeded).toBe(Math.min(limit, requests));
          },
        ),
        { numRuns: 60 },
      );
    });

    it("with onLimit: 'rotate', rotates once per exhausted key under concurrency and hands each new key to onRotate", async () => {
      const created: AesKey[] = [];
      const keyring = new Keyring({
        storage: createMemoryStorage(),
        maxMessagesPerKey: 10,
        onLimit: 'rotate',
        onRotate: (key) => {
          created.push(key);
        },
      });
      await keyring.rotate();
      const envelopes = await Promise.all(Array.from({ length: 95 }, (_, i) => keyring.encrypt(`m${i}`)));
      expect(created.length).toBe(10); // the first key + 9 automatic rotations for 95 messages
      expect(keyring.keyIds()).toEqual(created.map((k) => k.id));
      const perKey = new Map<string, number>();
      for (const envelope of envelopes) {
        const id = readEnvelopeHeader(envelope).keyId;
        perKey.set(id, (perKey.get(id) ?? 0) + 1);
      }
      for (const count of perKey.values()) expect(count).toBeLessThanOrEqual(10);
      const texts = await Promise.all(envelopes.map((e) => keyring.decryptText(e)));
      expect(texts).toEqual(Array.from({ length: 95 }, (_, i) => `m${i}`));
    });

    it('keeps the old key active when onRotate fails, and reports the failure', async () => {
      const keyring = new Keyring({
        keys: [AesKey.generate({ id: 'only' })],
        maxMessagesPerKey: 1,
        onLimit: 'rotate',
        onRotate: () => {
          throw new AdapterUnavailableError('secrets manager down');
        },
      });
      await keyring.encrypt('x');
      await expectCode(() => keyring.encrypt('y'), 'ADAPTER_UNAVAILABLE');
      expect(keyring.keyIds()).toEqual(['only']);
    });

    it('surfaces storage failures (ADAPTER_UNAVAILABLE) instead of encrypting uncounted', async () => {
      const broken = { ...createMemoryStorage(), add: () => Promise.reject(new AdapterUnavailableError('down')) } as StorageAdapter;
      const keyring = new Keyring({ keys: [AesKey.generate()], storage: broken });
      await expectCode(() => keyring.encrypt('x'), 'ADAPTER_UNAVAILABLE');
    });
  });
});
