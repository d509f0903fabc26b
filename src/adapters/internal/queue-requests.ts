import { z } from 'zod';
import { PayloadTooLargeError, ValidationError } from '../../core/errors.js';
import { parseInput } from '../../core/validation.js';
import {
  MAX_CLAIM_LIMIT,
  MAX_ENQUEUE_BATCH,
  MAX_TASK_LIST_LIMIT,
  MAX_TASK_PAYLOAD_LENGTH,
  TASK_BANDS,
  TASK_STATES,
  type EnqueueRequest,
  type FailOptions,
  type QueuePolicy,
  type TaskBackoff,
  type TaskBand,
  type TaskError,
  type TaskLease,
  type TaskState,
  type TaskResources,
  type TenantPolicy,
} from '../queue.js';
import { encodeJson } from './json.js';
import type { Clock } from '../../core/clock.js';
import { createUuidV7Generator } from '../../core/ids.js';

/**
 * Validation and normalisation shared by every queue backend: each parses its input here, so a
 * malformed request is refused with the same `VALIDATION_FAILED` issues everywhere, before any
 * backend is touched.
 */

/** Highest (and, negated, lowest) `priority` value. */
export const MAX_PRIORITY = 1000;
/** Longest lease, ms (one day). */
export const MAX_LEASE_MS = 24 * 3600 * 1000;
/** Longest delay or retry delay, ms (one year). */
const MAX_DELAY_MS = 365 * 24 * 3600 * 1000;
/** Bounded work per claim: expired leases reaped, delayed tasks activated, tasks promoted. */
export const CLAIM_MAINTENANCE_BATCH = 1000;
/** Default policy of a queue never configured. */
export const DEFAULT_QUEUE_POLICY: QueuePolicy = Object.freeze({
  maxConcurrency: null,
  agingMs: 60_000,
  retentionMs: 3_600_000,
  failedRetentionMs: null,
});
/** Default backoff: 1 s doubling up to 5 min, half of it random. */
export const DEFAULT_BACKOFF: TaskBackoff = Object.freeze({ delayMs: 1_000, maxDelayMs: 300_000, jitter: 0.5 });
/** Default deliveries before a task is dead-lettered. */
export const DEFAULT_MAX_ATTEMPTS = 3;

// C0 and C1 controls break logs and wire formats (same rule as storage keys).
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Queue names: like storage namespaces, safe in SQL, Redis key parts and channel names. */
export const queueNameSchema = z
  .string()
  .min(1, 'queue name must not be empty')
  .max(64, 'queue name must be at most 64 characters')
  .regex(/^[A-Za-z0-9_.-]+$/, 'queue name may only contain A-Z a-z 0-9 _ . -');

/** Tenant, owner and worker ids. */
export const tenantIdSchema = z
  .string()
  .min(1, 'id must not be empty')
  .max(128, 'id must be at most 128 characters')
  .regex(/^[A-Za-z0-9_.:/@-]+$/, 'id may only contain A-Z a-z 0-9 _ . : / @ -');

/** Task types. */
export const taskTypeSchema = z
  .string()
  .min(1, 'task type must not be empty')
  .max(128, 'task type must be at most 128 characters')
  .regex(/^[A-Za-z0-9_.:/-]+$/, 'task type may only contain A-Z a-z 0-9 _ . : / -');

/** Task ids: the lowercase UUIDs the backends generate. */
export const taskIdSchema = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'task id must be a lowercase UUID');

const idempotencyKeySchema = z
  .string()
  .min(1, 'idempotency key must not be empty')
  .max(256, 'idempotency key must be at most 256 characters')
  .refine((key) => !CONTROL.test(key), 'idempotency key must not contain control characters')
  .refine((key) => key.isWellFormed(), 'idempotency key must be well-formed Unicode');

const bandSchema = z.enum(TASK_BANDS as unknown as [TaskBand, ...TaskBand[]]);
const msSchema = (max: number) => z.number().int().min(0).max(max);

const enqueueSchema = z
  .strictObject({
    type: taskTypeSchema,
    tenantId: tenantIdSchema,
    payload: z.unknown(),
    ownerId: tenantIdSchema.optional(),
    band: bandSchema.optional(),
    priority: z.number().int().min(-MAX_PRIORITY).max(MAX_PRIORITY).optional(),
    cost: z.number().positive().max(1_000_000).optional(),
    resources: z
      .strictObject({ cpu: z.number().positive().max(1_000_000).optional(), memoryMb: z.number().positive().max(1e12).optional() })
      .optional(),
    runAt: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    delayMs: msSchema(MAX_DELAY_MS).optional(),
    timeoutMs: z.number().int().min(1).max(MAX_DELAY_MS).optional(),
    maxAttempts: z.number().int().min(1).max(1000).optional(),
    backoff: z
      .strictObject({
        delayMs: msSchema(MAX_DELAY_MS).optional(),
        maxDelayMs: msSchema(MAX_DELAY_MS).optional(),
        jitter: z.number().min(0).max(1).optional(),
      })
      .optional(),
    idempotencyKey: idempotencyKeySchema.optional(),
  })
  .refine((r) => r.runAt === undefined || r.delayMs === undefined, { message: 'give runAt or delayMs, not both', path: ['runAt'] });

/** A validated, defaulted enqueue request; the payload already serialised. */
export interface NewTask {
  readonly type: string;
  readonly tenantId: string;
  readonly ownerId: string | null;
  readonly payloadJson: string;
  /** Band rank: 0 = critical … 3 = low. */
  readonly band: number;
  readonly priority: number;
  readonly cost: number;
  /** Frozen: shared with every view of the task. */
  readonly resources: TaskResources | null;
  /** Absolute not-before time (backend clock), or null. */
  readonly runAt: number | null;
  /** Relative delay, or 0. */
  readonly delayMs: number;
  readonly timeoutMs: number | null;
  readonly maxAttempts: number;
  /** Frozen: shared with every view of the task. */
  readonly backoff: TaskBackoff;
  readonly idempotencyKey: string | null;
}

/**
 * Task ids: UUIDv7 from `clock`, with randomness drawn from a pooled buffer — one
 * `getRandomValues` call per 256 ids instead of one per id (which costs ~2 µs each).
 */
export function createTaskIdGenerator(clock: Clock): () => string {
  const pool = new Uint8Array(4096);
  let offset = pool.length;
  const generator = createUuidV7Generator({
    clock,
    random: (bytes) => {
      if (offset + bytes.length > pool.length) {
        globalThis.crypto.getRandomValues(pool);
        offset = 0;
      }
      bytes.set(pool.subarray(offset, offset + bytes.length));
      offset += bytes.length;
    },
  });
  return () => generator.next();
}

/** Band name → rank (0 = critical). */
export function bandRank(band: TaskBand): number {
  return TASK_BANDS.indexOf(band);
}

/** Rank → band name. */
export function bandName(rank: number): TaskBand {
  return TASK_BANDS[rank] ?? 'normal';
}

function normalise(r: z.output<typeof enqueueSchema>, path: (string | number)[]): NewTask {
  // Scalars need no structural walk (and null shares one constant string).
  const p = r.payload;
  const payloadJson =
    p === null ? 'null' : typeof p === 'string' || typeof p === 'boolean' || (typeof p === 'number' && Number.isFinite(p)) ? JSON.stringify(p) : encodeJson(p, 'task payload');
  if (payloadJson.length > MAX_TASK_PAYLOAD_LENGTH) throw tooLarge('task payload', payloadJson.length, path);
  const backoff =
    r.backoff === undefined
      ? DEFAULT_BACKOFF
      : Object.freeze({
          delayMs: r.backoff.delayMs ?? DEFAULT_BACKOFF.delayMs,
          maxDelayMs: r.backoff.maxDelayMs ?? Math.max(DEFAULT_BACKOFF.maxDelayMs, r.backoff.delayMs ?? 0),
          jitter: r.backoff.jitter ?? DEFAULT_BACKOFF.jitter,
        });
  return {
    type: r.type,
    tenantId: r.tenantId,
    ownerId: r.ownerId ?? null,
    payloadJson,
    band: r.band === undefined ? 2 : bandRank(r.band),
    priority: r.priority ?? 0,
    cost: r.cost ?? 1,
    resources: r.resources === undefined ? null : Object.freeze({ ...r.resources }),
    runAt: r.runAt ?? null,
    delayMs: r.delayMs ?? 0,
    timeoutMs: r.timeoutMs ?? null,
    maxAttempts: r.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    backoff,
    idempotencyKey: r.idempotencyKey ?? null,
  };
}

function tooLarge(what: string, length: number, path: (string | number)[]): PayloadTooLargeError {
  return new PayloadTooLargeError(`${what} is ${length} characters as JSON; the limit is ${MAX_TASK_PAYLOAD_LENGTH}`, {
    details: { length, limit: MAX_TASK_PAYLOAD_LENGTH, path },
  });
}

/** @throws `VALIDATION_FAILED`, `PAYLOAD_TOO_LARGE` */
export function parseEnqueue(request: unknown): NewTask {
  return normalise(parseInput(enqueueSchema, request, 'enqueue request'), []);
}

const batchSchema = z.array(enqueueSchema).max(MAX_ENQUEUE_BATCH, `at most ${MAX_ENQUEUE_BATCH} tasks per batch`);

/** Validates a whole batch before anything is enqueued. @throws `VALIDATION_FAILED`, `PAYLOAD_TOO_LARGE` */
export function parseEnqueueMany(requests: unknown): NewTask[] {
  const parsed = parseInput(batchSchema, requests, 'enqueue batch');
  return parsed.map((r, i) => normalise(r, [i]));
}

/** Serialises a result or progress value. @throws `VALIDATION_FAILED`, `PAYLOAD_TOO_LARGE` */
export function encodeTaskValue(value: unknown, what: string): string {
  const json = encodeJson(value, what);
  if (json.length > MAX_TASK_PAYLOAD_LENGTH) throw tooLarge(what, json.length, []);
  return json;
}

const claimSchema = z.strictObject({
  workerId: tenantIdSchema,
  limit: z.number().int().min(1).max(MAX_CLAIM_LIMIT),
  leaseMs: z.number().int().min(1).max(MAX_LEASE_MS),
});

/** @throws `VALIDATION_FAILED` */
export function parseClaim(workerId: unknown, limit: unknown, leaseMs: unknown): { workerId: string; limit: number; leaseMs: number } {
  return parseInput(claimSchema, { workerId, limit, leaseMs }, 'claim request');
}

/**
 * A lease as this package issues it. Recognised by a private brand, so a worker handing back the
 * lease it received skips re-parsing (a claim-complete cycle runs ~10^5 times a second); any
 * other value — a lease that crossed a process boundary as JSON, say — is parsed with zod.
 * Only equality with the stored token and id is ever checked, so even a lease mutated after
 * issue can at worst be refused with `TASK_LEASE_LOST`.
 */
export class IssuedLease implements TaskLease {
  readonly #issued = true;
  /** The issuing backend's own handle on the task (memory: its record), never serialised. */
  readonly #ref: unknown;
  constructor(
    readonly taskId: string,
    readonly token: string,
    readonly workerId: string,
    readonly attempt: number,
    readonly expiresAt: number,
    ref?: unknown,
  ) {
    this.#ref = ref;
  }

  /** True for leases constructed by this class. */
  static is(value: unknown): value is IssuedLease {
    return typeof value === 'object' && value !== null && #issued in value;
  }

  /** The backend reference given at issue, if `lease` is an issued lease. */
  static refOf(lease: TaskLease): unknown {
    return IssuedLease.is(lease) ? lease.#ref : undefined;
  }
}

const leaseSchema = z.object({
  taskId: taskIdSchema,
  token: z.string().min(1).max(128),
  workerId: tenantIdSchema,
  attempt: z.number().int().min(0),
  expiresAt: z.number(),
});

/** @throws `VALIDATION_FAILED` */
export function parseLease(lease: unknown): TaskLease {
  if (IssuedLease.is(lease)) return lease;
  return parseInput(leaseSchema, lease, 'task lease');
}

/** @throws `VALIDATION_FAILED` */
export function parseLeaseMs(leaseMs: unknown): number {
  return parseInput(claimSchema.shape.leaseMs, leaseMs, 'leaseMs');
}

/** @throws `VALIDATION_FAILED` */
export function parseTaskId(taskId: unknown): string {
  return parseInput(taskIdSchema, taskId, 'task id');
}

/** @throws `VALIDATION_FAILED` */
export function parseWorkerId(workerId: unknown): string {
  return parseInput(tenantIdSchema, workerId, 'worker id');
}

/** @throws `VALIDATION_FAILED` */
export function parseTenantId(tenantId: unknown): string {
  return parseInput(tenantIdSchema, tenantId, 'tenant id');
}

const taskErrorSchema = z.strictObject({ code: z.string().min(1).max(64), message: z.string().max(1024) });
const failSchema = z.strictObject({
  error: taskErrorSchema,
  retryInMs: msSchema(MAX_DELAY_MS).optional(),
  final: z.boolean().optional(),
});

/** @throws `VALIDATION_FAILED` */
export function parseFail(options: unknown): { error: TaskError; retryInMs: number; final: boolean } {
  const o = parseInput(failSchema, options, 'fail options') as FailOptions;
  return { error: { code: o.error.code, message: o.error.message }, retryInMs: o.retryInMs ?? 0, final: o.final ?? false };
}

/** @throws `VALIDATION_FAILED` */
export function parseRelease(options: unknown): number {
  const o = parseInput(z.strictObject({ delayMs: msSchema(MAX_DELAY_MS).optional() }).optional(), options, 'release options');
  return o?.delayMs ?? 0;
}

/** @throws `VALIDATION_FAILED` */
export function parseReapLimit(limit: unknown): number {
  return parseInput(z.number().int().min(1).max(10_000).optional(), limit, 'reap limit') ?? CLAIM_MAINTENANCE_BATCH;
}

const policySchema = z.strictObject({
  maxConcurrency: z.number().int().min(1).max(1_000_000).nullable().optional(),
  agingMs: z.number().int().min(1).max(MAX_DELAY_MS).nullable().optional(),
  retentionMs: msSchema(MAX_DELAY_MS * 10).optional(),
  failedRetentionMs: msSchema(MAX_DELAY_MS * 10).nullable().optional(),
});

/** A validated queue policy change: absent fields stay as they are. */
export type PolicyPatch = { -readonly [K in keyof QueuePolicy]?: QueuePolicy[K] };

/** @throws `VALIDATION_FAILED` */
export function parsePolicyPatch(patch: unknown): PolicyPatch {
  return parseInput(policySchema, patch, 'queue policy') as PolicyPatch;
}

/** Applies a validated patch (the rule the SQL function and the Lua script restate). */
export function mergePolicy(current: QueuePolicy, p: PolicyPatch): QueuePolicy {
  return {
    maxConcurrency: p.maxConcurrency === undefined ? current.maxConcurrency : p.maxConcurrency,
    agingMs: p.agingMs === undefined ? current.agingMs : p.agingMs,
    retentionMs: p.retentionMs ?? current.retentionMs,
    failedRetentionMs: p.failedRetentionMs === undefined ? current.failedRetentionMs : p.failedRetentionMs,
  };
}

const tenantPolicySchema = z.strictObject({
  weight: z.number().positive().max(1_000_000).optional(),
  maxConcurrency: z.number().int().min(1).max(1_000_000).nullable().optional(),
  ratePerSecond: z.number().positive().max(1_000_000).nullable().optional(),
  burst: z.number().int().min(1).max(1_000_000).optional(),
});

/** The policy of a tenant never configured. */
export const DEFAULT_TENANT_POLICY: TenantPolicy = Object.freeze({ weight: 1, maxConcurrency: null, ratePerSecond: null, burst: 1 });

/** A validated tenant policy change: absent fields stay as they are. */
export type TenantPatch = { -readonly [K in keyof TenantPolicy]?: TenantPolicy[K] };

/** @throws `VALIDATION_FAILED` */
export function parseTenantPatch(patch: unknown): TenantPatch {
  return parseInput(tenantPolicySchema, patch, 'tenant policy') as TenantPatch;
}

/**
 * Applies a validated patch; a new rate without a burst gets `max(1, ceil(rate))`. The SQL
 * function and the Lua script restate this rule.
 */
export function mergeTenantPolicy(current: TenantPolicy, p: TenantPatch): TenantPolicy {
  const ratePerSecond = p.ratePerSecond === undefined ? current.ratePerSecond : p.ratePerSecond;
  const burst = p.burst ?? (p.ratePerSecond !== undefined ? Math.max(1, Math.ceil(ratePerSecond ?? 1)) : current.burst);
  return {
    weight: p.weight ?? current.weight,
    maxConcurrency: p.maxConcurrency === undefined ? current.maxConcurrency : p.maxConcurrency,
    ratePerSecond,
    burst,
  };
}

/** @throws `VALIDATION_FAILED` */
export function parseTimeout(timeoutMs: unknown): number {
  return parseInput(z.number().int().min(0).max(MAX_LEASE_MS), timeoutMs, 'timeoutMs');
}

/** The error every backend throws for a stale, expired or foreign lease. */
export { leaseLostError } from './queue-errors.js';

/** A validation error for an impossible combination detected after parsing. */
export function invalid(what: string, message: string, path: (string | number)[]): ValidationError {
  return new ValidationError(`invalid ${what}: ${message}`, [{ path, message, code: 'custom' }]);
}

/** Default page size of a task listing. */
export const DEFAULT_LIST_LIMIT = 100;
const CURSOR_PREFIX = 'tl1.';

/** The opaque cursor of a listing page that ended at task `lastId`. */
export function encodeListCursor(lastId: string): string {
  return CURSOR_PREFIX + btoa(lastId).replaceAll('+', '-').replaceAll('/', '_').replaceAll('=', '');
}

function decodeListCursor(cursor: string): string {
  if (!cursor.startsWith(CURSOR_PREFIX)) return '';
  try {
    return atob(cursor.slice(CURSOR_PREFIX.length).replaceAll('-', '+').replaceAll('_', '/'));
  } catch {
    return '';
  }
}

const cursorSchema = z
  .string()
  .max(128, 'cursor must be at most 128 characters')
  .transform((cursor, ctx) => {
    const id = decodeListCursor(cursor);
    if (!taskIdSchema.safeParse(id).success || encodeListCursor(id) !== cursor) {
      ctx.addIssue({ code: 'custom', message: 'cursor was not issued by a task listing' });
      return z.NEVER;
    }
    return id;
  });

const listSchema = z.strictObject({
  tenantId: tenantIdSchema,
  state: z.enum(TASK_STATES as unknown as [TaskState, ...TaskState[]]).optional(),
  type: taskTypeSchema.optional(),
  ownerId: tenantIdSchema.optional(),
  cursor: cursorSchema.optional(),
  limit: z.number().int().min(1).max(MAX_TASK_LIST_LIMIT).optional(),
});

/** A validated task listing query; `after` is the decoded cursor (a task id) or null. */
export interface ListRequest {
  readonly tenantId: string;
  readonly state: TaskState | null;
  readonly type: string | null;
  readonly ownerId: string | null;
  readonly after: string | null;
  readonly limit: number;
}

/** @throws `VALIDATION_FAILED` (bad filters, limit, or a forged cursor) */
export function parseListQuery(query: unknown): ListRequest {
  const q = parseInput(listSchema, query, 'task list query');
  return {
    tenantId: q.tenantId,
    state: q.state ?? null,
    type: q.type ?? null,
    ownerId: q.ownerId ?? null,
    after: q.cursor ?? null,
    limit: q.limit ?? DEFAULT_LIST_LIMIT,
  };
}
