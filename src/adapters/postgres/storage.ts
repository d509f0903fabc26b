import { z } from 'zod';
import { ConflictError } from '../../core/errors.js';
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
} from '../storage.js';
import { encodeCursor } from '../internal/cursor.js';
import { decodeJson, encodeJson } from '../internal/json.js';
import { checkKey, checkNamespace } from '../internal/names.js';
import { parseAdd, parseGetMany, parseList, parsePutOptions, parseTxn, staleVersionError } from '../internal/requests.js';
import type { PgPool } from './driver.js';
import { mapPgError } from './errors.js';
import { prefixUpperBound } from './key-range.js';
import { Lifecycle, sweepInBatches } from './lifecycle.js';
import { quoteIdentifier } from './migrations.js';
import { adapterOptionsShape, resolveAdapterOptions, type PostgresAdapterOptions } from './options.js';
import { storageStatements, type DocumentRow, type StorageStatements } from './sql/storage.js';

/** Options of {@link createPostgresStorage}: see {@link PostgresAdapterOptions}. */
export type PostgresStorageOptions = PostgresAdapterOptions;

const optionsSchema = z.strictObject(adapterOptionsShape);

/**
 * Storage on PostgreSQL: documents in `<schema>.documents`, every operation one round trip (a
 * plain SELECT for reads, a plpgsql function installed by the migration for writes).
 *
 * - Writes take a transaction-scoped advisory lock per document, `txn` all of its documents in
 *   ascending order (no deadlocks), so compares — including "must not exist" — and writes are
 *   atomic against every other writer, and versions (one sequence) rise in commit order.
 * - Expiry follows the database clock; expired rows are invisible at once and deleted by a
 *   background sweep every `sweepIntervalMs`.
 * - `init()` checks that the schema is at this package's version (or migrates it with
 *   `migrate: true`). Every method runs that check on first use, so calling `init()` is optional.
 * - Requires READ COMMITTED (PostgreSQL's default) as the pool's isolation level: `init()` fails
 *   with `VALIDATION_FAILED` when a pooled connection runs at another level.
 *
 * @throws `VALIDATION_FAILED` for bad options. Methods throw `ADAPTER_SCHEMA_MISMATCH` while the
 *   schema is not migrated, `ADAPTER_UNAVAILABLE` when the database cannot be reached,
 *   `ADAPTER_CLOSED` after `close()`.
 * @example
 * ```ts
 * import pg from 'pg';
 * import { createPostgresStorage, migratePostgres } from 'digital-fabrica/adapters/postgres';
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * await migratePostgres({ pool });
 * const storage = createPostgresStorage({ pool });
 * const { version } = await storage.put('users', 'u1', { name: 'Ada' });
 * await storage.put('users', 'u1', { name: 'Ada L.' }, { ifVersion: version });
 * await storage.close(); // the pool stays open: it is the host's
 * ```
 */
export function createPostgresStorage(options: PostgresStorageOptions): StorageAdapter {
  return new PostgresStorage(resolveAdapterOptions(parseInput(optionsSchema, options, 'postgres storage options')));
}

class PostgresStorage implements StorageAdapter {
  readonly #pool: PgPool;
  readonly #sql: StorageStatements;
  readonly #life: Lifecycle;

  constructor(options: ReturnType<typeof resolveAdapterOptions>) {
    this.#pool = options.pool;
    this.#sql = storageStatements(quoteIdentifier(options.schema));
    this.#life = new Lifecycle('storage', options, () => sweepInBatches((limit) => this.#sweepBatch(limit)), true);
  }

  async init(): Promise<void> {
    await this.#life.ready();
  }

  async get<T extends JsonValue = JsonValue>(namespace: string, key: string): Promise<StoredDocument<T> | null> {
    const ns = checkNamespace(namespace);
    const k = checkKey(key);
    const [row] = await this.#query<DocumentRow>('storage.get', this.#sql.get, [ns, k]);
    return row === undefined ? null : toDocument<T>(ns, row);
  }

  async getMany<T extends JsonValue = JsonValue>(namespace: string, keys: readonly string[]): Promise<(StoredDocument<T> | null)[]> {
    const req = parseGetMany(namespace, keys);
    if (req.keys.length === 0) {
      await this.#life.ready();
      return [];
    }
    const rows = await this.#query<DocumentRow>('storage.getMany', this.#sql.getMany, [req.namespace, req.keys]);
    const byKey = new Map(rows.map((row) => [row.key, row]));
    // Every position gets its own object, so a caller mutating one result cannot affect another.
    return req.keys.map((k) => {
      const row = byKey.get(k);
      return row === undefined ? null : toDocument<T>(req.namespace, row);
    });
  }

  async put(namespace: string, key: string, value: JsonValue, options?: PutOptions): Promise<{ version: number }> {
    const ns = checkNamespace(namespace);
    const k = checkKey(key);
    const { ttlMs, ifVersion } = parsePutOptions(options);
    const json = encodeJson(value);
    const [row] = await this.#query<{ version: string | number | null }>('storage.put', this.#sql.put, [ns, k, json, ttlMs ?? null, ifVersion ?? null]);
    if (row?.version === null || row?.version === undefined) throw staleVersionError(ns, k);
    return { version: Number(row.version) };
  }

  async delete(namespace: string, key: string): Promise<boolean> {
    const ns = checkNamespace(namespace);
    const k = checkKey(key);
    const [row] = await this.#query<{ existed: boolean }>('storage.delete', this.#sql.delete, [ns, k]);
    return row?.existed === true;
  }

  async list<T extends JsonValue = JsonValue>(namespace: string, options?: ListOptions): Promise<ListPage<T>> {
    const req = parseList(namespace, options);
    // One row more than the page tells whether another page follows, without a second query.
    const rows = await this.#query<DocumentRow>('storage.list', this.#sql.list, [
      req.namespace,
      req.prefix,
      req.after,
      prefixUpperBound(req.prefix),
      req.limit + 1,
    ]);
    const items = rows.slice(0, req.limit).map((row) => toDocument<T>(req.namespace, row));
    return { items, cursor: rows.length > req.limit ? encodeCursor(items[items.length - 1]!.key) : null };
  }

  async txn(request: TxnRequest): Promise<TxnResult> {
    const txn = parseTxn(request);
    // Serialise every value before anything is sent, so a bad value aborts the txn untouched.
    const ops = [...txn.success.map((op) => ({ op, success: true })), ...txn.failure.map((op) => ({ op, success: false }))];
    const values = ops.map(({ op }) => (op.type === 'put' ? encodeJson(op.value) : null));
    const [row] = await this.#query<{ succeeded: boolean; versions: (string | number | null)[]; existed: boolean[] }>('storage.txn', this.#sql.txn, [
      txn.compare.map((c) => c.namespace),
      txn.compare.map((c) => c.key),
      txn.compare.map((c) => ('version' in c ? c.version : null)),
      txn.compare.map((c) => ('exists' in c ? c.exists : null)),
      ops.map((o) => o.success),
      ops.map((o) => o.op.type === 'put'),
      ops.map((o) => o.op.namespace),
      ops.map((o) => o.op.key),
      values,
      ops.map((o) => (o.op.type === 'put' ? (o.op.ttlMs ?? null) : null)),
    ]);
    if (row === undefined) throw mapPgError(new Error('storage_txn returned no row'), 'storage.txn');
    const taken = row.succeeded ? txn.success : txn.failure;
    const results: TxnOpResult[] = taken.map((op, i) => {
      const version = row.versions[i];
      return {
        type: op.type,
        namespace: op.namespace,
        key: op.key,
        version: op.type === 'put' && version !== null && version !== undefined ? Number(version) : null,
        existed: row.existed[i] === true,
      };
    });
    return { succeeded: row.succeeded, results };
  }

  async add(namespace: string, key: string, delta: number, options?: CounterOptions): Promise<CounterResult> {
    const req = parseAdd(namespace, key, delta, options);
    const [row] = await this.#query<{ status: string; applied: boolean; value_json: string | null; doc_version: string | number | null }>(
      'storage.add',
      this.#sql.add,
      [req.namespace, req.key, req.delta, req.min ?? null, req.max ?? null, req.ttlMs ?? null],
    );
    if (row === undefined) throw mapPgError(new Error('storage_add returned no row'), 'storage.add');
    if (row.status === 'not_number') {
      throw new ConflictError('counter document holds a non-number value', { details: { namespace: req.namespace, key: req.key } });
    }
    return {
      applied: row.applied,
      // The function returns the stored JSON text, so the number is exactly what JS would hold.
      value: decodeJson<number>(row.value_json ?? '0'),
      version: row.doc_version === null ? null : Number(row.doc_version),
    };
  }

  async close(): Promise<void> {
    this.#life.close();
  }

  async #query<R>(operation: string, text: string, values: readonly unknown[]): Promise<R[]> {
    await this.#life.ready();
    try {
      return (await this.#pool.query<R>(text, values)).rows;
    } catch (err) {
      throw mapPgError(err, operation);
    }
  }

  async #sweepBatch(limit: number): Promise<number> {
    try {
      const { rows } = await this.#pool.query<{ count: number }>(this.#sql.sweep, [limit]);
      return Number(rows[0]?.count ?? 0);
    } catch (err) {
      throw mapPgError(err, 'storage.sweep');
    }
  }
}

function toDocument<T extends JsonValue>(namespace: string, row: DocumentRow): StoredDocument<T> {
  return {
    namespace,
    key: row.key,
    value: decodeJson<T>(row.value),
    version: Number(row.version),
    expiresAt: row.expires_ms === null ? null : Number(row.expires_ms),
  };
}
