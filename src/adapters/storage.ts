/**
 * StorageAdapter: versioned JSON documents in namespaces, modelled on etcd's transactions.
 *
 * Semantics every backend must honour (checked by `describeStorageContract`):
 * - A document is addressed by `(namespace, key)`. Keys order by Unicode code point (UTF-8 byte
 *   order), the same on every backend.
 * - Every write (put, counter add) gives the document a new `version`: a positive integer, unique
 *   across the whole adapter and strictly increasing, never reused, even after a delete and
 *   re-create (so a compare on a stale version can never succeed by accident — no ABA).
 * - Expired documents (past `expiresAt`) behave exactly as absent documents for every operation.
 * - Invalid namespaces or keys are rejected with `VALIDATION_FAILED` before anything is touched.
 */

/** Any value JSON can represent. Documents and pub/sub messages carry these. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Addresses one document. */
export interface DocumentRef {
  /** 1–64 characters from `[A-Za-z0-9_.-]`, e.g. `users` or `rbac.policies`. */
  readonly namespace: string;
  /** 1–512 characters, any Unicode except control characters (U+0000–U+001F, U+007F–U+009F). */
  readonly key: string;
}

/** A stored document as read back. */
export interface StoredDocument<T extends JsonValue = JsonValue> extends DocumentRef {
  /** The JSON value. */
  readonly value: T;
  /** Positive, adapter-wide unique and increasing; changes on every write. */
  readonly version: number;
  /** Absolute expiry in epoch ms, or `null` if the document does not expire. */
  readonly expiresAt: number | null;
}

/** Options of a single put. */
export interface PutOptions {
  /** Time to live in ms (>= 1). Omitted: the document never expires (any previous TTL is cleared). */
  readonly ttlMs?: number;
  /**
   * Compare-and-set: write only if the document's current version equals this (`0`: only if it
   * does not exist); otherwise fail with `CONFLICT` and change nothing.
   */
  readonly ifVersion?: number;
}

/** A condition checked atomically at the start of a {@link TxnRequest}. */
export type TxnCompare =
  | (DocumentRef & {
      /** The document's current version must equal this; `0` means "must not exist". */
      readonly version: number;
    })
  | (DocumentRef & {
      /** The document must (true) or must not (false) exist. */
      readonly exists: boolean;
    });

/** A write applied by a {@link TxnRequest}. */
export type TxnOp =
  | (DocumentRef & { readonly type: 'put'; readonly value: JsonValue; readonly ttlMs?: number })
  | (DocumentRef & { readonly type: 'delete' });

/**
 * An etcd-style transaction: if every `compare` holds, apply `success`, else apply `failure`;
 * all of it atomically (no other write interleaves between the compare and the ops).
 * An empty `compare` list always holds. A txn may touch up to 128 documents in any namespaces of
 * one adapter; a key may appear at most once among the ops of the branch taken.
 */
export interface TxnRequest {
  /** Conditions, all of which must hold for `success` to apply. */
  readonly compare?: readonly TxnCompare[];
  /** Applied when every compare holds. */
  readonly success?: readonly TxnOp[];
  /** Applied when any compare fails. */
  readonly failure?: readonly TxnOp[];
}

/** The outcome of one op of the branch that ran. */
export interface TxnOpResult extends DocumentRef {
  /** The op that produced this result. */
  readonly type: 'put' | 'delete';
  /** For a put, the new version; for a delete, `null`. */
  readonly version: number | null;
  /** For a delete, whether a live document was removed; for a put, whether it replaced one. */
  readonly existed: boolean;
}

/** What a {@link StorageAdapter.txn} did. */
export interface TxnResult {
  /** True if every compare held and `success` was applied; false if `failure` was applied. */
  readonly succeeded: boolean;
  /** One result per op of the branch that ran, in order. */
  readonly results: readonly TxnOpResult[];
}

/** Options of a prefix listing. */
export interface ListOptions {
  /** Only keys starting with this string (default: all keys of the namespace). */
  readonly prefix?: string;
  /** Opaque cursor from a previous page's `cursor`; the listing resumes strictly after it. */
  readonly cursor?: string;
  /** Page size, 1–1000 (default 100). */
  readonly limit?: number;
}

/** One page of a listing. */
export interface ListPage<T extends JsonValue = JsonValue> {
  /** Documents in ascending key order. */
  readonly items: readonly StoredDocument<T>[];
  /** Pass to the next call to continue, or `null` when the listing is complete. */
  readonly cursor: string | null;
}

/**
 * Bounds and expiry of a counter add. A bound is checked in the direction of the delta only: an
 * increase may not end above `max`, a decrease may not end below `min`. So releasing quota always
 * works, even after a limit was lowered below current usage.
 */
export interface CounterOptions {
  /** A negative delta must not take the value below this, else nothing is applied. */
  readonly min?: number;
  /** A positive delta must not take the value above this, else nothing is applied. */
  readonly max?: number;
  /** TTL in ms set when this add creates the counter; ignored when it already exists. */
  readonly ttlMs?: number;
}

/** Outcome of a counter add. */
export interface CounterResult {
  /** True if the delta was applied; false if it would have crossed a bound. */
  readonly applied: boolean;
  /** The counter's value after the call (unchanged when not applied; 0 for an absent counter). */
  readonly value: number;
  /** The document's version after the call, or `null` if the counter does not exist. */
  readonly version: number | null;
}

/**
 * Versioned key/value documents with atomic transactions, counters and TTLs.
 *
 * @example
 * ```ts
 * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
 * const storage = createMemoryStorage();
 * const { version } = await storage.put('users', 'u1', { name: 'Ada' });
 * const res = await storage.txn({
 *   compare: [{ namespace: 'users', key: 'u1', version }],
 *   success: [{ type: 'put', namespace: 'users', key: 'u1', value: { name: 'Ada L.' } }],
 * });
 * console.log(res.succeeded); // true
 * ```
 */
export interface StorageAdapter {
  /** Prepares the backend (no-op for memory; schema checks for PostgreSQL). Idempotent. */
  init(): Promise<void>;
  /** Reads one live document, or `null`. @throws `VALIDATION_FAILED`, `ADAPTER_UNAVAILABLE` */
  get<T extends JsonValue = JsonValue>(namespace: string, key: string): Promise<StoredDocument<T> | null>;
  /** Reads several documents of one namespace; the result is aligned with `keys` (`null` where absent). */
  getMany<T extends JsonValue = JsonValue>(namespace: string, keys: readonly string[]): Promise<(StoredDocument<T> | null)[]>;
  /**
   * Writes a document (conditionally with `ifVersion`); returns the new version.
   * @throws `VALIDATION_FAILED`, `CONFLICT` (stale `ifVersion`), `PAYLOAD_TOO_LARGE`, `ADAPTER_UNAVAILABLE`
   */
  put(namespace: string, key: string, value: JsonValue, options?: PutOptions): Promise<{ version: number }>;
  /** Unconditional delete; true if a live document was removed. */
  delete(namespace: string, key: string): Promise<boolean>;
  /** Lists live documents by key prefix in ascending key order, one page at a time. */
  list<T extends JsonValue = JsonValue>(namespace: string, options?: ListOptions): Promise<ListPage<T>>;
  /** Atomic compare-then-apply across documents. See {@link TxnRequest}. */
  txn(request: TxnRequest): Promise<TxnResult>;
  /**
   * Atomically adds a safe-integer `delta` to a numeric document (absent counts as 0), unless that
   * crosses a bound (see {@link CounterOptions}). A delta of 0 reads the counter without writing.
   * A document holding a non-number fails with `CONFLICT`.
   * @throws `VALIDATION_FAILED` (non-integer delta), `CONFLICT`, `ADAPTER_UNAVAILABLE`
   */
  add(namespace: string, key: string, delta: number, options?: CounterOptions): Promise<CounterResult>;
  /** Stops background work; never closes a pool or client the host passed in. Idempotent. */
  close(): Promise<void>;
}
