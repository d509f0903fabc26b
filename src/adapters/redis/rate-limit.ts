import { AdapterClosedError, FabricaError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { RateLimitOutcome, RateLimitRequest, RateLimitStore } from '../rate-limit.js';
import { parseRateLimitKeys, parseRateLimitRequest } from '../internal/rate-limit-requests.js';
import type { RedisArgument, RedisScriptClient } from './driver.js';
import { isNoScript, mapRedisError } from './errors.js';
import { runScript } from './lua.js';
import { parseRedisOptions, type RedisCommonOptions } from './options.js';
import { redisResourceKeys, type RedisResourceKeys } from './resource-keys.js';
import { gcraResetScript, gcraScript } from './scripts/gcra.js';

/** Options of {@link createRedisRateLimitStore}. */
export interface RedisRateLimitStoreOptions extends RedisCommonOptions {
  /** The host's client (e.g. an `ioredis` `Redis` or `Cluster`). The store never closes it. */
  readonly client: RedisScriptClient;
}

/**
 * GCRA on Redis: every check — however many limits — is ONE Lua script (one round trip) that
 * reads the TATs, decides with the server's `TIME` and writes only when every limit admits.
 *
 * A check the client resends after a dropped connection (ioredis does so by default) may be
 * counted twice: the error is on the side of limiting, never of admitting too much.
 *
 * @throws `VALIDATION_FAILED` for bad options (missing client methods, bad prefix, an ioredis
 * `keyPrefix`).
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import { createRedisRateLimitStore } from 'digital-fabrica/adapters/redis';
 * const client = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
 * const store = createRedisRateLimitStore({ client, prefix: 'myapp' });
 * const outcome = await store.check({ cost: 1, limits: [{ key: 'ip:10.0.0.1', intervalUs: 100_000, burst: 10 }] });
 * console.log(outcome.allowed);
 * ```
 */
export function createRedisRateLimitStore(options: RedisRateLimitStoreOptions): RateLimitStore {
  const opts = parseRedisOptions<RedisScriptClient>(options, ['evalsha', 'eval'], 'redis rate limit store options');
  return new RedisRateLimitStore(opts.client, redisResourceKeys(opts.prefix), opts.logger);
}

class RedisRateLimitStore implements RateLimitStore {
  #closed = false;

  constructor(
    private readonly client: RedisScriptClient,
    private readonly keys: RedisResourceKeys,
    private readonly logger: Logger,
  ) {}

  async init(): Promise<void> {
    this.#assertOpen();
  }

  check(request: RateLimitRequest): Promise<RateLimitOutcome> {
    let n: number;
    let argv: RedisArgument[];
    try {
      this.#assertOpen();
      const { limits, cost } = parseRateLimitRequest(request);
      n = limits.length;
      // EVALSHA sha numkeys key1..keyN cost T1 B1 .. TN BN, built in one array.
      argv = new Array<RedisArgument>(2 * n + 1 + n);
      argv[n] = cost;
      for (let i = 0; i < n; i++) {
        const limit = limits[i]!;
        argv[i] = this.keys.rate(limit.key);
        argv[n + 1 + 2 * i] = limit.intervalUs;
        argv[n + 2 + 2 * i] = limit.burst;
      }
    } catch (err) {
      return Promise.reject(err);
    }
    // A promise chain rather than async functions: this is the hot path, and each async layer
    // costs an extra promise and microtask per check.
    return this.client.evalsha(gcraScript.sha1, n, ...argv).then(
      (reply) => toOutcome(reply, n),
      (err: unknown) => {
        if (!isNoScript(err)) throw mapRedisError(err, 'rateLimit.check');
        // Not cached on this server (first use, restart, failover): send the source once.
        this.logger.debug('redis script not cached on the server; sending its source', { script: gcraScript.name });
        return this.client.eval(gcraScript.source, n, ...argv).then(
          (reply) => toOutcome(reply, n),
          (again: unknown) => {
            throw mapRedisError(again, 'rateLimit.check');
          },
        );
      },
    );
  }

  async reset(keys: readonly string[]): Promise<void> {
    this.#assertOpen();
    const valid = parseRateLimitKeys(keys);
    if (valid.length === 0) return;
    try {
      await runScript(this.client, gcraResetScript, valid.map((k) => this.keys.rate(k)), [], this.logger);
    } catch (err) {
      throw mapRedisError(err, 'rateLimit.reset');
    }
  }

  async close(): Promise<void> {
    // The client is the host's.
    this.#closed = true;
  }

  #assertOpen(): void {
    if (this.#closed) throw new AdapterClosedError('redis rate limit store is closed');
  }
}

function internal(): FabricaError {
  return new FabricaError('INTERNAL', 'redis rate limit store: unexpected script reply');
}

function toOutcome(reply: unknown, n: number): RateLimitOutcome {
  if (!Array.isArray(reply) || reply.length !== n + 2) throw internal();
  const tatsUs = new Array<number>(n);
  for (let i = 0; i < n; i++) tatsUs[i] = toInt(reply[i + 2]);
  return { allowed: reply[0] === 1 || reply[0] === '1', nowUs: toInt(reply[1]), tatsUs };
}

function toInt(value: unknown): number {
  // Integer replies arrive as numbers (as strings with ioredis' `stringNumbers`).
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : value instanceof Uint8Array ? Number(new TextDecoder().decode(value)) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw internal();
  return n;
}
