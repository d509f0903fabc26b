import { compareKeys } from '../../adapters/internal/order.js';
import type { TenantPolicy, TenantQueueState } from '../../adapters/queue.js';
import { IndexedHeap, KeyedHeap, OrderedHeap, type HeapPositions, type OrderedHeapItem } from './heap.js';
import { msUntilToken, refillTokens } from './rate.js';

/**
 * The fair scheduling policy of DESIGN "Fair scheduling (tasks)" as a pure, synchronous data
 * structure: no I/O, no timers, time passed in. The memory queue runs it as is; the PostgreSQL
 * function and the Redis script restate the same rules, and the conformance suite holds all three
 * to them.
 *
 * Decision on every pick:
 * 1. Band: the highest band (0 = critical … 3 = low) holding an eligible tenant. A ready task is
 *    promoted one band each `agingMs` it waits (from `readyAt`), so a low task reaches `critical`
 *    after at most 3 × `agingMs`: no starvation.
 * 2. Tenant: weighted start-time fair queueing. Each (tenant, band) has a virtual time `vtime`;
 *    the tenant with the smallest start tag `S = max(vtime, V_band)` (ties: tenant id, code point
 *    order) goes next; then `V_band = S` and `vtime = S + cost / weight`. A tenant that was idle,
 *    delayed or capped re-enters at `V_band`, so waiting earns no burst, and tenants re-entering
 *    together go by id, however long each waited; the service gap between two backlogged tenants
 *    stays within one task's cost / weight each.
 * 3. Task: within the tenant and band, higher priority first, then FIFO (enqueue sequence).
 * 4. Caps: the global `maxConcurrency` bounds leased tasks; a tenant at its concurrency cap or
 *    out of rate tokens is skipped for the rest of the pick, never blocking others.
 *
 * Every operation is O(log n) in the queued tasks (plus O(log t) in the tenants of a band).
 */

/**
 * Scheduling fields of a task; the memory queue's task record carries them.
 *
 * @example
 * ```ts
 * import { PLACE, type FairTask } from 'digital-fabrica/tasks';
 * const task: FairTask = {
 *   id: 't1', tenantId: 'acme', priority: 0, seq: 1, cost: 1, originalBand: 2, band: 2,
 *   readyAt: 0, promoteAt: Infinity, place: PLACE.none, qpos: -1,
 * };
 * ```
 */
export interface FairTask extends HeapPositions {
  readonly id: string;
  readonly tenantId: string;
  /** Higher first, −1000…1000. */
  readonly priority: number;
  /** Enqueue order (unique, increasing). */
  readonly seq: number;
  /** Charged to the tenant's virtual time (> 0). */
  readonly cost: number;
  /** Band rank the task was enqueued with (0 = critical). */
  readonly originalBand: number;
  /** Current band rank, after aging. */
  band: number;
  /** When the task became (or becomes) claimable. */
  readonly readyAt: number;
  /** When aging promotes it next (`Infinity`: never). Maintained by the queue. */
  promoteAt: number;
  /** Where the policy holds it: 0 nowhere (leased or finished), 1 ready, 2 delayed. Maintained by the queue. */
  place: number;
}

/**
 * Where a {@link FairTask} is held.
 *
 * @example
 * ```ts
 * import { PLACE, type FairTask } from 'digital-fabrica/tasks';
 * const queued = (t: FairTask) => t.place !== PLACE.none;
 * ```
 */
export const PLACE = Object.freeze({ none: 0, ready: 1, delayed: 2 });

/**
 * Number of bands (critical, high, normal, low).
 *
 * @example
 * ```ts
 * import { BAND_COUNT } from 'digital-fabrica/tasks';
 * console.log(BAND_COUNT); // 4
 * ```
 */
export const BAND_COUNT = 4;

/**
 * Most delayed tasks activated, and most tasks promoted, by one claim: bounds its work. Every
 * backend uses the same bound.
 *
 * @example
 * ```ts
 * import { MAINTENANCE_BATCH } from 'digital-fabrica/tasks';
 * console.log(MAINTENANCE_BATCH); // 1000
 * ```
 */
export const MAINTENANCE_BATCH = 1000;

/**
 * The total order of tasks within one (tenant, band): higher priority, then lower sequence.
 * `(1000 - priority) * 2^42 + seq` is exact in a double for seq < 2^42; the Redis backend uses the
 * same number as its sorted-set score.
 *
 * @example
 * ```ts
 * import { taskOrderKey } from 'digital-fabrica/tasks';
 * taskOrderKey(10, 5) < taskOrderKey(0, 1); // true: priority first
 * ```
 */
export function taskOrderKey(priority: number, seq: number): number {
  return (1000 - priority) * 4398046511104 + seq;
}

/**
 * Queue-wide settings of the policy.
 *
 * @example
 * ```ts
 * import { FairQueue, type FairQueueOptions, type FairTask } from 'digital-fabrica/tasks';
 * const options: FairQueueOptions = { agingMs: 60_000, maxConcurrency: 100 };
 * const queue = new FairQueue<FairTask>(options);
 * ```
 */
export interface FairQueueOptions {
  /** Promotion interval, ms; `null` disables aging. */
  readonly agingMs: number | null;
  /** Max leased tasks; `null`: unlimited. */
  readonly maxConcurrency: number | null;
}

/**
 * Counts and waits reported by {@link FairQueue.snapshot}.
 *
 * @example
 * ```ts
 * import { FairQueue, type FairQueueSnapshot, type FairTask } from 'digital-fabrica/tasks';
 * const snapshot: FairQueueSnapshot = new FairQueue<FairTask>({ agingMs: null, maxConcurrency: null }).snapshot(Date.now());
 * console.log(snapshot.ready, snapshot.leased);
 * ```
 */
export interface FairQueueSnapshot {
  readonly ready: number;
  readonly delayed: number;
  readonly leased: number;
  readonly oldestReadyAt: number | null;
  readonly tenants: readonly TenantQueueState[];
}

interface TenantState<T extends FairTask> {
  readonly id: string;
  policy: TenantPolicy;
  tokens: number;
  tokensAt: number;
  leased: number;
  ready: number;
  readonly bands: (TenantBand<T> | undefined)[];
}

interface TenantBand<T extends FairTask> extends OrderedHeapItem {
  readonly tenant: TenantState<T>;
  readonly band: number;
  vtime: number;
  /**
   * The tenant's ready tasks in this band, by priority then FIFO. Lazy deletion: a task that left
   * (cancelled, promoted, assigned) stays until it surfaces and is skipped; `ready` counts the live
   * ones, and the heap is cleared when none is left, so stale entries never outlive their band.
   */
  readonly tasks: KeyedHeap<T>;
  ready: number;
  /** When the tenant last went from no ready task to one, in this band. */
  since: number;
  /** Last pick in this band (−Infinity: never). */
  servedAt: number;
}

const DEFAULT_TENANT: TenantPolicy = Object.freeze({ weight: 1, maxConcurrency: null, ratePerSecond: null, burst: 1 });

function lessTenant<T extends FairTask>(a: TenantBand<T>, b: TenantBand<T>): boolean {
  return a.vtime < b.vtime || (a.vtime === b.vtime && compareKeys(a.tenant.id, b.tenant.id) < 0);
}

/**
 * The fair scheduler. Tasks are added when queued, picked by {@link FairQueue.claim}, and their
 * tenant is told when they stop holding a slot ({@link FairQueue.finish}).
 *
 * @example
 * ```ts
 * import { FairQueue, PLACE, type FairTask } from 'digital-fabrica/tasks';
 * const q = new FairQueue<FairTask>({ agingMs: null, maxConcurrency: null });
 * q.setTenant('big', { weight: 2, maxConcurrency: null, ratePerSecond: null, burst: 1 });
 * let seq = 0;
 * const task = (tenantId: string): FairTask => ({
 *   id: `t${seq}`, tenantId, priority: 0, seq: seq++, cost: 1, originalBand: 2, band: 2,
 *   readyAt: 0, promoteAt: Infinity, place: PLACE.none, qpos: -1,
 * });
 * for (let i = 0; i < 6; i++) { q.add(task('big'), 0); q.add(task('small'), 0); }
 * q.claim(6, 0).map((t) => t.tenantId); // 'big' gets two picks for each of 'small'
 * ```
 */
export class FairQueue<T extends FairTask> {
  #agingMs: number | null;
  #maxConcurrency: number | null;
  readonly #bands: OrderedHeap<TenantBand<T>>[] = [];
  readonly #virtual: number[] = [];
  /**
   * Per band (1–3), ready tasks by next promotion time. Lazy deletion again: a task leaving its
   * band only bumps the band's stale count (an indexed removal would cost a cache miss per level
   * on every claim); the heap is compacted once stale entries outnumber live ones, so it never
   * holds more than twice the band's waiting tasks.
   */
  readonly #aging: KeyedHeap<T>[] = [];
  readonly #agingStale: number[] = [];
  readonly #tenants = new Map<string, TenantState<T>>();
  readonly #delayed = new IndexedHeap<T>('qpos');
  #leased = 0;
  #ready = 0;
  /** Tenants with a rate cap (never forgotten: their policy is not the default). */
  readonly #rated = new Set<TenantState<T>>();

  /** @param options aging and the global concurrency cap. */
  constructor(options: FairQueueOptions) {
    this.#agingMs = options.agingMs;
    this.#maxConcurrency = options.maxConcurrency;
    for (let b = 0; b < BAND_COUNT; b++) {
      this.#bands.push(new OrderedHeap<TenantBand<T>>(lessTenant));
      this.#virtual.push(0);
      this.#aging.push(new KeyedHeap<T>());
      this.#agingStale.push(0);
    }
  }

  /** Leased (claimed or held) tasks. */
  get leased(): number {
    return this.#leased;
  }

  /** Ready tasks. */
  get ready(): number {
    return this.#ready;
  }

  /** Delayed tasks. */
  get delayed(): number {
    return this.#delayed.size;
  }

  /** The delayed tasks, in no particular order. */
  delayedTasks(): readonly T[] {
    return this.#delayed.items();
  }

  /** The band's virtual time `V_band` (start tag of its last pick). */
  virtualTime(band: number): number {
    return this.#virtual[band] ?? 0;
  }

  /** A tenant's virtual time in a band (0 when it never queued there). */
  tenantVirtualTime(tenantId: string, band: number): number {
    return this.#tenants.get(tenantId)?.bands[band]?.vtime ?? 0;
  }

  /** Changes aging and the global cap. Aging applies to tasks that become ready afterwards. */
  configure(options: FairQueueOptions): void {
    this.#agingMs = options.agingMs;
    this.#maxConcurrency = options.maxConcurrency;
  }

  /** Sets a tenant's weight and caps. A new rate cap starts with a full bucket. */
  setTenant(tenantId: string, policy: TenantPolicy, now = 0): void {
    const t = this.#tenant(tenantId);
    if (policy.ratePerSecond !== null && (t.policy.ratePerSecond === null || t.policy.burst !== policy.burst)) {
      t.tokens = policy.burst;
      t.tokensAt = now;
    }
    t.policy = policy;
    if (policy.ratePerSecond === null) this.#rated.delete(t);
    else this.#rated.add(t);
  }

  /** A tenant's policy (the default when never set). */
  tenantPolicy(tenantId: string): TenantPolicy {
    return this.#tenants.get(tenantId)?.policy ?? DEFAULT_TENANT;
  }

  /** Queues `task`: ready when `readyAt <= now`, else delayed until then. It must be held nowhere. */
  add(task: T, now: number): void {
    if (task.place !== PLACE.none) throw new RangeError('task is already queued');
    if (task.readyAt > now) {
      task.place = PLACE.delayed;
      this.#delayed.push(task, task.readyAt);
      return;
    }
    this.#makeReady(task, now);
  }

  /** Takes `task` out of the queue (cancel, delete); true when it was queued. */
  remove(task: T): boolean {
    if (task.place === PLACE.ready) {
      this.#leaveBand(task);
      this.#ready -= 1;
      this.#tenant(task.tenantId).ready -= 1;
    } else if (task.place === PLACE.delayed) {
      this.#delayed.remove(task);
    } else {
      return false;
    }
    task.place = PLACE.none;
    return true;
  }

  /** Takes a queued task for an explicit assignment: out of the queue, counted as leased, no virtual time charged. */
  take(task: T): boolean {
    if (!this.remove(task)) return false;
    this.#leased += 1;
    this.#tenant(task.tenantId).leased += 1;
    return true;
  }

  /** A leased task of `tenantId` stopped holding a slot (finished, failed, released, reaped). */
  finish(tenantId: string): void {
    const t = this.#tenants.get(tenantId);
    if (t === undefined || t.leased <= 0) throw new RangeError('finish() without a leased task');
    t.leased -= 1;
    this.#leased -= 1;
    this.#forgetIfIdle(t);
  }

  /**
   * Picks up to `limit` tasks in policy order, after activating due delayed tasks and promoting
   * aged ones. Picked tasks leave the queue and count as leased.
   */
  claim(limit: number, now: number): T[] {
    this.#activate(now);
    this.#promote(now);
    let avail = limit;
    if (this.#maxConcurrency !== null) avail = Math.min(avail, this.#maxConcurrency - this.#leased);
    const out: T[] = [];
    const skipped: TenantBand<T>[] = [];
    let band = 0;
    while (out.length < avail && band < BAND_COUNT) {
      const heap = this.#bands[band]!;
      const tb = heap.peek();
      if (tb === undefined) {
        band += 1;
        continue;
      }
      const t = tb.tenant;
      if (!this.#eligible(t, now)) {
        heap.remove(tb);
        skipped.push(tb);
        continue;
      }
      const task = this.#popLive(tb);
      const start = Math.max(tb.vtime, this.#virtual[band]!);
      this.#virtual[band] = start;
      tb.vtime = start + task.cost / t.policy.weight;
      tb.servedAt = now;
      tb.ready -= 1;
      if (tb.ready === 0) {
        heap.remove(tb);
        tb.tasks.clear();
      } else heap.update(tb);
      this.#agingLeft(band, task);
      task.place = PLACE.none;
      this.#ready -= 1;
      t.ready -= 1;
      t.leased += 1;
      this.#leased += 1;
      if (t.policy.ratePerSecond !== null) t.tokens -= 1;
      out.push(task);
    }
    for (const tb of skipped) this.#pushTenant(tb);
    return out;
  }

  /**
   * The next time something may become claimable without an enqueue: a delayed task's `readyAt`,
   * or the next token of a tenant with ready tasks that only its rate cap holds back (under its
   * concurrency cap, with room under the global one: otherwise a finished task frees the way,
   * and its completion wakes workers anyway). `null` when nothing is scheduled.
   */
  nextEventAt(now: number): number | null {
    let next = this.#delayed.peekKey();
    if (this.#maxConcurrency === null || this.#leased < this.#maxConcurrency) {
      for (const t of this.#rated) {
        const p = t.policy;
        if (t.ready === 0 || p.ratePerSecond === null || (p.maxConcurrency !== null && t.leased >= p.maxConcurrency)) continue;
        const tokens = refillTokens(t.tokens, t.tokensAt, now, p.ratePerSecond, p.burst);
        if (tokens < 1) next = Math.min(next, now + msUntilToken(tokens, p.ratePerSecond));
      }
    }
    return next === Infinity ? null : next;
  }

  /** Counts, the oldest ready task and each active tenant's state. */
  snapshot(now: number): FairQueueSnapshot {
    const tenants: TenantQueueState[] = [];
    for (const t of this.#tenants.values()) {
      if (t.ready === 0 && t.leased === 0) continue;
      let unserved: number | null = null;
      for (const tb of t.bands) {
        if (tb === undefined || tb.ready === 0) continue;
        const waited = now - Math.max(tb.servedAt, tb.since);
        unserved = unserved === null ? waited : Math.max(unserved, waited);
      }
      tenants.push({ tenantId: t.id, ready: t.ready, leased: t.leased, unservedMs: unserved });
    }
    tenants.sort((a, b) => compareKeys(a.tenantId, b.tenantId));
    // A scan rather than a heap by readyAt: snapshots are rare, claims are not, and removing each
    // claimed task from one more heap would tax every claim to speed up the metrics sampler.
    let oldest = Infinity;
    for (const t of this.#tenants.values()) {
      for (const tb of t.bands) {
        if (tb === undefined) continue;
        for (const task of tb.tasks.items()) if (task.readyAt < oldest && this.#live(tb, task)) oldest = task.readyAt;
      }
    }
    return { ready: this.#ready, delayed: this.#delayed.size, leased: this.#leased, oldestReadyAt: oldest === Infinity ? null : oldest, tenants };
  }

  #tenant(tenantId: string): TenantState<T> {
    let t = this.#tenants.get(tenantId);
    if (t === undefined) {
      t = { id: tenantId, policy: DEFAULT_TENANT, tokens: 1, tokensAt: 0, leased: 0, ready: 0, bands: [undefined, undefined, undefined, undefined] };
      this.#tenants.set(tenantId, t);
    }
    return t;
  }

  #eligible(t: TenantState<T>, now: number): boolean {
    const p = t.policy;
    if (p.maxConcurrency !== null && t.leased >= p.maxConcurrency) return false;
    if (p.ratePerSecond !== null) {
      t.tokens = refillTokens(t.tokens, t.tokensAt, now, p.ratePerSecond, p.burst);
      t.tokensAt = Math.max(t.tokensAt, now);
      if (t.tokens < 1) return false;
    }
    return true;
  }

  #makeReady(task: T, now: number): void {
    task.place = PLACE.ready;
    task.promoteAt = this.#agingMs === null ? Infinity : task.readyAt + this.#agingMs;
    this.#ready += 1;
    this.#tenant(task.tenantId).ready += 1;
    this.#enterBand(task, now);
  }

  #enterBand(task: T, now: number): void {
    const t = this.#tenant(task.tenantId);
    let tb = t.bands[task.band];
    if (tb === undefined) {
      tb = { tenant: t, band: task.band, vtime: 0, tasks: new KeyedHeap<T>(), ready: 0, since: now, servedAt: -Infinity, pos: -1 };
      t.bands[task.band] = tb;
    }
    if (tb.ready === 0) {
      tb.since = now;
      this.#pushTenant(tb);
    }
    tb.ready += 1;
    tb.tasks.push(task, taskOrderKey(task.priority, task.seq));
    if (task.band > 0 && task.promoteAt !== Infinity) this.#aging[task.band]!.push(task, task.promoteAt);
  }

  /**
   * Puts a tenant into its band's heap, at its start tag: a virtual time behind the band's (the
   * tenant was idle, or skipped at a cap while others were served) moves up to it. Every tenant
   * in the heap then has `vtime >= V_band`, so the heap's order (vtime, tenant id) is the order of
   * start tags `max(vtime, V_band)`, ties by tenant id, and forgetting an idle tenant
   * (`#forgetIfIdle`) changes nothing a pick can see. `V_band` only grows, and
   * only to the smallest start tag in the heap, so it never passes a tenant in the heap.
   */
  #pushTenant(tb: TenantBand<T>): void {
    const v = this.#virtual[tb.band]!;
    if (tb.vtime < v) tb.vtime = v;
    this.#bands[tb.band]!.push(tb);
  }

  /** Takes a ready task out of its band; its heap entry goes stale (see {@link TenantBand.tasks}). */
  #leaveBand(task: T): void {
    const tb = this.#tenants.get(task.tenantId)!.bands[task.band]!;
    // Marks the entry stale for the band it is in now (promotion changes `band` right after).
    task.place = PLACE.none;
    tb.ready -= 1;
    if (tb.ready === 0) {
      this.#bands[task.band]!.remove(tb);
      tb.tasks.clear();
    }
    this.#agingLeft(task.band, task);
  }

  /** `task` left band `band` other than by promotion: its aging entry, if any, is now stale. */
  #agingLeft(band: number, task: T): void {
    if (band === 0 || task.promoteAt === Infinity) return;
    const heap = this.#aging[band]!;
    const stale = ++this.#agingStale[band]!;
    if (stale > 1024 && stale * 2 > heap.size) {
      heap.retain((t, key) => this.#agingLive(band, t, key));
      this.#agingStale[band] = 0;
    }
  }

  /** Whether an aging entry still stands for a ready task of `band` due at `key`. */
  #agingLive(band: number, task: T, key: number): boolean {
    return task.place === PLACE.ready && task.band === band && task.promoteAt === key;
  }

  /** Whether a heap entry of `tb` is a task still ready in that band. */
  #live(tb: TenantBand<T>, task: T): boolean {
    return task.place === PLACE.ready && task.band === tb.band;
  }

  /** Pops the best live task of `tb` (which holds at least one), discarding stale entries. */
  #popLive(tb: TenantBand<T>): T {
    for (;;) {
      const task = tb.tasks.pop()!;
      if (this.#live(tb, task)) return task;
    }
  }

  #activate(now: number): void {
    for (let budget = MAINTENANCE_BATCH; budget > 0 && this.#delayed.peekKey() <= now; budget--) {
      const task = this.#delayed.pop()!;
      task.place = PLACE.none;
      this.#makeReady(task, now);
    }
  }

  /** Lowest band first, so a task due for several promotions climbs all of them in one pass. */
  #promote(now: number): void {
    let budget = MAINTENANCE_BATCH;
    for (let band = BAND_COUNT - 1; band >= 1; band--) {
      const heap = this.#aging[band]!;
      while (budget > 0 && heap.peekKey() <= now) {
        const key = heap.peekKey();
        const task = heap.pop()!;
        if (!this.#agingLive(band, task, key)) {
          this.#agingStale[band]! -= 1;
          continue;
        }
        budget -= 1;
        // Out of the band without marking its (already popped) aging entry stale.
        const promoteAt = task.promoteAt;
        task.promoteAt = Infinity;
        this.#leaveBand(task);
        task.promoteAt = promoteAt;
        task.band = band - 1;
        task.promoteAt += this.#agingMs ?? Infinity;
        task.place = PLACE.ready;
        this.#enterBand(task, now);
      }
    }
  }

  /** Drops the state of a tenant with nothing queued or leased whose virtual times carry no information. */
  #forgetIfIdle(t: TenantState<T>): void {
    // Delayed tasks hold no reference to tenant state: activation recreates it, with the default policy this requires.
    if (t.ready !== 0 || t.leased !== 0 || t.policy !== DEFAULT_TENANT) return;
    for (let b = 0; b < BAND_COUNT; b++) {
      const tb = t.bands[b];
      // A vtime ahead of the band's clock still holds back a tenant that just had its share.
      if (tb !== undefined && (tb.ready > 0 || tb.vtime > this.#virtual[b]!)) return;
    }
    this.#tenants.delete(t.id);
  }
}
