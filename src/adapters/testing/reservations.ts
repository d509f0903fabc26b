import { afterAll, beforeAll, describe, expect } from 'vitest';
import type { ReservationStore, ResourceAmounts, ResourceLimits, ReserveOutcome } from '../reservations.js';
import type { AdapterHarness, ContractOptions } from './harness.js';
import { caught, contractTest, runConcurrently, scaled, sequenceSeeds, sequenceSteps, uniqueName, waitFor, harnessSession } from './support.js';
import { runReservationSequence } from './reservation-sequences.js';

const LONG_LEASE = 3_600_000;
const amounts = (compute: number, storage = 0, network = 0): ResourceAmounts => ({ compute, storage, network });
const computeLimit = (compute: number | null): ResourceLimits => ({ compute, storage: null, network: null });
const sum = (list: readonly ResourceAmounts[]): ResourceAmounts =>
  list.reduce((a, b) => amounts(a.compute + b.compute, a.storage + b.storage, a.network + b.network), amounts(0));

/**
 * The ReservationStore conformance suite: every backend (memory, PostgreSQL, Redis, or a
 * third-party one) must pass it. It checks reserving within limits, idempotent ids, renewals,
 * releases, lease expiry, that recorded usage always equals the sum of live reservations, that
 * concurrent reservations from separate handles never cross a limit (and never refuse what
 * fits), validation, outages and close. Call it at the top level of a vitest test file.
 *
 * @example
 * ```ts
 * import { ManualClock } from 'digital-fabrica';
 * import { describeReservationContract } from 'digital-fabrica/adapters/testing';
 * import { createMemoryReservationStore, MemoryReservationState } from 'digital-fabrica/adapters/memory';
 * const clock = new ManualClock(Date.UTC(2026, 0, 1));
 * const state = new MemoryReservationState();
 * describeReservationContract('memory', { clock, open: async () => createMemoryReservationStore({ state, clock }) });
 * ```
 */
export function describeReservationContract(name: string, harness: AdapterHarness<ReservationStore>, options?: ContractOptions): void {
  const test = contractTest(options);
  const slowTest = contractTest(options, 60_000);
  const session = harnessSession(harness);
  const open = session.open;
  const passTime = session.passTime;
  let store: ReservationStore;
  const shortLease = harness.clock ? 1_000 : 300;

  const reserve = (s: ReservationStore, owner: string, id: string, a: ResourceAmounts, limits = computeLimit(null), leaseMs = LONG_LEASE) =>
    s.reserve({ owner, id, amounts: a, limits, leaseMs });
  /** Usage must equal the sum of the listed live reservations. */
  const expectConsistent = async (s: ReservationStore, owner: string): Promise<ResourceAmounts> => {
    const snap = await s.snapshot(owner, { limit: 1000 });
    expect(snap.count).toBe(snap.reservations.length);
    expect(snap.usage).toEqual(sum(snap.reservations.map((r) => r.amounts)));
    return snap.usage;
  };

  describe(`ReservationStore contract: ${name}`, () => {
    beforeAll(async () => {
      store = await open();
    });
    afterAll(() => session.closeAll());

    describe('reserve and release', () => {
      test('reserves within limits and records usage, creation and expiry on the store clock', async () => {
        const owner = uniqueName('o');
        const out = await reserve(store, owner, 'r1', amounts(300, 20, 7), { compute: 1000, storage: 100, network: 10 }, 60_000);
        expect(out.status).toBe('reserved');
        if (out.status !== 'reserved') return;
        expect(out.reservation).toMatchObject({ owner, id: 'r1', amounts: amounts(300, 20, 7) });
        expect(out.reservation.expiresAt - out.reservation.createdAt).toBe(60_000);
        expect(out.usage).toEqual(amounts(300, 20, 7));
        expect(out.expired).toBe(0);
        const snap = await store.snapshot(owner);
        expect(snap.count).toBe(1);
        expect(snap.reservations).toEqual([out.reservation]);
        expect(snap.now).toBeGreaterThanOrEqual(out.reservation.createdAt);
      });

      test('refuses what would cross a limit, per resource, and changes nothing', async () => {
        const owner = uniqueName('o');
        const limits = { compute: 1000, storage: 50, network: null };
        await reserve(store, owner, 'a', amounts(600, 40, 1_000_000), limits);
        const compute = await reserve(store, owner, 'b', amounts(401), limits);
        expect(compute).toEqual({ status: 'exceeded', usage: amounts(600, 40, 1_000_000), expired: 0 });
        expect((await reserve(store, owner, 'c', amounts(0, 11), limits)).status).toBe('exceeded');
        expect((await reserve(store, owner, 'd', amounts(400, 10, 5_000_000), limits)).status).toBe('reserved');
        expect(await expectConsistent(store, owner)).toEqual(amounts(1000, 50, 6_000_000));
      });

      test('lets a zero amount through even above a lowered limit', async () => {
        const owner = uniqueName('o');
        await reserve(store, owner, 'a', amounts(500, 5), computeLimit(1000));
        expect((await reserve(store, owner, 'b', amounts(0, 5), computeLimit(100))).status).toBe('reserved');
        expect((await reserve(store, owner, 'c', amounts(1), computeLimit(100))).status).toBe('exceeded');
      });

      test('treats the id as an idempotency key: same amounts → existing, other amounts → mismatch', async () => {
        const owner = uniqueName('o');
        const first = await reserve(store, owner, 'job', amounts(100), computeLimit(150));
        const again = await reserve(store, owner, 'job', amounts(100), computeLimit(150));
        expect(again.status).toBe('existing');
        if (first.status !== 'reserved' || again.status !== 'existing') return;
        expect(again.reservation).toEqual(first.reservation);
        expect(again.usage).toEqual(amounts(100));
        const other = await reserve(store, owner, 'job', amounts(120), computeLimit(150));
        expect(other.status).toBe('mismatch');
        expect(other.usage).toEqual(amounts(100));
      });

      test('release returns the amounts; releasing again is harmless', async () => {
        const owner = uniqueName('o');
        await reserve(store, owner, 'a', amounts(100, 1, 2));
        await reserve(store, owner, 'b', amounts(50));
        expect(await store.release(owner, 'a')).toEqual({ released: true, usage: amounts(50), expired: 0 });
        expect(await store.release(owner, 'a')).toEqual({ released: false, usage: amounts(50), expired: 0 });
        expect((await store.release(uniqueName('o'), 'x')).released).toBe(false);
        await expectConsistent(store, owner);
      });

      test('an id may be reused once released', async () => {
        const owner = uniqueName('o');
        await reserve(store, owner, 'a', amounts(100));
        await store.release(owner, 'a');
        expect((await reserve(store, owner, 'a', amounts(70))).status).toBe('reserved');
        expect((await store.snapshot(owner)).usage).toEqual(amounts(70));
      });

      test('keeps owners independent', async () => {
        const [a, b] = [uniqueName('o'), uniqueName('o')];
        await reserve(store, a, 'x', amounts(90), computeLimit(100));
        expect((await reserve(store, b, 'x', amounts(90), computeLimit(100))).status).toBe('reserved');
        expect((await store.snapshot(a)).usage).toEqual(amounts(90));
      });

      test('lists reservations in id order, at most the limit, with the full count', async () => {
        const owner = uniqueName('o');
        const ids = ['b', 'a', 'é', 'A', 'z', '\u{1F600}', 'ab'];
        for (const id of ids) await reserve(store, owner, id, amounts(1));
        const snap = await store.snapshot(owner, { limit: 4 });
        expect(snap.count).toBe(ids.length);
        expect(snap.reservations.map((r) => r.id)).toEqual(['A', 'a', 'ab', 'b']);
        expect((await store.snapshot(owner, { limit: 1000 })).reservations.map((r) => r.id).slice(4)).toEqual(['z', 'é', '\u{1F600}']);
        expect(snap.usage).toEqual(amounts(ids.length));
      });
    });

    describe('leases', () => {
      test('an expired reservation is gone for every operation and its amounts return', async () => {
        const owner = uniqueName('o');
        await reserve(store, owner, 'short', amounts(700), computeLimit(1000), shortLease);
        await reserve(store, owner, 'long', amounts(100), computeLimit(1000));
        expect((await reserve(store, owner, 'x', amounts(300), computeLimit(1000))).status).toBe('exceeded');
        await passTime(shortLease + (harness.clock ? 0 : 150));
        const out = await reserve(store, owner, 'x', amounts(300), computeLimit(1000));
        expect(out.status).toBe('reserved');
        expect(out.usage).toEqual(amounts(400));
        expect((await store.renew(owner, 'short', 1000)).reservation).toBeNull();
        expect(await expectConsistent(store, owner)).toEqual(amounts(400));
      });

      test('renew moves the expiry from now, so a heartbeat keeps a reservation alive', async () => {
        const owner = uniqueName('o');
        const first = await reserve(store, owner, 'hb', amounts(10), computeLimit(null), shortLease * 2);
        for (let i = 0; i < 3; i++) {
          await passTime(shortLease);
          const renewed = await store.renew(owner, 'hb', shortLease * 2);
          expect(renewed.reservation).not.toBeNull();
          expect(renewed.reservation!.expiresAt).toBeGreaterThan(first.status === 'reserved' ? first.reservation.expiresAt : 0);
          expect(renewed.usage).toEqual(amounts(10));
        }
        expect((await store.snapshot(owner)).count).toBe(1);
        expect((await store.renew(owner, 'missing', 1000)).reservation).toBeNull();
      });

      test('the reservations of a holder that stopped renewing all return after the lease', async () => {
        const owner = uniqueName('o');
        const dying = await open();
        for (let i = 0; i < 10; i++) await reserve(dying, owner, `d${i}`, amounts(10, 1), computeLimit(1000), shortLease);
        await reserve(store, owner, 'kept', amounts(5), computeLimit(1000));
        expect((await store.snapshot(owner)).usage).toEqual(amounts(105, 10));
        await passTime(shortLease + (harness.clock ? 0 : 150));
        const snap = await store.snapshot(owner);
        expect(snap.usage).toEqual(amounts(5));
        expect(snap.reservations.map((r) => r.id)).toEqual(['kept']);
      });
    });

    describe('concurrency', () => {
      slowTest('concurrent reservations from separate handles never cross the limit, nor refuse what fits', async () => {
        const owner = uniqueName('o');
        const parallel = await Promise.all([open(), open(), open(), open()]);
        const count = scaled(options, 200);
        const limit = 1000;
        const wanted = Array.from({ length: count }, (_, i) => 5 + ((i * 7) % 11));
        const results = await runConcurrently(count, 64, (i) => reserve(parallel[i % 4]!, owner, `r${i}`, amounts(wanted[i]!, 1), computeLimit(limit)));
        const granted = results.reduce((total, r, i) => total + (r.status === 'reserved' ? wanted[i]! : 0), 0);
        const usage = await expectConsistent(store, owner);
        expect(usage.compute).toBe(granted);
        expect(usage.compute).toBeLessThanOrEqual(limit);
        expect(usage.storage).toBe(results.filter((r) => r.status === 'reserved').length);
        // Usage only grew, so every refused request would not fit even now.
        results.forEach((r, i) => {
          if (r.status === 'exceeded') expect(wanted[i]!).toBeGreaterThan(limit - usage.compute);
        });
        for (const r of results) if (r.status !== 'exceeded') expect(r.usage.compute).toBeLessThanOrEqual(limit);
      });

      slowTest('usage equals the sum of live reservations after concurrent reserves, releases and retries', async () => {
        const owner = uniqueName('o');
        const parallel = await Promise.all([open(), open(), open()]);
        const n = scaled(options, 120);
        const outcomes: ReserveOutcome[] = await runConcurrently(n, 32, async (i) => {
          const s = parallel[i % 3]!;
          const id = `r${i % 40}`;
          const out = await reserve(s, owner, id, amounts(1 + (i % 40), i % 3), computeLimit(400));
          if (i % 4 === 0) await s.release(owner, id);
          return out;
        });
        expect(outcomes.length).toBe(n);
        const usage = await expectConsistent(store, owner);
        expect(usage.compute).toBeLessThanOrEqual(400);
      });
    });

    describe('validation and lifecycle', () => {
      test('rejects malformed requests with VALIDATION_FAILED and touches nothing', async () => {
        const owner = uniqueName('o');
        const ok = { owner, id: 'a', amounts: amounts(1), limits: computeLimit(10), leaseMs: 1000 };
        const bad: unknown[] = [
          { ...ok, owner: '' },
          { ...ok, id: 'x'.repeat(257) },
          { ...ok, id: 'a\nb' },
          { ...ok, amounts: amounts(-1) },
          { ...ok, amounts: amounts(1.5) },
          { ...ok, amounts: { compute: 1, storage: 0 } },
          { ...ok, limits: { compute: -1, storage: null, network: null } },
          { ...ok, leaseMs: 0 },
          { ...ok, leaseMs: 31 * 24 * 3600 * 1000 },
          { ...ok, extra: true },
        ];
        for (const request of bad) expect((await caught(() => store.reserve(request as never))).code).toBe('VALIDATION_FAILED');
        expect((await caught(() => store.renew(owner, 'a', 0))).code).toBe('VALIDATION_FAILED');
        expect((await caught(() => store.release('', 'a'))).code).toBe('VALIDATION_FAILED');
        expect((await caught(() => store.snapshot(owner, { limit: 0 }))).code).toBe('VALIDATION_FAILED');
        expect((await store.snapshot(owner)).count).toBe(0);
      });

      const outageName = 'fails with ADAPTER_UNAVAILABLE while the backend is unreachable, and recovers';
      if (!harness.outage) {
        contractTest({ skip: [{ test: outageName, reason: 'the backend has no server to lose' }] })(outageName, async () => undefined);
      } else {
        const outage = harness.outage;
        slowTest(outageName, async () => {
          const owner = uniqueName('o');
          const handle = await open();
          await reserve(handle, owner, 'before', amounts(1));
          await outage.interrupt();
          try {
            expect((await caught(() => reserve(handle, owner, 'during', amounts(1)))).code).toBe('ADAPTER_UNAVAILABLE');
          } finally {
            await outage.restore();
          }
          const snap = await waitFor(async () => handle.snapshot(owner), { timeoutMs: 15_000, what: 'recovery' });
          expect(snap.reservations.map((r) => r.id)).toContain('before');
          expect(snap.usage).toEqual(sum(snap.reservations.map((r) => r.amounts)));
        });
      }

      test('fails with ADAPTER_CLOSED after close', async () => {
        const handle = await open();
        await handle.close();
        await handle.close();
        expect((await caught(() => handle.snapshot('x'))).code).toBe('ADAPTER_CLOSED');
      });
    });

    describe('random operation sequences', () => {
      for (const seed of sequenceSeeds('RESERVATION')) {
        slowTest(`seed ${seed}: every outcome matches the memory reference (statuses, usage, listings in code point order, errors)`, async () => {
          await runReservationSequence(store, seed, sequenceSteps('RESERVATION', scaled(options, 300)), uniqueName('seq'));
        });
      }
    });
  });
}
