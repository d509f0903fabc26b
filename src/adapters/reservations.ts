/**
 * ReservationStore: leased reservations of compute, storage and network against per-owner
 * limits, each operation one atomic step.
 *
 * Semantics every backend must honour (checked by `describeReservationContract`):
 * - An owner's recorded usage is ALWAYS the sum of its live reservations: every operation first
 *   drops the owner's expired reservations (and their amounts), then acts, in one atomic step.
 * - `reserve` never lets usage cross a limit, whatever the concurrency: the check and the write
 *   are one step. Nothing is written when it refuses.
 * - A reservation id is an idempotency key per owner: reserving a live id again with the same
 *   amounts returns the existing reservation (`existing`); with other amounts it changes nothing
 *   (`mismatch`). Once released or expired, the id may be used again.
 * - Leases follow the store's clock (injected clock; Redis `TIME`; PostgreSQL
 *   `clock_timestamp()`), in epoch milliseconds. An expired reservation is gone for every
 *   operation at once, so a holder that died returns its quota after its lease.
 * - Invalid requests fail with `VALIDATION_FAILED` before anything is touched.
 */

/** Amounts of the three resources, each a safe integer ≥ 0 in the resource's unit. */
export interface ResourceAmounts {
  /** Compute, e.g. millicores. */
  readonly compute: number;
  /** Storage, e.g. bytes. */
  readonly storage: number;
  /** Network bandwidth, e.g. bytes per second. */
  readonly network: number;
}

/** Per-resource ceilings of a reservation: a safe integer ≥ 0, or `null` for no ceiling. */
export interface ResourceLimits {
  /** Ceiling of the owner's compute usage. */
  readonly compute: number | null;
  /** Ceiling of the owner's storage usage. */
  readonly storage: number | null;
  /** Ceiling of the owner's network usage. */
  readonly network: number | null;
}

/** One live reservation. */
export interface ReservationRecord {
  /** Whose quota it counts against. */
  readonly owner: string;
  /** Unique per owner (the idempotency key). */
  readonly id: string;
  /** What it holds. */
  readonly amounts: ResourceAmounts;
  /** Store clock at creation, epoch ms. */
  readonly createdAt: number;
  /** Store clock at which the lease ends unless renewed, epoch ms. */
  readonly expiresAt: number;
}

/** What {@link ReservationStore.reserve} is asked to do. */
export interface ReserveRequest {
  /** 1–256 characters, no control characters. */
  readonly owner: string;
  /** 1–256 characters, no control characters; unique per owner while live. */
  readonly id: string;
  /** What to reserve. */
  readonly amounts: ResourceAmounts;
  /** Usage after the reservation must not exceed these. */
  readonly limits: ResourceLimits;
  /** Lease length in ms (1 ms – 30 days). */
  readonly leaseMs: number;
}

/**
 * The outcome of {@link ReservationStore.reserve}. `usage` is the owner's usage after the call;
 * `expired` counts reservations of this owner that this call found expired and dropped — a hint
 * that usage fell, not a tally of every expiry: a backend may drop an idle owner's expired
 * reservations on its own (Redis key expiry, the PostgreSQL sweep).
 */
export type ReserveOutcome =
  | { readonly status: 'reserved'; readonly reservation: ReservationRecord; readonly usage: ResourceAmounts; readonly expired: number }
  | { readonly status: 'existing'; readonly reservation: ReservationRecord; readonly usage: ResourceAmounts; readonly expired: number }
  | { readonly status: 'mismatch'; readonly reservation: ReservationRecord; readonly usage: ResourceAmounts; readonly expired: number }
  | { readonly status: 'exceeded'; readonly usage: ResourceAmounts; readonly expired: number };

/** The outcome of {@link ReservationStore.release}. */
export interface ReleaseOutcome {
  /** True if a live reservation was removed. */
  readonly released: boolean;
  /** The owner's usage after the call. */
  readonly usage: ResourceAmounts;
  /** Expired reservations of this owner the call dropped. */
  readonly expired: number;
}

/** The outcome of {@link ReservationStore.renew}. */
export interface RenewOutcome {
  /** The reservation with its new expiry, or `null` when it was not live (released or expired). */
  readonly reservation: ReservationRecord | null;
  /** The owner's usage after the call. */
  readonly usage: ResourceAmounts;
  /** Expired reservations of this owner the call dropped. */
  readonly expired: number;
}

/** An owner's state, read with {@link ReservationStore.snapshot}. */
export interface ReservationSnapshot {
  /** Recorded usage: by contract, the sum of `reservations` when `count` ≤ the listing limit. */
  readonly usage: ResourceAmounts;
  /** Number of live reservations. */
  readonly count: number;
  /** Live reservations in ascending id order, at most the requested limit. */
  readonly reservations: readonly ReservationRecord[];
  /** Store clock at the read, epoch ms. */
  readonly now: number;
  /** Expired reservations of this owner the call dropped. */
  readonly expired: number;
}

/**
 * Atomic, leased reservations against per-owner limits.
 *
 * @example
 * ```ts
 * import { createMemoryReservationStore } from 'digital-fabrica/adapters/memory';
 * const store = createMemoryReservationStore();
 * const outcome = await store.reserve({
 *   owner: 'ada',
 *   id: 'job-1',
 *   amounts: { compute: 500, storage: 0, network: 0 },
 *   limits: { compute: 1000, storage: null, network: null },
 *   leaseMs: 30_000,
 * });
 * console.log(outcome.status, outcome.usage.compute); // reserved 500
 * ```
 */
export interface ReservationStore {
  /** Prepares the backend (schema check on PostgreSQL). Idempotent. */
  init(): Promise<void>;
  /**
   * Reserves `amounts` for `owner` unless that would take usage above `limits`.
   * @throws `VALIDATION_FAILED`, `ADAPTER_UNAVAILABLE`, `ADAPTER_CLOSED`
   */
  reserve(request: ReserveRequest): Promise<ReserveOutcome>;
  /**
   * Moves a live reservation's expiry to now + `leaseMs` (a heartbeat).
   * @throws `VALIDATION_FAILED`, `ADAPTER_UNAVAILABLE`, `ADAPTER_CLOSED`
   */
  renew(owner: string, id: string, leaseMs: number): Promise<RenewOutcome>;
  /**
   * Removes a reservation and returns its amounts to the owner. Releasing twice is harmless.
   * @throws `VALIDATION_FAILED`, `ADAPTER_UNAVAILABLE`, `ADAPTER_CLOSED`
   */
  release(owner: string, id: string): Promise<ReleaseOutcome>;
  /**
   * Reads an owner's usage and up to `limit` (1–1000, default 100) live reservations.
   * @throws `VALIDATION_FAILED`, `ADAPTER_UNAVAILABLE`, `ADAPTER_CLOSED`
   */
  snapshot(owner: string, options?: { readonly limit?: number }): Promise<ReservationSnapshot>;
  /** Stops background work; never closes a pool or client the host passed in. Idempotent. */
  close(): Promise<void>;
}

/**
 * Max characters of an owner or reservation id.
 *
 * @example
 * ```ts
 * import { MAX_RESERVATION_ID_LENGTH } from 'digital-fabrica/adapters';
 * const ok = (id: string) => id.length > 0 && id.length <= MAX_RESERVATION_ID_LENGTH;
 * ```
 */
export const MAX_RESERVATION_ID_LENGTH = 256;

/**
 * Longest lease: 30 days.
 *
 * @example
 * ```ts
 * import { MAX_LEASE_MS } from 'digital-fabrica/adapters';
 * const leaseMs = Math.min(7 * 86_400_000, MAX_LEASE_MS);
 * ```
 */
export const MAX_LEASE_MS = 30 * 24 * 3600 * 1000;

/**
 * Max reservations one snapshot lists.
 *
 * @example
 * ```ts
 * import { MAX_SNAPSHOT_LIMIT } from 'digital-fabrica/adapters';
 * console.log(MAX_SNAPSHOT_LIMIT); // 1000
 * ```
 */
export const MAX_SNAPSHOT_LIMIT = 1000;
