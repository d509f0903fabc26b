import { z } from 'zod';
import type { CacheAdapter } from './adapters/cache.js';
import type { PubSub } from './adapters/pubsub.js';
import type { StorageAdapter } from './adapters/storage.js';
import { createMemoryCache } from './adapters/memory/cache.js';
import { createMemoryPubSub } from './adapters/memory/pubsub.js';
import { createMemoryStorage } from './adapters/memory/storage.js';
import type { Clock } from './core/clock.js';
import { systemClock } from './core/clock.js';
import { FabricaEventBus } from './core/events.js';
import type { IdGenerator } from './core/ids.js';
import { createUuidV7Generator } from './core/ids.js';
import type { Logger } from './core/logger.js';
import { silentLogger } from './core/logger.js';
import { parseInput } from './core/validation.js';

/** What {@link createFabrica} wires together. Every part is optional; memory backends are the default. */
export interface FabricaOptions {
  /** Documents, counters, TTLs (default: memory). */
  readonly storage?: StorageAdapter;
  /** Byte cache (default: memory). */
  readonly cache?: CacheAdapter;
  /** Cross-process messages; the event bus spans processes through it (default: memory). */
  readonly pubsub?: PubSub;
  /** Time source (default: system clock). */
  readonly clock?: Clock;
  /** Structured logger (default: silent). */
  readonly logger?: Logger;
  /** PubSub channel carrying events between processes (default `fabrica.events`). */
  readonly eventsChannel?: string;
}

/** The composed SDK: adapters, event bus, clock, ids and logger shared by every service. */
export interface Fabrica {
  readonly storage: StorageAdapter;
  readonly cache: CacheAdapter;
  readonly pubsub: PubSub;
  readonly events: FabricaEventBus;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly logger: Logger;
  /** Closes the adapters (which never close a host's pool or client) and detaches the event bus. Idempotent. */
  close(): Promise<void>;
}

const adapterShape = (methods: string[]) =>
  z.custom<object>(
    (v) => typeof v === 'object' && v !== null && methods.every((m) => typeof (v as Record<string, unknown>)[m] === 'function'),
    `must implement ${methods.join(', ')}`,
  );

const optionsSchema = z
  .strictObject({
    storage: adapterShape(['init', 'get', 'getMany', 'put', 'delete', 'list', 'txn', 'add', 'close']).optional(),
    cache: adapterShape(['init', 'get', 'getMany', 'set', 'delete', 'deleteByPrefix', 'close']).optional(),
    pubsub: adapterShape(['init', 'publish', 'subscribe', 'close']).optional(),
    clock: adapterShape(['now']).optional(),
    logger: adapterShape(['debug', 'info', 'warn', 'error']).optional(),
    eventsChannel: z.string().optional(),
  })
  .optional();

/**
 * The composition root: initialises the adapters it is given (memory ones by default) and
 * connects the event bus across processes through the PubSub adapter.
 *
 * @throws `VALIDATION_FAILED` for malformed options; `ADAPTER_UNAVAILABLE` or
 * `ADAPTER_SCHEMA_MISMATCH` when a backend cannot be initialised.
 * @example
 * ```ts
 * import { createFabrica } from 'digital-fabrica';
 * const fabrica = await createFabrica();
 * await fabrica.storage.put('notes', 'hello', { text: 'in memory, no setup' });
 * await fabrica.close();
 * ```
 */
export async function createFabrica(options?: FabricaOptions): Promise<Fabrica> {
  const opts = (parseInput(optionsSchema, options, 'fabrica options') ?? {}) as FabricaOptions;
  const clock = opts.clock ?? systemClock;
  const logger = opts.logger ?? silentLogger;
  const storage = opts.storage ?? createMemoryStorage({ clock });
  const cache = opts.cache ?? createMemoryCache({ clock });
  const pubsub = opts.pubsub ?? createMemoryPubSub({ logger });
  await Promise.all([storage.init(), cache.init(), pubsub.init()]);
  const events = new FabricaEventBus({ logger });
  await events.connect(pubsub, opts.eventsChannel);
  let closed = false;
  return {
    storage,
    cache,
    pubsub,
    events,
    clock,
    logger,
    ids: createUuidV7Generator({ clock }),
    async close() {
      if (closed) return;
      closed = true;
      await events.disconnect();
      await Promise.all([storage.close(), cache.close(), pubsub.close()]);
    },
  };
}
