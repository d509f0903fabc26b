/**
 * A worker process for the multi-process task tests (test/integration/tasks-nothing-lost.test.ts):
 * `node --import tsx test/support/tasks-worker-process.ts`, configured by environment variables.
 * It runs an idempotent handler whose effect is applied at most once per task no matter how often
 * the task runs, and counts every execution, so the test can tell duplicates from double effects.
 * Prints `ready` once claiming; SIGTERM closes gracefully; the test SIGKILLs it mid-task.
 *
 * BACKEND postgres | redis; URL; SCHEMA (postgres) or PREFIX (redis); QUEUE; WORKER_ID;
 * CONCURRENCY (default 8); LEASE_MS (default 1000).
 */
import pg from 'pg';
import { Redis } from 'ioredis';
import type { QueueAdapter } from '../../src/adapters/queue.js';
import { createPostgresQueue } from '../../src/adapters/postgres/index.js';
import { createRedisQueue } from '../../src/adapters/redis/index.js';
import { createWorker } from '../../src/tasks/index.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`missing ${name}`);
  return value;
};

const backend = env('BACKEND');
const queueName = env('QUEUE');
const concurrency = Number(process.env.CONCURRENCY ?? 8);
const leaseMs = Number(process.env.LEASE_MS ?? 1_000);

let queue: QueueAdapter;
let effect: (taskId: string) => Promise<void>;
let closeBackend: () => Promise<void>;

if (backend === 'postgres') {
  const schema = env('SCHEMA');
  const pool = new pg.Pool({ connectionString: env('URL'), max: 6 });
  pool.on('error', () => undefined);
  queue = createPostgresQueue({ pool, schema, queue: queueName });
  effect = async (taskId) => {
    await pool.query(`INSERT INTO "${schema}".executions (task_id, n) VALUES ($1, 1) ON CONFLICT (task_id) DO UPDATE SET n = executions.n + 1`, [taskId]);
    await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 4)));
    // The idempotent effect: applied (balance + 1) only by the first execution, in one statement.
    await pool.query(
      `WITH ins AS (INSERT INTO "${schema}".effects (task_id) VALUES ($1) ON CONFLICT DO NOTHING RETURNING 1)
       UPDATE "${schema}".balance SET n = n + (SELECT count(*) FROM ins) WHERE id = 1`,
      [taskId],
    );
  };
  closeBackend = () => pool.end();
} else {
  const prefix = env('PREFIX');
  const client = new Redis(env('URL'), { maxRetriesPerRequest: 3 });
  client.on('error', () => undefined);
  queue = createRedisQueue({ client, prefix, queue: queueName });
  const effectScript = `if redis.call('SADD', KEYS[1], ARGV[1]) == 1 then redis.call('INCR', KEYS[2]) end`;
  effect = async (taskId) => {
    await client.hincrby(`{${prefix}}:test:executions`, taskId, 1);
    await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 4)));
    await client.eval(effectScript, 2, `{${prefix}}:test:effects`, `{${prefix}}:test:balance`, taskId);
  };
  closeBackend = async () => void (await client.quit());
}

const worker = createWorker({
  queue,
  id: env('WORKER_ID'),
  concurrency,
  leaseMs,
  heartbeatMs: Math.floor(leaseMs / 4),
  idlePollMs: 1_000,
  maintenanceIntervalMs: 1_000,
  handlers: { effect: async (_payload, ctx) => effect(ctx.task.id) },
});

process.on('SIGTERM', () => {
  void (async () => {
    await worker.close({ drain: true, timeoutMs: 5_000 });
    await queue.close();
    await closeBackend();
    process.exit(0);
  })();
});

process.stdout.write('ready\n');
