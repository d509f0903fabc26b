/**
 * `npx tsx bench/resources.ts`: the resources module side by side with rate-limiter-flexible 11.
 *
 * - Limiter checks per second, in memory and on Redis, ours (GCRA, createRateLimiter) against
 *   rate-limiter-flexible with the same limits: one limit (100/s) as RateLimiterMemory /
 *   RateLimiterRedis, three limits (10/s, 100/min, 1000/day) as its RateLimiterUnion of three
 *   limiters — the way it checks several limits. Two key patterns: `spread` (10 000 keys, almost
 *   everything admitted) and `hot` (10 keys, almost everything refused: rate-limiter-flexible
 *   rejects a promise per refusal, and still consumes points).
 * - Redis round trips per check, counted on the server (INFO stats `total_commands_processed`
 *   before and after, minus the INFO calls themselves).
 * - Reservations per second (ResourceManager.allocate, then release) on memory, PostgreSQL and
 *   Redis: 100 users, and one contended user.
 *
 * Candidates are measured alternately for BENCH_ROUNDS rounds (default 5), best of each kept, with
 * a GC between when exposed (`node --expose-gc`). Size knob: BENCH_SCALE (default 1; 0.2 for a
 * smoke run). Concurrency: BENCH_CONCURRENCY in-flight operations (default 32). Servers:
 * DATABASE_URL / REDIS_URL, else throwaway ones from the installed binaries.
 * Writes bench/results/resources.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterUnion } from 'rate-limiter-flexible';
import { createMemoryRateLimitStore } from '../src/adapters/memory/rate-limit.js';
import { createMemoryReservationStore } from '../src/adapters/memory/reservations.js';
import { migratePostgres } from '../src/adapters/postgres/migrate.js';
import { createPostgresReservationStore } from '../src/adapters/postgres/reservations.js';
import { createRedisRateLimitStore } from '../src/adapters/redis/rate-limit.js';
import { createRedisReservationStore } from '../src/adapters/redis/reservations.js';
import type { RateLimitStore } from '../src/adapters/rate-limit.js';
import type { ReservationStore } from '../src/adapters/reservations.js';
import { createRateLimiter, createResourceManager, type RateLimitRule } from '../src/resources/index.js';
import { startPostgres } from '../test/support/postgres-server.js';
import { startRedis } from '../test/support/redis-server.js';

const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const MEMORY_OPS = Math.round(200_000 * SCALE);
const REDIS_OPS = Math.round(30_000 * SCALE);
const RESERVATION_OPS = Math.round(4_000 * SCALE);
const gc = (globalThis as { gc?: () => void }).gc;
// BENCH_ONLY=memory,redis,reservations runs only those sections (default: all).
const ONLY = new Set((process.env.BENCH_ONLY ?? 'memory,redis,reservations').split(',').map((s) => s.trim()));

type Op = (i: number) => Promise<unknown>;

interface LimiterRow {
  readonly store: 'memory' | 'redis';
  readonly limits: string;
  readonly keys: string;
  /** `cpu`: this process's CPU time (in-process candidates); `wall`: elapsed time (server round trips). */
  readonly clock: 'cpu' | 'wall';
  readonly oursPerSec: number;
  readonly theirsPerSec: number;
  /** Median of the per-round ratios ours / theirs. */
  readonly ratio: number;
  readonly roundRatios: number[];
  readonly oursAdmitted: number;
  readonly theirsAdmitted: number;
  /** Commands the client sent per check (each a request on the wire). */
  readonly oursRoundTripsPerCheck?: number;
  readonly theirsRoundTripsPerCheck?: number;
  /** EVALSHA/EVAL the server ran per check (cross-check from INFO commandstats). */
  readonly oursScriptCallsPerCheck?: number;
  readonly theirsScriptCallsPerCheck?: number;
  /** CPU µs per check in this process (client) and in redis-server (INFO cpu), last round. */
  readonly oursCpuUsPerCheck?: { client: number; server: number };
  readonly theirsCpuUsPerCheck?: { client: number; server: number };
  /** Median per-round ratio of checks per CPU second (client + server): robust on a shared machine. */
  readonly cpuRatio?: number;
  readonly cpuRoundRatios?: number[];
}
interface ReservationRow {
  readonly backend: string;
  readonly pattern: string;
  readonly allocatePerSec: number;
  readonly releasePerSec: number;
}
const limiterRows: LimiterRow[] = [];
const reservationRows: ReservationRow[] = [];

/**
 * Runs `op` for i = 0..count-1 over CONCURRENCY lanes; returns ops/s. In-process candidates are
 * timed by this process's CPU time (user + system), which other processes on a shared machine
 * cannot inflate; candidates that wait on a server by wall time.
 */
async function run(count: number, op: Op, clock: 'cpu' | 'wall' = 'wall'): Promise<number> {
  let next = 0;
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, count) }, async () => {
      while (next < count) await op(next++);
    }),
  );
  if (clock === 'wall') return count / ((performance.now() - started) / 1000);
  const cpu = process.cpuUsage(cpu0);
  return count / ((cpu.user + cpu.system) / 1e6);
}

/** Counts the commands a client sends (each one request on the wire). */
function countCommands(client: Redis): () => number {
  let sent = 0;
  const target = client as unknown as { sendCommand: (...args: unknown[]) => unknown };
  const original = target.sendCommand.bind(client);
  target.sendCommand = (...args: unknown[]) => {
    sent += 1;
    return original(...args);
  };
  return () => sent;
}

function fmtCpu(c: { client: number; server: number }): string {
  return `${c.client}+${c.server}`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** CPU seconds the Redis server process has used (user + system), from INFO cpu. */
async function serverCpu(admin: Redis): Promise<number> {
  const info = await admin.info('cpu');
  const user = Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1] ?? 0);
  const sys = Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1] ?? 0);
  return user + sys;
}

/** Script calls (EVALSHA + EVAL) the server has run: only clients issue them, scripts cannot. */
async function scriptCalls(admin: Redis): Promise<number> {
  const info = await admin.info('commandstats');
  let calls = 0;
  for (const m of info.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm)) calls += Number(m[1]);
  return calls;
}

const ONE: RateLimitRule[] = [{ name: 'second', limit: 100, periodMs: 1000 }];
const THREE: RateLimitRule[] = [
  { name: 'second', limit: 10, periodMs: 1000 },
  { name: 'minute', limit: 100, periodMs: 60_000 },
  { name: 'day', limit: 1000, periodMs: 86_400_000 },
];
const PATTERNS = [
  { name: 'spread', keys: 10_000 },
  { name: 'hot', keys: 10 },
] as const;

interface Candidate {
  /** Does one check; resolves true when admitted. */
  readonly check: (key: string) => Promise<boolean>;
}

function ours(store: RateLimitStore, limits: RateLimitRule[], prefix: string): Candidate {
  const limiter = createRateLimiter({ store, limits, onStoreUnavailable: 'fail-closed', prefix });
  // Same shape as the rate-limiter-flexible wrapper below: the call, then one .then().
  return { check: (key) => limiter.check(key).then((d) => d.allowed) };
}

/** rate-limiter-flexible as its users configure it: one limiter per limit, a union for several. */
function theirs(make: (opts: { points: number; duration: number; keyPrefix: string }) => RateLimiterMemory | RateLimiterRedis, limits: RateLimitRule[], prefix: string): Candidate {
  const limiters = limits.map((l) => make({ points: l.limit, duration: l.periodMs / 1000, keyPrefix: `${prefix}-${l.name}` }));
  if (limiters.length === 1) {
    const only = limiters[0]!;
    return {
      check: (key) =>
        only.consume(key).then(
          () => true,
          (rej: unknown) => {
            if (rej instanceof Error) throw rej;
            return false;
          },
        ),
    };
  }
  const union = new RateLimiterUnion(...limiters);
  return {
    check: (key) =>
      union.consume(key).then(
        () => true,
        (rej: unknown) => {
          if (rej instanceof Error) throw rej;
          return false;
        },
      ),
  };
}

/**
 * Alternating rounds of both candidates on fresh keys each round (who goes first alternates
 * too): best throughput of each, and the median of the per-round ratios.
 */
async function compareLimiters(
  store: 'memory' | 'redis',
  limitsName: string,
  pattern: (typeof PATTERNS)[number],
  ops: number,
  make: (round: number) => { ours: Candidate; theirs: Candidate },
  redis?: { admin: Redis; sent: () => number },
): Promise<void> {
  const clock = store === 'memory' ? 'cpu' : 'wall';
  let bestOurs = 0;
  let bestTheirs = 0;
  const ratios: number[] = [];
  const cpuRatios: number[] = [];
  const admitted = { ours: 0, theirs: 0 };
  const perCheck = { ours: { sent: 0, scripts: 0, clientUs: 0, serverUs: 0 }, theirs: { sent: 0, scripts: 0, clientUs: 0, serverUs: 0 } };
  for (let round = 0; round < ROUNDS; round++) {
    const pair = make(round);
    const speed = { ours: 0, theirs: 0 };
    const cpuSpeed = { ours: 0, theirs: 0 };
    for (const who of round % 2 === 0 ? (['theirs', 'ours'] as const) : (['ours', 'theirs'] as const)) {
      const candidate = pair[who];
      // Warm-up on other keys (JIT, script caches), then the measured run.
      await run(Math.min(2_000, ops), (i) => candidate.check(`warm${i % 100}`));
      gc?.();
      let passed = 0;
      const sent0 = redis?.sent() ?? 0;
      const scripts0 = redis ? await scriptCalls(redis.admin) : 0;
      const server0 = redis ? await serverCpu(redis.admin) : 0;
      const client0 = process.cpuUsage();
      speed[who] = await run(
        ops,
        async (i) => {
          if (await candidate.check(`k${i % pattern.keys}`)) passed += 1;
        },
        clock,
      );
      if (redis) {
        const client = process.cpuUsage(client0);
        const serverUs = ((await serverCpu(redis.admin)) - server0) * 1e6;
        const clientUs = client.user + client.system;
        perCheck[who] = {
          sent: (redis.sent() - sent0) / ops,
          scripts: ((await scriptCalls(redis.admin)) - scripts0) / ops,
          clientUs: clientUs / ops,
          serverUs: serverUs / ops,
        };
        cpuSpeed[who] = ops / ((clientUs + serverUs) / 1e6);
      }
      admitted[who] = passed;
    }
    bestOurs = Math.max(bestOurs, speed.ours);
    bestTheirs = Math.max(bestTheirs, speed.theirs);
    ratios.push(speed.ours / speed.theirs);
    if (redis) cpuRatios.push(cpuSpeed.ours / cpuSpeed.theirs);
  }
  const row: LimiterRow = {
    store,
    limits: limitsName,
    keys: pattern.name,
    clock,
    oursPerSec: Math.round(bestOurs),
    theirsPerSec: Math.round(bestTheirs),
    ratio: Number(median(ratios).toFixed(2)),
    roundRatios: ratios.map((r) => Number(r.toFixed(2))),
    oursAdmitted: admitted.ours,
    theirsAdmitted: admitted.theirs,
    ...(redis
      ? {
          oursRoundTripsPerCheck: Number(perCheck.ours.sent.toFixed(3)),
          theirsRoundTripsPerCheck: Number(perCheck.theirs.sent.toFixed(3)),
          oursScriptCallsPerCheck: Number(perCheck.ours.scripts.toFixed(3)),
          theirsScriptCallsPerCheck: Number(perCheck.theirs.scripts.toFixed(3)),
          oursCpuUsPerCheck: { client: Number(perCheck.ours.clientUs.toFixed(2)), server: Number(perCheck.ours.serverUs.toFixed(2)) },
          theirsCpuUsPerCheck: { client: Number(perCheck.theirs.clientUs.toFixed(2)), server: Number(perCheck.theirs.serverUs.toFixed(2)) },
          cpuRatio: Number(median(cpuRatios).toFixed(2)),
          cpuRoundRatios: cpuRatios.map((r) => Number(r.toFixed(2))),
        }
      : {}),
  };
  limiterRows.push(row);
  const trips = redis
    ? `  round trips/check ${row.oursRoundTripsPerCheck} vs ${row.theirsRoundTripsPerCheck}; cpu µs/check ${fmtCpu(row.oursCpuUsPerCheck!)} vs ${fmtCpu(row.theirsCpuUsPerCheck!)} -> ${row.cpuRatio!.toFixed(2)}x per cpu-second`
    : '';
  console.log(
    `${store.padEnd(7)} ${limitsName.padEnd(9)} ${pattern.name.padEnd(7)} ours ${String(row.oursPerSec).padStart(8)}/s  rlf ${String(row.theirsPerSec).padStart(8)}/s  ${row.ratio.toFixed(2)}x (rounds ${row.roundRatios.join(', ')})  admitted ${admitted.ours} vs ${admitted.theirs} of ${ops}${trips}`,
  );
}

async function benchReservations(backend: string, store: ReservationStore): Promise<void> {
  await store.init();
  const manager = createResourceManager({ reservations: store, quota: { bases: { compute: 1e9, storage: 1e9, network: 1e9 } } });
  for (const pattern of ['100 users', '1 user'] as const) {
    let bestAllocate = 0;
    let bestRelease = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const tag = `${pattern === '1 user' ? 'solo' : 'u'}-${round}-${Date.now().toString(36)}`;
      const userOf = (i: number) => ({ id: pattern === '1 user' ? tag : `${tag}-${i % 100}`, tier: 1 });
      const ids = new Array<{ user: string; id: string }>(RESERVATION_OPS);
      gc?.();
      const allocate = await run(RESERVATION_OPS, async (i) => {
        const user = userOf(i);
        const r = await manager.allocate(user, { compute: 1, storage: 10, leaseMs: 300_000 });
        ids[i] = { user: user.id, id: r.id };
      });
      const release = await run(RESERVATION_OPS, (i) => manager.release(ids[i]!.user, ids[i]!.id));
      bestAllocate = Math.max(bestAllocate, allocate);
      bestRelease = Math.max(bestRelease, release);
    }
    reservationRows.push({ backend, pattern, allocatePerSec: Math.round(bestAllocate), releasePerSec: Math.round(bestRelease) });
    console.log(`reservations ${backend.padEnd(9)} ${pattern.padEnd(10)} allocate ${String(Math.round(bestAllocate)).padStart(7)}/s  release ${String(Math.round(bestRelease)).padStart(7)}/s`);
  }
  await store.close();
}

async function main(): Promise<void> {
  console.log(
    `resources bench: scale ${SCALE} (memory ${MEMORY_OPS}, redis ${REDIS_OPS}, reservations ${RESERVATION_OPS} ops), best of ${ROUNDS} alternating rounds, concurrency ${CONCURRENCY}, node ${process.version}, ${os.cpus().length} cores${gc ? '' : ' (no --expose-gc)'}`,
  );
  const pgServer = process.env.DATABASE_URL ? { url: process.env.DATABASE_URL, stop: async () => undefined } : await startPostgres();
  const redisServer = process.env.REDIS_URL ? { url: process.env.REDIS_URL, stop: async () => undefined } : await startRedis();
  const pool = new pg.Pool({ connectionString: pgServer.url, max: 16 });
  pool.on('error', () => undefined); // idle connections are cut when the throwaway server stops
  const redis = new Redis(redisServer.url);
  const admin = new Redis(redisServer.url);
  const sent = countCommands(redis);
  const ns = `bench_${Date.now().toString(36)}`;
  try {
    console.log('\nlimiter checks: ours (GCRA) vs rate-limiter-flexible, same limits');
    for (const [limitsName, limits] of ONLY.has('memory') ? ([['1 limit', ONE], ['3 limits', THREE]] as const) : []) {
      for (const pattern of PATTERNS) {
        await compareLimiters('memory', limitsName, pattern, MEMORY_OPS, (round) => ({
          ours: ours(createMemoryRateLimitStore({ sweepIntervalMs: 0 }), limits, `m${round}`),
          theirs: theirs((o) => new RateLimiterMemory(o), limits, `m${round}`),
        }));
      }
    }
    for (const [limitsName, limits] of ONLY.has('redis') ? ([['1 limit', ONE], ['3 limits', THREE]] as const) : []) {
      for (const pattern of PATTERNS) {
        await compareLimiters(
          'redis',
          limitsName,
          pattern,
          REDIS_OPS,
          (round) => {
            const prefix = `${ns}-${limitsName.replace(' ', '')}-${pattern.name}-${round}`;
            return {
              ours: ours(createRedisRateLimitStore({ client: redis, prefix }), limits, 'rl'),
              theirs: theirs((o) => new RateLimiterRedis({ ...o, storeClient: redis, keyPrefix: `${prefix}:${o.keyPrefix}` }), limits, 'rlf'),
            };
          },
          { admin, sent },
        );
      }
    }

    if (ONLY.has('reservations')) {
      console.log('\nreservations (ResourceManager.allocate then release, leases 300 s)');
      await migratePostgres({ pool, schema: ns });
      await benchReservations('memory', createMemoryReservationStore());
      await benchReservations('postgres', createPostgresReservationStore({ pool, schema: ns, sweepIntervalMs: 0 }));
      await benchReservations('redis', createRedisReservationStore({ client: redis, prefix: ns }));
    }

    const dir = join(import.meta.dirname, 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'resources.json'),
      JSON.stringify(
        { scale: SCALE, rounds: ROUNDS, concurrency: CONCURRENCY, node: process.version, cpus: os.cpus().length, limiter: limiterRows, reservations: reservationRows },
        null,
        2,
      ),
    );
    console.log('\nwrote bench/results/resources.json');
  } finally {
    await pool.query(`DROP SCHEMA IF EXISTS "${ns}" CASCADE`).catch(() => undefined);
    await pool.end();
    // Remove the bench's keys (all under prefixes starting with ns).
    let cursor = '0';
    do {
      const [next, keys] = await admin.scan(cursor, 'MATCH', `*${ns}*`, 'COUNT', 1000);
      if (keys.length > 0) await admin.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
    redis.disconnect();
    admin.disconnect();
    await Promise.all([pgServer.stop(), redisServer.stop()]);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
