import { z } from 'zod';
import { FabricaError } from '../../core/errors.js';
import { parseInput } from '../../core/validation.js';
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
import { parseLease, parseOwner, parseOwnerId, parseReserve, parseSnapshotLimit } from '../internal/reservation-requests.js';
import type { PgPool } from './driver.js';
import { mapPgError } from './errors.js';
import { Lifecycle } from './lifecycle.js';
import { quoteIdentifier } from './migrations.js';
import { adapterOptionsShape, resolveAdapterOptions, type PostgresAdapterOptions } from './options.js';
import { reservationStatements, type ReservationRow, type ReservationStatements, type SnapshotRow } from './sql/resources.js';

/** Options of {@link createPostgresReservationStore}: see {@link PostgresAdapterOptions}. */
export type PostgresReservationStoreOptions = PostgresAdapterOptions;

const optionsSchema = z.strictObject(adapterOptionsShape);

// Owners one sweep transaction visits: each is locked until the sweep commits, so keep it short.
const SWEEP_OWNERS = 100;

/**
 * Leased reservations on PostgreSQL: every operation is one call of a plpgsql function of the
 * resources migration (one round trip, one transaction) that locks the owner's row, drops its
 * expired reservations, then acts — so the check and the write are atomic and recorded usage is
 * the sum of live reservations at every commit. Leases follow the database clock; a background
 * sweep every `sweepIntervalMs` also clears owners nobody touched since their leases ended.
 *
 * @throws `VALIDATION_FAILED` for bad options. Methods throw `ADAPTER_SCHEMA_MISMATCH` while the
 *   schema is not migrated, `ADAPTER_UNAVAILABLE` when the database cannot be reached,
 *   `ADAPTER_CLOSED` after `close()`.
 * @example
 * ```ts
 * import pg from 'pg';
 * import { createPostgresReservationStore, migratePostgres } from 'digital-fabrica/adapters/postgres';
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * await migratePostgres({ pool });
 * const store = createPostgresReservationStore({ pool });
 * const outcome = await store.reserve({
 *   owner: 'ada', id: 'job-1', leaseMs: 30_000,
 *   amounts: { compute: 500, storage: 0, network: 0 },
 *   limits: { compute: 1000, storage: null, network: null },
 * });
 * ```
 */
export function createPostgresReservationStore(options: PostgresReservationStoreOptions): ReservationStore {
  return new PostgresReservationStore(resolveAdapterOptions(parseInput(optionsSchema, options, 'postgres reservation store options')));
}

class PostgresReservationStore implements ReservationStore {
  readonly #pool: PgPool;
  readonly #sql: ReservationStatements;
  readonly #life: Lifecycle;

  constructor(options: ReturnType<typeof resolveAdapterOptions>) {
    this.#pool = options.pool;
    this.#sql = reservationStatements(quoteIdentifier(options.schema));
    this.#life = new Lifecycle('reservation store', options, () => this.#sweep(), true);
  }

  async init(): Promise<void> {
    await this.#life.ready();
  }

  async reserve(request: ReserveRequest): Promise<ReserveOutcome> {
    const req = parseReserve(request);
    const row = await this.#one('reservations.reserve', this.#sql.reserve, [
      req.owner,
      req.id,
      req.amounts.compute,
      req.amounts.storage,
      req.amounts.network,
      req.limits.compute,
      req.limits.storage,
      req.limits.network,
      req.leaseMs,
    ]);
    const usage = usageOf(row);
    const expired = Number(row.expired);
    if (row.status === 'exceeded') return { status: 'exceeded', usage, expired };
    if (row.status !== 'reserved' && row.status !== 'existing' && row.status !== 'mismatch') throw internal();
    return { status: row.status, reservation: recordOf(req.owner, req.id, row), usage, expired };
  }

  async renew(owner: string, id: string, leaseMs: number): Promise<RenewOutcome> {
    const ref = parseOwnerId(owner, id);
    const row = await this.#one('reservations.renew', this.#sql.renew, [ref.owner, ref.id, parseLease(leaseMs)]);
    return { reservation: row.renewed === true ? recordOf(ref.owner, ref.id, row) : null, usage: usageOf(row), expired: Number(row.expired) };
  }

  async release(owner: string, id: string): Promise<ReleaseOutcome> {
    const ref = parseOwnerId(owner, id);
    const row = await this.#one('reservations.release', this.#sql.release, [ref.owner, ref.id]);
    return { released: row.released === true, usage: usageOf(row), expired: Number(row.expired) };
  }

  async snapshot(owner: string, options?: { readonly limit?: number }): Promise<ReservationSnapshot> {
    const name = parseOwner(owner);
    const limit = parseSnapshotLimit(options);
    const row = (await this.#one('reservations.snapshot', this.#sql.snapshot, [name, limit])) as SnapshotRow;
    const reservations: ReservationRecord[] = row.ids.map((id, i) => ({
      owner: name,
      id,
      amounts: { compute: int(row.computes[i]), storage: int(row.storages[i]), network: int(row.networks[i]) },
      createdAt: int(row.created[i]),
      expiresAt: int(row.expires[i]),
    }));
    return { usage: usageOf(row), count: Number(row.total), reservations, now: int(row.now_ms), expired: Number(row.expired) };
  }

  async close(): Promise<void> {
    this.#life.close();
  }

  async #one(operation: string, text: string, values: readonly unknown[]): Promise<ReservationRow> {
    await this.#life.ready();
    let rows: ReservationRow[];
    try {
      rows = (await this.#pool.query<ReservationRow>(text, values)).rows;
    } catch (err) {
      throw mapPgError(err, operation);
    }
    if (rows[0] === undefined) throw internal();
    return rows[0];
  }

  async #sweep(): Promise<number> {
    try {
      const { rows } = await this.#pool.query<{ count: number }>(this.#sql.sweep, [SWEEP_OWNERS]);
      return Number(rows[0]?.count ?? 0);
    } catch (err) {
      throw mapPgError(err, 'reservations.sweep');
    }
  }
}

function internal(): FabricaError {
  return new FabricaError('INTERNAL', 'postgres reservation store: unexpected result');
}

function int(value: string | number | null | undefined): number {
  const n = Number(value);
  if (value === null || value === undefined || !Number.isSafeInteger(n)) throw internal();
  return n;
}

function usageOf(row: ReservationRow): ResourceAmounts {
  return { compute: int(row.uc), storage: int(row.us), network: int(row.un) };
}

function recordOf(owner: string, id: string, row: ReservationRow): ReservationRecord {
  return {
    owner,
    id,
    amounts: { compute: int(row.r_compute), storage: int(row.r_storage), network: int(row.r_network) },
    createdAt: int(row.r_created),
    expiresAt: int(row.r_expires),
  };
}
