import type { Logger } from '../../core/logger.js';
import { AdapterClosedError } from '../../core/errors.js';
import type { JsonValue } from '../storage.js';
import type { MessageHandler, PubSub, Unsubscribe } from '../pubsub.js';
import { checkChannel } from '../internal/names.js';
import { decodeJson, encodeJson } from '../internal/json.js';
import type { RedisPubSubClient, RedisSubscriberConnection } from './driver.js';
import { mapRedisError } from './errors.js';
import { redisKeyLayout, type RedisKeyLayout } from './keys.js';
import { parseRedisOptions, type RedisCommonOptions } from './options.js';

/** Options of {@link createRedisPubSub}. */
export interface RedisPubSubOptions extends RedisCommonOptions {
  /**
   * The host's client: messages are published on it, and `duplicate()` makes the dedicated
   * subscriber connection (a connection in subscriber mode can run no other command). The adapter
   * never closes the host's client; it closes the duplicate in `close()`.
   */
  readonly client: RedisPubSubClient;
}

interface Subscription {
  readonly handler: MessageHandler;
  active: boolean;
}

interface ChannelState {
  readonly subscriptions: Set<Subscription>;
  /** Whether SUBSCRIBE was acknowledged (and no UNSUBSCRIBE sent since). */
  subscribed: boolean;
  /** SUBSCRIBE/UNSUBSCRIBE of this channel run one after another, never interleaved. */
  queue: Promise<void>;
}

/**
 * Publish/subscribe over Redis: `PUBLISH` on the host's client to `<prefix>:ps:<channel>`,
 * `SUBSCRIBE` on one dedicated connection made with `client.duplicate()` on first subscribe.
 * Messages published while the subscriber is disconnected are lost; after a reconnect the client
 * re-subscribes by itself (ioredis `autoResubscribe`, on by default). One caveat to at-most-once:
 * a PUBLISH in flight when the publisher's connection drops may be resent by ioredis on reconnect
 * (`autoResendUnfulfilledCommands`), so make handlers idempotent (invalidations naturally are).
 *
 * @throws `VALIDATION_FAILED` for bad options.
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import { createRedisPubSub } from 'digital-fabrica/adapters/redis';
 * const client = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
 * const pubsub = createRedisPubSub({ client });
 * const unsubscribe = await pubsub.subscribe('policy', (msg) => console.log(msg));
 * await pubsub.publish('policy', { changed: 'roles' });
 * await unsubscribe();
 * await pubsub.close(); // closes the subscriber connection, not `client`
 * ```
 */
export function createRedisPubSub(options: RedisPubSubOptions): PubSub {
  const opts = parseRedisOptions<RedisPubSubClient>(options, ['publish', 'duplicate'], 'redis pubsub options');
  return new RedisPubSub(opts.client, redisKeyLayout(opts.prefix), opts.logger);
}

class RedisPubSub implements PubSub {
  readonly #channels = new Map<string, ChannelState>();
  #subscriber: RedisSubscriberConnection | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(
    private readonly client: RedisPubSubClient,
    private readonly keys: RedisKeyLayout,
    private readonly logger: Logger,
  ) {}

  async init(): Promise<void> {
    // The subscriber connection is opened on first subscribe: a publish-only process needs none.
    this.#assertOpen();
  }

  async publish(channel: string, message: JsonValue): Promise<void> {
    this.#assertOpen();
    const ch = checkChannel(channel);
    const json = encodeJson(message, 'message');
    try {
      await this.client.publish(this.keys.channel(ch), json);
    } catch (err) {
      throw mapRedisError(err, 'pubsub.publish');
    }
  }

  async subscribe(channel: string, handler: MessageHandler): Promise<Unsubscribe> {
    this.#assertOpen();
    const ch = checkChannel(channel);
    if (typeof handler !== 'function') throw new TypeError('handler must be a function');
    const subscriber = this.#connection();
    let state = this.#channels.get(ch);
    if (!state) {
      state = { subscriptions: new Set(), subscribed: false, queue: Promise.resolve() };
      this.#channels.set(ch, state);
    }
    const subscription: Subscription = { handler, active: true };
    state.subscriptions.add(subscription);
    const current = state;
    try {
      // Every subscribe waits for the acknowledgement, also when another handler's SUBSCRIBE of
      // the same channel is still in flight: resolving means "live", as the contract says.
      await this.#enqueue(current, async () => {
        if (current.subscribed || !subscription.active || this.#closed) return;
        await subscriber.subscribe(this.keys.channel(ch));
        current.subscribed = true;
      });
    } catch (err) {
      subscription.active = false;
      current.subscriptions.delete(subscription);
      if (current.subscriptions.size === 0 && this.#channels.get(ch) === current) this.#channels.delete(ch);
      if (this.#closed) throw new AdapterClosedError('redis pubsub was closed while subscribing', { cause: err });
      throw mapRedisError(err, 'pubsub.subscribe');
    }
    if (this.#closed) throw new AdapterClosedError('redis pubsub is closed');
    return async () => this.#unsubscribe(ch, current, subscription);
  }

  async close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#closed = true;
    for (const state of this.#channels.values()) {
      for (const s of state.subscriptions) s.active = false;
    }
    this.#channels.clear();
    const subscriber = this.#subscriber;
    this.#subscriber = undefined;
    if (!subscriber) return;
    // QUIT when connected (clean goodbye); otherwise drop the socket and stop reconnecting, so a
    // closed adapter never keeps retrying a server that is gone.
    if (subscriber.status === 'ready') {
      try {
        await subscriber.quit();
        return;
      } catch {
        // Fall through: the connection is going away anyway.
      }
    }
    subscriber.disconnect();
  }

  #assertOpen(): void {
    if (this.#closed) throw new AdapterClosedError('redis pubsub is closed');
  }

  #connection(): RedisSubscriberConnection {
    if (this.#subscriber) return this.#subscriber;
    const subscriber = this.client.duplicate();
    subscriber.on('message', (redisChannel, text) => this.#deliver(redisChannel, text));
    // Without a listener ioredis prints connection errors to stderr; log name and code only,
    // since messages can carry host names or credentials from a URL.
    subscriber.on('error', (err) => {
      this.logger.warn('redis pubsub connection error', { error: err.name, code: (err as { code?: unknown }).code });
    });
    this.#subscriber = subscriber;
    return subscriber;
  }

  #enqueue(state: ChannelState, op: () => Promise<void>): Promise<void> {
    const run = state.queue.then(op);
    // The queue continues after a failed op; the failure goes to that op's caller only.
    state.queue = run.catch(() => undefined);
    return run;
  }

  async #unsubscribe(ch: string, state: ChannelState, subscription: Subscription): Promise<void> {
    if (!subscription.active) return;
    subscription.active = false;
    state.subscriptions.delete(subscription);
    const subscriber = this.#subscriber;
    if (this.#closed || !subscriber) return;
    try {
      await this.#enqueue(state, async () => {
        // Another subscribe may have arrived while this waited: keep the channel then.
        if (state.subscriptions.size > 0 || !state.subscribed) return;
        state.subscribed = false;
        if (this.#channels.get(ch) === state) this.#channels.delete(ch);
        await subscriber.unsubscribe(this.keys.channel(ch));
      });
    } catch (err) {
      // Delivery to this handler already stopped (it is inactive); the server-side subscription
      // would only cost bandwidth, and a reconnect without it in the state would drop it anyway.
      this.logger.warn('redis pubsub unsubscribe failed', { channel: ch, error: mapRedisError(err, 'pubsub.unsubscribe').code });
    }
  }

  #deliver(redisChannel: string, text: string): void {
    if (!redisChannel.startsWith(this.keys.channelPrefix)) return;
    const ch = redisChannel.slice(this.keys.channelPrefix.length);
    const state = this.#channels.get(ch);
    if (!state) return;
    for (const subscription of [...state.subscriptions]) {
      if (!subscription.active) continue;
      try {
        // Parsed per handler: each gets its own copy, so one handler's mutation cannot leak to another.
        const result = subscription.handler(decodeJson(text), ch);
        if (result instanceof Promise) result.catch((err: unknown) => this.#report(ch, err));
      } catch (err) {
        this.#report(ch, err);
      }
    }
  }

  #report(channel: string, err: unknown): void {
    // The error's name only: its message may quote the payload.
    this.logger.error('pubsub handler failed', { channel, error: err instanceof Error ? err.name : typeof err });
  }
}
