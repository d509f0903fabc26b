import pg from 'pg';
import type { AdapterHarness } from '../../src/adapters/testing/harness.js';
import { migratePostgres } from '../../src/adapters/postgres/index.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

/** A random schema name, so test files sharing one server never see each other's tables. */
export function randomSchema(base = 'dftest'): string {
  return `${base}_${Math.random().toString(36).slice(2, 10)}`;
}

/**
 * A pool for tests: small, fails fast while the server is unreachable (outage tests), and
 * swallows errors of idle connections (which would otherwise crash the test process when a proxy
 * or pg_terminate_backend drops them).
 */
export function createTestPool(connectionString: string, overrides: pg.PoolConfig = {}): pg.Pool {
  const pool = new pg.Pool({ connectionString, max: 5, connectionTimeoutMillis: 2_000, ...overrides });
  pool.on('error', () => undefined);
  return pool;
}

/** Runs `fn` with a short-lived pool on `url`, then ends it. */
export async function withPool<T>(url: string, fn: (pool: pg.Pool) => Promise<T>): Promise<T> {
  const pool = createTestPool(url);
  try {
    return await fn(pool);
  } finally {
    await pool.end();
  }
}

/**
 * Runs `sql` alone in a transaction on a connection of its own, with sequential scans off, and
 * returns its rows with how many rows of `<schema>.queue_tasks` it read (sequential reads plus
 * heap fetches by index scans): what a statement meant to read few tasks must keep small.
 */
export async function queueTaskReads(url: string, schema: string, sql: string): Promise<{ read: number; rows: Record<string, unknown>[] }> {
  // A fresh connection: PostgreSQL reports a transaction's reads together with those of the
  // connection's earlier transactions that it has not flushed yet.
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('BEGIN');
    // On test tables the planner rightly reads small tables whole; what matters is that no plan
    // needs the rows in question, so sequential scans are off.
    await client.query('SET LOCAL enable_seqscan = off');
    const { rows } = await client.query<Record<string, unknown>>(sql);
    const { rows: io } = await client.query<{ seq_tup_read: string; idx_tup_fetch: string }>(
      `SELECT seq_tup_read, idx_tup_fetch FROM pg_stat_xact_user_tables WHERE schemaname = $1 AND relname = 'queue_tasks'`,
      [schema],
    );
    await client.query('COMMIT');
    return { read: Number(io[0]?.seq_tup_read ?? 0) + Number(io[0]?.idx_tup_fetch ?? 0), rows };
  } finally {
    await client.end();
  }
}

/** Drops a test schema and everything in it. */
export async function dropSchema(url: string, schema: string): Promise<void> {
  await withPool(url, (pool) => pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
}

/**
 * A conformance harness for one PostgreSQL adapter kind: one fresh schema per test file, migrated
 * once; every `open()` makes a NEW pool that reaches the server through a TCP proxy (so `outage`
 * cuts and restores connectivity for this file only) and wraps it in an adapter. No `clock`:
 * PostgreSQL expires by its own clock, so the suites wait real (short) TTLs.
 */
export function postgresHarness<A>(
  url: string,
  make: (pool: pg.Pool, schema: string) => A,
  options: { readonly schemaBase?: string; readonly pool?: pg.PoolConfig } = {},
): AdapterHarness<A> & { readonly schema: string } {
  const schema = randomSchema(options.schemaBase);
  const target = new URL(url);
  const pools = new Set<pg.Pool>();
  let setup: Promise<TcpProxy> | undefined;
  const prepare = (): Promise<TcpProxy> =>
    (setup ??= (async () => {
      await withPool(url, (pool) => migratePostgres({ pool, schema }));
      return startTcpProxy(target.hostname, Number(target.port || 5432));
    })());
  const proxiedUrl = (port: number): string => {
    const proxied = new URL(url);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(port);
    return proxied.toString();
  };
  return {
    schema,
    async open() {
      const { port } = await prepare();
      const pool = createTestPool(proxiedUrl(port), options.pool);
      pools.add(pool);
      return make(pool, schema);
    },
    outage: {
      async interrupt() {
        await (await prepare()).interrupt();
      },
      async swallowReplies() {
        await (await prepare()).swallowReplies();
      },
      async restore() {
        await (await prepare()).restore();
      },
    },
    async teardown() {
      await Promise.all([...pools].map((pool) => pool.end()));
      pools.clear();
      if (setup) await (await setup).close();
      setup = undefined;
      await dropSchema(url, schema);
    },
  };
}
