/**
 * The slice of a Redis client the adapters call, typed structurally so the package never imports
 * `ioredis` at run time: an `ioredis` `Redis` (v5 or v6) or `Cluster` instance fits as is, and so
 * does any wrapper or fake with the same methods.
 *
 * Binary values travel as Node `Buffer`s because that is what the client sends verbatim: `ioredis`
 * stringifies any other `Uint8Array` (`"1,2,3"`), so the adapters convert before calling.
 */

/** An argument of a Redis command: strings are sent as UTF-8, Buffers verbatim. */
export type RedisArgument = string | number | Buffer;

/** What the storage adapter calls: Lua scripts by SHA1, with the source as fallback. */
export interface RedisScriptClient {
  /** `EVALSHA sha numkeys ...keys ...args`. Rejects with a `NOSCRIPT` reply when the script is not cached. */
  evalsha(sha1: string, numkeys: number, ...args: RedisArgument[]): Promise<unknown>;
  /** `EVAL script numkeys ...keys ...args` (also caches the script on the server). */
  eval(script: string, numkeys: number, ...args: RedisArgument[]): Promise<unknown>;
  /**
   * The client's options, read only to refuse an `ioredis` `keyPrefix`: it would prefix `KEYS`
   * but not the keys our scripts derive from arguments, splitting one document across two names.
   */
  readonly options?: { readonly keyPrefix?: string | undefined } | undefined;
}

/** What the cache adapter calls, besides scripts (for `deleteByPrefix`). */
export interface RedisCacheClient extends RedisScriptClient {
  /** `GET key`, the value as bytes. */
  getBuffer(key: string): Promise<Uint8Array | null>;
  /** `MGET ...keys`, values as bytes. */
  mgetBuffer(...keys: string[]): Promise<(Uint8Array | null)[]>;
  /** `SET key value`. */
  set(key: string, value: Buffer): Promise<unknown>;
  /** `SET key value PX ms`. */
  set(key: string, value: Buffer, millisecondsToken: 'PX', milliseconds: number): Promise<unknown>;
  /** `UNLINK ...keys`: the number of keys that existed. */
  unlink(...keys: string[]): Promise<number>;
}

/**
 * The subscriber connection the pub/sub adapters and queue handles of one client share: made by
 * {@link RedisPubSubClient.duplicate} on the first subscribe, closed when the last of them closes.
 */
export interface RedisSubscriberConnection {
  /** Connection state, e.g. `'ready'`, `'reconnecting'`, `'end'`. */
  readonly status: string;
  /** `SUBSCRIBE`; resolves when the server acknowledged it. */
  subscribe(...channels: string[]): Promise<unknown>;
  /** `UNSUBSCRIBE`. */
  unsubscribe(...channels: string[]): Promise<unknown>;
  /** A message on a subscribed channel. */
  on(event: 'message', listener: (channel: string, message: string) => void): unknown;
  /** A connection error; without a listener `ioredis` prints it to stderr. */
  on(event: 'error', listener: (error: Error) => void): unknown;
  /** The connection is ready for commands (again, after a reconnect). */
  on(event: 'ready', listener: () => void): unknown;
  /** `QUIT`: closes after pending replies. */
  quit(): Promise<unknown>;
  /** Closes the socket at once, without reconnecting. */
  disconnect(): void;
}

/** What the pub/sub adapter calls on the host's client. */
export interface RedisPubSubClient {
  /** `PUBLISH channel message`: the number of receiving connections. */
  publish(channel: string, message: string): Promise<number>;
  /** A new connection with the same options (server, credentials, TLS, retry strategy). */
  duplicate(): RedisSubscriberConnection;
}

/**
 * Every method any Redis adapter calls: an `ioredis` `Redis` or `Cluster` satisfies it as is.
 * Each adapter only requires its own slice ({@link RedisScriptClient}, {@link RedisCacheClient},
 * {@link RedisPubSubClient}); a missing method fails its factory with `VALIDATION_FAILED`.
 *
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import type { RedisClient } from 'digital-fabrica/adapters/redis';
 * const client: RedisClient = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
 * ```
 */
export interface RedisClient extends RedisCacheClient, RedisPubSubClient {}
