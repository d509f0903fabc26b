import type { Logger } from '../../core/logger.js';
import { perObject } from '../internal/per-object.js';
import type { RedisPubSubClient, RedisSubscriberConnection } from './driver.js';

/**
 * One subscriber connection per host client, shared by every pub/sub adapter and queue handle
 * made from that client.
 *
 * A Redis connection in subscriber mode can run no other command, so subscribing needs a
 * connection of its own. Each adapter and each queue handle (whose wake-ups ride on pub/sub) used
 * to open one with `client.duplicate()`: a process with twenty queues held twenty-one connections.
 * Connection counts are a standing complaint of Bull and BullMQ users ("ERR max number of
 * clients reached", managed plans that cap connections: bull#246, bull#1453, bullmq#336,
 * bullmq#2243). Shared, a process subscribes over one connection per client.
 */

/** An adapter subscribing through a {@link SharedSubscriber}. */
export interface SubscriberMember {
  /** A message on a Redis channel the member subscribed to. */
  deliver(redisChannel: string, text: string): void;
  /**
   * Where the shared connection's errors are logged: once per distinct logger, so ten queue
   * handles with one logger report each reconnect attempt once, not ten times.
   */
  readonly logger: Logger;
}

interface ChannelState {
  readonly members: Set<SubscriberMember>;
  /** Whether SUBSCRIBE was acknowledged (and no UNSUBSCRIBE sent since). */
  subscribed: boolean;
  /** SUBSCRIBE/UNSUBSCRIBE of this channel run one after another, never interleaved. */
  queue: Promise<void>;
}

/** A subscriber connection, the channels subscribed on it and the members using it. */
interface Connection {
  readonly subscriber: RedisSubscriberConnection;
  readonly channels: Map<string, ChannelState>;
  /** Every member that subscribed since the connection opened and has not left. */
  readonly members: Set<SubscriberMember>;
}

/** The shared subscriber of `client`, made on first use. */
export const sharedSubscriber = perObject((client: RedisPubSubClient) => new SharedSubscriber(client));

/**
 * The connection is opened (`duplicate()`) when a first member subscribes and closed (`QUIT`)
 * when the last member leaves (its adapter closed); a member that only unsubscribed keeps it, so
 * subscribing again costs no new connection. ioredis re-subscribes every channel after a
 * reconnect by itself (`autoResubscribe`).
 */
export class SharedSubscriber {
  readonly #client: RedisPubSubClient;
  #connection: Connection | undefined;
  readonly #reconnectWatchers = new Set<() => void>();

  constructor(client: RedisPubSubClient) {
    this.#client = client;
  }

  /**
   * Adds `member` to `redisChannel`; resolves once the server acknowledged the SUBSCRIBE, also
   * when another member's SUBSCRIBE of the channel is still in flight. On failure the member is
   * not subscribed.
   */
  async subscribe(redisChannel: string, member: SubscriberMember): Promise<void> {
    const connection = this.#open();
    connection.members.add(member);
    let state = connection.channels.get(redisChannel);
    if (state === undefined) {
      state = { members: new Set(), subscribed: false, queue: Promise.resolve() };
      connection.channels.set(redisChannel, state);
    }
    state.members.add(member);
    const current = state;
    try {
      await enqueue(current, async () => {
        if (current.subscribed || !current.members.has(member)) return;
        await connection.subscriber.subscribe(redisChannel);
        current.subscribed = true;
      });
    } catch (err) {
      await this.unsubscribe(redisChannel, member).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Calls `watcher` each time the connection is back, and subscribed again, after a break:
   * messages sent meanwhile are lost, so a queue wakes its waiting workers to claim what they
   * missed. Returns the removal.
   */
  watchReconnects(watcher: () => void): () => void {
    this.#reconnectWatchers.add(watcher);
    return () => void this.#reconnectWatchers.delete(watcher);
  }

  /** Removes `member` from `redisChannel`; the last member out UNSUBSCRIBEs it. */
  async unsubscribe(redisChannel: string, member: SubscriberMember): Promise<void> {
    const connection = this.#connection;
    const state = connection?.channels.get(redisChannel);
    if (connection === undefined || state === undefined || !state.members.delete(member)) return;
    await this.#dropIfEmpty(connection, redisChannel);
  }

  /** Removes `member` from every channel (its adapter closed); the last member out closes the connection. */
  async leave(member: SubscriberMember): Promise<void> {
    const connection = this.#connection;
    if (connection === undefined || !connection.members.delete(member)) return;
    const emptied: string[] = [];
    for (const [redisChannel, state] of connection.channels) {
      if (state.members.delete(member) && state.members.size === 0) emptied.push(redisChannel);
    }
    if (connection.members.size === 0) return this.#close(connection);
    // Best effort: a channel left subscribed only costs messages nobody receives.
    await Promise.all(emptied.map((redisChannel) => this.#dropIfEmpty(connection, redisChannel).catch(() => undefined)));
  }

  /** UNSUBSCRIBEs `redisChannel` if it has no member left once its earlier operations are done. */
  async #dropIfEmpty(connection: Connection, redisChannel: string): Promise<void> {
    const state = connection.channels.get(redisChannel);
    if (state === undefined) return;
    await enqueue(state, async () => {
      if (state.members.size > 0 || !state.subscribed) return;
      state.subscribed = false;
      if (connection.channels.get(redisChannel) === state) connection.channels.delete(redisChannel);
      await connection.subscriber.unsubscribe(redisChannel);
    });
  }

  #open(): Connection {
    if (this.#connection !== undefined) return this.#connection;
    const subscriber = this.#client.duplicate();
    const connection: Connection = { subscriber, channels: new Map(), members: new Set() };
    subscriber.on('message', (redisChannel, text) => {
      const state = connection.channels.get(redisChannel);
      if (state === undefined) return;
      for (const member of [...state.members]) member.deliver(redisChannel, text);
    });
    // ioredis re-subscribes on its own once the connection is ready again; subscribing once more
    // (a no-op for the server) tells when that has been acknowledged.
    let readyBefore = false;
    subscriber.on('ready', () => {
      if (!readyBefore) {
        readyBefore = true;
        return;
      }
      const channels = [...connection.channels].filter(([, state]) => state.subscribed).map(([name]) => name);
      const live = channels.length === 0 ? Promise.resolve() : subscriber.subscribe(...channels);
      live.then(
        () => {
          for (const watcher of [...this.#reconnectWatchers]) watcher();
        },
        () => undefined, // broken again: the next 'ready' tries again
      );
    });
    // Without a listener ioredis prints connection errors to stderr. The error's name and code
    // only: messages can carry host names or credentials from a URL.
    subscriber.on('error', (err) => {
      const loggers = new Set<Logger>();
      for (const member of connection.members) loggers.add(member.logger);
      for (const logger of loggers) logger.warn('redis pubsub connection error', { error: err.name, code: (err as { code?: unknown }).code });
    });
    this.#connection = connection;
    return connection;
  }

  /** Closes a connection no member uses: the next subscribe opens a new one. */
  async #close(connection: Connection): Promise<void> {
    if (this.#connection === connection) this.#connection = undefined;
    connection.channels.clear();
    const { subscriber } = connection;
    // QUIT when connected (clean goodbye); otherwise drop the socket and stop reconnecting, so an
    // unused connection never keeps retrying a server that is gone.
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
}

function enqueue(state: ChannelState, op: () => Promise<void>): Promise<void> {
  const run = state.queue.then(op);
  // The queue continues after a failed op; the failure goes to that op's caller only.
  state.queue = run.catch(() => undefined);
  return run;
}
