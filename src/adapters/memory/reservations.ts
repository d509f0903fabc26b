import { z } from 'zod';
import type { Clock } from '../../core/clock.js';
import { systemClock } from '../../core/clock.js';
import { AdapterClosedError } from '../../core/errors.js';
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
import { compareKeys } from '../internal/order.js';
import { fitsWithin, parseLease, parseOwner, parseOwnerId, parseReserve, parseSnapshotLimit, sameAmounts } from '../internal/reservation-requests.js';

interface Owner {
  usage: { compute: number; storage: number; network: number };
  readonly byId: Map<string, ReservationRecord>;
  // Earliest expiry among live reservations: expired ones are looked for only once it passed.
  nextExpiry: number;
}

/**
 * The reservations behind one or more memory reservation stores. Share one between several
 * `createMemoryReservationStore` calls to get independent handles on the same quotas.
 *
 * @example
 * ```ts
 * import { createMemoryReservationStore, MemoryReservationState } from 'digital-fabrica/adapters/memory';
 * const state = new MemoryReservationState();
 * const a = createMemoryReservationStore({ state });
 * const b = createMemoryReservationStore({ state }); // sees a's reservations
 * ```
 */
export class MemoryReservationState {
  /** @internal */
  readonly owners = new Map<string, Owner>();
}

/** Options of {@link createMemoryReservationStore}. */
export interface MemoryReservationStoreOptions {
  /** Share reservations with other handles (default: a private state). */
  readonly state?: MemoryReservationState;
  /** Time source for leases (default: system clock). A `ManualClock` tests expiry without waiting. */
  readonly clock?: Clock;
}

const optionsSchema = z
  .strictObject({
    state: z.instanceof(MemoryReservationState).optional(),
    clock: z.custom<Clock>((v) => typeof (v as Clock | undefined)?.now === 'function', 'clock must have now()').optional(),
  })
  .optional();

/**
 * In-process reservations with the exact semantics of the contract: every operation is one
 * synchronous step, hence atomic.
 *
 * @throws `VALIDATION_FAILED` for bad options.
 * @example
 * ```ts
 * import { createMemoryReservationStore } from 'digital-fabrica/adapters/memory';
 * const store = createMemoryReservationStore();
 * const limits = { compute: 1000, storage: null, network: null };
 * await store.reserve({ owner: 'ada', id: 'a', amounts: { compute: 600, storage: 0, network: 0 }, limits, leaseMs: 10_000 });
 * const second = await store.reserve({ owner: 'ada', id: 'b', amounts: { compute: 600, storage: 0, network: 0 }, limits, leaseMs: 10_000 });
 * console.log(second.status); // 'exceeded'
 * ```
 */
export function createMemoryReservationStore(options?: MemoryReservationStoreOptions): ReservationStore {
  const opts = parseInput(optionsSchema, options, 'memory reservation store options');
  return new MemoryReservationStore(opts?.state ?? new MemoryReservationState(), opts?.clock ?? systemClock);
}

class MemoryReservationStore implements ReservationStore {
  #closed = false;

  constructor(
    private readonly state: MemoryReservationState,
    private readonly clock: Clock,
  ) {}

  async init(): Promise<void> {
    this.#assertOpen();
  }

  async reserve(request: ReserveRequest): Promise<ReserveOutcome> {
    this.#assertOpen();
    const req = parseReserve(request);
    const now = this.#now();
    const { owner, expired } = this.#owner(req.owner, now);
    const existing = owner.byId.get(req.id);
    if (existing !== undefined) {
      const status = sameAmounts(existing.amounts, req.amounts) ? 'existing' : 'mismatch';
      return { status, reservation: existing, usage: copy(owner.usage), expired };
    }
    if (!fitsWithin(owner.usage, req.amounts, req.limits)) {
      this.#forgetIfIdle(req.owner, owner);
      return { status: 'exceeded', usage: copy(owner.usage), expired };
    }
    const reservation: ReservationRecord = Object.freeze({
      owner: req.owner,
      id: req.id,
      amounts: copy(req.amounts),
      createdAt: now,
      expiresAt: now + req.leaseMs,
    });
    owner.byId.set(req.id, reservation);
    owner.usage = add(owner.usage, req.amounts, 1);
    owner.nextExpiry = Math.min(owner.nextExpiry, reservation.expiresAt);
    return { status: 'reserved', reservation, usage: copy(owner.usage), expired };
  }

  async renew(ownerName: string, id: string, leaseMs: number): Promise<RenewOutcome> {
    this.#assertOpen();
    const ref = parseOwnerId(ownerName, id);
    const lease = parseLease(leaseMs);
    const now = this.#now();
    const { owner, expired } = this.#owner(ref.owner, now);
    const current = owner.byId.get(ref.id);
    if (current === undefined) {
      this.#forgetIfIdle(ref.owner, owner);
      return { reservation: null, usage: copy(owner.usage), expired };
    }
    const reservation: ReservationRecord = Object.freeze({ ...current, expiresAt: now + lease });
    owner.byId.set(ref.id, reservation);
    owner.nextExpiry = Math.min(owner.nextExpiry, reservation.expiresAt);
    return { reservation, usage: copy(owner.usage), expired };
  }

  async release(ownerName: string, id: string): Promise<ReleaseOutcome> {
    this.#assertOpen();
    const ref = parseOwnerId(ownerName, id);
    const { owner, expired } = this.#owner(ref.owner, this.#now());
    const current = owner.byId.get(ref.id);
    if (current !== undefined) {
      owner.byId.delete(ref.id);
      owner.usage = add(owner.usage, current.amounts, -1);
    }
    const usage = copy(owner.usage);
    this.#forgetIfIdle(ref.owner, owner);
    return { released: current !== undefined, usage, expired };
  }

  async snapshot(ownerName: string, options?: { readonly limit?: number }): Promise<ReservationSnapshot> {
    this.#assertOpen();
    const name = parseOwner(ownerName);
    const limit = parseSnapshotLimit(options);
    const now = this.#now();
    const { owner, expired } = this.#owner(name, now);
    const ids = [...owner.byId.keys()].sort(compareKeys).slice(0, limit);
    const snapshot = { usage: copy(owner.usage), count: owner.byId.size, reservations: ids.map((i) => owner.byId.get(i)!), now, expired };
    this.#forgetIfIdle(name, owner);
    return snapshot;
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #now(): number {
    return Math.floor(this.clock.now());
  }

  /** The owner's entry with its expired reservations dropped (and their amounts returned). */
  #owner(name: string, now: number): { owner: Owner; expired: number } {
    let owner = this.state.owners.get(name);
    if (owner === undefined) {
      owner = { usage: { compute: 0, storage: 0, network: 0 }, byId: new Map(), nextExpiry: Infinity };
      this.state.owners.set(name, owner);
      return { owner, expired: 0 };
    }
    let expired = 0;
    if (owner.nextExpiry <= now) {
      let next = Infinity;
      for (const [id, r] of owner.byId) {
        if (r.expiresAt <= now) {
          owner.byId.delete(id);
          owner.usage = add(owner.usage, r.amounts, -1);
          expired += 1;
        } else if (r.expiresAt < next) {
          next = r.expiresAt;
        }
      }
      owner.nextExpiry = next;
    }
    return { owner, expired };
  }

  #forgetIfIdle(name: string, owner: Owner): void {
    if (owner.byId.size === 0) this.state.owners.delete(name);
  }

  #assertOpen(): void {
    if (this.#closed) throw new AdapterClosedError('memory reservation store is closed');
  }
}

function add(a: ResourceAmounts, b: ResourceAmounts, sign: 1 | -1): { compute: number; storage: number; network: number } {
  return { compute: a.compute + sign * b.compute, storage: a.storage + sign * b.storage, network: a.network + sign * b.network };
}

function copy(a: ResourceAmounts): ResourceAmounts {
  return { compute: a.compute, storage: a.storage, network: a.network };
}
