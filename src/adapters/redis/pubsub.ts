import type { Logger } from '../../core/logger.js';
import { AdapterClosedError } from '../../core/errors.js';
import type { JsonValue } from '../storage.js';
import type { MessageHandler, PubSub, Unsubscribe } from '../pubsub.js';
import { checkChannel } from '../internal/names.js';
import { decodeJson, encodeJson } from '../internal/json.js';
import type { RedisPubSubClient } from './driver.js';
import { mapRedisError } from './errors.js';
import { redisKeyLayout, type RedisKeyLayout } from './keys.js';
import { parseRedisOptions, type RedisCommonOptions } from './options.js';
import { sharedSubscriber, type SharedSubscriber, type SubscriberMember } from './shared-subscriber.js';

/** Options of {@link createRedisPubSub}. */
export interface RedisPubSubOptions extends RedisCommonOptions {
  /**
   * The host's client: messages are published on it, and `duplicate()` makes the subscriber
   * connection (a connection in subscriber mode can run no other command), one per client, shared
   * by every pub/sub adapter and queue handle made from it. The adapter never closes the host's
   * client; the shared connection is closed when the last adapter using it closes.
   */
  readonly client: RedisPubSubClient;
}

interface Subscription {
  readonly handler: MessageHandler;
  active: boolean;
}

/**
 * Publish/subscribe over Redis: `PUBLISH` on the host's client to `<prefix>:ps:<channel>`,
 * `SUBSCRIBE` on one connection per host client, made with `client.duplicate()` on the first
 * subscribe of any adapter or queue handle on that client and shared by all of them.
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
 * await pubsub.close(); // leaves the shared subscriber connection (closed with its last user), never `client`
 * ```
 */
export function createRedisPubSub(options: RedisPubSubOptions): PubSub {
  const opts = parseRedisOptions<RedisPubSubClient>(options, ['publish', 'duplicate'], 'redis pubsub options');
  return new RedisPubSub(opts.client, redisKeyLayout(opts.prefix), opts.logger);
}

class RedisPubSub implements PubSub {
  /** This adapter's handlers per channel (as named by the caller, without the key prefix). */
  readonly #channels = new Map<string, Set<Subscription>>();
  /** The client's shared subscriber connection. */
  readonly #subscriber: SharedSubscriber;
  /** This adapter as the shared connection sees it. */
  readonly #member: SubscriberMember;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(
    private readonly client: RedisPubSubClient,
    private readonly keys: RedisKeyLayout,
    private readonly logger: Logger,
  ) {
    this.#subscriber = sharedSubscriber(client);
    this.#member = { deliver: (redisChannel, text) => this.#deliver(redisChannel, text), logger };
  }

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
    let subscriptions = this.#channels.get(ch);
    if (subscriptions === undefined) {
      subscriptions = new Set();
      this.#channels.set(ch, subscriptions);
    }
    const subscription: Subscription = { handler, active: true };
    subscriptions.add(subscription);
    try {
      // Every subscribe waits for the acknowledgement, also when another handler's SUBSCRIBE of
      // the same channel is still in flight: resolving means "live", as the contract says.
      await this.#subscriber.subscribe(this.keys.channel(ch), this.#member);
    } catch (err) {
      if (this.#remove(ch, subscription)) await this.#subscriber.unsubscribe(this.keys.channel(ch), this.#member).catch(() => undefined);
      if (this.#closed) throw new AdapterClosedError('redis pubsub was closed while subscribing', { cause: err });
      throw mapRedisError(err, 'pubsub.subscribe');
    }
    if (this.#closed) throw new AdapterClosedError('redis pubsub is closed');
    return async () => this.#unsubscribe(ch, subscription);
  }

  async close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#closed = true;
    for (const subscriptions of this.#channels.values()) {
      for (const s of subscriptions) s.active = false;
    }
    this.#channels.clear();
    await this.#subscriber.leave(this.#member);
  }

  #assertOpen(): void {
    if (this.#closed) throw new AdapterClosedError('redis pubsub is closed');
  }

  /** Deactivates `subscription`; true when it was the channel's last one here. */
  #remove(ch: string, subscription: Subscription): boolean {
    if (!subscription.active) return false;
    subscription.active = false;
    const subscriptions = this.#channels.get(ch);
    if (subscriptions === undefined || !subscriptions.delete(subscription) || subscriptions.size > 0) return false;
    this.#channels.delete(ch);
    return true;
  }

  async #unsubscribe(ch: string, subscription: Subscription): Promise<void> {
    if (!this.#remove(ch, subscription) || this.#closed) return;
    try {
      await this.#subscriber.unsubscribe(this.keys.channel(ch), this.#member);
    } catch (err) {
      // Delivery to this handler already stopped (it is inactive); the server-side subscription
      // would only cost bandwidth, and a reconnect without it in the state would drop it anyway.
      this.logger.warn('redis pubsub unsubscribe failed', { channel: ch, error: mapRedisError(err, 'pubsub.unsubscribe').code });
    }
  }

  #deliver(redisChannel: string, text: string): void {
    if (!redisChannel.startsWith(this.keys.channelPrefix)) return;
    const ch = redisChannel.slice(this.keys.channelPrefix.length);
    const subscriptions = this.#channels.get(ch);
    if (!subscriptions) return;
    for (const subscription of [...subscriptions]) {
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
