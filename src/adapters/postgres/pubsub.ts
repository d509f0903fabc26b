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
import type { PgNotification, PgPool, PgPoolClient } from './driver.js';
import { mapPgError } from './errors.js';
import { Lifecycle, sweepInBatches } from './lifecycle.js';
import { quoteIdentifier } from './migrations.js';
import { adapterOptionsShape, resolveAdapterOptions, type PostgresAdapterOptions } from './options.js';
import { MAX_NOTIFY_PAYLOAD_BYTES, listen, pubsubStatements, unlisten, type PubSubStatements } from './sql/pubsub.js';

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

// Reconnect backoff of the LISTEN connection: quick first retry, capped so a recovered database
// is noticed within seconds.
const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5_000;
// A LISTEN connection can die silently (half-open TCP, NAT timeout): ping it, and treat a ping
// that does not answer in time as a lost connection.
const HEARTBEAT_MS = 30_000;
const HEARTBEAT_TIMEOUT_MS = 10_000;

/**
 * Publish/subscribe over PostgreSQL `LISTEN/NOTIFY`.
 *
 * - Publishing runs `pg_notify` on the pool. Messages larger than a NOTIFY payload allows are
 *   stored in `<schema>.pubsub_payloads` in the same transaction and the notification carries
 *   their id; subscribers fetch them. Nothing is ever truncated.
 * - Subscribing checks ONE connection out of the pool per adapter (on the first `subscribe`) and
 *   keeps it for `LISTEN`. If it breaks, the adapter reconnects with backoff and listens to every
 *   active channel again; messages published meanwhile are lost (delivery is at-most-once).
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
 * await pubsub.close(); // gives the LISTEN connection back; the pool stays open
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

interface Listener {
  readonly client: PgPoolClient;
  readonly onError: (err: Error) => void;
  readonly onNotification: (message: PgNotification) => void;
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
  #listener: Listener | undefined;
  /** Identifiers LISTENed on the current connection. */
  #listening = new Set<string>();
  /** Connection changes (connect, LISTEN, UNLISTEN, release) run one at a time, in call order. */
  #ops: Promise<unknown> = Promise.resolve();
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #reconnectDelay = RECONNECT_MIN_MS;
  #heartbeat: ReturnType<typeof setInterval> | undefined;

  constructor(options: ReturnType<typeof resolveAdapterOptions>, retentionMs: number) {
    this.#pool = options.pool;
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
      await this.#exclusive(() => this.#ensureListening(identifier));
    } catch (err) {
      remove();
      throw mapPgError(err, 'pubsub.subscribe');
    }
    if (this.#life.closed) throw new AdapterClosedError('postgres pubsub is closed');
    return async () => {
      if (!remove()) return;
      // Best effort: a failed UNLISTEN only means notifications we ignore anyway.
      await this.#exclusive(() => this.#unlistenIfIdle(identifier)).catch(() => undefined);
    };
  }

  async close(): Promise<void> {
    if (this.#life.closed) {
      await this.#ops;
      return;
    }
    this.#life.close();
    if (this.#reconnectTimer !== undefined) clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    for (const state of this.#channels.values()) for (const s of state.subscriptions) s.active = false;
    this.#channels.clear();
    await this.#exclusive(() => this.#release(undefined)).catch(() => undefined);
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

  /** Runs `fn` after every earlier connection change has finished. */
  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#ops.then(fn, fn);
    this.#ops = run.catch(() => undefined);
    return run;
  }

  async #ensureListening(identifier: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const listener = await this.#connect();
      if (this.#listening.has(identifier)) return;
      try {
        await listener.client.query(listen(identifier));
        this.#listening.add(identifier);
        return;
      } catch (err) {
        // The connection died under us (it was idle and nobody noticed yet): one fresh try.
        if (attempt === 0 && this.#listener !== listener) continue;
        throw err;
      }
    }
  }

  async #unlistenIfIdle(identifier: string): Promise<void> {
    if (this.#channels.has(identifier) || !this.#listening.has(identifier) || this.#listener === undefined) return;
    this.#listening.delete(identifier);
    await this.#listener.client.query(unlisten(identifier));
  }

  /** The current LISTEN connection, or a new one listening to every active channel. */
  async #connect(): Promise<Listener> {
    if (this.#listener !== undefined) return this.#listener;
    if (this.#life.closed) throw new AdapterClosedError('postgres pubsub is closed');
    const client = await this.#pool.connect();
    const listener: Listener = {
      client,
      onError: (err) => this.#lost(listener, err),
      onNotification: (message) => this.#receive(message),
    };
    // Attached at once: an 'error' event without a listener would crash the host process.
    client.on('error', listener.onError);
    client.on('notification', listener.onNotification);
    const identifiers = [...this.#channels.keys()];
    try {
      // One round trip for all channels (simple protocol allows several statements).
      if (identifiers.length > 0) await client.query(identifiers.map(listen).join(';\n'));
    } catch (err) {
      this.#detach(listener);
      client.release(err instanceof Error ? err : true);
      throw err;
    }
    this.#listener = listener;
    this.#listening = new Set(identifiers);
    this.#reconnectDelay = RECONNECT_MIN_MS;
    this.#startHeartbeat();
    return listener;
  }

  /** The LISTEN connection broke: drop it and reconnect in the background. */
  #lost(listener: Listener, err: Error): void {
    if (this.#listener !== listener) return;
    this.#listener = undefined;
    this.#listening = new Set();
    this.#stopHeartbeat();
    this.#detach(listener);
    // Passing the error makes the pool destroy the connection instead of reusing it.
    listener.client.release(err);
    this.#logger.warn('postgres pubsub lost its LISTEN connection; reconnecting', { schema: this.#schema, code: mapPgError(err, 'pubsub.listen').code });
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#life.closed || this.#reconnectTimer !== undefined || this.#channels.size === 0) return;
    const delay = this.#reconnectDelay;
    this.#reconnectDelay = Math.min(delay * 2, RECONNECT_MAX_MS);
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      void this.#exclusive(async () => {
        if (this.#life.closed || this.#listener !== undefined || this.#channels.size === 0) return;
        try {
          await this.#connect();
          this.#logger.info('postgres pubsub reconnected', { schema: this.#schema, channels: this.#listening.size });
        } catch (err) {
          this.#logger.warn('postgres pubsub reconnect failed', { schema: this.#schema, code: mapPgError(err, 'pubsub.listen').code });
          this.#scheduleReconnect();
        }
      });
    }, delay);
  }

  #startHeartbeat(): void {
    this.#stopHeartbeat();
    this.#heartbeat = setInterval(() => {
      void this.#exclusive(async () => {
        const listener = this.#listener;
        if (listener === undefined) return;
        let timer: ReturnType<typeof setTimeout> | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('Connection timeout: LISTEN heartbeat unanswered')), HEARTBEAT_TIMEOUT_MS);
        });
        try {
          await Promise.race([listener.client.query('SELECT 1'), timeout]);
        } catch (err) {
          this.#lost(listener, err instanceof Error ? err : new Error('heartbeat failed'));
        } finally {
          clearTimeout(timer);
        }
      });
    }, HEARTBEAT_MS);
    (this.#heartbeat as { unref?: () => void }).unref?.();
  }

  #stopHeartbeat(): void {
    if (this.#heartbeat !== undefined) clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  #detach(listener: Listener): void {
    listener.client.removeListener('notification', listener.onNotification);
    listener.client.removeListener('error', listener.onError);
    // The broken connection may still report errors while the pool tears it down; swallow them.
    listener.client.on('error', ignoreError);
  }

  /** Gives the LISTEN connection back to the pool, clean (UNLISTEN *) when possible. */
  async #release(reason: Error | undefined): Promise<void> {
    this.#stopHeartbeat();
    const listener = this.#listener;
    this.#listener = undefined;
    this.#listening = new Set();
    if (listener === undefined) return;
    listener.client.removeListener('notification', listener.onNotification);
    let broken: Error | undefined = reason;
    if (broken === undefined) {
      try {
        // A pooled connection must not keep listening for its next user.
        await listener.client.query('UNLISTEN *');
      } catch (err) {
        broken = err instanceof Error ? err : new Error('UNLISTEN failed');
      }
    }
    if (broken !== undefined) listener.client.on('error', ignoreError);
    listener.client.release(broken);
    listener.client.removeListener('error', listener.onError);
  }

  #receive(notification: PgNotification): void {
    const state = this.#channels.get(notification.channel);
    if (state === undefined || state.subscriptions.size === 0) return;
    // The subscribers at arrival time receive it, as with the other backends.
    const recipients = [...state.subscriptions];
    const payload = notification.payload ?? '';
    state.tail = state.tail.then(() => this.#deliver(state, recipients, payload));
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

function ignoreError(): void {
  // Intentionally empty: see #detach.
}
