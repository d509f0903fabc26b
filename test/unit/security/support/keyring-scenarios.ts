import { expect } from 'vitest';
import type { StorageAdapter } from '../../../../src/adapters/storage.js';
import { isFabricaError } from '../../../../src/errors.js';
import { AesKey, Keyring } from '../../../../src/security/primitives.js';

export interface CounterOutcome {
  readonly succeeded: number;
  readonly exhausted: number;
  readonly stored: number;
}

/**
 * Several "processes" (keyrings holding the same key, each with its own storage handle) fire
 * `requests` concurrent encrypts against one shared counter with limit `limit`. Returns how many
 * succeeded and were refused, and the counter value the storage holds.
 */
export async function concurrentEncrypts(
  storages: readonly StorageAdapter[],
  options: { limit: number; requests: number; batch: number; name: string },
): Promise<CounterOutcome> {
  const key = AesKey.generate({ id: `key-${options.name}` });
  const keyrings = storages.map(
    (storage) => new Keyring({ keys: [key], storage, name: options.name, maxMessagesPerKey: options.limit, reserveBatch: options.batch }),
  );
  const results = await Promise.all(
    Array.from({ length: options.requests }, async (_, i) => {
      const keyring = keyrings[i % keyrings.length]!;
      try {
        const envelope = await keyring.encrypt(`message ${i}`);
        expect(await keyring.decryptText(envelope)).toBe(`message ${i}`);
        return 'ok' as const;
      } catch (err) {
        if (isFabricaError(err) && err.code === 'CRYPTO_KEY_EXHAUSTED') return 'exhausted' as const;
        throw err;
      }
    }),
  );
  const usage = await keyrings[0]!.usage();
  expect(usage.limit).toBe(options.limit);
  return {
    succeeded: results.filter((r) => r === 'ok').length,
    exhausted: results.filter((r) => r === 'exhausted').length,
    stored: usage.used,
  };
}
