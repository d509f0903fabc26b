import { AdapterClosedError, FabricaError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type {
  ReleaseOutcome,
  RenewOutcome,
  ReservationRecord,
  ReservationSnapshot,
  ReservationStore,
  ReserveOutcome,
  ReserveRequest,
  ResourceAmounts,
} from '../reservations.js';
import { compareKeys } from '../internal/order.js';
import { parseLease, parseOwner, parseOwnerId, parseReserve, parseSnapshotLimit } from '../internal/reservation-requests.js';
import type { RedisArgument, RedisScriptClient } from './driver.js';
import { mapRedisError } from './errors.js';
import { runScript, type LuaScript } from './lua.js';
import { parseRedisOptions, type RedisCommonOptions } from './options.js';
import { redisResourceKeys, type RedisResourceKeys } from './resource-keys.js';
import { releaseScript, renewScript, reserveScript, snapshotScript } from './scripts/reservations.js';

/** Options of {@link createRedisReservationStore}. */
export interface RedisReservationStoreOptions extends RedisCommonOptions {
  /** The host's client (e.g. an `ioredis` `Redis` or `Cluster`). The store never closes it. */
  readonly client: RedisScriptClient;
}

/**
 * Leased reservations on Redis: every operation is one Lua script over the owner's keys (one
 * round trip, atomic), with leases on the server's clock (`TIME`).
 *
 * Resends are harmless: ioredis resends in-flight commands after a reconnect, and a resent
 * `reserve` finds its own reservation (`existing`), a resent `release` finds nothing to release.
 *
 * @throws `VALIDATION_FAILED` for bad options (missing client methods, bad prefix, an ioredis
 * `keyPrefix`).
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import { createRedisReservationStore } from 'digital-fabrica/adapters/redis';
 * const client = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
 * const store = createRedisReservationStore({ client, prefix: 'myapp' });
 * const outcome = await store.reserve({
 *   owner: 'ada', id: 'job-1', leaseMs: 30_000,
 *   amounts: { compute: 500, storage: 0, network: 0 },
 *   limits: { compute: 1000, storage: null, network: null },
 * });
 * ```
 */
export function createRedisReservationStore(options: RedisReservationStoreOptions): ReservationStore {
  const opts = parseRedisOptions<RedisScriptClient>(options, ['evalsha', 'eval'], 'redis reservation store options');
  return new RedisReservationStore(opts.client, redisResourceKeys(opts.prefix), opts.logger);
}

class RedisReservationStore implements ReservationStore {
  #closed = false;

  constructor(
    private readonly client: RedisScriptClient,
    private readonly keys: RedisResourceKeys,
    private readonly logger: Logger,
  ) {}

  async init(): Promise<void> {
    this.#assertOpen();
  }

  async reserve(request: ReserveRequest): Promise<ReserveOutcome> {
    this.#assertOpen();
    const req = parseReserve(request);
    const limit = (n: number | null): RedisArgument => (n === null ? '' : n);
    const row = await this.#run(reserveScript, req.owner, [
      req.id,
      req.amounts.compute,
      req.amounts.storage,
      req.amounts.network,
      limit(req.limits.compute),
      limit(req.limits.storage),
      limit(req.limits.network),
      req.leaseMs,
    ]);
    const head = parseHead(row);
    if (head.status === 'exceeded') return { status: 'exceeded', usage: head.usage, expired: head.expired };
    if (head.status !== 'reserved' && head.status !== 'existing' && head.status !== 'mismatch') throw internal();
    return { status: head.status, reservation: parseRecord(req.owner, req.id, row[6]), usage: head.usage, expired: head.expired };
  }

  async renew(owner: string, id: string, leaseMs: number): Promise<RenewOutcome> {
    this.#assertOpen();
    const ref = parseOwnerId(owner, id);
    const row = await this.#run(renewScript, ref.owner, [ref.id, parseLease(leaseMs)]);
    const head = parseHead(row);
    const reservation = head.status === 'renewed' ? parseRecord(ref.owner, ref.id, row[6]) : null;
    return { reservation, usage: head.usage, expired: head.expired };
  }

  async release(owner: string, id: string): Promise<ReleaseOutcome> {
    this.#assertOpen();
    const ref = parseOwnerId(owner, id);
    const head = parseHead(await this.#run(releaseScript, ref.owner, [ref.id]));
    return { released: head.status === 'released', usage: head.usage, expired: head.expired };
  }

  async snapshot(owner: string, options?: { readonly limit?: number }): Promise<ReservationSnapshot> {
    this.#assertOpen();
    const name = parseOwner(owner);
    const limit = parseSnapshotLimit(options);
    const row = await this.#run(snapshotScript, name, []);
    const head = parseHead(row);
    const all: ReservationRecord[] = [];
    for (let i = 6; i + 1 < row.length; i += 2) {
      const id = text(row[i]);
      all.push(parseRecord(name, id, row[i + 1]));
    }
    all.sort((a, b) => compareKeys(a.id, b.id));
    return { usage: head.usage, count: all.length, reservations: all.slice(0, limit), now: head.now, expired: head.expired };
  }

  async close(): Promise<void> {
    // The client is the host's.
    this.#closed = true;
  }

  async #run(script: LuaScript, owner: string, args: RedisArgument[]): Promise<unknown[]> {
    let reply: unknown;
    try {
      reply = await runScript(this.client, script, this.keys.reservations(owner), args, this.logger);
    } catch (err) {
      throw mapRedisError(err, `reservations.${script.name.replace('reservation-', '')}`);
    }
    if (!Array.isArray(reply) || reply.length < 6) throw internal();
    return reply as unknown[];
  }

  #assertOpen(): void {
    if (this.#closed) throw new AdapterClosedError('redis reservation store is closed');
  }
}

function internal(): FabricaError {
  return new FabricaError('INTERNAL', 'redis reservation store: unexpected script reply');
}

function text(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  throw internal();
}

function int(value: unknown): number {
  const n = typeof value === 'number' ? value : Number(text(value));
  if (!Number.isSafeInteger(n)) throw internal();
  return n;
}

function parseHead(row: readonly unknown[]): { status: string; now: number; usage: ResourceAmounts; expired: number } {
  return {
    status: text(row[0]),
    now: int(row[1]),
    usage: { compute: int(row[2]), storage: int(row[3]), network: int(row[4]) },
    expired: int(row[5]),
  };
}

function parseRecord(owner: string, id: string, value: unknown): ReservationRecord {
  const parts = text(value).split(',');
  if (parts.length !== 5) throw internal();
  const [compute, storage, network, createdAt, expiresAt] = parts.map(int) as [number, number, number, number, number];
  return { owner, id, amounts: { compute, storage, network }, createdAt, expiresAt };
}
