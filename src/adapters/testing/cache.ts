import { afterAll, beforeAll, describe, expect } from 'vitest';
import type { CacheAdapter } from '../cache.js';
import type { AdapterHarness, ContractOptions } from './harness.js';
import { caught, contractTest, sameBytes, uniqueName, waitFor, harnessSession } from './support.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

/**
 * The CacheAdapter conformance suite. Call it at the top level of a vitest test file.
 *
 * @example
 * ```ts
 * import { describeCacheContract } from 'digital-fabrica/adapters/testing';
 * import { createMemoryCache, MemoryCacheState } from 'digital-fabrica/adapters/memory';
 * const state = new MemoryCacheState();
 * describeCacheContract('memory', { open: async () => createMemoryCache({ state }) });
 * ```
 */
export function describeCacheContract(name: string, harness: AdapterHarness<CacheAdapter>, options?: ContractOptions): void {
  const test = contractTest(options);
  const slowTest = contractTest(options, 120_000);
  const session = harnessSession(harness);
  const open = session.open;
  const passTime = session.passTime;
  let cache: CacheAdapter;
  const shortTtl = harness.clock ? 1_000 : 400;

  describe(`CacheAdapter contract: ${name}`, () => {
    beforeAll(async () => {
      cache = await open();
    });
    afterAll(() => session.closeAll());

    test('returns null for a missing entry', async () => {
      expect(await cache.get(uniqueName('missing:'))).toBeNull();
    });

    test('stores bytes from empty to 1 MiB unchanged, and an empty value is not a miss', async () => {
      const p = uniqueName('c:');
      const big = new Uint8Array(1024 * 1024);
      for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 0xff;
      const values = [new Uint8Array(0), new Uint8Array([0]), new Uint8Array([0, 255, 128, 10, 13]), bytes('héllo 🙂'), big];
      for (const [i, value] of values.entries()) {
        await cache.set(`${p}${i}`, value);
        const read = await cache.get(`${p}${i}`);
        expect(read, `value #${i}`).toBeInstanceOf(Uint8Array);
        expect(sameBytes(read, value), `value #${i}`).toBe(true);
      }
    });

    test('stores a copy: mutating the written or read bytes never changes the entry', async () => {
      const key = uniqueName('c:');
      const value = new Uint8Array([1, 2, 3]);
      await cache.set(key, value);
      value[0] = 9;
      const read = (await cache.get(key))!;
      read[1] = 9;
      expect([...(await cache.get(key))!]).toEqual([1, 2, 3]);
    });

    test('overwrites an entry', async () => {
      const key = uniqueName('c:');
      await cache.set(key, bytes('one'));
      await cache.set(key, bytes('two'));
      expect(new TextDecoder().decode((await cache.get(key))!)).toBe('two');
    });

    test('getMany returns entries aligned with the keys, null where absent', async () => {
      const p = uniqueName('c:');
      await cache.set(`${p}a`, bytes('A'));
      await cache.set(`${p}c`, new Uint8Array(0));
      const got = await cache.getMany([`${p}c`, `${p}b`, `${p}a`]);
      expect(got.map((v) => (v === null ? null : new TextDecoder().decode(v)))).toEqual(['', null, 'A']);
      expect(await cache.getMany([])).toEqual([]);
    });

    test('delete reports whether the entry existed', async () => {
      const key = uniqueName('c:');
      await cache.set(key, bytes('x'));
      expect(await cache.delete(key)).toBe(true);
      expect(await cache.delete(key)).toBe(false);
      expect(await cache.get(key)).toBeNull();
    });

    test('deleteByPrefix removes exactly the entries under the prefix, matching it literally', async () => {
      const p = uniqueName('c:');
      const under = [`${p}*/a`, `${p}*/b`, `${p}*/[x]`, `${p}*/?`, `${p}*/\\`];
      const around = [`${p}`, `${p}*`, `${p}x/a`, `${p}a/*`, `${p}?/a`, `${p}[*]/a`];
      for (const key of [...under, ...around]) await cache.set(key, bytes(key));
      expect(await cache.deleteByPrefix(`${p}*/`)).toBe(under.length);
      for (const key of under) expect(await cache.get(key), key).toBeNull();
      for (const key of around) expect(await cache.get(key), key).not.toBeNull();
      expect(await cache.deleteByPrefix(`${p}nothing`)).toBe(0);
    });

    slowTest('deleteByPrefix removes thousands of entries', async () => {
      const p = uniqueName('bulk:');
      const n = Math.max(10, Math.round(2_000 * (options?.scale ?? 1)));
      await Promise.all(Array.from({ length: n }, (_, i) => cache.set(`${p}${i}`, bytes(String(i)))));
      await cache.set(`${p.slice(0, -1)}`, bytes('outside'));
      expect(await cache.deleteByPrefix(p)).toBe(n);
      expect(await cache.get(`${p}0`)).toBeNull();
      expect(await cache.get(p.slice(0, -1))).not.toBeNull();
    });

    test('an entry is never returned after its TTL', async () => {
      const p = uniqueName('c:');
      await cache.set(`${p}short`, bytes('x'), { ttlMs: shortTtl });
      await cache.set(`${p}long`, bytes('y'), { ttlMs: 3_600_000 });
      await cache.set(`${p}forever`, bytes('z'));
      expect(await cache.get(`${p}short`)).not.toBeNull();
      await passTime(shortTtl + 50);
      await waitFor(async () => (await cache.get(`${p}short`)) === null, { what: 'cache expiry' });
      expect((await cache.getMany([`${p}short`, `${p}long`, `${p}forever`])).map((v) => v !== null)).toEqual([false, true, true]);
      expect(await cache.delete(`${p}short`)).toBe(false);
    });

    test('rejects invalid keys, values and TTLs with VALIDATION_FAILED', async () => {
      for (const key of ['', 'x'.repeat(513), 'a\u0000b', 'line\n', 'lone\udc00']) {
        expect((await caught(() => cache.set(key, bytes('x')))).code, JSON.stringify(key)).toBe('VALIDATION_FAILED');
        expect((await caught(() => cache.get(key))).code, JSON.stringify(key)).toBe('VALIDATION_FAILED');
      }
      const key = uniqueName('c:');
      for (const value of ['text', [1, 2], null, new ArrayBuffer(2)]) {
        expect((await caught(() => cache.set(key, value as unknown as Uint8Array))).code).toBe('VALIDATION_FAILED');
      }
      for (const ttlMs of [0, -5, 0.5]) {
        expect((await caught(() => cache.set(key, bytes('x'), { ttlMs }))).code).toBe('VALIDATION_FAILED');
      }
      expect((await caught(() => cache.deleteByPrefix(''))).code).toBe('VALIDATION_FAILED');
      expect(await cache.get(key)).toBeNull();
    });

    test('entries are shared by every handle on the backend', async () => {
      const other = await open();
      const key = uniqueName('c:');
      await cache.set(key, bytes('shared'));
      expect(new TextDecoder().decode((await other.get(key))!)).toBe('shared');
      expect(await other.delete(key)).toBe(true);
      expect(await cache.get(key)).toBeNull();
    });

    test('fails with ADAPTER_CLOSED after close', async () => {
      const handle = await open();
      await handle.close();
      await handle.close();
      expect((await caught(() => handle.get('k'))).code).toBe('ADAPTER_CLOSED');
      session.forget(handle);
    });

    const outageName = 'the server going away mid-operation surfaces ADAPTER_UNAVAILABLE, and the adapter recovers when it returns';
    if (!harness.outage) {
      contractTest({ skip: [{ test: outageName, reason: 'the backend has no server to lose' }] })(outageName, async () => undefined);
    } else {
      const outage = harness.outage;
      slowTest(outageName, async () => {
        const handle = await open();
        const key = uniqueName('c:');
        await handle.set(key, bytes('before'));
        const inFlight = Array.from({ length: 20 }, (_, i) =>
          handle.set(`${key}/${i}`, bytes('x')).then(() => 'ok', (err: { code?: string }) => err.code),
        );
        await outage.interrupt();
        for (const outcome of await Promise.all(inFlight)) expect(['ok', 'ADAPTER_UNAVAILABLE']).toContain(outcome);
        expect((await caught(() => handle.get(key))).code).toBe('ADAPTER_UNAVAILABLE');
        await outage.restore();
        const value = await waitFor(async () => handle.get(key), { timeoutMs: 15_000, what: 'recovery' });
        expect(new TextDecoder().decode(value!)).toBe('before');
      });
    }
  });
}
