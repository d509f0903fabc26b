import type { Logger } from '../../core/logger.js';
import { silentLogger } from '../../core/logger.js';
import { AdapterClosedError } from '../../core/errors.js';
import type { JsonValue } from '../storage.js';
import type { MessageHandler, PubSub, Unsubscribe } from '../pubsub.js';
import { checkChannel } from '../internal/names.js';
import { decodeJson, encodeJson } from '../internal/json.js';

/**
 * A message switchboard several in-process PubSub instances can share, so that two SDK instances
 * in one process (tests, simulations) talk as two processes would over Redis or PostgreSQL.
 */
export class MemoryPubSubHub {
  readonly #channels = new Map<string, Set<(json: string) => void>>();

  /** @internal */
  attach(channel: string, deliver: (json: string) => void): () => void {
    let set = this.#channels.get(channel);
    if (!set) {
      set = new Set();
      this.#channels.set(channel, set);
    }
    set.add(deliver);
    return () => {
      set.delete(deliver);
      if (set.size === 0 && this.#channels.get(channel) === set) this.#channels.delete(channel);
    };
  }

  /** @internal */
  send(channel: string, json: string): void {
    const set = this.#channels.get(channel);
    if (!set) return;
    for (const deliver of [...set]) deliver(json);
  }
}

/** Options of {@link createMemoryPubSub}. */
export interface MemoryPubSubOptions {
  /** Share a hub between instances to connect them (default: a private hub). */
  readonly hub?: MemoryPubSubHub;
  /** Receives handler failures (default: silent). */
  readonly logger?: Logger;
}

/**
 * In-process publish/subscribe. Delivery is asynchronous (a microtask after `publish`), as it
 * would be over a network, and every subscriber receives its own copy of the message.
 *
 * @example
 * ```ts
 * import { createMemoryPubSub, MemoryPubSubHub } from 'digital-fabrica/adapters/memory';
 * const hub = new MemoryPubSubHub();
 * const a = createMemoryPubSub({ hub });
 * const b = createMemoryPubSub({ hub });
 * await b.subscribe('invalidate', (msg) => console.log('b got', msg));
 * await a.publish('invalidate', { key: 'roles' });
 * ```
 */
export function createMemoryPubSub(options: MemoryPubSubOptions = {}): PubSub {
  return new MemoryPubSub(options.hub ?? new MemoryPubSubHub(), options.logger ?? silentLogger);
}

class MemoryPubSub implements PubSub {
  readonly #detachers = new Set<() => void>();
  #closed = false;

  constructor(
    private readonly hub: MemoryPubSubHub,
    private readonly logger: Logger,
  ) {}

  async init(): Promise<void> {
    this.#assertOpen();
  }

  async publish(channel: string, message: JsonValue): Promise<void> {
    this.#assertOpen();
    const ch = checkChannel(channel);
    this.hub.send(ch, encodeJson(message, 'message'));
  }

  async subscribe(channel: string, handler: MessageHandler): Promise<Unsubscribe> {
    this.#assertOpen();
    const ch = checkChannel(channel);
    if (typeof handler !== 'function') throw new TypeError('handler must be a function');
    let active = true;
    const deliver = (json: string): void => {
      queueMicrotask(() => {
        if (!active) return;
        try {
          const result = handler(decodeJson(json), ch);
          if (result instanceof Promise) result.catch((err: unknown) => this.#report(ch, err));
        } catch (err) {
          this.#report(ch, err);
        }
      });
    };
    const detachFromHub = this.hub.attach(ch, deliver);
    const detach = (): void => {
      active = false;
      detachFromHub();
      this.#detachers.delete(detach);
    };
    this.#detachers.add(detach);
    return async () => detach();
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const detach of [...this.#detachers]) detach();
  }

  #assertOpen(): void {
    if (this.#closed) throw new AdapterClosedError('memory pubsub is closed');
  }

  #report(channel: string, err: unknown): void {
    this.logger.error('pubsub handler failed', { channel, error: err instanceof Error ? err.name : typeof err });
  }
}
