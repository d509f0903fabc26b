import { z } from 'zod';
import type { Clock } from '../../core/clock.js';
import { systemClock } from '../../core/clock.js';
import { AdapterClosedError } from '../../core/errors.js';
import { parseInput } from '../../core/validation.js';
import type { JsonValue } from '../storage.js';
import type {
  ClaimResult,
  EnqueueRequest,
  EnqueueResult,
  FailOptions,
  QueueAdapter,
  QueuePolicy,
  QueueStats,
  Task,
  TaskListPage,
  TaskListQuery,
  TaskLease,
  TaskUpdate,
  TenantPolicy,
} from '../queue.js';
import {
  createTaskIdGenerator,
  encodeListCursor,
  encodeTaskValue,
  parseClaim,
  parseEnqueue,
  parseEnqueueMany,
  parseFail,
  parseLease,
  parseLeaseMs,
  parseListQuery,
  mergePolicy,
  mergeTenantPolicy,
  parsePolicyPatch,
  parseReapLimit,
  parseRelease,
  parseTaskId,
  parseTenantId,
  parseTenantPatch,
  parseTimeout,
  parseWorkerId,
  queueNameSchema,
} from '../internal/queue-requests.js';
import { WakeSignal } from '../internal/wake-signal.js';
import { claimedOf, leaseOf, MemoryQueueCore, taskOf, updateOf } from './queue-core.js';

/**
 * The tasks behind one or more memory queue handles. Pass the same state to several
 * `createMemoryQueue` calls to get independent handles (each with its own `close()` and wake-ups)
 * on the same queues, as several processes share one database.
 *
 * @example
 * ```ts
 * import { createMemoryQueue, MemoryQueueState } from 'digital-fabrica/adapters/memory';
 * const state = new MemoryQueueState();
 * const producer = createMemoryQueue({ state });
 * const consumer = createMemoryQueue({ state });
 * await producer.enqueue({ type: 'email', tenantId: 'acme', payload: { to: 'ada' } });
 * const { tasks } = await consumer.claim('worker-1', 1, 30_000);
 * ```
 */
export class MemoryQueueState {
  /** @internal */
  readonly queues = new Map<string, MemoryQueueCore>();
}

/**
 * Options of {@link createMemoryQueue}.
 *
 * @example
 * ```ts
 * import { ManualClock } from 'digital-fabrica';
 * import { createMemoryQueue, MemoryQueueState, type MemoryQueueOptions } from 'digital-fabrica/adapters/memory';
 * const options: MemoryQueueOptions = { state: new MemoryQueueState(), queue: 'renders', clock: new ManualClock(0) };
 * const queue = createMemoryQueue(options);
 * ```
 */
export interface MemoryQueueOptions {
  /** Share queues with other handles (default: a private state). */
  readonly state?: MemoryQueueState;
  /** The queue's name (default `default`); 1–64 characters of `[A-Za-z0-9_.-]`. */
  readonly queue?: string;
  /** Time source for leases, delays, aging and retention (default: system clock). Pass a `ManualClock` in tests. */
  readonly clock?: Clock;
}

const optionsSchema = z
  .strictObject({
    state: z.instanceof(MemoryQueueState).optional(),
    queue: queueNameSchema.optional(),
    clock: z.custom<Clock>((v) => typeof (v as Clock | undefined)?.now === 'function', 'clock must have now()').optional(),
  })
  .optional();

/**
 * An in-process task queue with the exact semantics of the contract; the default backend. Every
 * operation runs synchronously inside its promise, so each is atomic, and the claim runs the fair
 * policy (`FairQueue`: heaps keyed by band, virtual time and priority, O(log n) per operation).
 *
 * @throws `VALIDATION_FAILED` for bad options.
 * @example
 * ```ts
 * import { createMemoryQueue } from 'digital-fabrica/adapters/memory';
 * const queue = createMemoryQueue({ queue: 'renders' });
 * await queue.setTenant('acme', { weight: 2 });
 * await queue.enqueue({ type: 'render', tenantId: 'acme', payload: { scene: 1 } });
 * const { tasks } = await queue.claim('worker-1', 10, 30_000);
 * for (const task of tasks) await queue.complete(task.lease, { frames: 240 });
 * ```
 */
export function createMemoryQueue(options?: MemoryQueueOptions): QueueAdapter {
  const opts = parseInput(optionsSchema, options, 'memory queue options') ?? {};
  const state = opts.state ?? new MemoryQueueState();
  const name = opts.queue ?? 'default';
  const clock = opts.clock ?? systemClock;
  let core = state.queues.get(name);
  if (core === undefined) {
    core = new MemoryQueueCore(Math.floor(clock.now()));
    state.queues.set(name, core);
  }
  return new MemoryQueue(name, core, clock);
}

class MemoryQueue implements QueueAdapter {
  readonly name: string;
  readonly #core: MemoryQueueCore;
  readonly #clock: Clock;
  readonly #nextId: () => string;
  readonly #unlisten: () => void;
  #closed = false;
  /** A wake-up arrived since the last claim began. */
  readonly #wake = new WakeSignal();

  constructor(name: string, core: MemoryQueueCore, clock: Clock) {
    this.name = name;
    this.#core = core;
    this.#clock = clock;
    this.#nextId = createTaskIdGenerator(clock);
    this.#unlisten = core.listen(() => {
      this.#wake.notify();
    });
  }

  async init(): Promise<void> {
    this.#assertOpen();
  }

  async enqueue(request: EnqueueRequest): Promise<EnqueueResult> {
    this.#assertOpen();
    const spec = parseEnqueue(request);
    const now = this.#now();
    const { record, created } = this.#core.enqueue(spec, now, this.#nextId);
    if (created) this.#core.wake();
    return { task: updateOf(record, created ? now : record.updatedAt), created };
  }

  async enqueueMany(requests: readonly EnqueueRequest[]): Promise<EnqueueResult[]> {
    this.#assertOpen();
    const specs = parseEnqueueMany(requests);
    const now = this.#now();
    let any = false;
    const results = specs.map((spec) => {
      const { record, created } = this.#core.enqueue(spec, now, this.#nextId);
      any ||= created;
      return { task: updateOf(record, created ? now : record.updatedAt), created };
    });
    if (any) this.#core.wake();
    return results;
  }

  async claim(workerId: string, limit: number, leaseMs: number): Promise<ClaimResult> {
    this.#assertOpen();
    const req = parseClaim(workerId, limit, leaseMs);
    this.#wake.clear();
    const now = this.#now();
    const { tasks, reaped, nextAt } = this.#core.claim(req.workerId, req.limit, req.leaseMs, now, newToken);
    return { tasks: tasks.map(claimedOf), reaped, nextInMs: nextAt === null ? null : Math.max(0, nextAt - now) };
  }

  async extend(lease: TaskLease, leaseMs: number, progress?: JsonValue): Promise<TaskLease> {
    this.#assertOpen();
    const l = parseLease(lease);
    const ms = parseLeaseMs(leaseMs);
    const progressJson = progress === undefined ? undefined : encodeTaskValue(progress, 'task progress');
    const now = this.#now();
    const record = this.#core.holder(l, now);
    this.#core.extend(record, ms, progressJson, now);
    return leaseOf(record);
  }

  complete(lease: TaskLease, result?: JsonValue): Promise<TaskUpdate> {
    // Not `async`: the hottest call of a drain, and an async frame is one more allocation.
    try {
      this.#assertOpen();
      const l = parseLease(lease);
      const resultJson = result === undefined ? null : encodeTaskValue(result, 'task result');
      const now = this.#now();
      return Promise.resolve(this.#core.complete(this.#core.holder(l, now), resultJson, now));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  async fail(lease: TaskLease, options: FailOptions): Promise<TaskUpdate> {
    this.#assertOpen();
    const l = parseLease(lease);
    const o = parseFail(options);
    const now = this.#now();
    return this.#core.fail(this.#core.holder(l, now), o.error, o.retryInMs, o.final, now);
  }

  async release(lease: TaskLease, options?: { readonly delayMs?: number }): Promise<TaskUpdate> {
    this.#assertOpen();
    const l = parseLease(lease);
    const delayMs = parseRelease(options);
    const now = this.#now();
    return this.#core.release(this.#core.holder(l, now), delayMs, now);
  }

  async assign(taskId: string, workerId: string, leaseMs: number): Promise<{ readonly update: TaskUpdate; readonly lease: TaskLease }> {
    this.#assertOpen();
    const id = parseTaskId(taskId);
    const worker = parseWorkerId(workerId);
    const ms = parseLeaseMs(leaseMs);
    const result = this.#core.assign(id, worker, ms, this.#now(), newToken);
    this.#core.wake();
    return result;
  }

  async cancel(taskId: string): Promise<TaskUpdate> {
    this.#assertOpen();
    return this.#core.cancel(parseTaskId(taskId), this.#now());
  }

  async delete(taskId: string): Promise<boolean> {
    this.#assertOpen();
    return this.#core.delete(parseTaskId(taskId), this.#now());
  }

  async get(taskId: string): Promise<Task | null> {
    this.#assertOpen();
    const record = this.#core.get(parseTaskId(taskId));
    return record === undefined ? null : taskOf(record);
  }

  async list(query: TaskListQuery): Promise<TaskListPage> {
    this.#assertOpen();
    const q = parseListQuery(query);
    const { records, more } = this.#core.list(q);
    const last = more ? records[records.length - 1] : undefined;
    return { items: records.map(taskOf), cursor: last === undefined ? null : encodeListCursor(last.id) };
  }

  async reapExpired(limit?: number): Promise<{ readonly updates: readonly TaskUpdate[]; readonly purged: number }> {
    this.#assertOpen();
    const max = parseReapLimit(limit);
    const now = this.#now();
    const updates = this.#core.reap(now, max);
    return { updates, purged: this.#core.purge(now, max) };
  }

  async stats(): Promise<QueueStats> {
    this.#assertOpen();
    const now = this.#now();
    const snapshot = this.#core.fair.snapshot(now);
    const { counts, groups } = this.#core.counts();
    const epoch = this.#core.epoch;
    return {
      at: now + epoch,
      counts,
      groups,
      tenants: snapshot.tenants,
      oldestReadyAt: snapshot.oldestReadyAt === null ? null : snapshot.oldestReadyAt + epoch,
      policy: this.#core.policy,
    };
  }

  async configure(policy: Partial<QueuePolicy>): Promise<QueuePolicy> {
    this.#assertOpen();
    const next = mergePolicy(this.#core.policy, parsePolicyPatch(policy));
    this.#core.policy = Object.freeze(next);
    this.#core.fair.configure({ agingMs: next.agingMs, maxConcurrency: next.maxConcurrency });
    this.#core.wake();
    return this.#core.policy;
  }

  async setTenant(tenantId: string, policy: Partial<TenantPolicy>): Promise<TenantPolicy> {
    this.#assertOpen();
    const id = parseTenantId(tenantId);
    const next = Object.freeze(mergeTenantPolicy(this.#core.fair.tenantPolicy(id), parseTenantPatch(policy)));
    this.#core.fair.setTenant(id, next, this.#now());
    this.#core.wake();
    return next;
  }

  async getTenant(tenantId: string): Promise<TenantPolicy> {
    this.#assertOpen();
    return this.#core.fair.tenantPolicy(parseTenantId(tenantId));
  }

  async waitForWork(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    this.#assertOpen();
    const ms = parseTimeout(timeoutMs);
    await this.#wake.wait(ms, signal);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unlisten();
    this.#wake.releaseAll();
  }

  #assertOpen(): void {
    if (this.#closed) throw new AdapterClosedError('memory queue is closed');
  }

  /** The clock's time as the core keeps it (ms since the core's epoch, see `MemoryQueueCore.epoch`). */
  #now(): number {
    const t = this.#clock.now() - this.#core.epoch;
    // The difference of two heap numbers is a heap number even when it is a small integer, and
    // one stored into a task field turns that field into a boxed one for every task (see
    // `MemoryQueueCore.epoch`). Math.floor returns an integral value as a small integer.
    const whole = Math.floor(t);
    return whole === t ? whole : t;
  }
}

// Lease tokens: 128 random bits as 32 hex digits, drawn from a pooled buffer and decoded in one
// step into a flat string. (crypto.randomUUID builds its string by concatenation: a tree of
// ~15 string objects per token, which a claim-complete cycle at 10^5/s turns into GC work.)
const tokenPool = new Uint8Array(4096);
let tokenOffset = tokenPool.length;
const tokenChars = new Uint8Array(32);
const HEX_DIGITS = new TextEncoder().encode('0123456789abcdef');
const tokenDecoder = new TextDecoder();
function newToken(): string {
  if (tokenOffset + 16 > tokenPool.length) {
    globalThis.crypto.getRandomValues(tokenPool);
    tokenOffset = 0;
  }
  for (let i = 0; i < 16; i++) {
    const b = tokenPool[tokenOffset + i]!;
    tokenChars[2 * i] = HEX_DIGITS[b >> 4]!;
    tokenChars[2 * i + 1] = HEX_DIGITS[b & 15]!;
  }
  tokenOffset += 16;
  return tokenDecoder.decode(tokenChars);
}
