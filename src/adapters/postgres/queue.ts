import { createHash } from 'node:crypto';
import { z } from 'zod';
import { systemClock } from '../../core/clock.js';
import { FabricaError } from '../../core/errors.js';
import { parseInput } from '../../core/validation.js';
import type { PubSub, Unsubscribe } from '../pubsub.js';
import type { JsonValue } from '../storage.js';
import type {
  ClaimResult,
  ClaimedTask,
  EnqueueRequest,
  EnqueueResult,
  FailOptions,
  QueueAdapter,
  QueuePolicy,
  QueueStats,
  Task,
  TaskCounts,
  TaskListPage,
  TaskListQuery,
  TaskGroupCounts,
  TaskLease,
  TaskUpdate,
  TenantPolicy,
  TenantQueueState,
} from '../queue.js';
import {
  createTaskIdGenerator,
  DEFAULT_TENANT_POLICY,
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
import { WakeSignal } from '../internal/wake-signal.js';
import { taskNotFound, taskStateConflict } from '../internal/queue-errors.js';
import { assertLeaseStatus, encodeTaskError, encodeTaskOptions, makeClaimed, makeTask, makeUpdate, num, rowFields, taskState } from '../internal/queue-records.js';
import type { PgPool } from './driver.js';
import { mapPgError } from './errors.js';
import { Lifecycle } from './lifecycle.js';
import { quoteIdentifier } from './migrations.js';
import { adapterOptionsShape, resolveAdapterOptions, type PostgresAdapterOptions } from './options.js';
import { createPostgresPubSub } from './pubsub.js';
import { poolListener } from './pool-listener.js';
import {
  CLAIM_REAPED_FIELDS,
  CLAIM_TASK_FIELDS,
  COMPLETE_FIELDS,
  queueStatements,
  type ClaimRow,
  type CompleteRow,
  type EnqueueRow,
  type PolicyRow,
  type QueueStatements,
  type TaskRow,
  type TenantRow,
  type TransitionRow,
} from './sql/queue.js';
import { claimRecovering, LostClaims } from '../internal/lost-claims.js';

/**
 * Options of {@link createPostgresQueue}: those of every PostgreSQL adapter, and the queue's name.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * import type { PostgresQueueOptions } from 'digital-fabrica/adapters/postgres';
 * const options: PostgresQueueOptions = { pool: new pg.Pool(), schema: 'digital_fabrica', queue: 'renders', migrate: true };
 * ```
 */
export interface PostgresQueueOptions extends PostgresAdapterOptions {
  /** The queue's name (default `default`); adapters with one name and schema share tasks. */
  readonly queue?: string;
  /**
   * How old (ms) the result of {@link QueueAdapter.stats} may be (default 0: computed on every
   * call). The counts are maintained (schema version 8), but the oldest waiting task and the
   * tenants' lease counts are still read from the queued and leased tasks. Above 0, all processes
   * share one snapshot per queue in the database, and one of them recomputes it when it is older
   * than this. `stats().at` tells when it was taken.
   */
  readonly statsMaxAgeMs?: number;
}

const optionsSchema = z.strictObject({
  ...adapterOptionsShape,
  queue: queueNameSchema.optional(),
  statsMaxAgeMs: z.number().int().min(0).max(3_600_000).optional(),
});

// Completions issued in the same tick travel in one round trip, up to this many.
const COMPLETE_BATCH = 500;

/**
 * A task queue on PostgreSQL: tasks in `<schema>.queue_tasks`, every operation one call of a
 * plpgsql function (migration 2), so each is one round trip and atomic.
 *
 * - The claim (`queue_claim`) applies the whole fair policy inside one transaction under the
 *   queue's advisory lock: reaps expired leases, activates due delayed tasks, promotes aged ones,
 *   hands out tasks assigned to the worker, then serves each band in one statement — candidate
 *   tenants in virtual-time order from `queue_tenant_bands`, their top tasks taken `FOR UPDATE
 *   SKIP LOCKED`, virtual times, rate tokens and the band's virtual time written back. The global
 *   and per-tenant concurrency caps are counted inside the same transaction, so they hold across
 *   every worker sharing the database.
 * - Wake-ups ride on `LISTEN/NOTIFY`: enqueues, re-queues and freed capacity notify the queue's
 *   channel; {@link QueueAdapter.waitForWork} returns on the notification (through one LISTEN
 *   connection, the pub/sub adapter's). No polling: idle workers sleep until notified or until
 *   the claim's `nextInMs`.
 * - Completions issued in the same tick are sent together (one `queue_complete` call); rows are
 *   locked in id order, so concurrent batches never deadlock.
 * - Times are the database clock's epoch milliseconds. A background sweep (every
 *   `sweepIntervalMs`) reaps leases and purges tasks past their retention.
 *
 * @throws `VALIDATION_FAILED` for bad options. Methods throw `ADAPTER_SCHEMA_MISMATCH` until the
 *   schema is migrated, `ADAPTER_UNAVAILABLE` when the database cannot be reached,
 *   `ADAPTER_CLOSED` after `close()`.
 * @example
 * ```ts
 * import pg from 'pg';
 * import { createPostgresQueue, migratePostgres } from 'digital-fabrica/adapters/postgres';
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * await migratePostgres({ pool });
 * const queue = createPostgresQueue({ pool, queue: 'renders' });
 * await queue.enqueue({ type: 'render', tenantId: 'acme', payload: { scene: 1 } });
 * const { tasks } = await queue.claim('worker-1', 10, 30_000);
 * for (const task of tasks) await queue.complete(task.lease, { ok: true });
 * await queue.close(); // the pool stays open: it is the host's
 * ```
 */
export function createPostgresQueue(options: PostgresQueueOptions): QueueAdapter {
  const parsed = parseInput(optionsSchema, options, 'postgres queue options');
  return new PostgresQueue(resolveAdapterOptions(parsed), parsed.queue ?? 'default', parsed.statsMaxAgeMs ?? 0);
}

/**
 * The NOTIFY channel identifier the pub/sub adapter listens on for `channel` in `schema`: the
 * same derivation as `createPostgresPubSub` (`df_` + 160 bits of SHA-256 over schema, NUL,
 * channel), so the SQL functions can notify a channel the pub/sub adapter delivers.
 * @internal
 */
export function pubsubIdentifier(schema: string, channel: string): string {
  return `df_${createHash('sha256').update(`${schema}\u0000${channel}`).digest('hex').slice(0, 40)}`;
}

interface PendingCompletion {
  readonly lease: TaskLease;
  readonly resultJson: string | null;
  readonly resolve: (update: TaskUpdate) => void;
  readonly reject: (err: unknown) => void;
}

class PostgresQueue implements QueueAdapter {
  readonly #lostClaims = new LostClaims();
  readonly name: string;
  readonly #pool: PgPool;
  readonly #sql: QueueStatements;
  readonly #life: Lifecycle;
  readonly #channel: string;
  readonly #identifier: string;
  readonly #pubsub: PubSub;
  /** Stops waking this handle's waiters when the pool's LISTEN connection comes back. */
  readonly #unwatchReconnects: () => void;
  readonly #nextId = createTaskIdGenerator(systemClock);
  #listening: Promise<Unsubscribe> | undefined;
  readonly #wake = new WakeSignal();
  #completions: PendingCompletion[] = [];
  #flushScheduled = false;

  readonly #statsMaxAgeMs: number;

  constructor(options: ReturnType<typeof resolveAdapterOptions>, name: string, statsMaxAgeMs: number) {
    this.name = name;
    this.#statsMaxAgeMs = statsMaxAgeMs;
    this.#pool = options.pool;
    this.#sql = queueStatements(quoteIdentifier(options.schema));
    this.#channel = `queue.${name}`;
    this.#identifier = pubsubIdentifier(options.schema, this.#channel);
    this.#life = new Lifecycle('queue', options, async () => (await this.#maintain(1000)).count, true);
    // The pub/sub adapter listens (on the pool's one shared LISTEN connection, with its reconnects); it sweeps nothing of ours.
    this.#pubsub = createPostgresPubSub({ pool: options.pool, schema: options.schema, sweepIntervalMs: 0, ...(options.logger ? { logger: options.logger } : {}) });
    // Notifications sent while the LISTEN connection was down are lost: waiting workers claim once
    // it is back instead of sleeping to the end of their idlePollMs.
    this.#unwatchReconnects = poolListener(options.pool).watchReconnects(() => this.#wake.notify());
  }

  async init(): Promise<void> {
    await this.#life.ready();
  }

  async enqueue(request: EnqueueRequest): Promise<EnqueueResult> {
    const spec = parseEnqueue(request);
    const [result] = await this.#enqueue([spec], false);
    return result!;
  }

  async enqueueMany(requests: readonly EnqueueRequest[]): Promise<EnqueueResult[]> {
    const specs = parseEnqueueMany(requests);
    if (specs.length === 0) {
      await this.#life.ready();
      return [];
    }
    return this.#enqueue(specs, true);
  }

  async claim(workerId: string, limit: number, leaseMs: number): Promise<ClaimResult> {
    const req = parseClaim(workerId, limit, leaseMs);
    await this.#listen();
    this.#wake.clear();
    return claimRecovering(
      this.#lostClaims,
      req,
      async (claims, limit) => {
        const rows = await this.#query<{ o_row: string }>('queue.claim', this.#sql.recover, [this.name, req.workerId, claims.flat(), req.leaseMs, limit, claims.map((tokens) => tokens[0]!)]);
        return rows.map((row) => this.#claimedOf(rowFields(row.o_row), req.workerId));
      },
      async (limit, tokens) => {
        const rows = await this.#query<ClaimRow>('queue.claim', this.#sql.claim, [this.name, req.workerId, limit, req.leaseMs, tokens, this.#identifier]);
        const tasks: { pos: number; task: ClaimedTask }[] = [];
        const reaped: TaskUpdate[] = [];
        let nextInMs: number | null = null;
        const R = CLAIM_REAPED_FIELDS;
        for (const row of rows) {
          if (row.o_kind === 't') {
            const f = rowFields(row.o_row);
            tasks.push({ pos: Number(f[CLAIM_TASK_FIELDS.pos]), task: this.#claimedOf(f, req.workerId) });
          } else if (row.o_kind === 'r') {
            const f = rowFields(row.o_row);
            const readyAt = f[R.readyAt]!;
            reaped.push(
              makeUpdate(f[R.id]!, f[R.tenant]!, f[R.type]!, taskState(f[R.state]!), Number(f[R.attempt]), Number(f[R.at]), readyAt === '' ? null : Number(readyAt), f[R.reason] || null),
            );
          } else {
            nextInMs = Number(row.o_row);
          }
        }
        tasks.sort((a, b) => a.pos - b.pos);
        return { tasks: tasks.map((t) => t.task), reaped, nextInMs };
      },
    );
  }

  /** A claimed task from the fields of a claim's 't' row (or a recovery row: the same, without `pos`). */
  #claimedOf(f: readonly string[], workerId: string): ClaimedTask {
    const T = CLAIM_TASK_FIELDS;
    return makeClaimed({
      id: f[T.id]!,
      tenantId: f[T.tenant]!,
      type: f[T.type]!,
      ownerId: f[T.owner] || null,
      payload: f[T.payload]!,
      band: Number(f[T.band]),
      curBand: Number(f[T.curBand]),
      priority: Number(f[T.priority]),
      cost: Number(f[T.cost]),
      opts: f[T.opts]!,
      attempt: Number(f[T.attempt]),
      maxAttempts: Number(f[T.maxAttempts]),
      createdAt: Number(f[T.createdAt]),
      readyAt: Number(f[T.readyAt]),
      token: f[T.token]!,
      workerId,
      expiresAt: Number(f[T.expires]),
    });
  }

  async extend(lease: TaskLease, leaseMs: number, progress?: JsonValue): Promise<TaskLease> {
    const l = parseLease(lease);
    const ms = parseLeaseMs(leaseMs);
    const progressJson = progress === undefined ? null : encodeTaskValue(progress, 'task progress');
    const [row] = await this.#query<{ o_status: string; o_state: string | null; o_expires: string | number; o_attempt: number; o_worker: string }>(
      'queue.extend',
      this.#sql.extend,
      [this.name, l.taskId, l.token, ms, progressJson],
    );
    assertLeaseStatus(row?.o_status ?? 'not-found', l.taskId, row?.o_state);
    return new IssuedLease(l.taskId, l.token, row!.o_worker, row!.o_attempt, num(row!.o_expires));
  }

  async complete(lease: TaskLease, result?: JsonValue): Promise<TaskUpdate> {
    const l = parseLease(lease);
    const resultJson = result === undefined ? null : encodeTaskValue(result, 'task result');
    await this.#life.ready();
    return new Promise<TaskUpdate>((resolve, reject) => {
      this.#completions.push({ lease: l, resultJson, resolve, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        queueMicrotask(() => this.#flushCompletions());
      }
    });
  }

  async fail(lease: TaskLease, options: FailOptions): Promise<TaskUpdate> {
    const l = parseLease(lease);
    const o = parseFail(options);
    const [row] = await this.#query<TransitionRow>('queue.fail', this.#sql.fail, [
      this.name,
      this.#identifier,
      l.taskId,
      l.token,
      encodeTaskError(o.error),
      o.retryInMs,
      o.final,
    ]);
    return this.#transition(row, l.taskId);
  }

  async release(lease: TaskLease, options?: { readonly delayMs?: number }): Promise<TaskUpdate> {
    const l = parseLease(lease);
    const delayMs = parseRelease(options);
    const [row] = await this.#query<TransitionRow>('queue.release', this.#sql.release, [this.name, this.#identifier, l.taskId, l.token, delayMs]);
    return this.#transition(row, l.taskId);
  }

  async assign(taskId: string, workerId: string, leaseMs: number): Promise<{ readonly update: TaskUpdate; readonly lease: TaskLease }> {
    const id = parseTaskId(taskId);
    const worker = parseWorkerId(workerId);
    const ms = parseLeaseMs(leaseMs);
    const token = globalThis.crypto.randomUUID();
    const [row] = await this.#query<{ o_status: string; o_state: string | null; o_tenant: string; o_type: string; o_attempt: number; o_at: string | number; o_expires: string | number }>(
      'queue.assign',
      this.#sql.assign,
      [this.name, this.#identifier, id, worker, ms, token],
    );
    if (row === undefined || row.o_status === 'not-found') throw taskNotFound(id);
    if (row.o_status !== 'ok') throw taskStateConflict(id, row.o_state ?? 'unknown', 'assign');
    const at = num(row.o_at);
    return {
      update: makeUpdate(id, row.o_tenant, row.o_type, 'assigned', row.o_attempt, at, null, 'assigned'),
      lease: new IssuedLease(id, token, worker, row.o_attempt, num(row.o_expires)),
    };
  }

  async cancel(taskId: string): Promise<TaskUpdate> {
    const id = parseTaskId(taskId);
    const row = await this.#cancel(id, false);
    if (row.o_status === 'not-found') throw taskNotFound(id);
    if (row.o_status === 'conflict') throw taskStateConflict(id, row.o_state ?? 'unknown', 'cancel');
    return makeUpdate(id, row.o_tenant!, row.o_type!, 'cancelled', row.o_attempt ?? 0, num(row.o_at), null, row.o_status === 'already' ? undefined : 'cancelled');
  }

  async delete(taskId: string): Promise<boolean> {
    const id = parseTaskId(taskId);
    return (await this.#cancel(id, true)).o_status !== 'not-found';
  }

  async get(taskId: string): Promise<Task | null> {
    const id = parseTaskId(taskId);
    const [row] = await this.#query<TaskRow>('queue.get', this.#sql.get, [this.name, id]);
    return row === undefined ? null : taskOfRow(row);
  }

  async list(query: TaskListQuery): Promise<TaskListPage> {
    const q = parseListQuery(query);
    const rows = await this.#query<TaskRow>('queue.list', this.#sql.list, [
      this.name,
      q.tenantId,
      q.after ?? NIL_UUID,
      q.state,
      q.type,
      q.ownerId,
      q.limit + 1,
    ]);
    const more = rows.length > q.limit;
    const items = (more ? rows.slice(0, q.limit) : rows).map(taskOfRow);
    return { items, cursor: more ? encodeListCursor(items[items.length - 1]!.id) : null };
  }


  async reapExpired(limit?: number): Promise<{ readonly updates: readonly TaskUpdate[]; readonly purged: number }> {
    const { updates, purged } = await this.#maintain(parseReapLimit(limit));
    return { updates, purged };
  }

  async stats(): Promise<QueueStats> {
    const shared = this.#statsMaxAgeMs > 0;
    const [row] = await this.#query<{ stats: string }>(
      'queue.stats',
      shared ? this.#sql.sharedStats : this.#sql.stats,
      shared ? [this.name, this.#statsMaxAgeMs] : [this.name],
    );
    const raw = JSON.parse(row!.stats) as {
      at: number;
      groups: ({ tenant: string; type: string } & Record<keyof TaskCounts, number>)[];
      oldest: number | null;
      tenants: { tenant: string; ready: number; leased: number; unserved: number | null }[];
      policy: { maxConcurrency: number | null; agingMs: number | null; retentionMs: number; failedRetentionMs: number | null };
    };
    const groups: TaskGroupCounts[] = raw.groups.map((g) => ({ tenantId: g.tenant, type: g.type, ...countsOf(g) }));
    const totals = groups.reduce<Record<keyof TaskCounts, number>>((acc, g) => {
      for (const k of COUNT_KEYS) acc[k] += g[k];
      return acc;
    }, countsOf({}));
    const tenants: TenantQueueState[] = raw.tenants.map((t) => ({
      tenantId: t.tenant,
      ready: t.ready,
      leased: t.leased,
      unservedMs: t.unserved === null || t.ready === 0 ? null : Number(t.unserved),
    }));
    return {
      at: Number(raw.at),
      counts: totals,
      groups,
      tenants,
      oldestReadyAt: raw.oldest === null ? null : Number(raw.oldest),
      policy: policyOf({
        max_concurrency: raw.policy.maxConcurrency,
        aging_ms: raw.policy.agingMs,
        retention_ms: raw.policy.retentionMs,
        failed_retention_ms: raw.policy.failedRetentionMs,
      }),
    };
  }

  async configure(policy: Partial<QueuePolicy>): Promise<QueuePolicy> {
    const p = parsePolicyPatch(policy);
    const [row] = await this.#query<PolicyRow>('queue.configure', this.#sql.configure, [
      this.name,
      this.#identifier,
      p.maxConcurrency !== undefined,
      p.maxConcurrency ?? null,
      p.agingMs !== undefined,
      p.agingMs ?? null,
      p.retentionMs ?? null,
      p.failedRetentionMs !== undefined,
      p.failedRetentionMs ?? null,
    ]);
    return policyOf(row!);
  }

  async setTenant(tenantId: string, policy: Partial<TenantPolicy>): Promise<TenantPolicy> {
    const id = parseTenantId(tenantId);
    const p = parseTenantPatch(policy);
    const [row] = await this.#query<TenantRow>('queue.setTenant', this.#sql.setTenant, [
      this.name,
      this.#identifier,
      id,
      p.weight ?? null,
      p.maxConcurrency !== undefined,
      p.maxConcurrency ?? null,
      p.ratePerSecond !== undefined,
      p.ratePerSecond ?? null,
      p.burst ?? null,
    ]);
    return tenantOf(row!);
  }

  async getTenant(tenantId: string): Promise<TenantPolicy> {
    const id = parseTenantId(tenantId);
    const [row] = await this.#query<TenantRow>('queue.getTenant', this.#sql.getTenant, [this.name, id]);
    return row === undefined ? DEFAULT_TENANT_POLICY : tenantOf(row);
  }

  async waitForWork(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const ms = parseTimeout(timeoutMs);
    // Beside the schema check and the LISTEN: with the server out of reach (pg has no connect
    // timeout by default) they must not hold up a worker's close().
    await this.#wake.waitBeside(
      this.#life.ready().then(() => this.#listen()),
      ms,
      signal,
    );
  }

  async close(): Promise<void> {
    if (this.#life.closed) return;
    this.#life.close();
    this.#unwatchReconnects();
    this.#wake.releaseAll();
    // Completions already accepted still go out; new calls fail with ADAPTER_CLOSED.
    if (this.#completions.length > 0) await this.#flushCompletions();
    await this.#pubsub.close();
  }

  /** Subscribes to the queue's wake-up channel once; resolves when the LISTEN is live. */
  #listen(): Promise<Unsubscribe> {
    this.#listening ??= this.#pubsub.subscribe(this.#channel, () => {
      this.#wake.notify();
    }).catch((err: unknown) => {
      this.#listening = undefined;
      throw err;
    });
    return this.#listening;
  }

  async #enqueue(specs: readonly NewTask[], lock: boolean): Promise<EnqueueResult[]> {
    const ids = specs.map(() => this.#nextId());
    const rows = await this.#query<EnqueueRow>('queue.enqueue', this.#sql.enqueue, [
      this.name,
      this.#identifier,
      lock,
      ids,
      specs.map((s) => s.tenantId),
      specs.map((s) => s.type),
      specs.map((s) => s.ownerId),
      specs.map((s) => s.payloadJson),
      specs.map((s) => s.band),
      specs.map((s) => s.priority),
      specs.map((s) => s.cost),
      specs.map(encodeTaskOptions),
      specs.map((s) => s.maxAttempts),
      specs.map((s) => s.idempotencyKey),
      specs.map((s) => s.runAt),
      specs.map((s) => s.delayMs),
    ]);
    const results = new Array<EnqueueResult>(specs.length);
    for (const row of rows) {
      const spec = specs[row.o_ord - 1]!;
      results[row.o_ord - 1] = {
        task: makeUpdate(row.o_id, spec.tenantId, spec.type, taskState(row.o_state), row.o_attempt, num(row.o_at), num(row.o_ready_at)),
        created: row.o_created,
      };
    }
    for (let i = 0; i < results.length; i++) {
      if (results[i] === undefined) throw mapPgError(new Error('queue_enqueue returned no row for a task'), 'queue.enqueue');
    }
    return results;
  }

  async #flushCompletions(): Promise<void> {
    this.#flushScheduled = false;
    const batch: PendingCompletion[] = [];
    const later: PendingCompletion[] = [];
    const ids = new Set<string>();
    for (const item of this.#completions) {
      // The same task twice in one statement would be judged against one row: send it next time.
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
      queueMicrotask(() => this.#flushCompletions());
    }
    let rows: CompleteRow[];
    try {
      rows = (
        await this.#pool.query<CompleteRow>(this.#sql.complete, [
          this.name,
          this.#identifier,
          batch.map((c) => c.lease.taskId),
          batch.map((c) => c.lease.token),
          batch.map((c) => c.resultJson),
        ])
      ).rows;
    } catch (err) {
      const mapped = mapPgError(err, 'queue.complete');
      for (const item of batch) item.reject(mapped);
      return;
    }
    const C = COMPLETE_FIELDS;
    for (const row of rows) {
      const f = rowFields(row.o_row);
      const item = batch[Number(f[C.ord]) - 1]!;
      try {
        assertLeaseStatus(f[C.status]!, item.lease.taskId, f[C.state] || null);
        item.resolve(makeUpdate(item.lease.taskId, f[C.tenant]!, f[C.type]!, 'completed', Number(f[C.attempt] || 0), Number(f[C.at])));
      } catch (err) {
        item.reject(err);
      }
    }
  }

  #transition(row: TransitionRow | undefined, taskId: string): TaskUpdate {
    assertLeaseStatus(row?.o_status ?? 'not-found', taskId, row?.o_state);
    return makeUpdate(taskId, row!.o_tenant!, row!.o_type!, taskState(row!.o_state), row!.o_attempt ?? 0, num(row!.o_at), row!.o_ready_at === null ? null : num(row!.o_ready_at), row!.o_reason);
  }

  async #cancel(id: string, remove: boolean): Promise<{ o_status: string; o_state: string | null; o_tenant: string | null; o_type: string | null; o_attempt: number | null; o_at: string | number }> {
    const [row] = await this.#query<{ o_status: string; o_state: string | null; o_tenant: string | null; o_type: string | null; o_attempt: number | null; o_at: string | number }>(
      remove ? 'queue.delete' : 'queue.cancel',
      this.#sql.cancel,
      [this.name, this.#identifier, id, remove],
    );
    if (row === undefined) throw new FabricaError('INTERNAL', 'postgres queue.cancel returned no row');
    return row;
  }

  async #maintain(limit: number): Promise<{ updates: TaskUpdate[]; purged: number; count: number }> {
    const rows = await this.#query<{ o_kind: string; o_id: string | null; o_tenant: string | null; o_type: string | null; o_state: string | null; o_attempt: number | null; o_reason: string | null; o_at: string | number }>(
      'queue.reap',
      this.#sql.maintain,
      [this.name, this.#identifier, limit],
    );
    const updates: TaskUpdate[] = [];
    let purged = 0;
    for (const row of rows) {
      if (row.o_kind === 'p') purged = row.o_attempt ?? 0;
      else {
        const state = taskState(row.o_state);
        updates.push(makeUpdate(row.o_id!, row.o_tenant!, row.o_type!, state, row.o_attempt ?? 0, num(row.o_at), num(row.o_at), row.o_reason));
      }
    }
    return { updates, purged, count: updates.length + purged };
  }

  async #query<R>(operation: string, text: string, values: readonly unknown[]): Promise<R[]> {
    await this.#life.ready();
    try {
      return (await this.#pool.query<R>(text, values)).rows;
    } catch (err) {
      throw mapPgError(err, operation);
    }
  }
}

const COUNT_KEYS = ['queued', 'delayed', 'assigned', 'running', 'completed', 'failed', 'cancelled', 'dead'] as const;

function countsOf(raw: Partial<Record<keyof TaskCounts, number | string>>): Record<keyof TaskCounts, number> {
  const out = {} as Record<keyof TaskCounts, number>;
  for (const k of COUNT_KEYS) out[k] = Number(raw[k] ?? 0);
  return out;
}

function policyOf(row: PolicyRow): QueuePolicy {
  return {
    maxConcurrency: row.max_concurrency,
    agingMs: row.aging_ms === null ? null : Number(row.aging_ms),
    retentionMs: Number(row.retention_ms),
    failedRetentionMs: row.failed_retention_ms === null ? null : Number(row.failed_retention_ms),
  };
}

function tenantOf(row: TenantRow): TenantPolicy {
  return { weight: row.weight, maxConcurrency: row.max_concurrency, ratePerSecond: row.rate, burst: row.burst };
}

/** A `queue_tasks` row as a {@link Task}. */
function taskOfRow(row: TaskRow): Task {
  return makeTask({
    id: row.id,
    tenantId: row.tenant,
    type: row.type,
    ownerId: row.owner,
    payload: row.payload,
    band: row.band,
    curBand: row.cur_band,
    priority: row.priority,
    cost: row.cost,
    opts: row.opts,
    maxAttempts: row.max_attempts,
    idempotencyKey: row.idem_key,
    state: taskState(row.state),
    attempt: row.attempt,
    createdAt: num(row.created_at),
    readyAt: num(row.ready_at),
    updatedAt: num(row.updated_at),
    workerId: row.worker,
    leaseExpiresAt: row.lease_expires_at === null ? null : num(row.lease_expires_at),
    progress: row.progress,
    result: row.result,
    error: row.error,
    history: row.history,
  });
}

/** Below every UUIDv7: a listing without a cursor starts after it. */
const NIL_UUID = '00000000-0000-0000-0000-000000000000';
