import { Redis, type RedisOptions } from 'ioredis';
import type { AdapterHarness } from '../../src/adapters/testing/harness.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

/**
 * Client settings that make an outage surface as an error within a fraction of a second instead
 * of commands waiting in the offline queue forever: one retry per command, fast reconnect
 * attempts (which keep going, so clients recover on their own once the server is back).
 */
export const fastFailOptions: RedisOptions = {
  maxRetriesPerRequest: 1,
  retryStrategy: (times) => Math.min(25 * times, 200),
  connectTimeout: 2_000,
  enableOfflineQueue: true,
};

/** Quits politely when connected; drops the socket otherwise (QUIT would wait for a reconnect). */
export async function closeRedis(client: Redis): Promise<void> {
  if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
  else client.disconnect();
}

/** A new ioredis client for `url`; connection errors are expected in outage tests, so they are swallowed. */
export function connectRedis(url: string, overrides: RedisOptions = {}): Redis {
  const client = new Redis(url, { ...fastFailOptions, ...overrides });
  client.on('error', () => undefined);
  return client;
}

/** A random key prefix, so test files sharing one server never see each other's keys. */
export function randomPrefix(base = 'dftest'): string {
  return `${base}-${Math.random().toString(36).slice(2, 10)}`;
}

/** Deletes every key under `{prefix}` with SCAN + UNLINK (the prefix has no glob metacharacters). */
export async function deletePrefixKeys(url: string, prefix: string): Promise<number> {
  const client = connectRedis(url);
  try {
    let cursor = '0';
    let deleted = 0;
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `{${prefix}}*`, 'COUNT', 1000);
      if (keys.length > 0) deleted += await client.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
    return deleted;
  } finally {
    await closeRedis(client);
  }
}

/**
 * A conformance harness for one Redis adapter kind: every `open()` makes a NEW ioredis client that
 * reaches the server through a TCP proxy (so `outage` can cut and restore connectivity for this
 * file only) and wraps it in an adapter with this file's random prefix.
 */
export function redisHarness<A>(
  url: string,
  make: (client: Redis, prefix: string) => A,
  options: { readonly prefixBase?: string; readonly client?: RedisOptions } = {},
): AdapterHarness<A> & { readonly prefix: string } {
  const prefix = randomPrefix(options.prefixBase);
  const target = new URL(url);
  const clients = new Set<Redis>();
  let proxy: Promise<TcpProxy> | undefined;
  const getProxy = (): Promise<TcpProxy> => (proxy ??= startTcpProxy(target.hostname, Number(target.port || 6379)));
  return {
    prefix,
    async open() {
      const { port } = await getProxy();
      const client = connectRedis(`redis://127.0.0.1:${port}`, options.client);
      clients.add(client);
      return make(client, prefix);
    },
    outage: {
      async interrupt() {
        await (await getProxy()).interrupt();
      },
      async swallowReplies() {
        await (await getProxy()).swallowReplies();
      },
      async restore() {
        await (await getProxy()).restore();
      },
    },
    async teardown() {
      await Promise.all([...clients].map(closeRedis));
      clients.clear();
      if (proxy) await (await proxy).close();
      proxy = undefined;
      await deletePrefixKeys(url, prefix);
    },
  };
}
