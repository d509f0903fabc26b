import type { JsonValue } from '../storage.js';
import type { ClaimedTask, Task, TaskBackoff, TaskError, TaskHistoryEntry, TaskResources, TaskState, TaskUpdate, TaskUpdateReason } from '../queue.js';
import { TASK_STATES } from '../queue.js';
import { bandName, DEFAULT_BACKOFF, IssuedLease, type NewTask } from './queue-requests.js';
import { leaseLostError, type LeaseLostReason } from './queue-errors.js';

/**
 * The wire formats the PostgreSQL and Redis queue backends store tasks in, decoded back into the
 * contract's shapes in one place: options as one JSON text (read only by workers), the history
 * as comma-joined JSON objects (appendable by SQL and Lua without parsing), errors as JSON.
 */

/** Options the backend stores but never interprets. */
interface StoredOptions {
  readonly resources: TaskResources | null;
  readonly timeoutMs: number | null;
  readonly backoff: TaskBackoff;
}

/**
 * Serialises the options a worker needs and the backend never reads; '' when all are defaults.
 * (Short values matter on Redis: a hash whose values all stay under 64 bytes is stored as a
 * compact listpack, several times smaller than a hash table.)
 */
export function encodeTaskOptions(spec: NewTask): string {
  if (spec.resources === null && spec.timeoutMs === null && spec.backoff === DEFAULT_BACKOFF) return '';
  return JSON.stringify({ resources: spec.resources, timeoutMs: spec.timeoutMs, backoff: spec.backoff });
}

const optionCache = new Map<string, StoredOptions>();
const DEFAULT_OPTIONS: StoredOptions = Object.freeze({ resources: null, timeoutMs: null, backoff: DEFAULT_BACKOFF });

/** Parses stored options; identical texts (the common case: defaults) share one frozen result. */
export function decodeTaskOptions(json: string): StoredOptions {
  if (json === '') return DEFAULT_OPTIONS;
  const cached = optionCache.get(json);
  if (cached !== undefined) return cached;
  const raw = JSON.parse(json) as Partial<StoredOptions>;
  const decoded: StoredOptions = Object.freeze({
    resources: raw.resources === null || raw.resources === undefined ? null : Object.freeze({ ...raw.resources }),
    timeoutMs: raw.timeoutMs ?? null,
    backoff: raw.backoff === undefined ? DEFAULT_BACKOFF : Object.freeze({ ...raw.backoff }),
  });
  // Bounded: options repeat across tasks, but a pathological mix must not grow memory for ever.
  if (optionCache.size < 1024) optionCache.set(json, decoded);
  return decoded;
}

/** Serialises a task error for storage. */
export function encodeTaskError(error: TaskError): string {
  return JSON.stringify({ code: error.code, message: error.message });
}

/** Parses a stored task error. */
export function decodeTaskError(json: string | null | undefined): TaskError | null {
  if (json === null || json === undefined || json === '') return null;
  const raw = JSON.parse(json) as TaskError;
  return { code: String(raw.code), message: String(raw.message) };
}

/** Parses a stored history: comma-joined `{"s","at","a","w"?,"r"?}` objects. */
export function decodeHistory(text: string): TaskHistoryEntry[] {
  const raw = JSON.parse(`[${text}]`) as { s: TaskState; at: number; a: number; w?: string; r?: TaskUpdateReason }[];
  return raw.map((e) => {
    const entry: { -readonly [K in keyof TaskHistoryEntry]: TaskHistoryEntry[K] } = { state: e.s, at: Number(e.at), attempt: Number(e.a) };
    if (e.w !== undefined) entry.workerId = e.w;
    if (e.r !== undefined) entry.reason = e.r;
    return entry;
  });
}

/**
 * Joins the fields of the rows the PostgreSQL and Redis backends return one per task (claims,
 * completions, Redis enqueues): one string per task instead of up to 22 values, so the server
 * encodes and the driver decodes one value per row. No field can hold it: ids, tenants, owners,
 * types and workers are validated identifiers, numbers are digits, and stored JSON escapes
 * control characters.
 */
export const FIELD_SEPARATOR = '\x1f';

/** The fields of one such row. */
export function rowFields(row: string): string[] {
  return row.split(FIELD_SEPARATOR);
}

/** A bigint column (a string with pg's default parsers, a number from Redis or custom parsers). */
export function num(value: string | number | null | undefined): number {
  return value === null || value === undefined ? 0 : Number(value);
}

/** The lease-status answers of the backends, mapped to `TASK_LEASE_LOST`. Returns when 'ok'. */
export function assertLeaseStatus(status: string, taskId: string, state: string | null | undefined): void {
  if (status === 'ok') return;
  const reason: LeaseLostReason = status === 'expired' || status === 'superseded' || status === 'not-active' ? status : 'not-found';
  throw leaseLostError(taskId, reason, state ?? undefined);
}

/** A state name from storage, checked. */
export function taskState(value: unknown): TaskState {
  return (TASK_STATES as readonly unknown[]).includes(value) ? (value as TaskState) : 'queued';
}

/** Builds a {@link TaskUpdate}. */
export function makeUpdate(
  taskId: string,
  tenantId: string,
  type: string,
  state: TaskState,
  attempt: number,
  at: number,
  readyAt?: number | null,
  reason?: string | null,
): TaskUpdate {
  const update: { -readonly [K in keyof TaskUpdate]: TaskUpdate[K] } = { taskId, tenantId, type, state, attempt, at };
  if (state === 'queued' && readyAt !== null && readyAt !== undefined) update.readyAt = readyAt;
  if (reason !== null && reason !== undefined) update.reason = reason as TaskUpdateReason;
  return update;
}

/** The stored fields of a claimed task, as both backends return them. */
export interface ClaimedFields {
  readonly id: string;
  readonly tenantId: string;
  readonly type: string;
  readonly ownerId: string | null;
  readonly payload: string;
  readonly band: number;
  readonly curBand: number;
  readonly priority: number;
  readonly cost: number;
  readonly opts: string;
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly createdAt: number;
  readonly readyAt: number;
  readonly token: string;
  readonly workerId: string;
  readonly expiresAt: number;
}

/** Builds a {@link ClaimedTask} from stored fields. */
export function makeClaimed(f: ClaimedFields): ClaimedTask {
  const opts = decodeTaskOptions(f.opts);
  return {
    lease: new IssuedLease(f.id, f.token, f.workerId, f.attempt, f.expiresAt),
    id: f.id,
    type: f.type,
    tenantId: f.tenantId,
    ownerId: f.ownerId,
    payload: JSON.parse(f.payload) as JsonValue,
    band: bandName(f.band),
    effectiveBand: bandName(f.curBand),
    priority: f.priority,
    cost: f.cost,
    resources: opts.resources,
    attempt: f.attempt,
    maxAttempts: f.maxAttempts,
    timeoutMs: opts.timeoutMs,
    backoff: opts.backoff,
    createdAt: f.createdAt,
    readyAt: f.readyAt,
  };
}

/** The stored fields of a whole task. */
export interface TaskFields {
  readonly id: string;
  readonly tenantId: string;
  readonly type: string;
  readonly ownerId: string | null;
  readonly payload: string;
  readonly band: number;
  readonly curBand: number;
  readonly priority: number;
  readonly cost: number;
  readonly opts: string;
  readonly maxAttempts: number;
  readonly idempotencyKey: string | null;
  readonly state: TaskState;
  readonly attempt: number;
  readonly createdAt: number;
  readonly readyAt: number;
  readonly updatedAt: number;
  readonly workerId: string | null;
  readonly leaseExpiresAt: number | null;
  readonly progress: string | null;
  readonly result: string | null;
  readonly error: string | null;
  readonly history: string;
}

/** Builds a {@link Task} from stored fields. */
export function makeTask(f: TaskFields): Task {
  const opts = decodeTaskOptions(f.opts);
  const active = f.state === 'assigned' || f.state === 'running';
  return {
    id: f.id,
    type: f.type,
    tenantId: f.tenantId,
    ownerId: f.ownerId,
    payload: JSON.parse(f.payload) as JsonValue,
    band: bandName(f.band),
    effectiveBand: bandName(f.curBand),
    priority: f.priority,
    cost: f.cost,
    resources: opts.resources,
    state: f.state,
    attempt: f.attempt,
    maxAttempts: f.maxAttempts,
    timeoutMs: opts.timeoutMs,
    backoff: opts.backoff,
    idempotencyKey: f.idempotencyKey,
    createdAt: f.createdAt,
    readyAt: f.readyAt,
    updatedAt: f.updatedAt,
    workerId: active ? f.workerId : null,
    leaseExpiresAt: active ? f.leaseExpiresAt : null,
    progress: f.progress === null || f.progress === '' ? null : (JSON.parse(f.progress) as JsonValue),
    result: f.result === null || f.result === '' ? null : (JSON.parse(f.result) as JsonValue),
    error: decodeTaskError(f.error),
    history: decodeHistory(f.history),
  };
}
