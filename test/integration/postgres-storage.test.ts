import fc from 'fast-check';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { CacheAdapter, StorageAdapter } from '../../src/adapters/index.js';
import { decideAdd } from '../../src/adapters/internal/requests.js';
import { createPostgresCache, createPostgresStorage, migratePostgres } from '../../src/adapters/postgres/index.js';
import { caught, waitFor } from '../../src/adapters/testing/support.js';
import { createTestPool, dropSchema, randomSchema } from '../support/postgres-harness.js';
import { skipWithoutServer } from '../support/missing-server.js';

const url = inject('databaseUrl');

if (url === '') {
  skipWithoutServer('postgres storage and cache', 'PostgreSQL server');
} else {
  describe('postgres storage and cache', () => {
    const schema = randomSchema('dfint');
    let pool: pg.Pool;
    let storage: StorageAdapter;
    const opened: { close(): Promise<void> }[] = [];
    const extraPools: pg.Pool[] = [];
    const track = <T extends { close(): Promise<void> }>(adapter: T): T => {
      opened.push(adapter);
      return adapter;
    };

    beforeAll(async () => {
      pool = createTestPool(url, { max: 8 });
      await migratePostgres({ pool, schema });
      storage = track(createPostgresStorage({ pool, schema, sweepIntervalMs: 0 }));
    });
    afterAll(async () => {
      for (const adapter of opened) await adapter.close();
      await Promise.all(extraPools.map((p) => p.end()));
      await pool.end();
      await dropSchema(url, schema);
    });

    const rowCount = async (table: string, where: string, values: unknown[]): Promise<number> =>
      (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".${table} WHERE ${where}`, values)).rows[0]!.n;

    it('the background sweep deletes expired documents from the table', async () => {
      const swept = track(createPostgresStorage({ pool, schema, sweepIntervalMs: 50 }));
      await swept.init();
      await swept.put('sweep', 'short', 1, { ttlMs: 1 });
      await swept.add('sweep', 'counter', 1, { ttlMs: 1 });
      await swept.put('sweep', 'stays', 1);
      await waitFor(async () => (await rowCount('documents', 'namespace = $1 AND key <> $2', ['sweep', 'stays'])) === 0, { what: 'sweep of expired documents' });
      expect(await rowCount('documents', 'namespace = $1', ['sweep'])).toBe(1);
    });

    it('the background sweep deletes expired cache entries from the table', async () => {
      const cache = track(createPostgresCache({ pool, schema, sweepIntervalMs: 50 }));
      await cache.set('sweep:short', new Uint8Array([1]), { ttlMs: 1 });
      await cache.set('sweep:stays', new Uint8Array([2]));
      await waitFor(async () => (await rowCount('cache_entries', 'key = $1', ['sweep:short'])) === 0, { what: 'sweep of expired cache entries' });
      expect(await rowCount('cache_entries', 'key = $1', ['sweep:stays'])).toBe(1);
    });

    it('close() is idempotent, stops the adapter and leaves the host pool open', async () => {
      const own = createTestPool(url);
      extraPools.push(own);
      const adapters: (StorageAdapter | CacheAdapter)[] = [
        createPostgresStorage({ pool: own, schema, sweepIntervalMs: 10 }),
        createPostgresCache({ pool: own, schema, sweepIntervalMs: 10 }),
      ];
      for (const adapter of adapters) {
        await adapter.init();
        await adapter.close();
        await adapter.close();
        expect((await caught(() => adapter.init())).code).toBe('ADAPTER_CLOSED');
      }
      expect((await own.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one).toBe(1);
      expect(own.totalCount - own.idleCount).toBe(0);
    });

    it('one key hammered by blind puts from 4 pools ends at the highest version any put returned', async () => {
      const handles = Array.from({ length: 4 }, () => {
        const p = createTestPool(url);
        extraPools.push(p);
        return track(createPostgresStorage({ pool: p, schema, sweepIntervalMs: 0 }));
      });
      const results = await Promise.all(Array.from({ length: 200 }, (_, i) => handles[i % 4]!.put('hammer', 'k', i)));
      const versions = results.map((r) => r.version);
      expect(new Set(versions).size).toBe(200);
      const doc = (await storage.get('hammer', 'k'))!;
      expect(doc.version).toBe(Math.max(...versions));
      expect(doc.value).toBe(versions.indexOf(doc.version));
    });

    it('multi-document txns touching keys in opposite orders never deadlock, and keep a sum invariant', async () => {
      const accounts = ['a', 'b', 'c', 'd', 'e'];
      for (const key of accounts) await storage.put('bank', key, 100);
      const handles = Array.from({ length: 4 }, () => {
        const p = createTestPool(url);
        extraPools.push(p);
        return track(createPostgresStorage({ pool: p, schema, sweepIntervalMs: 0 }));
      });
      let committed = 0;
      await Promise.all(
        Array.from({ length: 120 }, async (_, i) => {
          const handle = handles[i % handles.length]!;
          const from = accounts[i % accounts.length]!;
          const to = accounts[(i * 3 + 1) % accounts.length]!;
          if (from === to) return;
          for (;;) {
            const [src, dst] = await handle.getMany<number>('bank', [from, to]);
            const res = await handle.txn({
              // Compare order alternates with i, so two txns often lock the same pair "backwards".
              compare:
                i % 2 === 0
                  ? [{ namespace: 'bank', key: from, version: src!.version }, { namespace: 'bank', key: to, version: dst!.version }]
                  : [{ namespace: 'bank', key: to, version: dst!.version }, { namespace: 'bank', key: from, version: src!.version }],
              success: [
                { type: 'put', namespace: 'bank', key: to, value: dst!.value + 1 },
                { type: 'put', namespace: 'bank', key: from, value: src!.value - 1 },
              ],
            });
            if (res.succeeded) {
              committed += 1;
              return;
            }
          }
        }),
      );
      const balances = (await storage.getMany<number>('bank', accounts)).map((d) => d!.value);
      expect(balances.reduce((a, b) => a + b, 0)).toBe(500);
      expect(committed).toBeGreaterThan(0);
    });

    it('add() agrees with decideAdd on every stored number, delta and bound (property)', async () => {
      const safe = fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER });
      const small = fc.integer({ min: -1_000, max: 1_000 });
      const current = fc.oneof(small, safe, fc.constantFrom(0, 0.5, -2.25, 1e21, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 2 ** 52 + 0.5));
      const bound = fc.option(fc.oneof(small, safe), { nil: undefined });
      let run = 0;
      await fc.assert(
        fc.asyncProperty(current, fc.oneof(small, safe), bound, bound, async (value, delta, min, max) => {
          const key = `p${run++}`;
          await storage.put('prop', key, value);
          const result = await storage.add('prop', key, delta, { ...(min === undefined ? {} : { min }), ...(max === undefined ? {} : { max }) });
          const expected = decideAdd(value, { delta, min, max });
          expect({ applied: result.applied, value: result.value }).toEqual(expected);
          expect((await storage.get('prop', key))!.value).toBe(expected.applied ? expected.value : value);
        }),
        { numRuns: 150 },
      );
    });

    it('lists prefixes that end at the edges of the code point range', async () => {
      const keys = ['a\ud7ff', 'a\ud7ffx', 'a\ue000', 'a\u{10ffff}', 'a\u{10ffff}z', 'b', 'a\uffff'];
      for (const key of keys) await storage.put('edges', key, key);
      const list = async (prefix: string) => (await storage.list('edges', { prefix })).items.map((d) => d.key);
      expect(await list('a\ud7ff')).toEqual(['a\ud7ff', 'a\ud7ffx']);
      expect(await list('a\u{10ffff}')).toEqual(['a\u{10ffff}', 'a\u{10ffff}z']);
      expect(await list('a')).toEqual(['a\ud7ff', 'a\ud7ffx', 'a\ue000', 'a\uffff', 'a\u{10ffff}', 'a\u{10ffff}z']);
    });

    it('stores documents and cache values of several MiB unchanged', async () => {
      const text = 'ä🙂x'.repeat(1024 * 1024); // ~8 MiB of UTF-8
      await storage.put('big', 'doc', { text });
      expect((await storage.get<{ text: string }>('big', 'doc'))!.value.text === text).toBe(true);
      const cache = track(createPostgresCache({ pool, schema, sweepIntervalMs: 0 }));
      const bytes = new Uint8Array(8 * 1024 * 1024).map((_, i) => (i * 7) & 0xff);
      await cache.set('big', bytes);
      const read = (await cache.get('big'))!;
      expect(read.byteLength).toBe(bytes.byteLength);
      expect(Buffer.from(read).equals(Buffer.from(bytes))).toBe(true);
    });

    it('takes expiry from the database clock and returns it as epoch milliseconds', async () => {
      const { rows } = await pool.query<{ now: string }>('SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now');
      const dbNow = Number(rows[0]!.now);
      await storage.put('clock', 'k', 1, { ttlMs: 60_000 });
      const doc = (await storage.get('clock', 'k'))!;
      expect(Number.isInteger(doc.expiresAt)).toBe(true);
      expect(doc.expiresAt! - (dbNow + 60_000)).toBeGreaterThanOrEqual(0);
      expect(doc.expiresAt! - (dbNow + 60_000)).toBeLessThan(5_000);
      const { rows: stored } = await pool.query<{ ms: string }>(
        `SELECT floor(extract(epoch FROM expires_at) * 1000)::bigint AS ms FROM "${schema}".documents WHERE namespace = 'clock' AND key = 'k'`,
      );
      expect(Number(stored[0]!.ms)).toBe(doc.expiresAt);
    });

    it('fails with ADAPTER_SCHEMA_MISMATCH when a table disappears under a running adapter', async () => {
      const other = randomSchema('dfgone');
      await migratePostgres({ pool, schema: other });
      const doomed = track(createPostgresStorage({ pool, schema: other, sweepIntervalMs: 0 }));
      await doomed.put('ns', 'k', 1);
      await dropSchema(url, other);
      expect((await caught(() => doomed.get('ns', 'k'))).code).toBe('ADAPTER_SCHEMA_MISMATCH');
      expect((await caught(() => doomed.put('ns', 'k', 2))).code).toBe('ADAPTER_SCHEMA_MISMATCH');
    });
  });
}
