import type { JsonValue } from './storage.js';

/**
 * PubSub: at-most-once fan-out of JSON messages between processes. Carries events and
 * cache/policy invalidations. Delivery is to every subscriber that was subscribed when the message
 * was published (a resolved `subscribe` promise means the subscription is live), in publish order
 * per publisher and channel.
 */

/** Receives one message. Errors thrown here are caught and logged, never break delivery to others. */
export type MessageHandler = (message: JsonValue, channel: string) => void | Promise<void>;

/** Ends a subscription. Idempotent. */
export type Unsubscribe = () => Promise<void>;

/**
 * Publish/subscribe across processes.
 *
 * Channel names: 1–200 characters from `[A-Za-z0-9_.:/-]`.
 *
 * @example
 * ```ts
 * import { createMemoryPubSub } from 'digital-fabrica/adapters/memory';
 * const pubsub = createMemoryPubSub();
 * const unsubscribe = await pubsub.subscribe('policy', (msg) => console.log(msg));
 * await pubsub.publish('policy', { changed: 'roles' });
 * await unsubscribe();
 * ```
 */
export interface PubSub {
  /** Prepares the backend. Idempotent. */
  init(): Promise<void>;
  /** Sends `message` to every current subscriber of `channel`, in this and other processes. */
  publish(channel: string, message: JsonValue): Promise<void>;
  /** Registers `handler`; resolves once the subscription is live. */
  subscribe(channel: string, handler: MessageHandler): Promise<Unsubscribe>;
  /** Ends every subscription and any connection the adapter opened itself. Idempotent. */
  close(): Promise<void>;
}
