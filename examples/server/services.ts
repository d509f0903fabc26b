/**
 * Composition of the example server: every service the HTTP layer needs, on the memory backends
 * by default, or on PostgreSQL (storage, queue, reservations) and Redis (cache, pub/sub, rate
 * limits) when `databaseUrl` / `redisUrl` are given. Several processes given the same URLs share
 * everything, and the event bus spans them through Redis pub/sub.
 */
import pg from 'pg';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { FabricaEventBus, silentLogger, hasErrorCode, type Logger, type PubSub, type StorageAdapter, type CacheAdapter } from '../../src/index.js';
import type { QueueAdapter, RateLimitStore, ReservationStore } from '../../src/adapters/index.js';
import {
  createMemoryCache,
  createMemoryPubSub,
  createMemoryQueue,
  createMemoryRateLimitStore,
  createMemoryReservationStore,
  createMemoryStorage,
} from '../../src/adapters/memory/index.js';
import { createPostgresQueue, createPostgresReservationStore, createPostgresStorage, migratePostgres } from '../../src/adapters/postgres/index.js';
import { createRedisCache, createRedisPubSub, createRedisRateLimitStore } from '../../src/adapters/redis/index.js';
import { AesKey, Keyring, createAccessControl, type AccessControl } from '../../src/security/index.js';
import { createIdentity, type Identity } from '../../src/identity/index.js';
import { createTaskService, createWorker, defineTaskType, handle, type TaskService, type Worker } from '../../src/tasks/index.js';
import { createMonitoringSystem, createRateLimiter, createResourceManager } from '../../src/resources/index.js';
import type { HttpHandlerOptions, HttpServices } from '../../src/http/index.js';

/** Settings of the example server (see `configFromEnv`). */
export interface ServerConfig {
  /** PostgreSQL for storage, the task queue and reservations. */
  readonly databaseUrl?: string;
  /** Schema in PostgreSQL (default `fabrica`). */
  readonly schema?: string;
  /** Redis for the cache, pub/sub and rate limits. */
  readonly redisUrl?: string;
  /** Key prefix in Redis (default `fabrica`). */
  readonly redisPrefix?: string;
  /** Secret the keyring key derives from: processes sharing a database must share it. */
  readonly secret: string;
  /** Run a worker that completes `echo` tasks (default true). */
  readonly worker?: boolean;
  /** Requests per user (or per address when anonymous) per period (default 50 per second). */
  readonly rateLimit?: { readonly limit: number; readonly periodMs: number };
  /** Largest request body, bytes (default 1 MiB). */
  readonly maxBodyBytes?: number;
  /** Browser origins allowed by CORS (default: none). */
  readonly corsOrigins?: readonly string[];
  /** Platform administrator created at start (idempotent across processes). */
  readonly admin?: { readonly email: string; readonly password: string };
  /** Request logs and diagnostics. */
  readonly logger?: Logger;
}

/** `echo`: completes with its payload (the README's demo task). */
export const echoTask = defineTaskType('echo', z.object({ message: z.string().max(1000) }));
/** `job`: any JSON payload; completed by whoever holds its lease (`PUT /api/tasks/:id/complete`). */
export const jobTask = defineTaskType('job', z.json());

/** The composed services, their options for the handler, and how to stop them. */
export interface ServerServices {
  readonly services: HttpServices;
  readonly identity: Identity;
  readonly access: AccessControl;
  readonly tasks: TaskService;
  readonly events: FabricaEventBus;
  readonly handlerOptions: HttpHandlerOptions;
  close(): Promise<void>;
}

/** The roles of the example: `member` for everyone, `admin` for the platform administrator. */
export async function bootstrapPolicy(access: AccessControl): Promise<void> {
  await access.defineRole({ name: 'member' });
  await access.defineRole({ name: 'admin' });
  const owner = { op: 'owner' } as const;
  for (const action of ['read', 'update', 'delete']) await access.grant({ role: 'member', action, resource: 'users/*', condition: owner });
  await access.grant({ role: 'member', action: 'create', resource: 'tasks' });
  for (const action of ['read', 'delete', 'tasks:*']) await access.grant({ role: 'member', action, resource: 'tasks/*', condition: owner });
  for (const action of ['read', 'resources:allocate']) await access.grant({ role: 'member', action, resource: 'resources/users/*', condition: owner });
  await access.grant({ role: 'admin', action: '*', resource: '**' });
}

/** Reads the configuration from the environment. */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  return {
    ...(env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL } : {}),
    ...(env.REDIS_URL ? { redisUrl: env.REDIS_URL } : {}),
    ...(env.FABRICA_SCHEMA ? { schema: env.FABRICA_SCHEMA } : {}),
    ...(env.FABRICA_REDIS_PREFIX ? { redisPrefix: env.FABRICA_REDIS_PREFIX } : {}),
    secret: env.FABRICA_SECRET ?? 'example-only-secret-change-me',
    worker: env.FABRICA_WORKER !== '0',
    ...(env.FABRICA_RATE_LIMIT ? { rateLimit: parseRate(env.FABRICA_RATE_LIMIT) } : {}),
    ...(env.FABRICA_MAX_BODY_BYTES ? { maxBodyBytes: Number(env.FABRICA_MAX_BODY_BYTES) } : {}),
    ...(env.FABRICA_CORS_ORIGINS ? { corsOrigins: env.FABRICA_CORS_ORIGINS.split(',') } : {}),
    ...(env.FABRICA_ADMIN_EMAIL && env.FABRICA_ADMIN_PASSWORD ? { admin: { email: env.FABRICA_ADMIN_EMAIL, password: env.FABRICA_ADMIN_PASSWORD } } : {}),
  };
}

/** `"<limit>/<periodMs>"`, e.g. `50/1000`. */
function parseRate(text: string): { limit: number; periodMs: number } {
  const [limit, periodMs] = text.split('/').map(Number);
  if (!limit || !periodMs) throw new Error(`FABRICA_RATE_LIMIT must be "<limit>/<periodMs>", got ${text}`);
  return { limit, periodMs };
}

async function keyringFrom(secret: string): Promise<Keyring> {
  const bytes = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`digital-fabrica example keyring:${secret}`)));
  return new Keyring({ keys: [AesKey.fromBytes(bytes, { id: 'example' })] });
}

/** Builds every service of the example server. */
export async function createServerServices(config: ServerConfig): Promise<ServerServices> {
  const logger = config.logger ?? silentLogger;
  const closers: (() => Promise<unknown>)[] = [];
  let storage: StorageAdapter;
  let queue: QueueAdapter;
  let reservations: ReservationStore;
  let cache: CacheAdapter;
  let pubsub: PubSub;
  let limits: RateLimitStore;
  if (config.databaseUrl) {
    const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 10 });
    pool.on('error', (err) => logger.warn('postgres pool error', { error: err.name }));
    closers.push(() => pool.end());
    const schema = config.schema ?? 'fabrica';
    await migratePostgres({ pool, schema });
    storage = createPostgresStorage({ pool, schema });
    queue = createPostgresQueue({ pool, schema });
    reservations = createPostgresReservationStore({ pool, schema });
  } else {
    storage = createMemoryStorage();
    queue = createMemoryQueue();
    reservations = createMemoryReservationStore();
  }
  if (config.redisUrl) {
    const client = new Redis(config.redisUrl, { maxRetriesPerRequest: 2 });
    client.on('error', (err: Error) => logger.warn('redis client error', { error: err.name }));
    closers.push(() => client.quit().catch(() => client.disconnect()));
    const prefix = config.redisPrefix ?? 'fabrica';
    cache = createRedisCache({ client, prefix });
    pubsub = createRedisPubSub({ client, prefix });
    limits = createRedisRateLimitStore({ client, prefix });
  } else {
    cache = createMemoryCache();
    pubsub = createMemoryPubSub();
    limits = createMemoryRateLimitStore();
  }
  await Promise.all([storage.init(), cache.init(), pubsub.init(), limits.init(), queue.init(), reservations.init()]);
  closers.unshift(() => Promise.all([storage.close(), cache.close(), pubsub.close(), limits.close(), queue.close(), reservations.close()]));

  const events = new FabricaEventBus({ logger });
  await events.connect(pubsub);
  closers.unshift(() => events.disconnect());

  const access = await createAccessControl({ storage, pubsub, logger });
  closers.unshift(() => access.close());
  await bootstrapPolicy(access);

  const identity = await createIdentity({ storage, issuer: 'https://fabrica.example', audience: 'https://fabrica.example/api', keyring: await keyringFrom(config.secret), events, logger });
  closers.unshift(() => identity.close());

  const tasks = createTaskService({ queue, types: [echoTask, jobTask], events, logger });
  let worker: Worker | undefined;
  if (config.worker ?? true) {
    worker = createWorker({ queue, events, logger, concurrency: 4, handlers: { echo: handle(echoTask, (payload) => ({ echoed: payload.message })) } });
    closers.unshift(() => worker!.close({ drain: false, timeoutMs: 1000 }));
  }
  const resources = createResourceManager({ reservations, events, storage, logger });
  const rateLimiter = createRateLimiter({
    store: limits,
    limits: [{ name: 'default', ...(config.rateLimit ?? { limit: 50, periodMs: 1000 }) }],
    // Availability first for the example: a Redis outage must not lock everyone out.
    onStoreUnavailable: 'fail-open',
    logger,
  });
  const monitoring = createMonitoringSystem({ events, logger });

  if (config.admin) {
    let adminId: string;
    try {
      adminId = (await identity.users.create({ email: config.admin.email, displayName: 'Administrator', password: config.admin.password })).id;
    } catch (err) {
      if (!hasErrorCode(err, 'CONFLICT')) throw err;
      const existing = await identity.users.findByEmail(config.admin.email);
      if (!existing) throw err;
      adminId = existing.id;
    }
    await access.bindUser({ tenant: 'platform', user: adminId, role: 'admin' });
    await access.bindUser({ tenant: 'default', user: adminId, role: 'admin' });
  }

  const services: HttpServices = { identity, access, tasks, resources, events, cache, rateLimiter, monitoring, storage, logger };
  return {
    services,
    identity,
    access,
    tasks,
    events,
    handlerOptions: {
      ...(config.maxBodyBytes === undefined ? {} : { maxBodyBytes: config.maxBodyBytes }),
      ...(config.corsOrigins === undefined ? {} : { cors: { origins: config.corsOrigins } }),
      hooks: {
        // Every new user is a member of the platform (its own profile) and of the default tenant.
        async userCreated(user) {
          await access.bindUser({ tenant: 'platform', user: user.id, role: 'member' });
          await access.bindUser({ tenant: 'default', user: user.id, role: 'member' });
        },
      },
    },
    async close() {
      for (const close of closers) await close().catch(() => undefined);
    },
  };
}
