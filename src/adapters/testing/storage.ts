import { afterAll, beforeAll, describe, expect } from 'vitest';
import type { JsonValue, StorageAdapter, StoredDocument, TxnOp } from '../storage.js';
import { compareKeys } from '../internal/order.js';
import { MAX_TXN_DOCUMENTS } from '../internal/requests.js';
import type { AdapterHarness, ContractOptions } from './harness.js';
import { caught, contractTest, runConcurrently, scaled, sequenceSeeds, sequenceSteps, uniqueName, waitFor, harnessSession } from './support.js';
import { runStorageSequence } from './storage-sequences.js';

/**
 * The StorageAdapter conformance suite: every backend (memory, PostgreSQL, Redis, or a
 * third-party one) must pass it. Call it at the top level of a vitest test file.
 *
 * @example
 * ```ts
 * import { describeStorageContract } from 'digital-fabrica/adapters/testing';
 * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
 * const storage = createMemoryStorage();
 * describeStorageContract('memory', { open: async () => storage });
 * ```
 */
export function describeStorageContract(name: string, harness: AdapterHarness<StorageAdapter>, options?: ContractOptions): void {
  const test = contractTest(options);
  const slowTest = contractTest(options, 120_000);
  const session = harnessSession(harness);
  const open = session.open;
  const passTime = session.passTime;
  let store: StorageAdapter;

  const shortTtl = harness.clock ? 1_000 : 400;

  describe(`StorageAdapter contract: ${name}`, () => {
    if ((options?.scale ?? 1) < 1) {
      console.warn(`[${name}] storage contract running at scale ${options?.scale}: not a full conformance run`);
    }
    beforeAll(async () => {
      store = await open();
    });
    afterAll(() => session.closeAll());

    describe('documents', () => {
      test('returns null for a missing document', async () => {
        expect(await store.get(uniqueName('ns'), 'missing')).toBeNull();
      });

      test('reads back what was put, with a positive version and no expiry', async () => {
        const ns = uniqueName('ns');
        const { version } = await store.put(ns, 'a', { hello: 'world', n: 1, list: [true, null] });
        expect(version).toBeGreaterThan(0);
        const doc = await store.get(ns, 'a');
        expect(doc).toEqual({ namespace: ns, key: 'a', value: { hello: 'world', n: 1, list: [true, null] }, version, expiresAt: null });
      });

      test('gives every write a new, larger version, never reused after delete and re-create', async () => {
        const ns = uniqueName('ns');
        const v1 = (await store.put(ns, 'k', 1)).version;
        const v2 = (await store.put(ns, 'k', 2)).version;
        expect(v2).toBeGreaterThan(v1);
        expect(await store.delete(ns, 'k')).toBe(true);
        const v3 = (await store.put(ns, 'k', 3)).version;
        expect(v3).toBeGreaterThan(v2);
        const other = (await store.put(uniqueName('ns'), 'k', 1)).version;
        expect(other).toBeGreaterThan(v3);
      });

      test('returns copies: mutating a read or a written value never changes stored state', async () => {
        const ns = uniqueName('ns');
        const value = { list: [1, 2] };
        await store.put(ns, 'k', value);
        value.list.push(3);
        const read = (await store.get<{ list: number[] }>(ns, 'k'))!;
        read.value.list.push(4);
        expect((await store.get(ns, 'k'))!.value).toEqual({ list: [1, 2] });
      });

      test('getMany returns documents aligned with the keys, null where absent', async () => {
        const ns = uniqueName('ns');
        await store.put(ns, 'a', 'A');
        await store.put(ns, 'c', 'C');
        const docs = await store.getMany(ns, ['c', 'b', 'a', 'c']);
        expect(docs.map((d) => d?.value ?? null)).toEqual(['C', null, 'A', 'C']);
        expect(await store.getMany(ns, [])).toEqual([]);
      });

      test('delete reports whether a document existed', async () => {
        const ns = uniqueName('ns');
        await store.put(ns, 'k', true);
        expect(await store.delete(ns, 'k')).toBe(true);
        expect(await store.delete(ns, 'k')).toBe(false);
        expect(await store.get(ns, 'k')).toBeNull();
      });

      test('namespaces are separate key spaces', async () => {
        const a = uniqueName('ns');
        const b = uniqueName('ns');
        await store.put(a, 'k', 'in a');
        expect(await store.get(b, 'k')).toBeNull();
        await store.put(b, 'k', 'in b');
        expect((await store.get(a, 'k'))!.value).toBe('in a');
      });

      test('stores values from empty to 1 MiB unchanged', async () => {
        const ns = uniqueName('ns');
        const big = 'x'.repeat(1024 * 1024);
        const values: JsonValue[] = [
          '',
          0,
          -1.5,
          false,
          null,
          [],
          {},
          'nul \u0000 inside, emoji 🙂, rtl עברית',
          { nested: { deep: [[[{ a: 'b' }]]] } },
          big,
          { blob: big.slice(0, 512 * 1024), more: big.slice(0, 511 * 1024) },
        ];
        for (const [i, value] of values.entries()) {
          await store.put(ns, `v${i}`, value);
          const doc = await store.get(ns, `v${i}`);
          expect(doc, `value #${i}`).not.toBeNull();
          expect(doc!.value, `value #${i}`).toEqual(value);
        }
      });

      test('accepts unicode keys and keeps them distinct', async () => {
        const ns = uniqueName('ns');
        const keys = ['日本語/キー', '🙂', 'ключ', 'a b', 'e\u0301', 'é', 'tasks/1', 'tasks/10', 'x'.repeat(512)];
        for (const [i, key] of keys.entries()) await store.put(ns, key, i);
        for (const [i, key] of keys.entries()) expect((await store.get(ns, key))!.value).toBe(i);
      });

      test('rejects invalid namespaces and keys with VALIDATION_FAILED and stores nothing', async () => {
        const ns = uniqueName('ns');
        const badKeys = ['', 'x'.repeat(513), 'nul\u0000', 'line\nbreak', 'tab\t', 'del\u007f', 'c1\u0085', 'lone\ud800'];
        const badNamespaces = ['', 'n'.repeat(65), 'a:b', 'a b', 'tab\t', 'ü', 'a/b'];
        for (const key of badKeys) {
          expect((await caught(() => store.put(ns, key, 1))).code, JSON.stringify(key)).toBe('VALIDATION_FAILED');
          expect((await caught(() => store.get(ns, key))).code, JSON.stringify(key)).toBe('VALIDATION_FAILED');
        }
        for (const bad of badNamespaces) {
          expect((await caught(() => store.put(bad, 'k', 1))).code, JSON.stringify(bad)).toBe('VALIDATION_FAILED');
          expect((await caught(() => store.list(bad))).code, JSON.stringify(bad)).toBe('VALIDATION_FAILED');
        }
        expect((await store.list(ns)).items).toEqual([]);
      });

      test('rejects values that are not plain JSON with VALIDATION_FAILED', async () => {
        const ns = uniqueName('ns');
        const bad: unknown[] = [Number.NaN, Number.POSITIVE_INFINITY, undefined, { d: new Date(0) }, [() => 1], { x: 10n }];
        for (const value of bad) {
          expect((await caught(() => store.put(ns, 'k', value as JsonValue))).code).toBe('VALIDATION_FAILED');
        }
        expect(await store.get(ns, 'k')).toBeNull();
      });

      test('put with ifVersion writes only over that version; a stale one fails with CONFLICT and changes nothing', async () => {
        const ns = uniqueName('ns');
        const { version: v1 } = await store.put(ns, 'k', 'first', { ifVersion: 0 });
        expect((await caught(() => store.put(ns, 'k', 'again', { ifVersion: 0 }))).code).toBe('CONFLICT');
        const { version: v2 } = await store.put(ns, 'k', 'second', { ifVersion: v1 });
        expect((await caught(() => store.put(ns, 'k', 'stale', { ifVersion: v1 }))).code).toBe('CONFLICT');
        expect(await store.get(ns, 'k')).toMatchObject({ value: 'second', version: v2 });
      });

      test('fails with ADAPTER_CLOSED after close', async () => {
        const handle = await open();
        await handle.close();
        await handle.close(); // idempotent
        expect((await caught(() => handle.get(uniqueName('ns'), 'k'))).code).toBe('ADAPTER_CLOSED');
        session.forget(handle);
      });
    });

    describe('transactions', () => {
      test('applies every success op when all compares hold', async () => {
        const ns = uniqueName('ns');
        const { version } = await store.put(ns, 'a', 1);
        const res = await store.txn({
          compare: [
            { namespace: ns, key: 'a', version },
            { namespace: ns, key: 'b', exists: false },
            { namespace: ns, key: 'c', version: 0 },
          ],
          success: [
            { type: 'put', namespace: ns, key: 'a', value: 2 },
            { type: 'put', namespace: ns, key: 'b', value: 'B' },
            { type: 'delete', namespace: ns, key: 'zzz' },
          ],
          failure: [{ type: 'put', namespace: ns, key: 'failed', value: true }],
        });
        expect(res.succeeded).toBe(true);
        expect(res.results.map((r) => [r.type, r.key, r.existed])).toEqual([
          ['put', 'a', true],
          ['put', 'b', false],
          ['delete', 'zzz', false],
        ]);
        expect(res.results[0]!.version).toBeGreaterThan(version);
        expect((await store.get(ns, 'a'))!.version).toBe(res.results[0]!.version);
        expect((await store.get(ns, 'b'))!.value).toBe('B');
        expect(await store.get(ns, 'failed')).toBeNull();
      });

      test('a txn whose compare fails applies none of its success ops, and its failure ops atomically', async () => {
        const ns = uniqueName('ns');
        const { version } = await store.put(ns, 'a', 1);
        await store.put(ns, 'keep', 'kept');
        const res = await store.txn({
          compare: [
            { namespace: ns, key: 'a', version },
            { namespace: ns, key: 'a', version: version + 1000 },
          ],
          success: [
            { type: 'put', namespace: ns, key: 'a', value: 'changed' },
            { type: 'delete', namespace: ns, key: 'keep' },
            { type: 'put', namespace: ns, key: 'new', value: 'new' },
          ],
          failure: [
            { type: 'put', namespace: ns, key: 'f1', value: 'one' },
            { type: 'put', namespace: ns, key: 'f2', value: 'two' },
            { type: 'delete', namespace: ns, key: 'keep' },
          ],
        });
        expect(res.succeeded).toBe(false);
        expect(res.results.map((r) => r.key)).toEqual(['f1', 'f2', 'keep']);
        expect((await store.get(ns, 'a'))!).toMatchObject({ value: 1, version });
        expect(await store.get(ns, 'new')).toBeNull();
        expect(await store.get(ns, 'keep')).toBeNull();
        expect((await store.getMany(ns, ['f1', 'f2'])).map((d) => d?.value)).toEqual(['one', 'two']);
      });

      test('compares on existence and version 0 treat missing documents alike', async () => {
        const ns = uniqueName('ns');
        const run = (compare: Parameters<StorageAdapter['txn']>[0]['compare']) => store.txn({ compare });
        expect((await run([{ namespace: ns, key: 'x', exists: false }])).succeeded).toBe(true);
        expect((await run([{ namespace: ns, key: 'x', version: 0 }])).succeeded).toBe(true);
        expect((await run([{ namespace: ns, key: 'x', exists: true }])).succeeded).toBe(false);
        await store.put(ns, 'x', 1);
        expect((await run([{ namespace: ns, key: 'x', exists: true }])).succeeded).toBe(true);
        expect((await run([{ namespace: ns, key: 'x', version: 0 }])).succeeded).toBe(false);
        expect((await store.txn({})).succeeded).toBe(true);
      });

      test('spans namespaces atomically', async () => {
        const users = uniqueName('users');
        const emails = uniqueName('emails');
        const create = (id: string) =>
          store.txn({
            compare: [{ namespace: emails, key: 'ada@example.com', exists: false }],
            success: [
              { type: 'put', namespace: users, key: id, value: { email: 'ada@example.com' } },
              { type: 'put', namespace: emails, key: 'ada@example.com', value: id },
            ],
          });
        const results = await Promise.all(['u1', 'u2', 'u3', 'u4'].map(create));
        expect(results.filter((r) => r.succeeded)).toHaveLength(1);
        const owner = (await store.get<string>(emails, 'ada@example.com'))!.value;
        expect((await store.list(users)).items.map((d) => d.key)).toEqual([owner]);
      });

      test('rejects a malformed txn with VALIDATION_FAILED and applies nothing', async () => {
        const ns = uniqueName('ns');
        const put = (key: string): TxnOp => ({ type: 'put', namespace: ns, key, value: 1 });
        const bad: unknown[] = [
          { success: [put('ok'), { type: 'put', namespace: ns, key: '', value: 1 }] },
          { success: [put('ok'), put('ok')] },
          { success: [put('ok'), { type: 'put', namespace: ns, key: 'nan', value: Number.NaN }] },
          { success: [put('ok'), { type: 'upsert', namespace: ns, key: 'x', value: 1 }] },
          { compare: [{ namespace: ns, key: 'ok', version: -1 }], success: [put('ok')] },
          { success: Array.from({ length: MAX_TXN_DOCUMENTS + 1 }, (_, i) => put(`k${i}`)) },
          { success: [put('ok')], extra: true },
        ];
        for (const [i, request] of bad.entries()) {
          expect((await caught(() => store.txn(request as never))).code, `request #${i}`).toBe('VALIDATION_FAILED');
        }
        expect((await store.list(ns)).items).toEqual([]);
      });

      slowTest('100 concurrent compare-and-set increments on one key from separate connections end at exactly 100', async () => {
        const ns = uniqueName('ns');
        const n = scaled(options, 100);
        const connections = await Promise.all([open(), open(), open(), open()]);
        await store.put(ns, 'counter', 0);
        let commits = 0;
        await Promise.all(
          Array.from({ length: n }, async (_, i) => {
            const handle = connections[i % connections.length]!;
            for (let attempt = 0; ; attempt++) {
              const doc = (await handle.get<number>(ns, 'counter'))!;
              const res = await handle.txn({
                compare: [{ namespace: ns, key: 'counter', version: doc.version }],
                success: [{ type: 'put', namespace: ns, key: 'counter', value: doc.value + 1 }],
              });
              if (res.succeeded) {
                commits += 1;
                return;
              }
              // Back off a little under contention, as a real client would.
              await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(20, attempt + 1)));
            }
          }),
        );
        expect(commits).toBe(n);
        expect((await store.get(ns, 'counter'))!.value).toBe(n);
      });
    });

    describe('counters', () => {
      test('adds to an absent counter from 0 and returns the new value and version', async () => {
        const ns = uniqueName('ns');
        const r1 = await store.add(ns, 'c', 5);
        expect(r1).toMatchObject({ applied: true, value: 5 });
        const r2 = await store.add(ns, 'c', -2);
        expect(r2).toMatchObject({ applied: true, value: 3 });
        expect(r2.version!).toBeGreaterThan(r1.version!);
        expect((await store.get(ns, 'c'))!).toMatchObject({ value: 3, version: r2.version });
      });

      test('checks a bound only in the direction of the delta', async () => {
        const ns = uniqueName('ns');
        await store.put(ns, 'c', 10);
        expect(await store.add(ns, 'c', 1, { max: 10 })).toMatchObject({ applied: false, value: 10 });
        // Above a lowered max, releasing still works: that is how quota is given back.
        expect(await store.add(ns, 'c', -3, { max: 5 })).toMatchObject({ applied: true, value: 7 });
        expect(await store.add(ns, 'c', -8, { min: 0 })).toMatchObject({ applied: false, value: 7 });
        expect(await store.add(ns, 'c', -7, { min: 0 })).toMatchObject({ applied: true, value: 0 });
        expect(await store.add(ns, 'c', 4, { min: 1 })).toMatchObject({ applied: true, value: 4 });
        expect((await store.get(ns, 'c'))!.value).toBe(4);
      });

      test('a delta of 0 reads without writing', async () => {
        const ns = uniqueName('ns');
        expect(await store.add(ns, 'absent', 0)).toEqual({ applied: true, value: 0, version: null });
        expect(await store.get(ns, 'absent')).toBeNull();
        const { version } = await store.put(ns, 'c', 7);
        expect(await store.add(ns, 'c', 0)).toEqual({ applied: true, value: 7, version });
      });

      test('refuses a non-number document with CONFLICT and a bad delta with VALIDATION_FAILED', async () => {
        const ns = uniqueName('ns');
        await store.put(ns, 'text', 'not a number');
        expect((await caught(() => store.add(ns, 'text', 1))).code).toBe('CONFLICT');
        expect((await store.get(ns, 'text'))!.value).toBe('not a number');
        for (const delta of [0.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60]) {
          expect((await caught(() => store.add(ns, 'c', delta))).code, String(delta)).toBe('VALIDATION_FAILED');
        }
        expect(await store.get(ns, 'c')).toBeNull();
      });

      test('never overflows the safe integer range', async () => {
        const ns = uniqueName('ns');
        await store.put(ns, 'c', Number.MAX_SAFE_INTEGER - 1);
        expect(await store.add(ns, 'c', 1)).toMatchObject({ applied: true, value: Number.MAX_SAFE_INTEGER });
        expect(await store.add(ns, 'c', 1)).toMatchObject({ applied: false, value: Number.MAX_SAFE_INTEGER });
      });

      slowTest('a bounded counter hit by 500 concurrent adds never passes its max', async () => {
        const ns = uniqueName('ns');
        const n = scaled(options, 500);
        const max = Math.floor(n * 0.6);
        const connections = await Promise.all([open(), open(), open(), open()]);
        const results = await Promise.all(
          Array.from({ length: n }, (_, i) => connections[i % connections.length]!.add(ns, 'quota', 1, { max })),
        );
        const applied = results.filter((r) => r.applied);
        expect(applied).toHaveLength(max);
        for (const r of results) expect(r.value).toBeLessThanOrEqual(max);
        // Each applied add saw a distinct value: no two callers were granted the same unit.
        expect(new Set(applied.map((r) => r.value)).size).toBe(max);
        for (const r of results.filter((x) => !x.applied)) expect(r.value).toBe(max);
        expect((await store.get(ns, 'quota'))!.value).toBe(max);
      });

      slowTest('concurrent increments and decrements against a min and max keep the counter in range', async () => {
        const ns = uniqueName('ns');
        const n = scaled(options, 300);
        const connections = await Promise.all([open(), open()]);
        const results = await Promise.all(
          Array.from({ length: n }, (_, i) =>
            connections[i % 2]!.add(ns, 'gauge', i % 3 === 0 ? -1 : 1, { min: 0, max: 50 }),
          ),
        );
        for (const r of results) {
          expect(r.value).toBeGreaterThanOrEqual(0);
          expect(r.value).toBeLessThanOrEqual(50);
        }
        const net = results.reduce((sum, r, i) => sum + (r.applied ? (i % 3 === 0 ? -1 : 1) : 0), 0);
        expect((await store.get(ns, 'gauge'))!.value).toBe(net);
      });
    });

    describe('expiry', () => {
      test('a document with a TTL disappears after it, and reports its expiry while alive', async () => {
        const ns = uniqueName('ns');
        const before = harness.clock?.now() ?? Date.now();
        await store.put(ns, 'short', 'soon gone', { ttlMs: shortTtl });
        await store.put(ns, 'long', 'stays', { ttlMs: 3_600_000 });
        await store.put(ns, 'forever', 'stays');
        const doc = (await store.get(ns, 'short'))!;
        expect(doc.expiresAt).not.toBeNull();
        // Server-time backends may differ from this process's clock by a little.
        expect(Math.abs(doc.expiresAt! - (before + shortTtl))).toBeLessThan(harness.clock ? 1 : 2_000);
        await passTime(shortTtl + 50);
        await waitFor(async () => (await store.get(ns, 'short')) === null, { what: 'expiry' });
        expect((await store.get(ns, 'long'))!.value).toBe('stays');
        expect((await store.get(ns, 'forever'))!.expiresAt).toBeNull();
      });

      test('an expired document is absent for getMany, list, delete, txn compares and counters', async () => {
        const ns = uniqueName('ns');
        await store.put(ns, 'gone', 'x', { ttlMs: shortTtl });
        await store.add(ns, 'counter', 5, { ttlMs: shortTtl });
        await store.put(ns, 'live', 'y');
        await passTime(shortTtl + 50);
        await waitFor(async () => (await store.get(ns, 'gone')) === null, { what: 'expiry' });
        expect((await store.getMany(ns, ['gone', 'live'])).map((d) => d?.value ?? null)).toEqual([null, 'y']);
        expect((await store.list(ns)).items.map((d) => d.key)).toEqual(['live']);
        expect((await store.txn({ compare: [{ namespace: ns, key: 'gone', exists: false }] })).succeeded).toBe(true);
        expect((await store.txn({ compare: [{ namespace: ns, key: 'gone', version: 0 }] })).succeeded).toBe(true);
        expect(await store.add(ns, 'counter', 1)).toMatchObject({ applied: true, value: 1 });
        expect(await store.delete(ns, 'gone')).toBe(false);
      });

      test('a put without ttlMs clears an earlier TTL; a counter keeps the TTL it was created with', async () => {
        const ns = uniqueName('ns');
        await store.put(ns, 'k', 1, { ttlMs: shortTtl });
        await store.put(ns, 'k', 2);
        await store.add(ns, 'c', 1, { ttlMs: shortTtl });
        const created = (await store.get(ns, 'c'))!.expiresAt;
        await store.add(ns, 'c', 1, { ttlMs: 3_600_000 });
        expect((await store.get(ns, 'c'))!.expiresAt).toBe(created);
        await passTime(shortTtl + 50);
        await waitFor(async () => (await store.get(ns, 'c')) === null, { what: 'counter expiry' });
        expect((await store.get(ns, 'k'))!).toMatchObject({ value: 2, expiresAt: null });
      });

      test('rejects a non-positive or fractional TTL with VALIDATION_FAILED', async () => {
        const ns = uniqueName('ns');
        for (const ttlMs of [0, -1, 1.5, Number.NaN]) {
          expect((await caught(() => store.put(ns, 'k', 1, { ttlMs }))).code, String(ttlMs)).toBe('VALIDATION_FAILED');
        }
        expect(await store.get(ns, 'k')).toBeNull();
      });
    });

    describe('listing', () => {
      test('orders keys by Unicode code point, the same on every backend', async () => {
        const ns = uniqueName('ns');
        const keys = ['b', 'a', 'B', 'ab', 'a0', 'é', 'e', '\uffff', '𝄞', '\ue000', 'z', 'Z', '~', '😀', 'tasks/10', 'tasks/1', 'tasks/2'];
        for (const key of keys) await store.put(ns, key, key);
        const listed = (await store.list(ns, { limit: 1000 })).items.map((d) => d.key);
        expect(listed).toEqual([...keys].sort(compareKeys));
        expect(listed.indexOf('\ue000')).toBeLessThan(listed.indexOf('𝄞'));
      });

      test('matches prefixes literally, including characters that are wildcards elsewhere', async () => {
        const ns = uniqueName('ns');
        for (const key of ['a%b', 'a%bc', 'axb', 'a_b', 'aab', 'a*b', 'a[b]', 'a\\b', 'a\\bc', "it's"]) await store.put(ns, key, 1);
        const keysFor = async (prefix: string) => (await store.list(ns, { prefix })).items.map((d) => d.key);
        expect(await keysFor('a%')).toEqual(['a%b', 'a%bc']);
        expect(await keysFor('a_')).toEqual(['a_b']);
        expect(await keysFor('a*')).toEqual(['a*b']);
        expect(await keysFor('a[')).toEqual(['a[b]']);
        expect(await keysFor('a\\')).toEqual(['a\\b', 'a\\bc']);
        expect(await keysFor("it'")).toEqual(["it's"]);
        expect(await keysFor('nothing')).toEqual([]);
      });

      slowTest('listing 10,000 keys by prefix with a cursor returns each exactly once, in order, while other keys exist around the prefix', async () => {
        const ns = uniqueName('ns');
        const n = scaled(options, 10_000);
        const prefix = 'job/';
        // Neighbours sort right before and after the prefix's range, and one is a prefix of it.
        const neighbours = ['job', 'job.', 'job0', 'jo', 'joc/1', 'Job/1', 'job/'.slice(0, 3) + '\u00ff'];
        const inside = Array.from({ length: n }, (_, i) => `${prefix}${String((i * 7919) % n).padStart(5, '0')}`);
        const all = [...inside, ...neighbours];
        const batches: TxnOp[][] = [];
        for (let i = 0; i < all.length; i += MAX_TXN_DOCUMENTS) {
          batches.push(all.slice(i, i + MAX_TXN_DOCUMENTS).map((key) => ({ type: 'put', namespace: ns, key, value: key })));
        }
        await runConcurrently(batches.length, 8, (i) => store.txn({ success: batches[i]! }));
        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page: { items: readonly StoredDocument[]; cursor: string | null } = await store.list(ns, {
            prefix,
            limit: 997,
            ...(cursor === undefined ? {} : { cursor }),
          });
          pages += 1;
          for (const doc of page.items) {
            expect(doc.value).toBe(doc.key);
            seen.push(doc.key);
          }
          cursor = page.cursor ?? undefined;
        } while (cursor !== undefined);
        expect(pages).toBe(Math.ceil(n / 997));
        expect(seen).toHaveLength(n);
        expect(new Set(seen).size).toBe(n);
        expect(seen).toEqual([...inside].sort(compareKeys));
      });

      test('a page never exceeds its limit and the last page has no cursor', async () => {
        const ns = uniqueName('ns');
        for (const key of ['a', 'b', 'c', 'd', 'e']) await store.put(ns, key, key);
        const first = await store.list(ns, { limit: 2 });
        expect(first.items.map((d) => d.key)).toEqual(['a', 'b']);
        const second = await store.list(ns, { limit: 2, cursor: first.cursor! });
        expect(second.items.map((d) => d.key)).toEqual(['c', 'd']);
        const third = await store.list(ns, { limit: 2, cursor: second.cursor! });
        expect(third).toEqual({ items: [expect.objectContaining({ key: 'e' })], cursor: null });
        const exact = await store.list(ns, { limit: 5 });
        expect(exact.items).toHaveLength(5);
        expect(exact.cursor).toBeNull();
      });

      test('a cursor stays valid when its key is deleted or new keys arrive', async () => {
        const ns = uniqueName('ns');
        for (const key of ['a', 'b', 'c', 'd']) await store.put(ns, key, key);
        const first = await store.list(ns, { limit: 2 });
        await store.delete(ns, 'b');
        await store.put(ns, 'bb', 'bb');
        await store.put(ns, 'a0', 'a0');
        const rest = await store.list(ns, { limit: 10, cursor: first.cursor! });
        expect(rest.items.map((d) => d.key)).toEqual(['bb', 'c', 'd']);
      });

      test('rejects a forged cursor or a bad limit with VALIDATION_FAILED', async () => {
        const ns = uniqueName('ns');
        for (const opts of [{ cursor: 'not a cursor!' }, { cursor: 'AAAA' }, { limit: 0 }, { limit: 1001 }, { limit: 1.5 }, { prefix: 'bad\u0000' }]) {
          expect((await caught(() => store.list(ns, opts))).code, JSON.stringify(opts)).toBe('VALIDATION_FAILED');
        }
      });
    });

    describe('availability', () => {
      const outageName = 'the server going away mid-operation surfaces ADAPTER_UNAVAILABLE, and the adapter recovers when it returns';
      if (!harness.outage) {
        contractTest({ skip: [{ test: outageName, reason: 'the backend has no server to lose' }] })(outageName, async () => undefined);
        return;
      }
      const outage = harness.outage;
      slowTest(outageName, async () => {
        const ns = uniqueName('ns');
        const handle = await open();
        await handle.put(ns, 'before', 1);
        // Operations in flight when the connection drops, then operations while it is down.
        const inFlight = Array.from({ length: 20 }, (_, i) => handle.put(ns, `k${i}`, i).then(() => 'ok', (err: { code?: string }) => err.code));
        await outage.interrupt();
        const settled = await Promise.all(inFlight);
        for (const outcome of settled) expect(['ok', 'ADAPTER_UNAVAILABLE']).toContain(outcome);
        const during = await caught(() => handle.get(ns, 'before'));
        expect(during.code).toBe('ADAPTER_UNAVAILABLE');
        expect((await caught(() => handle.add(ns, 'c', 1))).code).toBe('ADAPTER_UNAVAILABLE');
        await outage.restore();
        const doc = await waitFor(async () => handle.get(ns, 'before'), { timeoutMs: 15_000, what: 'recovery' });
        expect(doc!.value).toBe(1);
        expect((await handle.add(ns, 'c', 1)).applied).toBe(true);
      });
    });

    describe('random operation sequences', () => {
      for (const seed of sequenceSeeds('STORAGE')) {
        slowTest(`seed ${seed}: every outcome matches the memory reference (values, versions in order, listings, transactions, counters, errors)`, async () => {
          await runStorageSequence(store, seed, sequenceSteps('STORAGE', scaled(options, 400)), uniqueName('seq'));
        });
      }
    });
  });
}
