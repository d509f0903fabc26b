import { expect } from 'vitest';
import { isFabricaError } from '../../core/errors.js';
import type { ReservationRecord, ReservationStore, ResourceAmounts, ResourceLimits } from '../reservations.js';
import { createMemoryReservationStore } from '../memory/reservations.js';
import { mulberry32 } from './random.js';

/**
 * Random operation sequences for reservation stores, checked against a fresh memory store:
 * reserves (new ids, the same id again with the same or other amounts, under limits that fit or
 * not), renewals, releases (twice too) and snapshots, for a few owners. Leases are long, so time
 * plays no part (a server's clock cannot be stopped): expiry times are compared as present, and
 * every other part of every outcome must be equal. @internal
 */

/** Ids whose code point order differs from UTF-16 and locale order. */
const IDS = ['a', 'B', 'b', 'r-1', 'r-10', 'r-2', 'é', '\u{1F600}', '\uFF5E'] as const;

type Outcome = { readonly ok: unknown } | { readonly error: string };

/**
 * Runs one sequence of `steps` operations on `sut` for owners of its own, and on a fresh memory
 * store; fails at the first outcome that differs, naming the seed and the step. @internal
 */
export async function runReservationSequence(sut: ReservationStore, seed: number, steps: number, ownerBase: string): Promise<void> {
  const reference = createMemoryReservationStore();
  const next = mulberry32(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const owners = [`${ownerBase}-x`, `${ownerBase}-y`];
  const log: string[] = [];
  const recordView = (r: ReservationRecord | null) => (r === null ? null : { owner: owners.indexOf(r.owner), id: r.id, amounts: r.amounts, leased: r.expiresAt > r.createdAt });
  const both = async <T>(step: number, what: string, op: (s: ReservationStore) => Promise<T>, view: (value: T) => unknown): Promise<void> => {
    const settle = async (s: ReservationStore): Promise<Outcome> => {
      try {
        return { ok: view(await op(s)) };
      } catch (err) {
        if (!isFabricaError(err)) throw err;
        return { error: err.code };
      }
    };
    const want = await settle(reference);
    const got = await settle(sut);
    log.push(`${step}: ${what} → ${JSON.stringify(want)}`);
    expect(got, `seed ${seed}, step ${step}: ${what}\noperations (replay: FABRICA_RESERVATION_SEQUENCE_SEED=${seed}):\n${log.slice(-12).join('\n')}`).toEqual(want);
  };
  const amounts = (): ResourceAmounts => ({ compute: pick([0, 100, 250, 500]), storage: pick([0, 1, 10]), network: pick([0, 5]) });
  const limits = (): ResourceLimits => ({ compute: pick([null, 500, 1000]), storage: pick([null, 15, 100]), network: pick([null, 10]) });

  for (let step = 0; step < steps; step++) {
    const owner = pick(owners);
    const id = pick(IDS);
    const roll = next();
    if (roll < 0.45) {
      const request = { owner, id, amounts: amounts(), limits: limits(), leaseMs: 3_600_000 };
      await both(step, `reserve(${JSON.stringify({ ...request, owner: owners.indexOf(owner) })})`, (s) => s.reserve(request), (o) => ({
        status: o.status,
        usage: o.usage,
        expired: o.expired,
        ...('reservation' in o ? { reservation: recordView(o.reservation) } : {}),
      }));
    } else if (roll < 0.6) {
      await both(step, `renew(${owners.indexOf(owner)}, ${id})`, (s) => s.renew(owner, id, 3_600_000), (o) => ({ reservation: recordView(o.reservation), usage: o.usage, expired: o.expired }));
    } else if (roll < 0.8) {
      await both(step, `release(${owners.indexOf(owner)}, ${id})`, (s) => s.release(owner, id), (o) => o);
    } else if (roll < 0.97) {
      const limit = pick([1, 3, 100]);
      await both(step, `snapshot(${owners.indexOf(owner)}, limit ${limit})`, (s) => s.snapshot(owner, { limit }), (o) => ({
        usage: o.usage,
        count: o.count,
        expired: o.expired,
        reservations: o.reservations.map(recordView),
      }));
    } else {
      // Malformed: refused, and nothing changes (the next snapshot would show it).
      await both(step, 'reserve with negative amounts', (s) => s.reserve({ owner, id, amounts: { compute: -1, storage: 0, network: 0 }, limits: limits(), leaseMs: 1_000 }), (o) => o.status);
    }
  }
  await reference.close();
}
