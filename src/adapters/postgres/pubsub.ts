import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { AdapterClosedError, ValidationError, isFabricaError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { parseInput } from '../../core/validation.js';
import type { MessageHandler, PubSub, Unsubscribe } from '../pubsub.js';
import type { JsonValue } from '../storage.js';
import { decodeJson, encodeJson } from '../internal/json.js';
import { checkChannel } from '../internal/names.js';
import type { PgNotification, PgPool } from './driver.js';
import { poolListener, type ListenerMember, type PoolListener } from './pool-listener.js';
import { mapPgError } from './errors.js';
import { Lifecycle, sweepInBatches } from './lifecycle.js';
import { quoteIdentifier } from './migrations.js';
import { adapterOptionsShape, resolveAdapterOptions, type PostgresAdapterOptions } from './options.js';
import { MAX_NOTIFY_PAYLOAD_BYTES, pubsubStatements, type PubSubStatements } from './sql/pubsub.js';

/** Options of {@link createPostgresPubSub}. */
export interface PostgresPubSubOptions extends PostgresAdapterOptions {
  /**
   * How long a message too large for a NOTIFY payload (8000 bytes) stays fetchable, in ms
   * (default 60 000). Subscribers fetch it as soon as they are notified; the sweep (every
   * `sweepIntervalMs`) deletes older ones.
   */
  readonly payloadRetentionMs?: number;
}

const optionsSchema = z.strictObject({
  ...adapterOptionsShape,
  payloadRetentionMs: z.number().int().min(1_000).max(7 * 24 * 3600 * 1000).optional(),
});

/**
 * Publish/subscribe over PostgreSQL `LISTEN/NOTIFY`.
 *
 * - Publishing runs `pg_notify` on the pool. Messages larger than a NOTIFY payload allows are
 *   stored in `<schema>.pubsub_payloads` in the same transaction and the notification carries
 *   their id; subscribers fetch them. Nothing is ever truncated.
 * - Subscribing listens on ONE connection per pool, checked out on the first `subscribe` of any
 *   adapter on that pool and shared by all of them: every pub/sub adapter and queue handle of a
 *   process. The pool therefore needs `max` >= 2; with `max: 1`, `subscribe` fails with
 *   `VALIDATION_FAILED` instead of waiting forever for a second connection. If the shared
 *   connection breaks, it is re-established with backoff and listens to every active channel
 *   again; messages published meanwhile are lost (delivery is at-most-once).
 * - Channel names are hashed with the schema into `df_<hex>` identifiers: any valid channel name
 *   is a legal identifier, and two schemas never hear each other.
 * - Messages of one publisher on one channel arrive in publish order: publishes on one channel
 *   from one adapter are sent one after another, and each subscriber delivers a channel's
 *   messages in arrival order.
 * - Handler errors are caught and logged (channel and error name only).
 *
 * @throws `VALIDATION_FAILED` for bad options. Methods throw `ADAPTER_SCHEMA_MISMATCH` while the
 *   schema is not migrated, `ADAPTER_UNAVAILABLE` when the database cannot be reached,
 *   `ADAPTER_CLOSED` after `close()`.
 * @example
 * ```ts
 * import pg from 'pg';
 * import { createPostgresPubSub } from 'digital-fabrica/adapters/postgres';
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * const pubsub = createPostgresPubSub({ pool, migrate: true });
 * const unsubscribe = await pubsub.subscribe('policy', (msg) => console.log('policy changed', msg));
 * await pubsub.publish('policy', { changed: 'roles' });
 * await unsubscribe();
 * await pubsub.close(); // the LISTEN connection goes back once no adapter on the pool listens; the pool stays open
 * ```
 */
export function createPostgresPubSub(options: PostgresPubSubOptions): PubSub {
  const parsed = parseInput(optionsSchema, options, 'postgres pubsub options');
  return new PostgresPubSub(resolveAdapterOptions(parsed), parsed.payloadRetentionMs ?? 60_000);
}

interface Subscription {
  readonly handler: MessageHandler;
  active: boolean;
}

interface ChannelState {
  readonly channel: string;
  readonly identifier: string;
  readonly subscriptions: Set<Subscription>;
  /** Deliveries of this channel run one after another, so fetched large messages keep their place. */
  tail: Promise<void>;
}

class PostgresPubSub implements PubSub {
  readonly #pool: PgPool;
  readonly #schema: string;
  readonly #sql: PubSubStatements;
  readonly #life: Lifecycle;
  readonly #logger: Logger;
  /** Active channels by identifier. */
  readonly #channels = new Map<string, ChannelState>();
  /** Last publish per channel identifier, to send the next one after it. */
  readonly #publishTails = new Map<string, Promise<void>>();
  /** The pool's shared LISTEN connection. */
  readonly #listener: PoolListener;
  /** This adapter as the shared connection sees it. */
  readonly #member: ListenerMember;

  constructor(options: ReturnType<typeof resolveAdapterOptions>, retentionMs: number) {
    this.#pool = options.pool;
    this.#listener = poolListener(options.pool);
    this.#schema = options.schema;
    this.#sql = pubsubStatements(quoteIdentifier(options.schema));
    this.#life = new Lifecycle('pubsub', options, () =>
      sweepInBatches(async (limit) => {
        try {
          const { rows } = await this.#pool.query<{ count: number }>(this.#sql.sweep, [limit, retentionMs]);
          return Number(rows[0]?.count ?? 0);
        } catch (err) {
          throw mapPgError(err, 'pubsub.sweep');
        }
      }),
    );
    this.#logger = this.#life.logger;
    this.#member = { receive: (notification) => this.#receive(notification), logger: this.#logger };
  }

  async init(): Promise<void> {
    await this.#life.ready();
  }

  async publish(channel: string, message: JsonValue): Promise<void> {
    const ch = checkChannel(channel);
    const json = encodeJson(message, 'message');
    await this.#life.ready();
    const identifier = this.#identifier(ch);
    // Sent after the previous publish on this channel has committed: two pool connections could
    // otherwise commit (and so deliver) them in the opposite order.
    const previous = this.#publishTails.get(identifier) ?? Promise.resolve();
    const sent = previous.then(() => this.#send(identifier, json));
    const tail = sent.catch(() => undefined);
    this.#publishTails.set(identifier, tail);
    void tail.then(() => {
      if (this.#publishTails.get(identifier) === tail) this.#publishTails.delete(identifier);
    });
    return sent;
  }

  async subscribe(channel: string, handler: MessageHandler): Promise<Unsubscribe> {
    const ch = checkChannel(channel);
    if (typeof handler !== 'function') {
      throw new ValidationError('invalid handler: must be a function', [{ path: ['handler'], message: 'must be a function', code: 'invalid_type' }]);
    }
    await this.#life.ready();
    // close() may have run while ready() resolved; from here to listen() nothing awaits, so a
    // close() after this check finds this adapter registered and takes it out again.
    if (this.#life.closed) throw new AdapterClosedError('postgres pubsub is closed');
    const identifier = this.#identifier(ch);
    let state = this.#channels.get(identifier);
    if (state === undefined) {
      state = { channel: ch, identifier, subscriptions: new Set(), tail: Promise.resolve() };
      this.#channels.set(identifier, state);
    }
    const subscription: Subscription = { handler, active: true };
    state.subscriptions.add(subscription);
    const remove = (): boolean => {
      if (!subscription.active) return false;
      subscription.active = false;
      state.subscriptions.delete(subscription);
      if (state.subscriptions.size > 0) return false;
      if (this.#channels.get(identifier) === state) this.#channels.delete(identifier);
      return true;
    };
    try {
      await this.#listener.listen(identifier, this.#member);
    } catch (err) {
      if (remove()) await this.#listener.unlisten(identifier, this.#member).catch(() => undefined);
      throw mapPgError(err, 'pubsub.subscribe');
    }
    if (this.#life.closed) throw new AdapterClosedError('postgres pubsub is closed');
    return async () => {
      if (!remove()) return;
      // Best effort: a failed UNLISTEN only means notifications we ignore anyway.
      await this.#listener.unlisten(identifier, this.#member).catch(() => undefined);
    };
  }

  async close(): Promise<void> {
    if (!this.#life.closed) {
      this.#life.close();
      for (const state of this.#channels.values()) for (const s of state.subscriptions) s.active = false;
      this.#channels.clear();
    }
    await this.#listener.leave(this.#member).catch(() => undefined);
  }

  /** A notification on one of this adapter's channels. */
  #receive(notification: PgNotification): void {
    const state = this.#channels.get(notification.channel);
    if (state === undefined || state.subscriptions.size === 0) return;
    // The subscribers at arrival time receive it, as with the other backends.
    const recipients = [...state.subscriptions];
    const payload = notification.payload ?? '';
    state.tail = state.tail.then(() => this.#deliver(state, recipients, payload));
  }

  #identifier(channel: string): string {
    // 160 bits of SHA-256: collisions are out of reach; "df_" + 40 hex stays under the 63-byte limit.
    return `df_${createHash('sha256').update(`${this.#schema}\u0000${channel}`).digest('hex').slice(0, 40)}`;
  }

  async #send(identifier: string, json: string): Promise<void> {
    const inline = `j${json}`;
    try {
      if (Buffer.byteLength(inline, 'utf8') <= MAX_NOTIFY_PAYLOAD_BYTES) await this.#pool.query(this.#sql.notify, [identifier, inline]);
      else await this.#pool.query(this.#sql.notifyStored, [identifier, json]);
    } catch (err) {
      throw mapPgError(err, 'pubsub.publish');
    }
  }

  async #deliver(state: ChannelState, recipients: readonly Subscription[], payload: string): Promise<void> {
    let json: string;
    if (payload.startsWith('j')) {
      json = payload.slice(1);
    } else if (payload.startsWith('r') && /^r\d+$/.test(payload)) {
      try {
        const { rows } = await this.#pool.query<{ payload: string }>(this.#sql.fetch, [payload.slice(1)]);
        if (rows[0] === undefined) {
          this.#logger.warn('postgres pubsub message expired before it was fetched', { channel: state.channel });
          return;
        }
        json = rows[0].payload;
      } catch (err) {
        this.#logger.warn('postgres pubsub could not fetch a large message', { channel: state.channel, code: mapPgError(err, 'pubsub.fetch').code });
        return;
      }
    } else {
      this.#logger.warn('postgres pubsub ignored a notification it did not send', { channel: state.channel });
      return;
    }
    for (const subscription of recipients) {
      if (!subscription.active) continue;
      try {
        // Parsed per handler: every subscriber gets its own copy to mutate.
        const result = subscription.handler(decodeJson(json), state.channel);
        if (result instanceof Promise) result.catch((err: unknown) => this.#report(state.channel, err));
      } catch (err) {
        this.#report(state.channel, err);
      }
    }
  }

  #report(channel: string, err: unknown): void {
    this.#logger.error('pubsub handler failed', {
      channel,
      error: isFabricaError(err) ? err.code : err instanceof Error ? err.name : typeof err,
    });
  }
}
