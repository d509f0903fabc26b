import { expect } from 'vitest';
import { ManualClock } from '../../core/clock.js';
import { isFabricaError } from '../../core/errors.js';
import type { JsonValue } from '../storage.js';
import type { ClaimedTask, EnqueueRequest, QueueAdapter, Task, TaskBand, TaskLease, TaskListQuery, TaskUpdate } from '../queue.js';
import { TASK_BANDS } from '../queue.js';
import { createMemoryQueue, MemoryQueueState } from '../memory/queue.js';
import { mulberry32 } from './random.js';

/**
 * Random operation sequences against a reference: the backend under test and a fresh memory
 * queue get the same calls, and every outcome must match — claimed tasks and their serving order,
 * states, attempts, error codes, counts and histories. The scenario tests of the contract each
 * check one rule; interleavings (an assign after a release, a cancel between a claim and a
 * failure, a key reused after a delete) are where backends written three times drift apart.
 *
 * Only what does not depend on time is drawn: the reference runs on a frozen clock while a
 * server's runs on, so there are no delays, no aging, no rate caps and no lease expiry (leases of
 * ten minutes; retries with `retryInMs: 0`). Costs are fixed per tenant and weights are binary
 * fractions, so every backend's virtual times are exact and ties break alike (the PostgreSQL claim
 * spaces a tenant's tags by one cost per claim: exact when a tenant's tasks cost alike).
 * @internal
 */

/** A run: its seed, so a failure can be replayed with `FABRICA_QUEUE_SEQUENCE_SEED`, and its length. */
export interface SequenceRun {
  readonly seed: number;
  readonly steps: number;
  /**
   * A clock the test controls on the backend under test (a PostgreSQL schema whose `queue_now()`
   * reads a table, say). With it the sequences also draw time: delays, short leases that expire,
   * retries and hand-backs after a pause, aging, rate caps, retention, and compare every
   * timestamp and `nextInMs`.
   */
  readonly time?: SequenceTime;
  /** Called after each step with the reference queue's state, to trace a divergence. */
  readonly afterStep?: (step: number, reference: MemoryQueueState) => Promise<void>;
}

/** The backend's clock, as {@link SequenceRun.time} moves it. @internal */
export interface SequenceTime {
  /** Where the clocks start, epoch ms. */
  readonly start: number;
  /** Sets the backend's clock to `now` (epoch ms). */
  set(now: number): Promise<void>;
}

const TENANTS = [
  { id: 'ta', weight: 1, cost: 1, maxConcurrency: null },
  { id: 'tb', weight: 2, cost: 2, maxConcurrency: null },
  { id: 'tc', weight: 4, cost: 1, maxConcurrency: 2 },
  { id: 'td', weight: 0.5, cost: 1, maxConcurrency: null },
  // Never configured: the memory queue forgets such a tenant's state whenever it goes idle.
  { id: 'te', weight: null, cost: 1, maxConcurrency: null },
] as const;
const WORKERS = ['w1', 'w2', 'w3'] as const;
const LEASE_MS = 600_000;

/** One task as both queues know it: its reference id and backend id, and the leases handed out for it. */
interface Known {
  readonly ref: string;
  readonly sut: string;
  /** Leases of past and current deliveries, [reference, backend], newest last. */
  readonly leases: [TaskLease, TaskLease][];
}

/** What a call came to, in terms both queues share (reference ids, no times, no tokens). */
type Outcome = { readonly ok: unknown } | { readonly error: string; readonly reason?: unknown; readonly state?: unknown };

/**
 * Runs one random sequence of `run.steps` operations on a queue (each call on one of `handles`,
 * all opened on that queue) and on a fresh memory queue, and fails at the first outcome that
 * differs, naming the seed, the step and the operations that led there.
 * @internal
 */
export async function runQueueSequence(handles: readonly QueueAdapter[], run: SequenceRun): Promise<void> {
  const time = run.time;
  const clock = new ManualClock(time?.start ?? Date.UTC(2026, 0, 1));
  await time?.set(clock.now());
  const referenceState = new MemoryQueueState();
  const reference = createMemoryQueue({ state: referenceState, queue: 'reference', clock });
  await reference.init();
  const next = mulberry32(run.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const known: Known[] = [];
  const bySut = new Map<string, Known>();
  const log: string[] = [];
  let payloads = 0;

  const refOf = (sutId: string): string => bySut.get(sutId)?.ref ?? `unknown:${sutId}`;
  const sameStep = (step: number, what: string, got: Outcome, want: Outcome, task?: string): void => {
    log.push(`${step}: ${what} → ${JSON.stringify(want)}`);
    if (JSON.stringify(got) === JSON.stringify(want)) return;
    // The last operations, and every earlier one that named the task this one is about.
    const about = task === undefined ? [] : log.slice(1, -12).filter((line) => line.includes(task));
    const story = [log[0]!, ...about, ...(about.length > 0 ? ['…'] : []), ...log.slice(-12)].join('\n');
    expect(got, `seed ${run.seed}, step ${step}: ${what}\noperations (replay: FABRICA_QUEUE_SEQUENCE_SEED=${run.seed}):\n${story}`).toEqual(want);
  };
  /** Runs `op` on both queues; outcomes are mapped by `view` (from the backend's side, ids translated). */
  const both = async <T>(
    step: number,
    what: string,
    op: (q: QueueAdapter, side: 0 | 1) => Promise<T>,
    view: (value: T, side: 0 | 1) => unknown,
    task?: string,
  ): Promise<[T | undefined, T | undefined]> => {
    // Any handle on the queue under test: they share its tasks, whatever each caches.
    const sut = pick(handles);
    const settle = async (side: 0 | 1): Promise<[Outcome, T | undefined]> => {
      try {
        const value = await op(side === 0 ? reference : sut, side);
        return [{ ok: view(value, side) }, value];
      } catch (err) {
        if (!isFabricaError(err)) throw err;
        const details = err.details as { reason?: unknown; state?: unknown } | undefined;
        return [{ error: err.code, ...(details?.reason === undefined ? {} : { reason: details.reason }), ...(details?.state === undefined ? {} : { state: details.state }) }, undefined];
      }
    };
    const [want, refValue] = await settle(0);
    const [got, sutValue] = await settle(1);
    sameStep(step, what, got, want, task);
    return [refValue, sutValue];
  };
  const updateView = (u: TaskUpdate, side: 0 | 1) => ({
    task: side === 0 ? u.taskId : refOf(u.taskId),
    state: u.state,
    attempt: u.attempt,
    reason: u.reason ?? null,
    ...(time === undefined ? {} : { at: u.at, readyAt: u.readyAt ?? null }),
  });
  /** Updates in task order: the order of reaped leases is not part of the contract. */
  const byTask = <U extends { readonly task: string }>(updates: U[]): U[] => updates.sort((a, b) => (a.task < b.task ? -1 : a.task > b.task ? 1 : 0));
  const claimedView = (t: ClaimedTask, side: 0 | 1) => ({ task: side === 0 ? t.id : refOf(t.id), attempt: t.attempt, band: t.effectiveBand, tenant: t.tenantId });
  const taskView = (t: Task | null, side: 0 | 1) =>
    t === null
      ? null
      : {
          task: side === 0 ? t.id : refOf(t.id),
          state: t.state,
          attempt: t.attempt,
          owner: t.ownerId,
          band: t.band,
          effectiveBand: t.effectiveBand,
          workerId: t.workerId,
          leased: t.leaseExpiresAt !== null,
          result: t.result,
          error: t.error?.code ?? null,
          history: t.history.map((h) => [h.state, h.attempt, h.workerId ?? null, h.reason ?? null, ...(time === undefined ? [] : [h.at])]),
          ...(time === undefined ? {} : { readyAt: t.readyAt, updatedAt: t.updatedAt, leaseExpiresAt: t.leaseExpiresAt, createdAt: t.createdAt }),
        };

  // Each seed draws the queue's settings too: a global cap or none, finished tasks kept or
  // removed at once; with time, aging. (Not a retention that runs out during the run: when a task
  // past it disappears is each backend's choice — at a claim, a completion or maintenance.)
  const settings = time === undefined
    ? { agingMs: null, maxConcurrency: pick([null, 6, 3]), retentionMs: pick([3_600_000, 3_600_000, 0]) }
    : { agingMs: pick([null, 3_000, 20_000]), maxConcurrency: pick([null, 6, 3]), retentionMs: pick([3_600_000, 0]), failedRetentionMs: pick([null, 0]) };
  /** A duration: `fixed` without time, else one of `drawn`. */
  const ms = (fixed: number, drawn: readonly number[]): number => (time === undefined ? fixed : pick(drawn));
  log.push(`settings: ${JSON.stringify(settings)}`);
  for (const q of [reference, handles[0]!]) {
    await q.configure(settings);
    for (const t of TENANTS) if (t.weight !== null) await q.setTenant(t.id, { weight: t.weight, maxConcurrency: t.maxConcurrency });
  }

  for (let step = 0; step < run.steps; step++) {
    const roll = next();
    const live = known.filter((k) => k.leases.length > 0);
    if (time !== undefined && next() < 0.1) {
      const by = pick([50, 400, 1_000, 3_000, 12_000]);
      clock.advance(by);
      await time.set(clock.now());
      log.push(`${step}: time +${by} ms`);
    } else if (roll < 0.22 || known.length === 0) {
      // Enqueue a batch of 1–4, sometimes with an idempotency key from a small pool (duplicates, and reuse after a delete).
      const requests: EnqueueRequest[] = Array.from({ length: 1 + Math.floor(next() * 4) }, () => {
        const tenant = pick(TENANTS);
        const keyed = next() < 0.25;
        const owner = pick([null, 'u1', 'u2']);
        return {
          type: pick(['render', 'encode']),
          tenantId: tenant.id,
          ...(owner === null ? {} : { ownerId: owner }),
          payload: payloads++,
          band: pick<TaskBand>(TASK_BANDS),
          priority: pick([-5, 0, 0, 3]),
          cost: tenant.cost,
          maxAttempts: 1 + Math.floor(next() * 3),
          ...(time !== undefined && next() < 0.3 ? { delayMs: pick([300, 2_000, 8_000]) } : {}),
          ...(keyed ? { idempotencyKey: `k${Math.floor(next() * 5)}` } : {}),
        };
      });
      // Now and then one request of the batch is malformed: nothing of the batch may be stored
      // (the next counts and the final listings would show it).
      if (next() < 0.06) requests.splice(Math.floor(next() * (requests.length + 1)), 0, { type: 'bad type!', tenantId: pick(TENANTS).id, payload: null });
      const [ref, got] = await both(step, `enqueueMany(${requests.length})`, (q) => q.enqueueMany(requests), (rs, side) =>
        // A created task's id is new on each side; a duplicate's is the existing task's, or the
        // position of the request that created it earlier in this batch.
        rs.map((r, i) => {
          const earlier = rs.findIndex((o) => o.created && o.task.taskId === r.task.taskId);
          const task = r.created ? 'new' : earlier >= 0 && earlier < i ? `batch#${earlier}` : side === 0 ? r.task.taskId : refOf(r.task.taskId);
          return { created: r.created, state: r.task.state, task };
        }),
      );
      if (ref !== undefined && got !== undefined) {
        for (const [i, r] of ref.entries()) {
          if (!r.created) continue;
          const k: Known = { ref: r.task.taskId, sut: got[i]!.task.taskId, leases: [] };
          known.push(k);
          bySut.set(k.sut, k);
        }
      }
    } else if (roll < 0.42) {
      const worker = pick(WORKERS);
      const limit = 1 + Math.floor(next() * 5);
      const leaseMs = ms(LEASE_MS, [1_000, 4_000, LEASE_MS]);
      const [ref, got] = await both(step, `claim(${worker}, ${limit}, ${leaseMs})`, (q) => q.claim(worker, limit, leaseMs), (r, side) => ({
        tasks: r.tasks.map((t) => claimedView(t, side)),
        reaped: time === undefined ? r.reaped.length : byTask(r.reaped.map((u) => updateView(u, side))),
        ...(time === undefined ? {} : { nextInMs: r.nextInMs }),
      }));
      if (ref !== undefined && got !== undefined) {
        for (const [i, t] of got.tasks.entries()) bySut.get(t.id)?.leases.push([ref.tasks[i]!.lease, t.lease]);
      }
    } else if (roll < 0.72 && live.length > 0) {
      // Act on a delivery: usually the current one, sometimes a stale one (fencing).
      const k = pick(live);
      const which = next() < 0.85 ? k.leases.length - 1 : Math.floor(next() * k.leases.length);
      const [refLease, sutLease] = k.leases[which]!;
      const lease = (side: 0 | 1): TaskLease => (side === 0 ? refLease : sutLease);
      const action = next();
      const label = `${k.ref} lease #${which + 1}/${k.leases.length}`;
      if (action < 0.4) {
        const result: JsonValue = { done: k.ref };
        await both(step, `complete(${label})`, (q, side) => q.complete(lease(side), result), updateView, k.ref);
      } else if (action < 0.65) {
        const final = next() < 0.3;
        const retryInMs = ms(0, [0, 0, 1_500]);
        await both(step, `fail(${label}, final ${final}, retry in ${retryInMs})`, (q, side) => q.fail(lease(side), { error: { code: 'E_RANDOM', message: 'drawn' }, retryInMs, final }), updateView, k.ref);
      } else if (action < 0.85) {
        const delayMs = ms(0, [0, 800]);
        await both(step, `release(${label}, ${delayMs})`, (q, side) => q.release(lease(side), { delayMs }), updateView, k.ref);
      } else {
        const leaseMs = ms(LEASE_MS, [1_000, LEASE_MS]);
        const [ref, got] = await both(step, `extend(${label}, ${leaseMs})`, (q, side) => q.extend(lease(side), leaseMs, { at: step }), (l) => ({
          attempt: l.attempt,
          worker: l.workerId,
          ...(time === undefined ? {} : { expiresAt: l.expiresAt }),
        }), k.ref);
        // A renewed lease is the delivery's lease from now on (its token may be new on some backends).
        if (ref !== undefined && got !== undefined) k.leases.push([ref, got]);
      }
    } else if (roll < 0.8) {
      const k = pick(known);
      const worker = pick(WORKERS);
      const leaseMs = ms(LEASE_MS, [1_000, LEASE_MS]);
      const [ref, got] = await both(step, `assign(${k.ref}, ${worker}, ${leaseMs})`, (q, side) => q.assign(side === 0 ? k.ref : k.sut, worker, leaseMs), (r, side) => updateView(r.update, side), k.ref);
      if (ref !== undefined && got !== undefined) k.leases.push([ref.lease, got.lease]);
    } else if (roll < 0.87) {
      const k = pick(known);
      await both(step, `cancel(${k.ref})`, (q, side) => q.cancel(side === 0 ? k.ref : k.sut), updateView, k.ref);
    } else if (roll < 0.91) {
      const k = pick(known);
      await both(step, `delete(${k.ref})`, (q, side) => q.delete(side === 0 ? k.ref : k.sut), (deleted) => deleted, k.ref);
    } else if (roll < 0.94) {
      const k = pick(known);
      await both(step, `get(${k.ref})`, (q, side) => q.get(side === 0 ? k.ref : k.sut), taskView, k.ref);
    } else if (roll < 0.955) {
      // An operator changes the queue's cap (and, with time, its aging) while tasks wait and run.
      const change = { maxConcurrency: pick([null, 2, 6]), ...(time === undefined ? {} : { agingMs: pick([null, 3_000, 20_000]) }) };
      await both(step, `configure(${JSON.stringify(change)})`, (q) => q.configure(change), (p) => p);
    } else if (roll < 0.97) {
      // An operator changes a configured tenant's weight or cap while its tasks wait and run.
      const tenant = pick(TENANTS.filter((t) => t.weight !== null));
      const change = {
        weight: pick([0.5, 1, 2, 4]),
        maxConcurrency: pick([null, 1, 2]),
        // 2.5 per second: every refill over the drawn pauses (multiples of 50 ms) is a multiple of
        // 1/8 token, exact in binary floating point. Backends refill at different moments (on
        // each look, or on each pick), and with inexact steps the sums drift by an ulp, which at
        // a token's edge moves \`nextInMs\` by 1 ms.
        ...(time === undefined ? {} : { ratePerSecond: pick([null, null, 2.5]), burst: pick([1, 3]) }),
      };
      await both(step, `setTenant(${tenant.id}, ${JSON.stringify(change)})`, (q) => q.setTenant(tenant.id, change), (p) => p);
    } else {
      // Without time nothing expires (ten-minute leases, no delays): maintenance finds nothing to do.
      await both(step, 'reapExpired()', (q) => q.reapExpired(), (r, side) => ({ updates: byTask(r.updates.map((u) => updateView(u, side))), purged: r.purged }));
    }
    await run.afterStep?.(step, referenceState);
    if (step % 25 === 24 || step === run.steps - 1) {
      await both(step, 'stats()', (q) => q.stats(), (s) => ({
        counts: s.counts,
        groups: [...s.groups].sort((a, b) => (a.tenantId + a.type < b.tenantId + b.type ? -1 : 1)),
        tenants: s.tenants.map((t) => ({ tenantId: t.tenantId, ready: t.ready, leased: t.leased, ...(time === undefined ? {} : { unservedMs: t.unservedMs }) })),
        ...(time === undefined ? {} : { at: s.at, oldestReadyAt: s.oldestReadyAt }),
      }));
    }
  }
  // Every task, whole; then each tenant's listing, page by page.
  for (const k of known) await both(run.steps, `get(${k.ref})`, (q, side) => q.get(side === 0 ? k.ref : k.sut), taskView, k.ref);
  const filters: readonly Omit<TaskListQuery, 'tenantId'>[] = [{}, { state: 'queued' }, { state: 'running' }, { type: 'encode' }, { ownerId: 'u1' }, { state: 'completed', ownerId: 'u2' }];
  for (const tenant of TENANTS) {
    for (const filter of filters) {
      await both(run.steps, `list(${tenant.id}, ${JSON.stringify(filter)})`, async (q) => {
        const ids: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await q.list({ tenantId: tenant.id, ...filter, limit: 7, ...(cursor === undefined ? {} : { cursor }) });
          ids.push(...page.items.map((t) => t.id));
          cursor = page.cursor ?? undefined;
        } while (cursor !== undefined);
        return ids;
        // By id ascending, each once, on either side; ids from several handles need not follow
        // creation order (each handle mints its own), so the sets are compared, not the orders.
      }, (ids, side) => ({
        ascending: ids.every((id, i) => i === 0 || ids[i - 1]! < id),
        tasks: (side === 0 ? [...ids] : ids.map(refOf)).sort(),
      }));
    }
  }
  await reference.close();
}
