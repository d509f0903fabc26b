import { z } from 'zod';
import type { CacheAdapter } from './adapters/cache.js';
import type { PubSub } from './adapters/pubsub.js';
import type { QueueAdapter } from './adapters/queue.js';
import type { RateLimitStore } from './adapters/rate-limit.js';
import type { ReservationStore } from './adapters/reservations.js';
import type { StorageAdapter } from './adapters/storage.js';
import { createMemoryCache } from './adapters/memory/cache.js';
import { createMemoryPubSub } from './adapters/memory/pubsub.js';
import { createMemoryQueue } from './adapters/memory/queue.js';
import { createMemoryRateLimitStore } from './adapters/memory/rate-limit.js';
import { createMemoryReservationStore } from './adapters/memory/reservations.js';
import { createMemoryStorage } from './adapters/memory/storage.js';
import type { Clock } from './core/clock.js';
import { systemClock } from './core/clock.js';
import { FabricaEventBus } from './core/events.js';
import type { IdGenerator } from './core/ids.js';
import { createUuidV7Generator } from './core/ids.js';
import type { Logger } from './core/logger.js';
import { silentLogger } from './core/logger.js';
import { parseInput } from './core/validation.js';
import { createIdentity, type Identity, type IdentityOptions } from './identity/index.js';
import {
  createMonitoringSystem,
  createRateLimiter,
  createResourceManager,
  type MonitoringOptions,
  type MonitoringSystem,
  type RateLimiter,
  type RateLimitRule,
  type ResourceManager,
  type StoreFailureMode,
} from './resources/index.js';
import { createAccessControl, type AccessControl, type AccessControlOptions } from './security/access/index.js';
import { createTaskService, type TaskService, type TaskServiceOptions } from './tasks/index.js';

/** Options of the default request rate limit ({@link FabricaOptions.rateLimit}). */
export interface FabricaRateLimitOptions {
  /** Limits checked together in one atomic call (default: 100 requests per second). */
  readonly limits?: readonly RateLimitRule[];
  /** What a check answers while the store is unreachable (default `'fail-closed'`). */
  readonly onStoreUnavailable?: StoreFailureMode;
}

/** What {@link createFabrica} wires together. Every part is optional; memory backends are the default. */
export interface FabricaOptions {
  /** Documents, counters, TTLs (default: memory). */
  readonly storage?: StorageAdapter;
  /** Byte cache (default: memory). */
  readonly cache?: CacheAdapter;
  /** Cross-process messages; the event bus and policy reloads span processes through it (default: memory). */
  readonly pubsub?: PubSub;
  /** The task queue (default: memory). */
  readonly queue?: QueueAdapter;
  /** Rate-limit state (default: memory). */
  readonly rateLimits?: RateLimitStore;
  /** Quota reservations (default: memory). */
  readonly reservations?: ReservationStore;
  /** Time source (default: system clock). */
  readonly clock?: Clock;
  /** Structured logger (default: silent). */
  readonly logger?: Logger;
  /** PubSub channel carrying events between processes (default `fabrica.events`). */
  readonly eventsChannel?: string;
  /** Identity settings (default issuer and audience `digital-fabrica`; set both in production). */
  readonly identity?: Partial<Omit<IdentityOptions, 'storage' | 'clock' | 'logger' | 'events'>>;
  /** Access-control settings. */
  readonly access?: Omit<AccessControlOptions, 'storage' | 'pubsub' | 'clock' | 'logger' | 'events'>;
  /** Task settings (task types with their payload schemas, tier weights). */
  readonly tasks?: Omit<TaskServiceOptions, 'queue' | 'events' | 'logger'>;
  /** Resource-manager settings (quota bases, tiers, multiplier bounds, leases). */
  readonly resources?: Omit<Parameters<typeof createResourceManager>[0], 'reservations' | 'events' | 'storage' | 'clock' | 'logger'>;
  /** The request rate limit the HTTP layer applies. */
  readonly rateLimit?: FabricaRateLimitOptions;
  /** Host monitoring (sampling starts only when you call `monitoring.start()`). */
  readonly monitoring?: Omit<MonitoringOptions, 'events' | 'clock' | 'logger'>;
}

/**
 * The composed SDK: the adapters, the event bus, and every service wired to them. Its shape
 * satisfies the HTTP layer's `HttpServices`, so `createHttpHandler(fabrica)` serves the whole API.
 */
export interface Fabrica {
  /** Documents, counters, TTLs. */
  readonly storage: StorageAdapter;
  /** Byte cache. */
  readonly cache: CacheAdapter;
  /** Cross-process messages. */
  readonly pubsub: PubSub;
  /** The task queue. */
  readonly queue: QueueAdapter;
  /** Rate-limit state. */
  readonly rateLimits: RateLimitStore;
  /** Quota reservations. */
  readonly reservations: ReservationStore;
  /** The typed event bus, spanning processes through `pubsub`. */
  readonly events: FabricaEventBus;
  /** Users, tokens, MFA, wallets, Sign-In with Ethereum. */
  readonly identity: Identity;
  /** Resource-level RBAC. */
  readonly access: AccessControl;
  /** The task lifecycle on the fair queue. */
  readonly tasks: TaskService;
  /** Quotas, reservations, usage, bandwidth, optimisation. */
  readonly resources: ResourceManager;
  /** The request rate limiter. */
  readonly rateLimiter: RateLimiter;
  /** Host metrics and alerts. */
  readonly monitoring: MonitoringSystem;
  /** Time source. */
  readonly clock: Clock;
  /** UUIDv7 ids. */
  readonly ids: IdGenerator;
  /** Structured logger. */
  readonly logger: Logger;
  /** Stops every service and closes the adapters (never a host's pool or client). Idempotent. */
  close(): Promise<void>;
}

const adapterShape = (methods: string[]) =>
  z.custom<object>(
    (v) => typeof v === 'object' && v !== null && methods.every((m) => typeof (v as Record<string, unknown>)[m] === 'function'),
    `must implement ${methods.join(', ')}`,
  );

// Adapters are checked by shape here; each service validates its own settings in full.
const optionsSchema = z
  .strictObject({
    storage: adapterShape(['init', 'get', 'getMany', 'put', 'delete', 'list', 'txn', 'add', 'close']).optional(),
    cache: adapterShape(['init', 'get', 'getMany', 'set', 'delete', 'deleteByPrefix', 'close']).optional(),
    pubsub: adapterShape(['init', 'publish', 'subscribe', 'close']).optional(),
    queue: adapterShape(['init', 'enqueue', 'claim', 'complete', 'fail', 'close']).optional(),
    rateLimits: adapterShape(['init', 'check', 'close']).optional(),
    reservations: adapterShape(['init', 'reserve', 'release', 'close']).optional(),
    clock: adapterShape(['now']).optional(),
    logger: adapterShape(['debug', 'info', 'warn', 'error']).optional(),
    eventsChannel: z.string().optional(),
    identity: z.looseObject({}).optional(),
    access: z.looseObject({}).optional(),
    tasks: z.looseObject({}).optional(),
    resources: z.looseObject({}).optional(),
    rateLimit: z.looseObject({}).optional(),
    monitoring: z.looseObject({}).optional(),
  })
  .optional();

/**
 * The composition root: initialises the adapters it is given (memory ones by default), connects
 * the event bus across processes, and wires identity, access control, tasks, resources, the rate
 * limiter and monitoring to them. Every service can also be built on its own from its subpath.
 *
 * @throws `VALIDATION_FAILED` for malformed options; `ADAPTER_UNAVAILABLE` or
 * `ADAPTER_SCHEMA_MISMATCH` when a backend cannot be initialised.
 * @example
 * ```ts
 * import { createFabrica } from 'digital-fabrica';
 * const fabrica = await createFabrica();
 * await fabrica.storage.put('notes', 'hello', { text: 'in memory, no setup' });
 * const user = await fabrica.identity.users.create({ email: 'ada@example.com', displayName: 'Ada' });
 * console.log(user.id);
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
  const queue = opts.queue ?? createMemoryQueue({ clock });
  const rateLimits = opts.rateLimits ?? createMemoryRateLimitStore({ clock });
  const reservations = opts.reservations ?? createMemoryReservationStore({ clock });
  const adapters = [storage, cache, pubsub, queue, rateLimits, reservations];
  await Promise.all(adapters.map((adapter) => adapter.init()));

  // Services close before the adapters they use, in reverse order of creation.
  const closers: (() => Promise<unknown> | void)[] = [() => Promise.all(adapters.map((adapter) => adapter.close()))];
  const close = async (): Promise<void> => {
    for (const closer of closers.splice(0).reverse()) await closer();
  };
  try {
    const events = new FabricaEventBus({ logger });
    await events.connect(pubsub, opts.eventsChannel);
    closers.push(() => events.disconnect());
    const access = await createAccessControl({ ...opts.access, storage, pubsub, clock, logger, events });
    closers.push(() => access.close());
    const identity = await createIdentity({
      issuer: 'digital-fabrica',
      audience: 'digital-fabrica',
      ...opts.identity,
      storage,
      clock,
      logger,
      events,
    });
    closers.push(() => identity.close());
    const tasks = createTaskService({ ...opts.tasks, queue, events, logger });
    const resources = createResourceManager({ ...opts.resources, reservations, events, storage, clock, logger });
    const rateLimiter = createRateLimiter({
      store: rateLimits,
      limits: opts.rateLimit?.limits ?? [{ name: 'default', limit: 100, periodMs: 1_000 }],
      onStoreUnavailable: opts.rateLimit?.onStoreUnavailable ?? 'fail-closed',
      logger,
    });
    const monitoring = createMonitoringSystem({ ...opts.monitoring, events, clock, logger });
    closers.push(() => monitoring.stop());
    return {
      storage,
      cache,
      pubsub,
      queue,
      rateLimits,
      reservations,
      events,
      identity,
      access,
      tasks,
      resources,
      rateLimiter,
      monitoring,
      clock,
      logger,
      ids: createUuidV7Generator({ clock }),
      close,
    };
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
}
