/**
 * The keyring's per-key message budget (NIST SP 800-38D §8.3) shared by several processes through
 * real backends: each "process" has its own pool or client and its own Keyring holding the same
 * key; concurrent encrypts across them must never seal more than the limit in total, because the
 * counter lives in the StorageAdapter and is advanced by its atomic, bounded `add`.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { StorageAdapter } from '../../src/adapters/storage.js';
import { AesKey, Keyring } from '../../src/security/primitives.js';
import { concurrentEncrypts } from '../unit/security/support/keyring-scenarios.js';
import { postgresStorageBackend, redisStorageBackend } from '../support/storage-backends.js';

const backends = [postgresStorageBackend(inject('databaseUrl'), 'dfsec'), redisStorageBackend(inject('redisUrl'), 'dfsec')];

for (const backend of backends) {
  if (!backend.available) {
    console.warn(`\n!!! keyring message budget on ${backend.name} SKIPPED — no server: ${inject('serverNotes')}\n`);
  }
  describe.skipIf(!backend.available)(`keyring message budget on ${backend.name}`, () => {
    let storages: StorageAdapter[] = [];
    beforeAll(async () => {
      storages = await backend.open(3);
    });
    afterAll(async () => {
      await backend.teardown();
    });

    it('lets three processes seal exactly the limit in total under concurrent encrypts', async () => {
      const outcome = await concurrentEncrypts(storages, { limit: 40, requests: 150, batch: 1, name: 'exact' });
      expect(outcome).toEqual({ succeeded: 40, exhausted: 110, stored: 40 });
    });

    it('never exceeds the limit with block reservations either', async () => {
      const outcome = await concurrentEncrypts(storages, { limit: 40, requests: 150, batch: 7, name: 'blocks' });
      expect(outcome.stored).toBe(40);
      expect(outcome.succeeded).toBeLessThanOrEqual(40);
      expect(outcome.succeeded + outcome.exhausted).toBe(150);
    });

    it('continues from the stored count after a restart (a new keyring on a new handle)', async () => {
      const key = AesKey.generate({ id: 'restart' });
      const first = new Keyring({ keys: [key], storage: storages[0]!, name: 'restart', maxMessagesPerKey: 5 });
      for (let i = 0; i < 3; i++) await first.encrypt('x');
      const second = new Keyring({ keys: [key], storage: storages[1]!, name: 'restart', maxMessagesPerKey: 5 });
      expect(await second.usage()).toMatchObject({ used: 3, remaining: 2 });
      await second.encrypt('x');
      await second.encrypt('x');
      await expect(second.encrypt('x')).rejects.toMatchObject({ code: 'CRYPTO_KEY_EXHAUSTED' });
      await expect(first.encrypt('x')).rejects.toMatchObject({ code: 'CRYPTO_KEY_EXHAUSTED' });
    });
  });
}
