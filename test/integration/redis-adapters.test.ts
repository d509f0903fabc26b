import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createRedisCache, createRedisPubSub, createRedisStorage } from '../../src/adapters/redis/index.js';
import { redisKeyLayout } from '../../src/adapters/redis/keys.js';
import { runScript } from '../../src/adapters/redis/lua.js';
import { listScript } from '../../src/adapters/redis/scripts/list.js';
import { addScript } from '../../src/adapters/redis/scripts/add.js';
import { txnScript } from '../../src/adapters/redis/scripts/txn.js';
import { planTxn } from '../../src/adapters/redis/txn-plan.js';
import { waitFor } from '../../src/adapters/testing/index.js';
import { caught } from '../../src/adapters/testing/support.js';
import type { JsonValue } from '../../src/adapters/storage.js';
import { closeRedis, connectRedis, deletePrefixKeys, randomPrefix } from '../support/redis-harness.js';
import { skipWithoutServer } from '../support/missing-server.js';

const url = inject('redisUrl');

// Redis Cluster hashes only the part between the first '{' and the first '}' after it.
function hashTag(key: string): string | null {
  const open = key.indexOf('{');
  if (open < 0) return null;
  const close = key.indexOf('}', open + 1);
  return close <= open + 1 ? null : key.slice(open + 1, close);
}

async function scanAll(client: Redis, pattern: string): Promise<string[]> {
  const found = new Set<string>();
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    for (const k of keys) found.add(k);
    cursor = next;
  } while (cursor !== '0');
  return [...found];
}

if (url === '') {
  skipWithoutServer('redis adapters', 'Redis server');
} else {
  describe('redis adapters', () => {
    const prefix = randomPrefix('dfint');
    let client: Redis;

    beforeAll(() => {
      client = connectRedis(url);
    });
    afterAll(async () => {
      await closeRedis(client);
      await deletePrefixKeys(url, prefix);
    });

    describe('lifecycle', () => {
      it('close() never quits the host client, and is idempotent', async () => {
        const storage = createRedisStorage({ client, prefix });
        const cache = createRedisCache({ client, prefix });
        const pubsub = createRedisPubSub({ client, prefix });
        await Promise.all([storage.init(), cache.init(), pubsub.init()]);
        await storage.put('life', 'k', 1);
        await pubsub.subscribe('life', () => undefined);
        for (const adapter of [storage, cache, pubsub]) {
          await adapter.close();
          await adapter.close();
        }
        expect(client.status).toBe('ready');
        expect(await client.ping()).toBe('PONG');
        expect((await caught(() => storage.get('life', 'k'))).code).toBe('ADAPTER_CLOSED');
        expect((await caught(() => cache.get('k'))).code).toBe('ADAPTER_CLOSED');
        expect((await caught(() => pubsub.publish('life', 1))).code).toBe('ADAPTER_CLOSED');
      });

      it('pub/sub subscribes on a duplicate connection, not the host\'s, and unsubscribes in close()', async () => {
        const pubsub = createRedisPubSub({ client, prefix });
        const channel = `${prefix}:ps:dedicated`;
        const subscribers = async (): Promise<number> => {
          const reply = (await client.call('PUBSUB', 'NUMSUB', channel)) as [string, number];
          return Number(reply[1]);
        };
        expect(await subscribers()).toBe(0);
        await pubsub.subscribe('dedicated', () => undefined);
        await pubsub.subscribe('dedicated', () => undefined);
        // Both handlers share one SUBSCRIBE on one connection, which is not the host's: the
        // host can still run ordinary commands.
        expect(await subscribers()).toBe(1);
        expect(await client.set(`{${prefix}}:probe`, '1')).toBe('OK');
        await pubsub.close();
        await waitFor(async () => (await subscribers()) === 0, { what: 'the subscriber connection to close' });
        await pubsub.close();
        expect(client.status).toBe('ready');
      });

      it('unsubscribing the last handler of a channel sends UNSUBSCRIBE', async () => {
        const pubsub = createRedisPubSub({ client, prefix });
        const channel = `${prefix}:ps:last`;
        const subscribers = async (): Promise<number> => Number(((await client.call('PUBSUB', 'NUMSUB', channel)) as [string, number])[1]);
        const first = await pubsub.subscribe('last', () => undefined);
        const second = await pubsub.subscribe('last', () => undefined);
        await first();
        expect(await subscribers()).toBe(1);
        await second();
        await second(); // idempotent
        await waitFor(async () => (await subscribers()) === 0, { what: 'UNSUBSCRIBE' });
        // And the channel can be subscribed again afterwards.
        const got: JsonValue[] = [];
        await pubsub.subscribe('last', (m) => void got.push(m));
        await pubsub.publish('last', 'again');
        await waitFor(() => got.length === 1, { what: 'delivery after resubscribe' });
        await pubsub.close();
      });
    });

    describe('key layout', () => {
      it('keeps every key of an adapter under its one hash tag', async () => {
        const storage = createRedisStorage({ client, prefix });
        const cache = createRedisCache({ client, prefix });
        await storage.put('tags', 'plain', 1);
        await storage.put('tags', '{braces}', 2, { ttlMs: 60_000 });
        await storage.put('tags.other', '}{', 3);
        await storage.add('tags', 'counter', 5);
        await storage.txn({ success: [{ type: 'put', namespace: 'tags', key: 'txn', value: 'x' }] });
        await cache.set('{evil}:entry', new Uint8Array([1]));
        await cache.set('plain', new Uint8Array([2]), { ttlMs: 60_000 });
        // Everything this prefix wrote, wherever the prefix text appears in the name.
        const keys = await scanAll(client, `*${prefix}*`);
        expect(keys.length).toBeGreaterThanOrEqual(9); // rev, 5 docs, 2 indexes, 2 cache entries (+ probes)
        for (const key of keys) {
          expect(key.startsWith(`{${prefix}}:`), key).toBe(true);
          expect(hashTag(key), key).toBe(prefix);
        }
        await Promise.all([storage.close(), cache.close()]);
      });

      it('refuses a client with an ioredis keyPrefix, which would split documents across names', async () => {
        const prefixed = connectRedis(url, { keyPrefix: 'app:' });
        try {
          for (const create of [createRedisStorage, createRedisCache, createRedisPubSub]) {
            expect((await caught(() => create({ client: prefixed, prefix }))).code).toBe('VALIDATION_FAILED');
          }
        } finally {
          await closeRedis(prefixed);
        }
      });
    });

    describe('storage', () => {
      it('lists past expired documents, removes their index entries lazily, and still fills the page', async () => {
        const storage = createRedisStorage({ client, prefix });
        const layout = redisKeyLayout(prefix);
        const ns = 'lazy';
        // Interleave: every third key lives, the others expire.
        const live: string[] = [];
        for (let i = 0; i < 30; i++) {
          const key = `k${String(i).padStart(2, '0')}`;
          if (i % 3 === 0) {
            live.push(key);
            await storage.put(ns, key, i);
          } else {
            await storage.put(ns, key, i, { ttlMs: 30 });
          }
        }
        expect(await client.zcard(layout.index(ns))).toBe(30);
        // Wait until Redis itself dropped the expired documents (their index entries remain).
        await waitFor(async () => (await client.exists(...Array.from({ length: 30 }, (_, i) => layout.document(ns, `k${String(i).padStart(2, '0')}`)))) === 10, {
          what: 'Redis to expire the documents',
        });
        expect(await client.zcard(layout.index(ns))).toBe(30);

        const first = await storage.list(ns, { limit: 4 });
        expect(first.items.map((d) => d.key)).toEqual(live.slice(0, 4));
        expect(first.cursor).not.toBeNull();
        const rest = await storage.list(ns, { limit: 100, cursor: first.cursor! });
        expect(rest.items.map((d) => d.key)).toEqual(live.slice(4));
        expect(rest.cursor).toBeNull();
        // Every dead entry met on the way was removed from the index.
        expect(await client.zcard(layout.index(ns))).toBe(10);
        await storage.close();
      });

      it('returns a short page with a resumable cursor when the scan budget runs out', async () => {
        const storage = createRedisStorage({ client, prefix });
        const layout = redisKeyLayout(prefix);
        const ns = 'budget';
        for (const key of ['a', 'b', 'c', 'd', 'e']) await storage.put(ns, key, key);
        // Dead index entries (no document) between the live ones, as expiry leaves them.
        await client.zadd(layout.index(ns), 0, 'a1', 0, 'a2', 0, 'a3', 0, 'c1');
        // Budget 3: the script examines a, a1, a2 and must stop there.
        const reply = (await runScript(client, listScript, [layout.index(ns)], [layout.documentPrefix(ns), '-', '', 10, 3])) as unknown[];
        expect(reply[0]).toBe(2);
        expect(reply[1]).toBe('a2');
        expect(reply.slice(2).filter((_, i) => i % 4 === 0)).toEqual(['a']);
        // The public API reads on through the rest (budget 10 000) and the index is clean after.
        const page = await storage.list(ns);
        expect(page.items.map((d) => d.key)).toEqual(['a', 'b', 'c', 'd', 'e']);
        expect(await client.zrangebylex(layout.index(ns), '-', '+')).toEqual(['a', 'b', 'c', 'd', 'e']);
        await storage.close();
      });

      it('answers a resent write (same request id) with its first reply instead of applying it twice', async () => {
        // What ioredis does after a dropped connection: send the very same EVALSHA again.
        const storage = createRedisStorage({ client, prefix });
        const layout = redisKeyLayout(prefix);
        const ns = 'replay';
        const { version } = await storage.put(ns, 'doc', 'v1');

        const cas = planTxn(
          layout,
          [{ namespace: ns, key: 'doc', version }],
          [{ type: 'put', namespace: ns, key: 'doc', value: null }],
          [{ type: 'put', namespace: ns, key: 'lost', value: null }],
          { success: ['"v2"'], failure: ['"failure branch"'] },
          { requestId: 'cas-1', windowMs: 60_000 },
        );
        const first = await runScript(client, txnScript, cas.keys, cas.args);
        const resent = await runScript(client, txnScript, cas.keys, cas.args);
        expect((first as unknown[])[0]).toBe(1);
        expect(resent).toEqual(first);
        expect((await storage.get(ns, 'doc'))!).toMatchObject({ value: 'v2', version: (first as number[])[1] });
        expect(await storage.get(ns, 'lost')).toBeNull();

        const addKeys = [layout.revision, layout.document(ns, 'quota'), layout.index(ns), layout.replay('add-1')];
        const addArgs = ['quota', 1, '', 1, '', 60_000];
        const granted = await runScript(client, addScript, addKeys, addArgs);
        expect(await runScript(client, addScript, addKeys, addArgs)).toEqual(granted);
        expect((await storage.get(ns, 'quota'))!.value).toBe(1);
        // A new call (new id) is a new request: refused by the max.
        expect(await storage.add(ns, 'quota', 1, { max: 1 })).toMatchObject({ applied: false, value: 1 });
        // Records expire with the window.
        expect(await client.pttl(layout.replay('add-1'))).toBeGreaterThan(0);
        await storage.close();
      });

      it('keeps no replay records with replayWindowMs: 0', async () => {
        const ns = 'noreplay';
        const storage = createRedisStorage({ client, prefix: `${prefix}-nr`, replayWindowMs: 0 });
        try {
          await storage.put(ns, 'k', 1);
          await storage.add(ns, 'c', 1);
          expect(await scanAll(client, `{${prefix}-nr}:r:*`)).toEqual([]);
        } finally {
          await storage.close();
          await deletePrefixKeys(url, `${prefix}-nr`);
        }
      });

      it('sets native expiry on documents so Redis frees them itself', async () => {
        const storage = createRedisStorage({ client, prefix });
        const layout = redisKeyLayout(prefix);
        await storage.put('ttl', 'k', 1, { ttlMs: 60_000 });
        const doc = (await storage.get('ttl', 'k'))!;
        expect(await client.pexpiretime(layout.document('ttl', 'k'))).toBe(doc.expiresAt);
        await storage.put('ttl', 'k', 2);
        expect(await client.pttl(layout.document('ttl', 'k'))).toBe(-1);
        await storage.close();
      });

      it('stores documents well beyond 1 MiB, and unicode keys byte for byte', async () => {
        const storage = createRedisStorage({ client, prefix });
        const big = { text: 'é🙂'.repeat(1024 * 1024), list: Array.from({ length: 10_000 }, (_, i) => i) };
        await storage.put('big', '大きい🙂', big);
        expect((await storage.get('big', '大きい🙂'))!.value).toEqual(big);
        expect(await client.exists(redisKeyLayout(prefix).document('big', '大きい🙂'))).toBe(1);
        await storage.close();
      });

      it('keeps working after the server forgets its scripts (NOSCRIPT fallback)', async () => {
        const storage = createRedisStorage({ client, prefix });
        await storage.put('flush', 'k', 1);
        await client.script('FLUSH');
        expect((await storage.get('flush', 'k'))!.value).toBe(1);
        expect((await storage.add('flush', 'c', 2)).value).toBe(2);
        await storage.close();
      });

      it('works with RESP2 and with stringNumbers clients alike', async () => {
        for (const options of [{ protocol: 2 as const }, { stringNumbers: true }]) {
          const other = connectRedis(url, options);
          try {
            const storage = createRedisStorage({ client: other, prefix });
            const ns = `variant${'protocol' in options ? 'resp2' : 'strnum'}`;
            const { version } = await storage.put(ns, 'k', { a: 1 }, { ttlMs: 60_000 });
            const doc = (await storage.get(ns, 'k'))!;
            expect(doc.version).toBe(version);
            expect(typeof doc.expiresAt).toBe('number');
            expect(await storage.add(ns, 'c', 3, { max: 10 })).toMatchObject({ applied: true, value: 3 });
            expect((await storage.txn({ compare: [{ namespace: ns, key: 'k', version }] })).succeeded).toBe(true);
            expect((await storage.list(ns)).items.map((d) => d.key)).toEqual(['c', 'k']);
            const cache = createRedisCache({ client: other, prefix });
            await cache.set(`${ns}:x`, new Uint8Array([0, 255]));
            expect(await cache.get(`${ns}:x`)).toEqual(new Uint8Array([0, 255]));
            expect(await cache.deleteByPrefix(`${ns}:`)).toBe(1);
          } finally {
            await closeRedis(other);
          }
        }
      });
    });

    describe('cache', () => {
      it('returns plain Uint8Array copies and stores values beyond 1 MiB', async () => {
        const cache = createRedisCache({ client, prefix });
        const big = new Uint8Array(5 * 1024 * 1024).map((_, i) => i % 251);
        await cache.set('big', big);
        const read = (await cache.get('big'))!;
        expect(Buffer.isBuffer(read)).toBe(false);
        expect(read.byteLength).toBe(big.byteLength);
        expect(Buffer.from(read).equals(Buffer.from(big))).toBe(true);
        await cache.close();
      });

      it('deleteByPrefix treats glob metacharacters literally', async () => {
        const cache = createRedisCache({ client, prefix });
        const one = new Uint8Array([1]);
        for (const key of ['g*1', 'g*2', 'gx', 'g?', 'g[a]', 'g\\', 'g\\x']) await cache.set(key, one);
        expect(await cache.deleteByPrefix('g*')).toBe(2);
        expect(await cache.deleteByPrefix('g?')).toBe(1);
        expect(await cache.deleteByPrefix('g[')).toBe(1);
        expect(await cache.deleteByPrefix('g\\')).toBe(2);
        expect(await cache.get('gx')).toEqual(one);
        await cache.close();
      });
    });
  });
}
