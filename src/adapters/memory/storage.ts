import type { Clock } from '../../core/clock.js';
import { systemClock } from '../../core/clock.js';
import { AdapterClosedError, ConflictError } from '../../core/errors.js';
import { parseInput } from '../../core/validation.js';
import type {
  CounterOptions,
  CounterResult,
  JsonValue,
  ListOptions,
  ListPage,
  PutOptions,
  StorageAdapter,
  StoredDocument,
  TxnOpResult,
  TxnRequest,
  TxnResult,
  TxnOp,
} from '../storage.js';
import { checkKey, checkNamespace } from '../internal/names.js';
import { encodeJson } from '../internal/json.js';
import { encodeCursor } from '../internal/cursor.js';
import { decideAdd, parseAdd, parseGetMany, parseList, parsePutOptions, parseTxn, staleVersionError } from '../internal/requests.js';
import { SortedKeys } from '../internal/sorted-keys.js';
import { z } from 'zod';

/**
 * The documents behind one or more memory storage handles. Pass the same state to several
 * `createMemoryStorage` calls to get independent handles (each with its own `close()`) on one
 * store, as several processes would share one database.
 */
export class MemoryStorageState {
  /** @internal */
  readonly namespaces = new Map<string, Namespace>();
  /** @internal */
  revision = 0;
}

/** Options of {@link createMemoryStorage}. */
export interface MemoryStorageOptions {
  /** Share documents with other handles (default: a private state). */
  readonly state?: MemoryStorageState;
  /** Time source for TTLs (default: system clock). Pass a `ManualClock` to test expiry without waiting. */
  readonly clock?: Clock;
  /** How often expired documents are swept from memory, in ms (default 60 000; 0 disables). Reads never see them either way. */
  readonly sweepIntervalMs?: number;
}

interface Entry {
  // Stored serialised: every read returns a fresh copy, so callers can never mutate stored state.
  readonly json: string;
  readonly version: number;
  readonly expiresAt: number | null;
}

interface Namespace {
  readonly entries: Map<string, Entry>;
  readonly keys: SortedKeys;
}

const optionsSchema = z
  .strictObject({
    state: z.instanceof(MemoryStorageState).optional(),
    clock: z.custom<Clock>((v) => typeof (v as Clock | undefined)?.now === 'function', 'clock must have now()').optional(),
    sweepIntervalMs: z.number().int().min(0).optional(),
  })
  .optional();

/**
 * In-process storage with the exact semantics of the contract; the default backend.
 * Every operation runs synchronously inside its promise, so each one is atomic.
 *
 * @throws `VALIDATION_FAILED` for bad options.
 * @example
 * ```ts
 * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
 * const storage = createMemoryStorage();
 * await storage.put('settings', 'theme', 'dark', { ttlMs: 60_000 });
 * ```
 */
export function createMemoryStorage(options?: MemoryStorageOptions): StorageAdapter {
  const opts = parseInput(optionsSchema, options, 'memory storage options') ?? {};
  return new MemoryStorage(opts.state ?? new MemoryStorageState(), opts.clock ?? systemClock, opts.sweepIntervalMs ?? 60_000);
}

class MemoryStorage implements StorageAdapter {
  readonly #clock: Clock;
  readonly #state: MemoryStorageState;
  readonly #namespaces: Map<string, Namespace>;
  #closed = false;
  #sweeper: ReturnType<typeof setInterval> | undefined;

  constructor(state: MemoryStorageState, clock: Clock, sweepIntervalMs: number) {
    this.#state = state;
    this.#namespaces = state.namespaces;
    this.#clock = clock;
    if (sweepIntervalMs > 0) {
      this.#sweeper = setInterval(() => this.#sweep(), sweepIntervalMs);
      // Never keep the host process alive just to sweep.
      (this.#sweeper as { unref?: () => void }).unref?.();
    }
  }

  async init(): Promise<void> {
    this.#assertOpen();
  }

  async get<T extends JsonValue = JsonValue>(namespace: string, key: string): Promise<StoredDocument<T> | null> {
    this.#assertOpen();
    const ns = checkNamespace(namespace);
    const k = checkKey(key);
    return this.#read<T>(ns, k);
  }

  async getMany<T extends JsonValue = JsonValue>(namespace: string, keys: readonly string[]): Promise<(StoredDocument<T> | null)[]> {
    this.#assertOpen();
    const req = parseGetMany(namespace, keys);
    return req.keys.map((k) => this.#read<T>(req.namespace, k));
  }

  async put(namespace: string, key: string, value: JsonValue, options?: PutOptions): Promise<{ version: number }> {
    this.#assertOpen();
    const ns = checkNamespace(namespace);
    const k = checkKey(key);
    const { ttlMs, ifVersion } = parsePutOptions(options);
    const json = encodeJson(value);
    if (ifVersion !== undefined && (this.#read(ns, k)?.version ?? 0) !== ifVersion) throw staleVersionError(ns, k);
    return { version: this.#write(ns, k, json, ttlMs).version };
  }

  async delete(namespace: string, key: string): Promise<boolean> {
    this.#assertOpen();
    return this.#remove(checkNamespace(namespace), checkKey(key));
  }

  async list<T extends JsonValue = JsonValue>(namespace: string, options?: ListOptions): Promise<ListPage<T>> {
    this.#assertOpen();
    const req = parseList(namespace, options);
    const ns = this.#namespaces.get(req.namespace);
    if (!ns) return { items: [], cursor: null };
    const items: StoredDocument<T>[] = [];
    const now = this.#clock.now();
    let more = false;
    for (const key of ns.keys.scan(req.prefix, req.after)) {
      const entry = ns.entries.get(key)!;
      if (isExpired(entry, now)) continue;
      if (items.length === req.limit) {
        more = true;
        break;
      }
      items.push(toDocument<T>(req.namespace, key, entry));
    }
    return { items, cursor: more ? encodeCursor(items[items.length - 1]!.key) : null };
  }

  async txn(request: TxnRequest): Promise<TxnResult> {
    this.#assertOpen();
    const txn = parseTxn(request);
    // Serialise every value before touching state, so a bad value aborts the whole txn untouched.
    const encode = (ops: readonly TxnOp[]) => ops.map((op) => (op.type === 'put' ? encodeJson(op.value) : null));
    const successJson = encode(txn.success);
    const failureJson = encode(txn.failure);
    const succeeded = txn.compare.every((cmp) => {
      const current = this.#read(cmp.namespace, cmp.key);
      if ('exists' in cmp) return cmp.exists === (current !== null);
      return (current?.version ?? 0) === cmp.version;
    });
    const ops = succeeded ? txn.success : txn.failure;
    const jsons = succeeded ? successJson : failureJson;
    const results: TxnOpResult[] = ops.map((op, i) => {
      if (op.type === 'put') {
        const { version, existed } = this.#write(op.namespace, op.key, jsons[i]!, op.ttlMs);
        return { type: 'put', namespace: op.namespace, key: op.key, version, existed };
      }
      const existed = this.#remove(op.namespace, op.key);
      return { type: 'delete', namespace: op.namespace, key: op.key, version: null, existed };
    });
    return { succeeded, results };
  }

  async add(namespace: string, key: string, delta: number, options?: CounterOptions): Promise<CounterResult> {
    this.#assertOpen();
    const req = parseAdd(namespace, key, delta, options);
    const current = this.#read(req.namespace, req.key);
    if (current !== null && typeof current.value !== 'number') {
      throw new ConflictError('counter document holds a non-number value', { details: { namespace: req.namespace, key: req.key } });
    }
    const decision = decideAdd((current?.value as number | undefined) ?? 0, req);
    if (!decision.applied || req.delta === 0) {
      return { applied: decision.applied, value: decision.value, version: current?.version ?? null };
    }
    // The TTL is set when the add creates the counter; later adds keep the existing expiry.
    const keepExpiry = current?.expiresAt ?? null;
    const version = this.#nextRevision();
    const ns = this.#namespace(req.namespace);
    const expiresAt = current === null ? (req.ttlMs === undefined ? null : this.#clock.now() + req.ttlMs) : keepExpiry;
    ns.entries.set(req.key, { json: JSON.stringify(decision.value), version, expiresAt });
    ns.keys.add(req.key);
    return { applied: true, value: decision.value, version };
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }

  #assertOpen(): void {
    if (this.#closed) throw new AdapterClosedError('memory storage is closed');
  }

  #nextRevision(): number {
    this.#state.revision += 1;
    return this.#state.revision;
  }

  #namespace(name: string): Namespace {
    let ns = this.#namespaces.get(name);
    if (!ns) {
      ns = { entries: new Map(), keys: new SortedKeys() };
      this.#namespaces.set(name, ns);
    }
    return ns;
  }

  #read<T extends JsonValue>(namespace: string, key: string): StoredDocument<T> | null {
    const ns = this.#namespaces.get(namespace);
    const entry = ns?.entries.get(key);
    if (!ns || !entry) return null;
    if (isExpired(entry, this.#clock.now())) {
      ns.entries.delete(key);
      ns.keys.delete(key);
      return null;
    }
    return toDocument<T>(namespace, key, entry);
  }

  #write(namespace: string, key: string, json: string, ttlMs: number | undefined): { version: number; existed: boolean } {
    const existed = this.#read(namespace, key) !== null;
    const ns = this.#namespace(namespace);
    const version = this.#nextRevision();
    ns.entries.set(key, { json, version, expiresAt: ttlMs === undefined ? null : this.#clock.now() + ttlMs });
    ns.keys.add(key);
    return { version, existed };
  }

  #remove(namespace: string, key: string): boolean {
    const existed = this.#read(namespace, key) !== null;
    const ns = this.#namespaces.get(namespace);
    if (ns && ns.entries.delete(key)) ns.keys.delete(key);
    return existed;
  }

  #sweep(): void {
    const now = this.#clock.now();
    for (const ns of this.#namespaces.values()) {
      for (const [key, entry] of ns.entries) {
        if (isExpired(entry, now)) {
          ns.entries.delete(key);
          ns.keys.delete(key);
        }
      }
    }
  }
}

function isExpired(entry: Entry, now: number): boolean {
  return entry.expiresAt !== null && entry.expiresAt <= now;
}

function toDocument<T extends JsonValue>(namespace: string, key: string, entry: Entry): StoredDocument<T> {
  return { namespace, key, value: JSON.parse(entry.json) as T, version: entry.version, expiresAt: entry.expiresAt };
}
