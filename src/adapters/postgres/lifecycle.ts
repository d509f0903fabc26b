import { AdapterClosedError, ValidationError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { silentLogger } from '../../core/logger.js';
import { isFabricaError } from '../../core/errors.js';
import { checkSchemaVersion, migratePostgres } from './migrate.js';
import type { ResolvedAdapterOptions } from './options.js';

/**
 * What the three PostgreSQL adapters share: a lazy, idempotent `init()` (check or apply the
 * schema once, retried after a failure), a background sweeper started by a successful init, and
 * `close()`. Every public method awaits {@link Lifecycle.ready} first, so calling `init()`
 * explicitly is optional: it only moves the schema check (and its failure) to start-up.
 */
export class Lifecycle {
  readonly logger: Logger;
  #init: Promise<void> | undefined;
  #ready = false;
  #closed = false;
  #timer: ReturnType<typeof setInterval> | undefined;
  #sweeping = false;

  constructor(
    private readonly what: string,
    private readonly options: ResolvedAdapterOptions,
    private readonly sweep: (() => Promise<number>) | undefined,
    private readonly requireReadCommitted = false,
  ) {
    this.logger = options.logger ?? silentLogger;
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Throws `ADAPTER_CLOSED` after close; otherwise runs the schema check once. */
  async ready(): Promise<void> {
    if (this.#closed) throw new AdapterClosedError(`postgres ${this.what} is closed`);
    if (this.#ready) return;
    this.#init ??= this.#initialise().then(
      () => {
        this.#ready = true;
      },
      (err: unknown) => {
        // Forget the failure, so the next call retries (the host may migrate in the meantime,
        // or the database may come back).
        this.#init = undefined;
        throw err;
      },
    );
    await this.#init;
    if (this.#closed) throw new AdapterClosedError(`postgres ${this.what} is closed`);
  }

  /** Stops the sweeper; further calls fail with `ADAPTER_CLOSED`. Idempotent. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #initialise(): Promise<void> {
    const { pool, schema } = this.options;
    if (this.options.migrate) await migratePostgres({ pool, schema, logger: this.logger });
    const { isolation } = await checkSchemaVersion(pool, schema);
    // Under REPEATABLE READ or SERIALIZABLE a write function would keep reading the snapshot taken
    // before it waited for its lock, so compares could pass on stale versions. Checked on one
    // pooled connection: this catches database- and role-level defaults, the usual way it is set.
    if (this.requireReadCommitted && isolation !== '' && isolation !== 'read committed') {
      const message = `the pool runs at ${isolation} isolation; postgres ${this.what} requires read committed (PostgreSQL's default)`;
      throw new ValidationError(`invalid postgres ${this.what} options: ${message}`, [{ path: ['pool'], message, code: 'custom' }]);
    }
    if (this.#closed) return;
    this.#startSweeper();
  }

  #startSweeper(): void {
    const interval = this.options.sweepIntervalMs;
    if (this.sweep === undefined || interval === 0 || this.#timer !== undefined) return;
    this.#timer = setInterval(() => void this.#tick(), interval);
    // Never keep the host process alive just to sweep.
    (this.#timer as { unref?: () => void }).unref?.();
  }

  async #tick(): Promise<void> {
    // A slow sweep (large backlog) must not pile up concurrent ones.
    if (this.#sweeping || this.#closed || this.sweep === undefined) return;
    this.#sweeping = true;
    try {
      const removed = await this.sweep();
      if (removed > 0) this.logger.debug(`postgres ${this.what} sweep removed expired rows`, { schema: this.options.schema, removed });
    } catch (err) {
      this.logger.warn(`postgres ${this.what} sweep failed`, {
        schema: this.options.schema,
        code: isFabricaError(err) ? err.code : 'INTERNAL',
      });
    } finally {
      this.#sweeping = false;
    }
  }
}

/** Rows deleted per sweep statement: small enough to keep each transaction short. */
export const SWEEP_BATCH = 1_000;
/** Upper bound of batches per sweep tick, so one tick cannot run for ever behind a flood of inserts. */
const SWEEP_MAX_BATCHES = 50;

/** Runs `deleteBatch` until a batch comes back short; returns the total removed. */
export async function sweepInBatches(deleteBatch: (limit: number) => Promise<number>): Promise<number> {
  let total = 0;
  for (let i = 0; i < SWEEP_MAX_BATCHES; i++) {
    const removed = await deleteBatch(SWEEP_BATCH);
    total += removed;
    if (removed < SWEEP_BATCH) break;
  }
  return total;
}
