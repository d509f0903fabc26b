import { ValidationError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { PgNotification, PgPool, PgPoolClient } from './driver.js';
import { perObject } from '../internal/per-object.js';
import { mapPgError } from './errors.js';
import { listen, unlisten } from './sql/pubsub.js';

/**
 * One `LISTEN` connection per pool, shared by every adapter on that pool.
 *
 * Each pub/sub adapter, and each queue handle (whose wake-ups ride on pub/sub), used to check its
 * own connection out of the host's pool and keep it. A pool of `max` connections then hung for
 * good once `max` handles had subscribed: every query waited for a connection that never came
 * back (pg's pool waits forever by default). Shared, the listening costs one connection per pool
 * however many queues and channels a process has, and a pool too small to spare that one fails
 * with a typed error instead of hanging.
 */

/** An adapter listening through a {@link PoolListener}. */
export interface ListenerMember {
  /** A notification on an identifier the member listens to. */
  receive(notification: PgNotification): void;
  /**
   * Where the shared connection's breaks and reconnects are logged: once per distinct logger, so
   * ten queue handles with one logger report an outage once, not ten times.
   */
  readonly logger: Logger;
}

interface Connection {
  readonly client: PgPoolClient;
  readonly onError: (err: Error) => void;
  readonly onNotification: (message: PgNotification) => void;
}

// Reconnect backoff of the LISTEN connection: quick first retry, capped so a recovered database
// is noticed within seconds.
const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5_000;
// A LISTEN connection can die silently (half-open TCP, NAT timeout): ping it, and treat a ping
// that does not answer in time as a lost connection.
const HEARTBEAT_MS = 30_000;
const HEARTBEAT_TIMEOUT_MS = 10_000;

/** The listener of `pool`, made on first use. */
export const poolListener = perObject((pool: PgPool) => new PoolListener(pool));

/**
 * The shared connection of one pool. It is checked out when a first member listens and given back
 * (clean, after `UNLISTEN *`) when the last one leaves. If it breaks, it is re-established with
 * backoff and listens to every identifier that still has members; notifications sent meanwhile
 * are lost (at-most-once, as `LISTEN` itself).
 */
export class PoolListener {
  readonly #pool: PgPool;
  /** Members per channel identifier. */
  readonly #members = new Map<string, Set<ListenerMember>>();
  #connection: Connection | undefined;
  /** Identifiers LISTENed on the current connection. */
  #listening = new Set<string>();
  /** Connection changes (connect, LISTEN, UNLISTEN, release) run one at a time, in call order. */
  #ops: Promise<unknown> = Promise.resolve();
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #reconnectDelay = RECONNECT_MIN_MS;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  /** The connection broke since it was last established: the next one is a reconnect. */
  #broken = false;
  readonly #reconnectWatchers = new Set<() => void>();

  constructor(pool: PgPool) {
    this.#pool = pool;
  }

  /**
   * Adds `member` to `identifier`; resolves once `LISTEN` is live, so a notification sent after
   * that reaches it. On failure the member stays registered (a reconnect will listen for it) until
   * it calls {@link PoolListener.unlisten}.
   */
  listen(identifier: string, member: ListenerMember): Promise<void> {
    let members = this.#members.get(identifier);
    if (members === undefined) {
      members = new Set();
      this.#members.set(identifier, members);
    }
    members.add(member);
    return this.#exclusive(() => this.#ensureListening(identifier));
  }

  /**
   * Calls `watcher` each time a connection is listening again after a break: notifications sent
   * meanwhile are lost, so a queue wakes its waiting workers to claim what they missed. Returns
   * the removal.
   */
  watchReconnects(watcher: () => void): () => void {
    this.#reconnectWatchers.add(watcher);
    return () => void this.#reconnectWatchers.delete(watcher);
  }

  /** Removes `member` from `identifier`; the last member out of a channel UNLISTENs it, the last of all gives the connection back. */
  unlisten(identifier: string, member: ListenerMember): Promise<void> {
    const members = this.#members.get(identifier);
    if (members === undefined || !members.delete(member)) return this.#ops.then(() => undefined);
    if (members.size === 0) this.#members.delete(identifier);
    return this.#exclusive(() => this.#settle(identifier));
  }

  /** Removes `member` from every identifier (its adapter closed). */
  leave(member: ListenerMember): Promise<void> {
    for (const [identifier, members] of this.#members) {
      if (members.delete(member) && members.size === 0) this.#members.delete(identifier);
    }
    return this.#exclusive(() => this.#settle(undefined));
  }

  /** Runs `fn` after every earlier connection change has finished. */
  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#ops.then(fn, fn);
    this.#ops = run.catch(() => undefined);
    return run;
  }

  async #ensureListening(identifier: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      if (!this.#members.has(identifier)) return; // left again before its turn
      const connection = await this.#connect();
      if (this.#listening.has(identifier)) return;
      try {
        await connection.client.query(listen(identifier));
        this.#listening.add(identifier);
        return;
      } catch (err) {
        // The connection died under us (it was idle and nobody noticed yet): one fresh try.
        if (attempt === 0 && this.#connection !== connection) continue;
        throw err;
      }
    }
  }

  /** After members left: gives the connection back when none is left, else UNLISTENs `identifier` if it lost its last one. */
  async #settle(identifier: string | undefined): Promise<void> {
    if (this.#members.size === 0) {
      if (this.#reconnectTimer !== undefined) clearTimeout(this.#reconnectTimer);
      this.#reconnectTimer = undefined;
      await this.#release();
      return;
    }
    const connection = this.#connection;
    if (connection === undefined) return;
    const stale = identifier === undefined ? [...this.#listening].filter((id) => !this.#members.has(id)) : [identifier];
    for (const id of stale) {
      if (this.#members.has(id) || !this.#listening.delete(id)) continue;
      // Best effort: a failed UNLISTEN only means notifications nobody receives.
      await connection.client.query(unlisten(id)).catch(() => undefined);
    }
  }

  /** The current connection, or a new one listening to every identifier with members. */
  async #connect(): Promise<Connection> {
    if (this.#connection !== undefined) return this.#connection;
    const max = (this.#pool as { readonly options?: { readonly max?: unknown } }).options?.max;
    if (typeof max === 'number' && max < 2) {
      // Held for LISTEN, the only connection would leave every query waiting forever.
      throw new ValidationError('invalid pool: listening keeps one connection checked out, so the pool needs max >= 2', [
        { path: ['pool', 'max'], message: 'must be at least 2 to listen (one connection is kept for LISTEN)', code: 'too_small' },
      ]);
    }
    const client = await this.#pool.connect();
    const connection: Connection = {
      client,
      onError: (err) => this.#lost(connection, err),
      onNotification: (message) => this.#receive(message),
    };
    // Attached at once: an 'error' event without a listener would crash the host process.
    client.on('error', connection.onError);
    client.on('notification', connection.onNotification);
    const identifiers = [...this.#members.keys()];
    try {
      // One round trip for all channels (simple protocol allows several statements).
      if (identifiers.length > 0) await client.query(identifiers.map(listen).join(';\n'));
    } catch (err) {
      detach(connection);
      client.release(err instanceof Error ? err : true);
      throw err;
    }
    this.#connection = connection;
    this.#listening = new Set(identifiers);
    this.#reconnectDelay = RECONNECT_MIN_MS;
    this.#startHeartbeat();
    if (this.#broken) {
      this.#broken = false;
      for (const watcher of [...this.#reconnectWatchers]) watcher();
    }
    return connection;
  }

  #receive(notification: PgNotification): void {
    const members = this.#members.get(notification.channel);
    if (members === undefined) return;
    for (const member of members) member.receive(notification);
  }

  /** The members' distinct loggers (a member may listen to several identifiers; members may share a logger). */
  #loggers(): Set<Logger> {
    const loggers = new Set<Logger>();
    for (const members of this.#members.values()) for (const member of members) loggers.add(member.logger);
    return loggers;
  }

  /** The connection broke: drop it and reconnect in the background. */
  #lost(connection: Connection, err: Error): void {
    if (this.#connection !== connection) return;
    this.#connection = undefined;
    this.#listening = new Set();
    this.#broken = true;
    this.#stopHeartbeat();
    detach(connection);
    // Passing the error makes the pool destroy the connection instead of reusing it.
    connection.client.release(err);
    const code = mapPgError(err, 'pubsub.listen').code;
    for (const logger of this.#loggers()) logger.warn('postgres pubsub lost its LISTEN connection; reconnecting', { code });
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#reconnectTimer !== undefined || this.#members.size === 0) return;
    const delay = this.#reconnectDelay;
    this.#reconnectDelay = Math.min(delay * 2, RECONNECT_MAX_MS);
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      void this.#exclusive(async () => {
        if (this.#connection !== undefined || this.#members.size === 0) return;
        try {
          await this.#connect();
          for (const logger of this.#loggers()) logger.info('postgres pubsub reconnected', { channels: this.#listening.size });
        } catch (err) {
          const code = mapPgError(err, 'pubsub.listen').code;
          for (const logger of this.#loggers()) logger.warn('postgres pubsub reconnect failed', { code });
          this.#scheduleReconnect();
        }
      });
    }, delay);
  }

  #startHeartbeat(): void {
    this.#stopHeartbeat();
    this.#heartbeat = setInterval(() => {
      void this.#exclusive(async () => {
        const connection = this.#connection;
        if (connection === undefined) return;
        let timer: ReturnType<typeof setTimeout> | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('Connection timeout: LISTEN heartbeat unanswered')), HEARTBEAT_TIMEOUT_MS);
        });
        try {
          await Promise.race([connection.client.query('SELECT 1'), timeout]);
        } catch (err) {
          this.#lost(connection, err instanceof Error ? err : new Error('heartbeat failed'));
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

  /** Gives the connection back to the pool, clean (UNLISTEN *) when possible. */
  async #release(): Promise<void> {
    this.#stopHeartbeat();
    const connection = this.#connection;
    this.#connection = undefined;
    this.#listening = new Set();
    if (connection === undefined) return;
    connection.client.removeListener('notification', connection.onNotification);
    let broken: Error | undefined;
    try {
      // A pooled connection must not keep listening for its next user.
      await connection.client.query('UNLISTEN *');
    } catch (err) {
      broken = err instanceof Error ? err : new Error('UNLISTEN failed');
    }
    if (broken !== undefined) connection.client.on('error', ignoreError);
    connection.client.release(broken);
    connection.client.removeListener('error', connection.onError);
  }
}

function detach(connection: Connection): void {
  connection.client.removeListener('notification', connection.onNotification);
  connection.client.removeListener('error', connection.onError);
  // The broken connection may still report errors while the pool tears it down; swallow them.
  connection.client.on('error', ignoreError);
}

function ignoreError(): void {
  // Intentionally empty: see detach().
}
