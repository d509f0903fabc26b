import { z } from 'zod';
import type { Logger } from '../../core/logger.js';
import { AdapterClosedError, FabricaError, isFabricaError } from '../../core/errors.js';
import { systemClock } from '../../core/clock.js';
import type { PubSub, Unsubscribe } from '../pubsub.js';
import type { JsonValue } from '../storage.js';
import type {
  ClaimedTask,
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
  TaskCounts,
  TaskGroupCounts,
  TaskLease,
  TaskUpdate,
  TenantPolicy,
} from '../queue.js';
import {
  createTaskIdGenerator,
  encodeListCursor,
  encodeTaskValue,
  IssuedLease,
  parseClaim,
  parseEnqueue,
  parseEnqueueMany,
  parseFail,
  parseLease,
  parseLeaseMs,
  parseListQuery,
  parsePolicyPatch,
  parseReapLimit,
  parseRelease,
  parseTaskId,
  parseTenantId,
  parseTenantPatch,
  parseTimeout,
  parseWorkerId,
  queueNameSchema,
  type NewTask,
} from '../internal/queue-requests.js';
import { claimRecovering, LostClaims } from '../internal/lost-claims.js';
import { WakeSignal } from '../internal/wake-signal.js';
import { taskNotFound, taskStateConflict } from '../internal/queue-errors.js';
import { compareKeys } from '../internal/order.js';
import { assertLeaseStatus, encodeTaskError, encodeTaskOptions, makeClaimed, makeTask, makeUpdate, num, rowFields, taskState } from '../internal/queue-records.js';
import type { RedisArgument, RedisPubSubClient, RedisScriptClient } from './driver.js';
import { mapRedisError } from './errors.js';
import { redisKeyLayout } from './keys.js';
import { runScript, type LuaScript } from './lua.js';
import { parseRedisOptions, type RedisCommonOptions } from './options.js';
import { createRedisPubSub } from './pubsub.js';
import { sharedSubscriber } from './shared-subscriber.js';
import { queueAssignScript } from './scripts/queue-assign.js';
import { queueCancelScript } from './scripts/queue-cancel.js';
import { queueClaimScript } from './scripts/queue-claim.js';
import { queueRecoverScript } from './scripts/queue-recover.js';
import { queueCompleteScript } from './scripts/queue-complete.js';
import { queueConfigScript } from './scripts/queue-config.js';
import { queueEnqueueScript } from './scripts/queue-enqueue.js';
import { queueExtendScript } from './scripts/queue-extend.js';
import { queueFailScript } from './scripts/queue-fail.js';
import { queueGetScript } from './scripts/queue-get.js';
import { queueListScript } from './scripts/queue-list.js';
import { queueMaintainScript } from './scripts/queue-maintain.js';
import { queueReleaseScript } from './scripts/queue-release.js';
import { queueStatsScript } from './scripts/queue-stats.js';
import { queueTenantScript } from './scripts/queue-tenant.js';

/**
 * Options of {@link createRedisQueue}.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import type { RedisQueueOptions } from 'digital-fabrica/adapters/redis';
 * const options: RedisQueueOptions = { client: new Redis(), prefix: 'myapp', queue: 'emails', replayWindowMs: 60_000 };
 * ```
 */
export interface RedisQueueOptions extends RedisCommonOptions {
  /**
   * The host's client: scripts run on it, and `duplicate()` makes the subscriber connection that
   * carries wake-ups, one per client, shared with every other queue handle and pub/sub adapter
   * made from it (closed when the last of them closes). The adapter never closes the host's client.
   */
  readonly client: RedisScriptClient & RedisPubSubClient;
  /** The queue's name (default `default`); adapters with one name and prefix share tasks. */
  readonly queue?: string;
  /**
   * How long (ms) the reply of each complete, fail and release is kept, so that a call the client
   * resends after a dropped connection gets its first answer instead of `TASK_LEASE_LOST`
   * (default 120 000; 0 turns this off). Costs one small key per call for that long.
   */
  readonly replayWindowMs?: number;
  /**
   * How often (ms) the adapter runs the queue's maintenance in the background: reaps expired
   * leases and removes up to 1,000 tasks past their retention (default 60 000; 0 turns it off).
   * Completions and busy workers already do both; this covers a queue nobody works on, whose
   * retained tasks would otherwise stay in Redis's memory. The timer never keeps the process alive.
   */
  readonly sweepIntervalMs?: number;
}

// setInterval's largest delay.
const MAX_TIMER_MS = 2_147_483_647;
// Completions issued in the same tick travel in one script call, up to this many.
const COMPLETE_BATCH = 500;
// Tasks per enqueue script call: bounds how long one call holds the server (~10 ms).
const ENQUEUE_CHUNK = 1_000;

/**
 * A task queue on Redis: every operation is one Lua script (atomic; all keys share the adapter's
 * hash tag, so it is legal on Redis Cluster), with time from the server's `TIME`.
 *
 * - The claim script applies the fair policy inside the script: it reaps expired leases,
 *   activates due delayed tasks, promotes aged ones, hands out assigned tasks, then picks task by
 *   task — per band the tenant with the smallest virtual time from a sorted set of tenants
 *   (`bt:<band>`), the tenant's best task from its own sorted set (priority, then FIFO), skipping
 *   tenants at their concurrency cap or out of rate tokens. Caps are counted in the same script,
 *   so they hold across every worker sharing the server.
 * - Wake-ups: a claim that comes up short clears a flag; the next enqueue or freed slot sets it
 *   and publishes once on the queue's channel, which {@link QueueAdapter.waitForWork} listens to
 *   through one subscriber connection. Busy queues publish nothing; idle workers never poll.
 * - Completions issued in the same tick go in one script call. A completion ioredis resends
 *   after a dropped connection is answered `ok` again; a resent enqueue is recognised by its ids.
 *
 * @throws `VALIDATION_FAILED` for bad options.
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import { createRedisQueue } from 'digital-fabrica/adapters/redis';
 * const client = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
 * const queue = createRedisQueue({ client, prefix: 'myapp', queue: 'renders' });
 * await queue.enqueue({ type: 'render', tenantId: 'acme', payload: { scene: 1 } });
 * const { tasks } = await queue.claim('worker-1', 10, 30_000);
 * for (const task of tasks) await queue.complete(task.lease, { ok: true });
 * await queue.close(); // the client stays open: it is the host's
 * ```
 */
export function createRedisQueue(options: RedisQueueOptions): QueueAdapter {
  const extra = {
    queue: queueNameSchema.optional(),
    replayWindowMs: z.number().int().min(0).max(24 * 3600 * 1000).optional(),
    sweepIntervalMs: z.number().int().min(0).max(MAX_TIMER_MS).optional(),
  };
  const opts = parseRedisOptions<RedisScriptClient & RedisPubSubClient, typeof extra>(options, ['evalsha', 'eval', 'publish', 'duplicate'], 'redis queue options', extra);
  return new RedisQueue(opts.client, opts.prefix, opts.extra.queue ?? 'default', opts.logger, opts.extra.replayWindowMs ?? 120_000, opts.extra.sweepIntervalMs ?? 60_000);
}

interface PendingCompletion {
  readonly lease: TaskLease;
  readonly resultJson: string;
  readonly resolve: (update: TaskUpdate) => void;
  readonly reject: (err: unknown) => void;
}

type Reply = unknown[];

class RedisQueue implements QueueAdapter {
  readonly #lostClaims = new LostClaims();
  /** Per worker, the first token of its last claim whose reply arrived: the claim record to delete next. */
  readonly #receivedClaims = new Map<string, string>();
  readonly name: string;
  readonly #client: RedisScriptClient;
  readonly #logger: Logger;
  /** `{<prefix>}:q:<queue>:`: every key of this queue starts with it. */
  readonly #p: string;
  readonly #cfg: string;
  readonly #channel: string;
  readonly #redisChannel: string;
  readonly #pubsub: PubSub;
  /** Stops waking this handle's waiters when the shared subscriber connection comes back. */
  readonly #unwatchReconnects: () => void;
  readonly #nextId = createTaskIdGenerator(systemClock);
  #closed = false;
  #listening: Promise<Unsubscribe> | undefined;
  /** The wake-up subscription is live: claims need not wait for it. */
  #listened = false;
  readonly #wake = new WakeSignal();
  #completions: PendingCompletion[] = [];
  #flushScheduled = false;

  readonly #replayWindowMs: number;
  readonly #sweeper: ReturnType<typeof setInterval> | undefined;
  #sweeping = false;

  constructor(client: RedisScriptClient & RedisPubSubClient, prefix: string, name: string, logger: Logger, replayWindowMs: number, sweepIntervalMs: number) {
    this.name = name;
    this.#replayWindowMs = replayWindowMs;
    this.#client = client;
    this.#logger = logger;
    const layout = redisKeyLayout(prefix);
    this.#p = `${layout.tag}:q:${name}:`;
    this.#cfg = `${this.#p}cfg`;
    this.#channel = `queue.${name}`;
    this.#redisChannel = layout.channel(this.#channel);
    this.#pubsub = createRedisPubSub({ client, prefix, logger });
    // Wake-ups published while the subscriber was cut off are lost, and the flag they set keeps
    // later enqueues from publishing until a claim comes up short: waiting workers claim once the
    // connection is back instead of sleeping to the end of their idlePollMs.
    this.#unwatchReconnects = sharedSubscriber(client).watchReconnects(() => this.#wake.notify());
    if (sweepIntervalMs > 0) {
      this.#sweeper = setInterval(() => void this.#sweep(), sweepIntervalMs);
      (this.#sweeper as { unref?: () => void }).unref?.();
    }
  }

  /** One background maintenance pass; a slow one is not overlapped by the next tick. */
  async #sweep(): Promise<void> {
    if (this.#sweeping || this.#closed) return;
    this.#sweeping = true;
    try {
      const { updates, purged } = await this.reapExpired();
      if (updates.length + purged > 0) this.#logger.debug('redis queue sweep', { queue: this.name, reaped: updates.length, purged });
    } catch (err) {
      if (!this.#closed) this.#logger.warn('redis queue sweep failed', { queue: this.name, code: isFabricaError(err) ? err.code : 'INTERNAL' });
    } finally {
      this.#sweeping = false;
    }
  }

  async init(): Promise<void> {
    this.#assertOpen();
  }

  async enqueue(request: EnqueueRequest): Promise<EnqueueResult> {
    this.#assertOpen();
    const [result] = await this.#enqueue([parseEnqueue(request)]);
    return result!;
  }

  async enqueueMany(requests: readonly EnqueueRequest[]): Promise<EnqueueResult[]> {
    this.#assertOpen();
    const specs = parseEnqueueMany(requests);
    const out: EnqueueResult[] = [];
    // Chunks keep each script short; duplicates across chunks still resolve through the index.
    for (let i = 0; i < specs.length; i += ENQUEUE_CHUNK) out.push(...(await this.#enqueue(specs.slice(i, i + ENQUEUE_CHUNK))));
    return out;
  }

  async claim(workerId: string, limit: number, leaseMs: number): Promise<ClaimResult> {
    this.#assertOpen();
    const req = parseClaim(workerId, limit, leaseMs);
    // Once the subscription is live, nothing is awaited before the script goes out: the claim is
    // written in the caller's turn, ahead of the completions that turn queued (they flush in a
    // microtask), so Redis runs those completions while the caller handles this claim's tasks.
    // Awaiting here cost a worker draining no-op tasks about 10% of its throughput.
    if (!this.#listened) await this.#listen();
    this.#wake.clear();
    return claimRecovering(
      this.#lostClaims,
      req,
      async (claims, limit) => {
        const args = [req.workerId, limit, req.leaseMs, claims.length, ...claims.map((tokens) => tokens[0]!)];
        const rows = (await this.#run(queueRecoverScript, args, 'queue.claim')) as unknown[];
        return rows.map((row) => this.#claimedOf(row, req.workerId));
      },
      async (limit, tokens) => {
        // The previous claim's record (kept in case its reply got lost) goes with this claim.
        const received = this.#receivedClaims.get(req.workerId) ?? '';
        this.#receivedClaims.delete(req.workerId);
        const reply = await this.#run(queueClaimScript, [req.workerId, limit, req.leaseMs, this.#redisChannel, ...tokens, received], 'queue.claim');
        const [reapedRows, taskRows, next, at] = reply as [Reply[], unknown[], unknown, unknown];
        if (taskRows.length > 0) this.#receivedClaims.set(req.workerId, tokens[0]!);
        const tasks = taskRows.map((row) => this.#claimedOf(row, req.workerId));
        const reaped = reapedRows.map((r) => this.#reapedUpdate(r, num(str(at))));
        const nextText = str(next);
        return { tasks, reaped, nextInMs: nextText === '' ? null : Number(nextText) };
      },
    );
  }

  /** A claimed task from one reply row (see the claim script's reply). */
  #claimedOf(row: unknown, workerId: string): ClaimedTask {
    const r = fieldsOf(row);
    return makeClaimed({
      id: r[0]!,
      tenantId: r[1]!,
      type: r[2]!,
      attempt: num(r[3]!),
      cost: num(r[4]!),
      token: r[5]!,
      workerId,
      expiresAt: num(r[6]!),
      ownerId: r[7] === '' ? null : r[7]!,
      band: num(r[8]!),
      curBand: num(r[9]!),
      priority: num(r[10]!),
      opts: r[11]!,
      maxAttempts: num(r[12]!),
      createdAt: num(r[13]!),
      readyAt: num(r[14]!),
      payload: r[15]!,
    });
  }

  async extend(lease: TaskLease, leaseMs: number, progress?: JsonValue): Promise<TaskLease> {
    this.#assertOpen();
    const l = parseLease(lease);
    const ms = parseLeaseMs(leaseMs);
    const progressJson = progress === undefined ? '' : encodeTaskValue(progress, 'task progress');
    const r = (await this.#run(queueExtendScript, [l.taskId, l.token, ms, progressJson], 'queue.extend')) as Reply;
    assertLeaseStatus(str(r[0]), l.taskId, str(r[1]) || undefined);
    return new IssuedLease(l.taskId, l.token, str(r[4]), num(str(r[3])), num(str(r[2])));
  }

  async complete(lease: TaskLease, result?: JsonValue): Promise<TaskUpdate> {
    this.#assertOpen();
    const l = parseLease(lease);
    const resultJson = result === undefined ? '' : encodeTaskValue(result, 'task result');
    return new Promise<TaskUpdate>((resolve, reject) => {
      this.#completions.push({ lease: l, resultJson, resolve, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        queueMicrotask(() => void this.#flushCompletions());
      }
    });
  }

  async fail(lease: TaskLease, options: FailOptions): Promise<TaskUpdate> {
    this.#assertOpen();
    const l = parseLease(lease);
    const o = parseFail(options);
    const r = (await this.#run(
      queueFailScript,
      [this.#redisChannel, l.taskId, l.token, encodeTaskError(o.error), o.retryInMs, o.final ? '1' : '0', ...this.#replay()],
      'queue.fail',
    )) as Reply;
    return this.#transition(r, l.taskId);
  }

  async release(lease: TaskLease, options?: { readonly delayMs?: number }): Promise<TaskUpdate> {
    this.#assertOpen();
    const l = parseLease(lease);
    const delayMs = parseRelease(options);
    const r = (await this.#run(queueReleaseScript, [this.#redisChannel, l.taskId, l.token, delayMs, ...this.#replay()], 'queue.release')) as Reply;
    return this.#transition(r, l.taskId);
  }

  async assign(taskId: string, workerId: string, leaseMs: number): Promise<{ readonly update: TaskUpdate; readonly lease: TaskLease }> {
    this.#assertOpen();
    const id = parseTaskId(taskId);
    const worker = parseWorkerId(workerId);
    const ms = parseLeaseMs(leaseMs);
    const token = globalThis.crypto.randomUUID();
    const r = (await this.#run(queueAssignScript, [this.#redisChannel, id, worker, ms, token], 'queue.assign')) as Reply;
    const status = str(r[0]);
    if (status === 'not-found') throw taskNotFound(id);
    if (status !== 'ok') throw taskStateConflict(id, str(r[1]), 'assign');
    const attempt = num(str(r[4]));
    return {
      update: makeUpdate(id, str(r[2]), str(r[3]), 'assigned', attempt, num(str(r[5])), null, 'assigned'),
      lease: new IssuedLease(id, token, worker, attempt, num(str(r[6]))),
    };
  }

  async cancel(taskId: string): Promise<TaskUpdate> {
    this.#assertOpen();
    const id = parseTaskId(taskId);
    const r = (await this.#run(queueCancelScript, [this.#redisChannel, id, '0'], 'queue.cancel')) as Reply;
    const status = str(r[0]);
    if (status === 'not-found') throw taskNotFound(id);
    if (status === 'conflict') throw taskStateConflict(id, str(r[1]), 'cancel');
    return makeUpdate(id, str(r[2]), str(r[3]), 'cancelled', num(str(r[4])), num(str(r[5])), null, status === 'already' ? undefined : 'cancelled');
  }

  async delete(taskId: string): Promise<boolean> {
    this.#assertOpen();
    const id = parseTaskId(taskId);
    const r = (await this.#run(queueCancelScript, [this.#redisChannel, id, '1'], 'queue.delete')) as Reply;
    return str(r[0]) !== 'not-found';
  }

  async get(taskId: string): Promise<Task | null> {
    this.#assertOpen();
    const id = parseTaskId(taskId);
    const f = ((await this.#run(queueGetScript, [id], 'queue.get')) as Reply).map((v) => (v === null || v === undefined ? '' : str(v)));
    return f.length === 0 ? null : taskOfFields(id, f);
  }

  async list(query: TaskListQuery): Promise<TaskListPage> {
    this.#assertOpen();
    const q = parseListQuery(query);
    const items: Task[] = [];
    let after = q.after ?? '';
    // Each script call scans a bounded stretch of the index, so a sparse filter never holds the
    // server for long; the calls resume strictly after the last id scanned.
    for (;;) {
      const [status, last, raw] = (await this.#run(
        queueListScript,
        [q.tenantId, after, q.state ?? '', q.type ?? '', q.ownerId ?? '', String(q.limit - items.length), String(LIST_SCAN_BUDGET)],
        'queue.list',
      )) as [unknown, unknown, Reply[]];
      for (const entry of raw) {
        const f = entry.map((v) => (v === null || v === undefined ? '' : str(v)));
        items.push(taskOfFields(f[0]!, f.slice(1)));
      }
      const s = str(status);
      if (s === 'more') return { items, cursor: encodeListCursor(items[items.length - 1]!.id) };
      if (s === 'done') return { items, cursor: null };
      after = str(last);
      if (after === '') return { items, cursor: null };
    }
  }


  async reapExpired(limit?: number): Promise<{ readonly updates: readonly TaskUpdate[]; readonly purged: number }> {
    this.#assertOpen();
    const max = parseReapLimit(limit);
    const [rows, purged, at] = (await this.#run(queueMaintainScript, [this.#redisChannel, max], 'queue.reap')) as [Reply[], unknown, unknown];
    return { updates: rows.map((r) => this.#reapedUpdate(r, num(str(at)))), purged: Number(purged) };
  }

  async stats(): Promise<QueueStats> {
    this.#assertOpen();
    const [at, flat, oldest, tenantRows, policy] = (await this.#run(queueStatsScript, [], 'queue.stats')) as [unknown, Reply, unknown, Reply[], Reply];
    const byGroup = new Map<string, { tenantId: string; type: string; counts: Record<keyof TaskCounts, number> }>();
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const [state, tenantId, type] = str(flat[i]).split('|') as [keyof TaskCounts, string, string];
      const id = `${tenantId}|${type}`;
      let group = byGroup.get(id);
      if (group === undefined) {
        group = { tenantId, type, counts: zeroCounts() };
        byGroup.set(id, group);
      }
      group.counts[state] = Number(str(flat[i + 1]));
    }
    const groups: TaskGroupCounts[] = [...byGroup.values()]
      .sort((a, b) => (a.tenantId === b.tenantId ? compareKeys(a.type, b.type) : compareKeys(a.tenantId, b.tenantId)))
      .map((g) => ({ tenantId: g.tenantId, type: g.type, ...g.counts }));
    const counts = zeroCounts();
    for (const g of groups) for (const k of COUNT_KEYS) counts[k] += g[k];
    const oldestText = str(oldest);
    return {
      at: num(str(at)),
      counts,
      groups,
      tenants: tenantRows.map((t) => ({
        tenantId: str(t[0]),
        ready: num(str(t[1])),
        leased: num(str(t[2])),
        unservedMs: str(t[3]) === '' ? null : num(str(t[3])),
      })),
      oldestReadyAt: oldestText === '' ? null : Number(oldestText),
      policy: policyOf(policy),
    };
  }

  async configure(policy: Partial<QueuePolicy>): Promise<QueuePolicy> {
    this.#assertOpen();
    const p = parsePolicyPatch(policy);
    const pair = (value: number | null | undefined): RedisArgument[] => (value === undefined ? ['0', ''] : ['1', value === null ? '' : value]);
    const r = (await this.#run(
      queueConfigScript,
      [this.#redisChannel, ...pair(p.maxConcurrency), ...pair(p.agingMs), ...pair(p.retentionMs), ...pair(p.failedRetentionMs)],
      'queue.configure',
    )) as Reply;
    return policyOf(r);
  }

  async setTenant(tenantId: string, policy: Partial<TenantPolicy>): Promise<TenantPolicy> {
    this.#assertOpen();
    const id = parseTenantId(tenantId);
    const p = parseTenantPatch(policy);
    const pair = (value: number | null | undefined): RedisArgument[] => (value === undefined ? ['0', ''] : ['1', value === null ? '' : value]);
    const r = (await this.#run(
      queueTenantScript,
      [this.#redisChannel, id, '1', p.weight ?? '', ...pair(p.maxConcurrency), ...pair(p.ratePerSecond), p.burst ?? ''],
      'queue.setTenant',
    )) as Reply;
    return tenantOf(r);
  }

  async getTenant(tenantId: string): Promise<TenantPolicy> {
    this.#assertOpen();
    const id = parseTenantId(tenantId);
    return tenantOf((await this.#run(queueTenantScript, [this.#redisChannel, id, '0'], 'queue.getTenant')) as Reply);
  }

  async waitForWork(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    this.#assertOpen();
    const ms = parseTimeout(timeoutMs);
    // Beside the subscription: one ioredis keeps retrying must not hold up a worker's close().
    await this.#wake.waitBeside(this.#listen(), ms, signal);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
    this.#unwatchReconnects();
    this.#wake.releaseAll();
    if (this.#completions.length > 0) await this.#flushCompletions();
    await this.#pubsub.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new AdapterClosedError('redis queue is closed');
  }

  /** A fresh request id per call (a resend carries the same arguments, hence the same id) and the window. */
  #replay(): [string, number] {
    return this.#replayWindowMs === 0 ? ['', 0] : [globalThis.crypto.randomUUID(), this.#replayWindowMs];
  }

  #listen(): Promise<Unsubscribe> {
    this.#listening ??= this.#pubsub
      .subscribe(this.#channel, () => {
        this.#wake.notify();
      })
      .then(
        (unsubscribe) => {
          this.#listened = true;
          return unsubscribe;
        },
        (err: unknown) => {
          this.#listening = undefined;
          throw err;
        },
      );
    return this.#listening;
  }

  async #run(script: LuaScript, args: readonly RedisArgument[], operation: string): Promise<unknown> {
    try {
      return await runScript(this.#client, script, [this.#cfg], [this.#p, ...args], this.#logger);
    } catch (err) {
      throw mapRedisError(err, operation);
    }
  }

  async #enqueue(specs: readonly NewTask[]): Promise<EnqueueResult[]> {
    if (specs.length === 0) return [];
    const args: RedisArgument[] = [this.#redisChannel, specs.length];
    for (const s of specs) {
      args.push(
        this.#nextId(),
        s.tenantId,
        s.type,
        s.ownerId ?? '',
        s.payloadJson,
        s.band,
        s.priority,
        s.cost,
        encodeTaskOptions(s),
        s.maxAttempts,
        s.idempotencyKey ?? '',
        s.runAt ?? '',
        s.delayMs,
      );
    }
    const rows = (await this.#run(queueEnqueueScript, args, 'queue.enqueue')) as unknown[];
    return rows.map((row, i) => {
      const r = fieldsOf(row);
      return {
        task: makeUpdate(r[0]!, specs[i]!.tenantId, specs[i]!.type, taskState(r[2]!), num(r[3]!), num(r[4]!), num(r[5]!)),
        created: r[1] === '1',
      };
    });
  }

  async #flushCompletions(): Promise<void> {
    this.#flushScheduled = false;
    const batch: PendingCompletion[] = [];
    const later: PendingCompletion[] = [];
    const ids = new Set<string>();
    for (const item of this.#completions) {
      if (batch.length < COMPLETE_BATCH && !ids.has(item.lease.taskId)) {
        ids.add(item.lease.taskId);
        batch.push(item);
      } else {
        later.push(item);
      }
    }
    this.#completions = later;
    if (later.length > 0 && !this.#flushScheduled) {
      this.#flushScheduled = true;
      queueMicrotask(() => void this.#flushCompletions());
    }
    const args: RedisArgument[] = [this.#redisChannel, batch.length];
    for (const c of batch) args.push(c.lease.taskId, c.lease.token, c.resultJson);
    args.push(...this.#replay());
    let rows: unknown[];
    try {
      rows = (await this.#run(queueCompleteScript, args, 'queue.complete')) as unknown[];
    } catch (err) {
      for (const item of batch) item.reject(err);
      return;
    }
    rows.forEach((row, i) => {
      const item = batch[i]!;
      try {
        const r = fieldsOf(row);
        assertLeaseStatus(r[0]!, item.lease.taskId, r[1] || undefined);
        item.resolve(makeUpdate(item.lease.taskId, r[2]!, r[3]!, 'completed', num(r[4]!), num(r[5]!)));
      } catch (err) {
        item.reject(err);
      }
    });
  }

  #transition(r: Reply, taskId: string): TaskUpdate {
    assertLeaseStatus(str(r[0]), taskId, str(r[1]) || undefined);
    const readyAt = str(r[6]);
    return makeUpdate(taskId, str(r[2]), str(r[3]), taskState(str(r[1])), num(str(r[4])), num(str(r[5])), readyAt === '' ? null : Number(readyAt), str(r[7]) || null);
  }

  /** A reaped lease's update; `at` is the server time of the reap, when a re-queued task became ready again. */
  #reapedUpdate(r: Reply, at: number): TaskUpdate {
    const state = taskState(str(r[3]));
    return makeUpdate(str(r[0]), str(r[1]), str(r[2]), state, num(str(r[4])), at, at, str(r[5]));
  }
}

const COUNT_KEYS = ['queued', 'delayed', 'assigned', 'running', 'completed', 'failed', 'cancelled', 'dead'] as const;

function zeroCounts(): Record<keyof TaskCounts, number> {
  return { queued: 0, delayed: 0, assigned: 0, running: 0, completed: 0, failed: 0, cancelled: 0, dead: 0 };
}

// Script replies are ours, but a wrong shape must surface as INTERNAL, not a TypeError.
/** The fields of one row of a per-task reply (claim, complete, enqueue): one string, joined by FS (see the Lua prelude). */
function fieldsOf(row: unknown): string[] {
  return rowFields(str(row));
}

function str(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  if (value === null || value === undefined) return '';
  throw new FabricaError('INTERNAL', 'redis queue: unexpected script reply');
}

function optional(value: unknown): number | null {
  const text = str(value);
  return text === '' ? null : Number(text);
}

function policyOf(r: Reply): QueuePolicy {
  return { maxConcurrency: optional(r[0]), agingMs: optional(r[1]), retentionMs: Number(str(r[2])), failedRetentionMs: optional(r[3]) };
}

function tenantOf(r: Reply): TenantPolicy {
  return { weight: Number(str(r[0])), maxConcurrency: optional(r[1]), ratePerSecond: optional(r[2]), burst: Number(str(r[3])) };
}

/** A task hash's fields in the order of the get script (see queue-get.ts) as a {@link Task}. */
function taskOfFields(id: string, f: readonly string[]): Task {
  const state = taskState(f[11]);
  return makeTask({
    id,
    tenantId: f[0]!,
    type: f[1]!,
    ownerId: f[2] === '' ? null : f[2]!,
    payload: f[3]!,
    band: num(f[4]),
    curBand: num(f[5]),
    priority: num(f[6]),
    cost: num(f[7]),
    opts: f[8]!,
    maxAttempts: num(f[9]),
    idempotencyKey: f[10] === '' ? null : f[10]!,
    state,
    attempt: num(f[12]),
    createdAt: num(f[13]),
    readyAt: num(f[14]),
    updatedAt: num(f[15]),
    workerId: f[16] === '' ? null : f[16]!,
    leaseExpiresAt: f[17] === '' ? null : num(f[17]),
    progress: f[18] === '' ? null : f[18]!,
    result: f[19] === '' ? null : f[19]!,
    error: f[20] === '' ? null : f[20]!,
    history: f[21]!,
  });
}

/** Index entries one list script call scans at most. */
const LIST_SCAN_BUDGET = 5000;
