import type { JsonValue } from '../storage.js';
import type {
  ClaimedTask,
  QueuePolicy,
  Task,
  TaskCounts,
  TaskError,
  TaskGroupCounts,
  TaskHistoryEntry,
  TaskLease,
  TaskState,
  TaskUpdate,
  TaskUpdateReason,
} from '../queue.js';
import { bandName, CLAIM_MAINTENANCE_BATCH, DEFAULT_QUEUE_POLICY, IssuedLease, type ListRequest, type NewTask } from '../internal/queue-requests.js';
import { leaseLostError, taskNotFound, taskStateConflict } from '../internal/queue-errors.js';
import { compareKeys } from '../internal/order.js';
import { FairQueue, PLACE, type FairTask } from '../../tasks/policy/fair-queue.js';
import { IndexedHeap } from '../../tasks/policy/heap.js';

/**
 * The state of one named memory queue, shared by every handle opened on it. Every method runs
 * synchronously, so each is atomic with respect to every other handle: that is the whole
 * concurrency story of the memory backend. Time comes from the calling handle (its clock).
 *
 * The fair decision is the pure policy of `tasks/policy/fair-queue.ts`, run as is: the memory
 * backend depends on nothing but the contract types, the core and that policy.
 */

const STATE_INDEX: Readonly<Record<TaskState, number>> = {
  queued: 0,
  assigned: 1,
  running: 2,
  completed: 3,
  failed: 4,
  cancelled: 5,
  dead: 6,
};

/** One task: the policy's scheduling fields plus everything the contract stores. */
export class TaskRecord implements FairTask {
  qpos = -1;
  place: number = PLACE.none;
  promoteAt = Infinity;
  band: number;
  readyAt: number;
  state: TaskState = 'queued';
  attempt = 0;
  token: string | null = null;
  workerId: string | null = null;
  leaseExpiresAt = 0;
  updatedAt: number;
  finishedAt = 0;
  progressJson: string | null = null;
  resultJson: string | null = null;
  error: TaskError | null = null;
  /**
   * Transitions after enqueue as flat 5-tuples (state, at, attempt, workerId, reason): one array
   * per task instead of an object per transition; `null` until the first one. The common path's
   * entries are not stored, see {@link TaskRecord.implicit}.
   */
  history: (string | number | null)[] | null = null;
  /**
   * Entries of the common path that `history` leaves out, read back from the fields below:
   * 1 = the current delivery's 'running' entry (at `startedAt`, `attempt`, by `runWorker`);
   * 2 = that entry and the 'completed' one (at `finishedAt`). A fair claim and its completion
   * then allocate no history at all: a drain of a million tasks spent about a quarter of its time
   * on those two entries (their arrays, then the collector marking them while retained).
   * Any other transition out of the delivery stores the 'running' entry first.
   */
  implicit: 0 | 1 | 2 = 0;
  startedAt = 0;
  runWorker: string | null = null;
  /** The lease handed out for the current delivery. */
  lease: IssuedLease | null = null;

  constructor(
    readonly owner: MemoryQueueCore,
    readonly id: string,
    readonly seq: number,
    readonly spec: NewTask,
    readonly counts: number[],
    readonly createdAt: number,
    readyAt: number,
  ) {
    this.band = spec.band;
    this.readyAt = readyAt;
    this.updatedAt = createdAt;
  }

  get tenantId(): string {
    return this.spec.tenantId;
  }
  get priority(): number {
    return this.spec.priority;
  }
  get cost(): number {
    return this.spec.cost;
  }
  get originalBand(): number {
    return this.spec.band;
  }
}

/** Expired terminal tasks a completion or failure removes: more than it settles, so purging outpaces settling. */
const SETTLE_PURGE = 2;

/** Creates task ids; injected so ids follow the handle's clock. */
export type NextId = () => string;

export class MemoryQueueCore {
  /**
   * Every time the core keeps is ms since this epoch (the first handle's clock when the core was
   * made); handles convert at the edge. Epoch-ms timestamps are too large for V8's small integers,
   * so as fields they are boxed numbers: an object each, allocated as they change and marked by
   * every collection while the task is retained. Offsets stay small integers for ~24 days after
   * the epoch (2^31 ms), and only cost that again past it. A million tasks enqueued and drained
   * went from ~126–141k to ~166–175k tasks/s (the drain alone from ~245k to ~330–358k), and a
   * retained completed task from 604 to 524 B (scratch, alternating runs against the commits
   * before). `promoteAt` stays boxed: the policy's "never" is Infinity.
   */
  readonly epoch: number;
  policy: QueuePolicy = DEFAULT_QUEUE_POLICY;
  readonly fair = new FairQueue<TaskRecord>({ agingMs: DEFAULT_QUEUE_POLICY.agingMs, maxConcurrency: DEFAULT_QUEUE_POLICY.maxConcurrency });
  readonly #tasks = new Map<string, TaskRecord>();
  readonly #idempotency = new Map<string, TaskRecord>();
  readonly #leases = new IndexedHeap<TaskRecord>('qpos');
  readonly #retained = new IndexedHeap<TaskRecord>('qpos');
  readonly #failedRetained = new IndexedHeap<TaskRecord>('qpos');
  readonly #assigned = new Map<string, Set<TaskRecord>>();
  /** Counts per tenant, then per type: [queued, assigned, running, completed, failed, cancelled, dead]. */
  readonly #groups = new Map<string, Map<string, number[]>>();
  readonly #listeners = new Set<() => void>();
  /** Every retained task of each tenant (for listings). */
  readonly #byTenant = new Map<string, Set<TaskRecord>>();
  #seq = 0;

  constructor(epoch: number) {
    this.epoch = epoch;
  }

  /** Registers a wake-up listener (a handle waiting for work); returns its removal. */
  listen(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  wake(): void {
    for (const listener of this.#listeners) listener();
  }

  get(id: string): TaskRecord | undefined {
    return this.#tasks.get(id);
  }

  /** Up to `limit` of the tenant's tasks matching the filters, by id ascending, after `after`. */
  list(q: ListRequest): { records: TaskRecord[]; more: boolean } {
    const mine = this.#byTenant.get(q.tenantId);
    if (mine === undefined) return { records: [], more: false };
    // The limit + 1 smallest matching ids, kept sorted, instead of sorting every match for each
    // page (14 ms a page at 200,000 tasks of one tenant, scratch). Tasks arrive in about id order,
    // so once the window is full nearly every later one is turned away by one comparison.
    const keep = q.limit + 1;
    const best: TaskRecord[] = [];
    for (const record of mine) {
      if (q.after !== null && record.id <= q.after) continue;
      if (best.length === keep && record.id >= best[keep - 1]!.id) continue;
      if (q.state !== null && record.state !== q.state) continue;
      if (q.type !== null && record.spec.type !== q.type) continue;
      if (q.ownerId !== null && record.spec.ownerId !== q.ownerId) continue;
      let lo = 0;
      let hi = best.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (best[mid]!.id < record.id) lo = mid + 1;
        else hi = mid;
      }
      best.splice(lo, 0, record);
      if (best.length > keep) best.pop();
    }
    return best.length > q.limit ? { records: best.slice(0, q.limit), more: true } : { records: best, more: false };
  }

  enqueue(spec: NewTask, now: number, nextId: NextId): { record: TaskRecord; created: boolean } {
    if (spec.idempotencyKey !== null) {
      const existing = this.#idempotency.get(idempotencyId(spec.tenantId, spec.idempotencyKey));
      if (existing !== undefined) return { record: existing, created: false };
    }
    const readyAt = spec.runAt === null ? now + spec.delayMs : spec.runAt - this.epoch;
    this.#seq += 1;
    const record = new TaskRecord(this, nextId(), this.#seq, spec, this.#group(spec.tenantId, spec.type), now, readyAt < -this.epoch ? -this.epoch : readyAt);
    record.counts[0]! += 1;
    this.#tasks.set(record.id, record);
    let mine = this.#byTenant.get(spec.tenantId);
    if (mine === undefined) {
      mine = new Set();
      this.#byTenant.set(spec.tenantId, mine);
    }
    mine.add(record);
    if (spec.idempotencyKey !== null) this.#idempotency.set(idempotencyId(spec.tenantId, spec.idempotencyKey), record);
    this.fair.add(record, now);
    return { record, created: true };
  }

  /** Steps 1–3 of the claim order (see the contract): reap, assigned first, then the fair picks. */
  claim(workerId: string, limit: number, leaseMs: number, now: number, newToken: () => string): { tasks: TaskRecord[]; reaped: TaskUpdate[]; nextAt: number | null } {
    const reaped = this.reap(now, CLAIM_MAINTENANCE_BATCH);
    this.purge(now, CLAIM_MAINTENANCE_BATCH);
    const tasks: TaskRecord[] = [];
    const mine = this.#assigned.get(workerId);
    if (mine !== undefined) {
      // Oldest first (enqueue order), whatever order they were assigned in, as on every backend.
      const oldestFirst = [...mine].sort((a, b) => a.seq - b.seq);
      for (const record of oldestFirst) {
        if (tasks.length === limit) break;
        mine.delete(record);
        this.#leases.remove(record);
        this.#setState(record, 'running', now, workerId);
        record.leaseExpiresAt = now + leaseMs;
        this.#leases.push(record, record.leaseExpiresAt);
        tasks.push(record);
      }
      if (mine.size === 0) this.#assigned.delete(workerId);
    }
    // Even when assigned tasks fill the claim: the fair queue's claim first activates due delayed
    // tasks and promotes aged ones, which every claim does (step 1 of the order).
    for (const record of this.fair.claim(limit - tasks.length, now)) {
      record.attempt += 1;
      record.token = newToken();
      record.workerId = workerId;
      record.leaseExpiresAt = now + leaseMs;
      this.#move(record, 'running', now);
      record.implicit = 1;
      record.startedAt = now;
      record.runWorker = workerId;
      this.#leases.push(record, record.leaseExpiresAt);
      tasks.push(record);
    }
    let nextAt: number | null = null;
    if (tasks.length < limit) {
      const next = Math.min(this.fair.nextEventAt(now) ?? Infinity, this.#leases.peekKey());
      nextAt = next === Infinity ? null : next;
    }
    return { tasks, reaped, nextAt };
  }

  /** Checks a lease: the token matches the current delivery and has not expired. */
  holder(lease: TaskLease, now: number): TaskRecord {
    // A lease this core issued points at its record: no lookup in a map of every task. The record
    // is live while it is assigned or running (a dropped or deleted one is terminal), and `owner`
    // rules out a lease issued by another queue.
    const ref = IssuedLease.refOf(lease);
    const record = ref instanceof TaskRecord && ref.owner === this && ref.id === lease.taskId ? ref : this.#tasks.get(lease.taskId);
    if (record === undefined) throw leaseLostError(lease.taskId, 'not-found');
    if (record.state !== 'running' && record.state !== 'assigned') {
      // A record reached through the lease may have been deleted or purged since: then the task
      // is gone, as it is for a lease that comes back as plain data (and on every other backend).
      if (this.#tasks.get(record.id) !== record) throw leaseLostError(lease.taskId, 'not-found');
      throw leaseLostError(lease.taskId, 'not-active', record.state);
    }
    if (record.token !== lease.token) throw leaseLostError(lease.taskId, 'superseded', record.state);
    if (record.leaseExpiresAt <= now) throw leaseLostError(lease.taskId, 'expired', record.state);
    return record;
  }

  extend(record: TaskRecord, leaseMs: number, progressJson: string | undefined, now: number): void {
    record.leaseExpiresAt = now + leaseMs;
    this.#leases.rekey(record, record.leaseExpiresAt);
    if (progressJson !== undefined) record.progressJson = progressJson;
    record.updatedAt = now;
  }

  complete(record: TaskRecord, resultJson: string | null, now: number): TaskUpdate {
    // Retention keeps pace with settling, as on the other backends (which have no claim-time purge).
    this.purge(now, SETTLE_PURGE);
    const implicit = record.implicit === 1;
    this.#releaseSlot(record, implicit);
    record.resultJson = resultJson;
    if (implicit) {
      this.#move(record, 'completed', now);
      record.implicit = 2;
    } else {
      this.#setState(record, 'completed', now);
    }
    return this.#finishTerminal(record, now, null);
  }

  fail(record: TaskRecord, error: TaskError, retryInMs: number, final: boolean, now: number): TaskUpdate {
    this.purge(now, SETTLE_PURGE);
    this.#releaseSlot(record);
    record.error = error;
    if (final) {
      this.#setState(record, 'failed', now, null, 'final-failure');
      return this.#finishTerminal(record, now, 'final-failure');
    }
    if (record.attempt >= record.spec.maxAttempts) {
      this.#setState(record, 'dead', now, null, 'attempts-exhausted');
      return this.#finishTerminal(record, now, 'attempts-exhausted');
    }
    return this.#requeue(record, now + retryInMs, now, 'retry');
  }

  release(record: TaskRecord, delayMs: number, now: number): TaskUpdate {
    this.#releaseSlot(record);
    // A hand-back is not a failed delivery: the attempt is given back.
    record.attempt = Math.max(0, record.attempt - 1);
    return this.#requeue(record, now + delayMs, now, 'released');
  }

  assign(id: string, workerId: string, leaseMs: number, now: number, newToken: () => string): { update: TaskUpdate; lease: TaskLease } {
    const record = this.#tasks.get(id);
    if (record === undefined) throw taskNotFound(id);
    if (record.state !== 'queued') throw taskStateConflict(id, record.state, 'assign');
    this.fair.take(record);
    record.attempt += 1;
    record.token = newToken();
    record.workerId = workerId;
    record.leaseExpiresAt = now + leaseMs;
    this.#leases.push(record, record.leaseExpiresAt);
    let mine = this.#assigned.get(workerId);
    if (mine === undefined) {
      mine = new Set();
      this.#assigned.set(workerId, mine);
    }
    mine.add(record);
    this.#setState(record, 'assigned', now, workerId, 'assigned');
    const update = updateOf(record, now, 'assigned');
    return { update, lease: leaseOf(record) };
  }

  cancel(id: string, now: number): TaskUpdate {
    const record = this.#tasks.get(id);
    if (record === undefined) throw taskNotFound(id);
    if (record.state === 'cancelled') return updateOf(record, record.updatedAt);
    if (record.state === 'completed' || record.state === 'failed' || record.state === 'dead') throw taskStateConflict(id, record.state, 'cancel');
    if (record.state === 'queued') this.fair.remove(record);
    else this.#releaseSlot(record);
    this.#setState(record, 'cancelled', now, null, 'cancelled');
    return this.#finishTerminal(record, now, 'cancelled');
  }

  delete(id: string, now: number): boolean {
    const record = this.#tasks.get(id);
    if (record === undefined) return false;
    if (record.state === 'queued' || record.state === 'assigned' || record.state === 'running') this.cancel(id, now);
    // cancel() may already have dropped it (retention 0).
    if (this.#tasks.get(id) === record) this.#drop(record);
    return true;
  }

  /** Expired leases: re-queued at once while attempts remain, else dead. */
  reap(now: number, limit: number): TaskUpdate[] {
    const updates: TaskUpdate[] = [];
    while (updates.length < limit && this.#leases.peekKey() <= now) {
      const record = this.#leases.peek()!;
      this.#releaseSlot(record);
      if (record.attempt >= record.spec.maxAttempts) {
        record.error = { code: 'TASK_LEASE_LOST', message: 'the lease expired before the task finished' };
        this.#setState(record, 'dead', now, null, 'attempts-exhausted');
        updates.push(this.#finishTerminal(record, now, 'attempts-exhausted'));
      } else {
        updates.push(this.#requeue(record, now, now, 'lease-expired'));
      }
    }
    return updates;
  }

  /** Removes terminal tasks past their retention; returns how many. */
  purge(now: number, limit: number): number {
    let purged = 0;
    const retention = this.policy.retentionMs;
    while (purged < limit && this.#retained.peekKey() + retention <= now) {
      this.#drop(this.#retained.peek()!);
      purged += 1;
    }
    const failedRetention = this.policy.failedRetentionMs;
    if (failedRetention !== null) {
      while (purged < limit && this.#failedRetained.peekKey() + failedRetention <= now) {
        this.#drop(this.#failedRetained.peek()!);
        purged += 1;
      }
    }
    return purged;
  }

  counts(): { counts: TaskCounts; groups: TaskGroupCounts[] } {
    const delayed = new Map<TaskRecord['counts'], number>();
    for (const record of this.fair.delayedTasks()) delayed.set(record.counts, (delayed.get(record.counts) ?? 0) + 1);
    const totals = [0, 0, 0, 0, 0, 0, 0, 0];
    const groups: TaskGroupCounts[] = [];
    const tenants = [...this.#groups.keys()].sort(compareKeys);
    for (const tenantId of tenants) {
      const types = this.#groups.get(tenantId)!;
      for (const type of [...types.keys()].sort(compareKeys)) {
        const c = types.get(type)!;
        const d = delayed.get(c) ?? 0;
        for (let i = 0; i < 7; i++) totals[i]! += c[i]!;
        totals[7]! += d;
        groups.push({ tenantId, type, ...countsOf(c, d) });
      }
    }
    return { counts: countsOf(totals, totals[7]!), groups };
  }

  #group(tenantId: string, type: string): number[] {
    let types = this.#groups.get(tenantId);
    if (types === undefined) {
      types = new Map();
      this.#groups.set(tenantId, types);
    }
    let counts = types.get(type);
    if (counts === undefined) {
      counts = [0, 0, 0, 0, 0, 0, 0];
      types.set(type, counts);
    }
    return counts;
  }

  /** Moves `record` to `state`, recording the transition; allocates nothing but the history slots. */
  #setState(record: TaskRecord, state: TaskState, now: number, workerId: string | null = null, reason: TaskUpdateReason | null = null): void {
    this.#move(record, state, now);
    this.#record(record, state, now, record.attempt, workerId, reason);
  }

  /** Moves `record` to `state` (counts, time) without a history entry. */
  #move(record: TaskRecord, state: TaskState, now: number): void {
    record.counts[STATE_INDEX[record.state]]! -= 1;
    record.counts[STATE_INDEX[state]]! += 1;
    record.state = state;
    record.updatedAt = now;
  }

  #record(record: TaskRecord, state: TaskState, at: number, attempt: number, workerId: string | null, reason: TaskUpdateReason | null): void {
    // One exact-size literal for the first transition, growth only after it.
    if (record.history === null) record.history = [state, at, attempt, workerId, reason];
    else record.history.push(state, at, attempt, workerId, reason);
  }

  /**
   * An assigned or running task stops holding its slot (lease, worker, concurrency). Unless the
   * caller completes it (`keepImplicit`), the delivery's implicit 'running' entry is stored first,
   * while its attempt is still the delivery's.
   */
  #releaseSlot(record: TaskRecord, keepImplicit = false): void {
    if (record.implicit === 1 && !keepImplicit) {
      this.#record(record, 'running', record.startedAt, record.attempt, record.runWorker, null);
      record.implicit = 0;
      record.runWorker = null;
    }
    this.#leases.remove(record);
    if (record.state === 'assigned' && record.workerId !== null) {
      const mine = this.#assigned.get(record.workerId);
      mine?.delete(record);
      if (mine?.size === 0) this.#assigned.delete(record.workerId);
    }
    this.fair.finish(record.spec.tenantId);
    record.token = null;
    record.workerId = null;
    record.leaseExpiresAt = 0;
    record.lease = null;
    // Freed capacity only matters to waiting workers when a concurrency cap is in force.
    if (this.policy.maxConcurrency !== null || this.fair.tenantPolicy(record.spec.tenantId).maxConcurrency !== null) this.wake();
  }

  #requeue(record: TaskRecord, readyAt: number, now: number, reason: TaskUpdateReason): TaskUpdate {
    record.band = record.spec.band;
    record.readyAt = readyAt;
    this.#setState(record, 'queued', now, null, reason);
    this.fair.add(record, now);
    this.wake();
    return updateOf(record, now, reason);
  }

  #finishTerminal(record: TaskRecord, now: number, reason: TaskUpdateReason | null): TaskUpdate {
    const update = updateOf(record, now, reason ?? undefined);
    record.finishedAt = now;
    const failedKind = record.state === 'failed' || record.state === 'dead';
    const retention = failedKind ? this.policy.failedRetentionMs : this.policy.retentionMs;
    if (retention === 0) this.#drop(record);
    else (failedKind ? this.#failedRetained : this.#retained).push(record, now);
    return update;
  }

  #drop(record: TaskRecord): void {
    this.#retained.remove(record) || this.#failedRetained.remove(record);
    this.#tasks.delete(record.id);
    const mine = this.#byTenant.get(record.spec.tenantId);
    if (mine?.delete(record) && mine.size === 0) this.#byTenant.delete(record.spec.tenantId);
    const key = record.spec.idempotencyKey;
    if (key !== null) {
      const id = idempotencyId(record.spec.tenantId, key);
      if (this.#idempotency.get(id) === record) this.#idempotency.delete(id);
    }
    record.counts[STATE_INDEX[record.state]]! -= 1;
    const c = record.counts;
    if (c[0] === 0 && c[1] === 0 && c[2] === 0 && c[3] === 0 && c[4] === 0 && c[5] === 0 && c[6] === 0) {
      const types = this.#groups.get(record.spec.tenantId);
      if (types?.get(record.spec.type) === record.counts) types.delete(record.spec.type);
      if (types?.size === 0) this.#groups.delete(record.spec.tenantId);
    }
  }
}

function idempotencyId(tenantId: string, key: string): string {
  return `${tenantId}\u0000${key}`;
}

function countsOf(c: readonly number[], delayed: number): TaskCounts {
  return { queued: c[0]!, delayed, assigned: c[1]!, running: c[2]!, completed: c[3]!, failed: c[4]!, cancelled: c[5]!, dead: c[6]! };
}

/** The update describing `record`'s current state; `at` in the core's time. */
export function updateOf(record: TaskRecord, at: number, reason?: TaskUpdateReason): TaskUpdate {
  const epoch = record.owner.epoch;
  const update: { -readonly [K in keyof TaskUpdate]: TaskUpdate[K] } = {
    taskId: record.id,
    tenantId: record.spec.tenantId,
    type: record.spec.type,
    state: record.state,
    attempt: record.attempt,
    at: at + epoch,
  };
  if (record.state === 'queued') update.readyAt = record.readyAt + epoch;
  if (reason !== undefined) update.reason = reason;
  return update;
}

/** The lease a worker holds on `record`. */
export function leaseOf(record: TaskRecord): TaskLease {
  let lease = record.lease;
  const expiresAt = record.leaseExpiresAt + record.owner.epoch;
  if (lease === null || lease.token !== record.token || lease.expiresAt !== expiresAt || lease.workerId !== record.workerId) {
    lease = new IssuedLease(record.id, record.token!, record.workerId!, record.attempt, expiresAt, record);
    record.lease = lease;
  }
  return lease;
}

/** What a claim hands to the worker (a fresh copy of the payload). */
export function claimedOf(record: TaskRecord): ClaimedTask {
  const s = record.spec;
  return {
    lease: leaseOf(record),
    id: record.id,
    type: s.type,
    tenantId: s.tenantId,
    ownerId: s.ownerId,
    payload: JSON.parse(s.payloadJson) as JsonValue,
    band: bandName(s.band),
    effectiveBand: bandName(record.band),
    priority: s.priority,
    cost: s.cost,
    resources: s.resources,
    attempt: record.attempt,
    maxAttempts: s.maxAttempts,
    timeoutMs: s.timeoutMs,
    backoff: s.backoff,
    createdAt: record.createdAt + record.owner.epoch,
    readyAt: record.readyAt + record.owner.epoch,
  };
}

/** The full, detached view of `record`. */
export function taskOf(record: TaskRecord): Task {
  const s = record.spec;
  const active = record.state === 'assigned' || record.state === 'running';
  const epoch = record.owner.epoch;
  return {
    id: record.id,
    type: s.type,
    tenantId: s.tenantId,
    ownerId: s.ownerId,
    payload: JSON.parse(s.payloadJson) as JsonValue,
    band: bandName(s.band),
    effectiveBand: bandName(record.band),
    priority: s.priority,
    cost: s.cost,
    resources: s.resources,
    state: record.state,
    attempt: record.attempt,
    maxAttempts: s.maxAttempts,
    timeoutMs: s.timeoutMs,
    backoff: s.backoff,
    idempotencyKey: s.idempotencyKey,
    createdAt: record.createdAt + epoch,
    readyAt: record.readyAt + epoch,
    updatedAt: record.updatedAt + epoch,
    workerId: active ? record.workerId : null,
    leaseExpiresAt: active ? record.leaseExpiresAt + epoch : null,
    progress: record.progressJson === null ? null : (JSON.parse(record.progressJson) as JsonValue),
    result: record.resultJson === null ? null : (JSON.parse(record.resultJson) as JsonValue),
    error: record.error === null ? null : { ...record.error },
    history: historyOf(record),
  };
}

function historyOf(record: TaskRecord): TaskHistoryEntry[] {
  const epoch = record.owner.epoch;
  const entries: TaskHistoryEntry[] = [{ state: 'queued', at: record.createdAt + epoch, attempt: 0 }];
  const h = record.history ?? [];
  for (let i = 0; i + 4 < h.length; i += 5) {
    const entry: { -readonly [K in keyof TaskHistoryEntry]: TaskHistoryEntry[K] } = { state: h[i] as TaskState, at: (h[i + 1] as number) + epoch, attempt: h[i + 2] as number };
    if (h[i + 3] !== null) entry.workerId = h[i + 3] as string;
    if (h[i + 4] !== null) entry.reason = h[i + 4] as TaskUpdateReason;
    entries.push(entry);
  }
  if (record.implicit >= 1) entries.push({ state: 'running', at: record.startedAt + epoch, attempt: record.attempt, workerId: record.runWorker! });
  if (record.implicit === 2) entries.push({ state: 'completed', at: record.finishedAt + epoch, attempt: record.attempt });
  return entries;
}
