import { z } from 'zod';
import type { Logger } from '../../core/logger.js';
import { AdapterClosedError, FabricaError } from '../../core/errors.js';
import type {
  CounterOptions,
  CounterResult,
  JsonValue,
  ListOptions,
  ListPage,
  PutOptions,
  StorageAdapter,
  StoredDocument,
  TxnOp,
  TxnOpResult,
  TxnRequest,
  TxnResult,
} from '../storage.js';
import { checkKey, checkNamespace } from '../internal/names.js';
import { decodeJson, encodeJson } from '../internal/json.js';
import { encodeCursor } from '../internal/cursor.js';
import { compareKeys } from '../internal/order.js';
import { parseAdd, parseGetMany, parseList, parsePutOptions, parseTxn, staleVersionError } from '../internal/requests.js';
import type { RedisArgument, RedisScriptClient } from './driver.js';
import { mapRedisError } from './errors.js';
import { redisKeyLayout, type RedisKeyLayout } from './keys.js';
import { runScript, type LuaScript } from './lua.js';
import { parseRedisOptions, type RedisCommonOptions } from './options.js';
import { planTxn, type TxnPlan } from './txn-plan.js';
import { addScript } from './scripts/add.js';
import { getScript } from './scripts/get.js';
import { listScript } from './scripts/list.js';
import { txnScript } from './scripts/txn.js';

/** Options of {@link createRedisStorage}. */
export interface RedisStorageOptions extends RedisCommonOptions {
  /** The host's client (e.g. an `ioredis` `Redis` or `Cluster`). The adapter never closes it. */
  readonly client: RedisScriptClient;
  /**
   * How long (ms) the reply of each write is kept so that a call the client resends after a
   * dropped connection is answered, not applied twice (default 120 000; 0 turns this off). It
   * should cover the client's reconnect time: ioredis resends in-flight commands on reconnect
   * (`autoResendUnfulfilledCommands`, on by default) until `maxRetriesPerRequest` gives up.
   * Costs one small key per write for that long.
   */
  readonly replayWindowMs?: number;
}

const DEFAULT_REPLAY_WINDOW_MS = 120_000;

// Index entries one list call may examine (live or expired) before returning a short page with
// a cursor: bounds the time a single script holds the server.
const LIST_SCAN_BUDGET = 10_000;

/**
 * Storage on Redis: every operation is one Lua script, so each is atomic (and legal on Redis
 * Cluster: all keys of one adapter share a hash tag, see `keys.ts`). Versions come from one
 * INCR'd revision key per prefix; expiry uses the server's clock and native PEXPIREAT.
 *
 * @throws `VALIDATION_FAILED` for bad options (missing client methods, bad prefix, an ioredis
 * `keyPrefix` on the client).
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import { createRedisStorage } from 'digital-fabrica/adapters/redis';
 * const client = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
 * const storage = createRedisStorage({ client, prefix: 'myapp' });
 * await storage.put('settings', 'theme', 'dark', { ttlMs: 60_000 });
 * await storage.close(); // the client stays open: it is the host's
 * ```
 */
export function createRedisStorage(options: RedisStorageOptions): StorageAdapter {
  const opts = parseRedisOptions<RedisScriptClient, { replayWindowMs: z.ZodOptional<z.ZodNumber> }>(options, ['evalsha', 'eval'], 'redis storage options', {
    replayWindowMs: z.number().int().min(0).max(24 * 3600 * 1000).optional(),
  });
  return new RedisStorage(opts.client, redisKeyLayout(opts.prefix), opts.logger, opts.extra.replayWindowMs ?? DEFAULT_REPLAY_WINDOW_MS);
}

class RedisStorage implements StorageAdapter {
  #closed = false;

  constructor(
    private readonly client: RedisScriptClient,
    private readonly keys: RedisKeyLayout,
    private readonly logger: Logger,
    private readonly replayWindowMs: number,
  ) {}

  async init(): Promise<void> {
    // Nothing to create: keys appear on first write, scripts are cached on first use.
    this.#assertOpen();
  }

  async get<T extends JsonValue = JsonValue>(namespace: string, key: string): Promise<StoredDocument<T> | null> {
    this.#assertOpen();
    const ns = checkNamespace(namespace);
    const k = checkKey(key);
    const [doc] = await this.#read<T>(ns, [k], 'storage.get');
    return doc ?? null;
  }

  async getMany<T extends JsonValue = JsonValue>(namespace: string, keys: readonly string[]): Promise<(StoredDocument<T> | null)[]> {
    this.#assertOpen();
    const req = parseGetMany(namespace, keys);
    if (req.keys.length === 0) return [];
    return this.#read<T>(req.namespace, req.keys, 'storage.getMany');
  }

  async put(namespace: string, key: string, value: JsonValue, options?: PutOptions): Promise<{ version: number }> {
    this.#assertOpen();
    const ns = checkNamespace(namespace);
    const k = checkKey(key);
    const { ttlMs, ifVersion } = parsePutOptions(options);
    const json = encodeJson(value);
    const op: TxnOp = { type: 'put', namespace: ns, key: k, value: null, ...(ttlMs === undefined ? {} : { ttlMs }) };
    // A conditional put is a one-compare txn: the check and the write are one script.
    const compare = ifVersion === undefined ? [] : [{ namespace: ns, key: k, version: ifVersion }];
    const plan = planTxn(this.keys, compare, [op], [], { success: [json], failure: [] }, this.#replay());
    const result = await this.#runTxn(plan, [op], [], 'storage.put');
    if (!result.succeeded) throw staleVersionError(ns, k);
    return { version: result.results[0]!.version! };
  }

  async delete(namespace: string, key: string): Promise<boolean> {
    this.#assertOpen();
    const op: TxnOp = { type: 'delete', namespace: checkNamespace(namespace), key: checkKey(key) };
    const plan = planTxn(this.keys, [], [op], [], { success: [null], failure: [] }, this.#replay());
    const result = await this.#runTxn(plan, [op], [], 'storage.delete');
    return result.results[0]!.existed;
  }

  async list<T extends JsonValue = JsonValue>(namespace: string, options?: ListOptions): Promise<ListPage<T>> {
    this.#assertOpen();
    const req = parseList(namespace, options);
    // compareKeys is byte (UTF-8) order, the order of the index: a cursor before the prefix's
    // range starts at the prefix, one after it yields an empty page.
    const min =
      req.after !== null && compareKeys(req.after, req.prefix) >= 0 ? `(${req.after}` : req.prefix === '' ? '-' : `[${req.prefix}`;
    const reply = await this.#script(
      listScript,
      [this.keys.index(req.namespace)],
      [this.keys.documentPrefix(req.namespace), min, req.prefix, req.limit, LIST_SCAN_BUDGET],
      'storage.list',
    );
    const row = asArray(reply, 'list');
    const status = Number(row[0]);
    const items: StoredDocument<T>[] = [];
    for (let i = 2; i + 3 < row.length; i += 4) {
      items.push(toDocument<T>(req.namespace, asString(row[i], 'list key'), row[i + 1], row[i + 2], row[i + 3]));
    }
    const cursor = status === 0 ? null : encodeCursor(asString(row[1], 'list cursor'));
    return { items, cursor };
  }

  async txn(request: TxnRequest): Promise<TxnResult> {
    this.#assertOpen();
    const txn = parseTxn(request);
    // Serialise every value before sending anything, so a bad value aborts the txn untouched.
    const encode = (ops: readonly TxnOp[]) => ops.map((op) => (op.type === 'put' ? encodeJson(op.value) : null));
    const plan = planTxn(
      this.keys,
      txn.compare,
      txn.success,
      txn.failure,
      { success: encode(txn.success), failure: encode(txn.failure) },
      this.#replay(),
    );
    return this.#runTxn(plan, txn.success, txn.failure, 'storage.txn');
  }

  async add(namespace: string, key: string, delta: number, options?: CounterOptions): Promise<CounterResult> {
    this.#assertOpen();
    const req = parseAdd(namespace, key, delta, options);
    const opt = (n: number | undefined): RedisArgument => (n === undefined ? '' : n);
    const reply = await this.#script(
      addScript,
      [this.keys.revision, this.keys.document(req.namespace, req.key), this.keys.index(req.namespace), this.keys.replay(this.#replay().requestId)],
      [req.key, req.delta, opt(req.min), opt(req.max), opt(req.ttlMs), this.replayWindowMs],
      'storage.add',
      { namespace: req.namespace, key: req.key },
    );
    const row = asArray(reply, 'add');
    const value = decodeJson(asString(row[1], 'add value'));
    if (typeof value !== 'number') throw internal('add value');
    return { applied: isOne(row[0]), value, version: row[2] === null || row[2] === undefined ? null : asNumber(row[2], 'add version') };
  }

  async close(): Promise<void> {
    // The client is the host's: closing the adapter only stops it from being used.
    this.#closed = true;
  }

  #assertOpen(): void {
    if (this.#closed) throw new AdapterClosedError('redis storage is closed');
  }

  /** A fresh id per call: a resend by the client carries the same arguments, hence the same id. */
  #replay(): { requestId: string; windowMs: number } {
    return { requestId: globalThis.crypto.randomUUID(), windowMs: this.replayWindowMs };
  }

  async #script(
    script: LuaScript,
    keys: readonly string[],
    args: readonly RedisArgument[],
    operation: string,
    details?: Readonly<Record<string, unknown>>,
  ): Promise<unknown> {
    try {
      return await runScript(this.client, script, keys, args, this.logger);
    } catch (err) {
      throw mapRedisError(err, operation, details);
    }
  }

  async #read<T extends JsonValue>(namespace: string, keys: readonly string[], operation: string): Promise<(StoredDocument<T> | null)[]> {
    const reply = await this.#script(
      getScript,
      keys.map((k) => this.keys.document(namespace, k)),
      [],
      operation,
    );
    const row = asArray(reply, 'get');
    return keys.map((k, i) => (row[i * 3] === null || row[i * 3] === undefined ? null : toDocument<T>(namespace, k, row[i * 3], row[i * 3 + 1], row[i * 3 + 2])));
  }

  async #runTxn(plan: TxnPlan, success: readonly TxnOp[], failure: readonly TxnOp[], operation: string): Promise<TxnResult> {
    const row = asArray(await this.#script(txnScript, plan.keys, plan.args, operation), 'txn');
    const succeeded = isOne(row[0]);
    const ops = succeeded ? success : failure;
    const results: TxnOpResult[] = ops.map((op, i) => ({
      type: op.type,
      namespace: op.namespace,
      key: op.key,
      version: op.type === 'put' ? asNumber(row[1 + 2 * i], 'txn version') : null,
      existed: isOne(row[2 + 2 * i]),
    }));
    return { succeeded, results };
  }
}

// Script replies are ours, but a wrong shape (a foreign key of another type under our prefix, a
// proxy mangling replies) must surface as INTERNAL, not as a TypeError deep inside.
function internal(what: string): FabricaError {
  return new FabricaError('INTERNAL', `redis storage: unexpected script reply (${what})`);
}

// A host client with ioredis' `stringNumbers` returns integers as strings.
function isOne(value: unknown): boolean {
  return value === 1 || value === '1';
}

function asArray(reply: unknown, what: string): unknown[] {
  if (!Array.isArray(reply)) throw internal(what);
  return reply as unknown[];
}

function asString(value: unknown, what: string): string {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  throw internal(what);
}

function asNumber(value: unknown, what: string): number {
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw internal(what);
  return n;
}

function toDocument<T extends JsonValue>(namespace: string, key: string, json: unknown, version: unknown, expiresAt: unknown): StoredDocument<T> {
  return {
    namespace,
    key,
    value: decodeJson<T>(asString(json, 'document value')),
    version: asNumber(version, 'document version'),
    expiresAt: expiresAt === null || expiresAt === undefined ? null : asNumber(expiresAt, 'document expiry'),
  };
}
