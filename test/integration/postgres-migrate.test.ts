import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createPostgresCache,
  createPostgresPubSub,
  createPostgresStorage,
  migratePostgres,
  POSTGRES_MIGRATIONS,
  POSTGRES_SCHEMA_VERSION,
  type MigratePostgresResult,
} from '../../src/adapters/postgres/index.js';
import { caught } from '../../src/adapters/testing/support.js';
import { createTestPool, dropSchema, randomSchema } from '../support/postgres-harness.js';
import { skipWithoutServer } from '../support/missing-server.js';

const url = inject('databaseUrl');
const root = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

if (url === '') {
  skipWithoutServer('postgres migrations', 'PostgreSQL server');
} else {
  describe('postgres migrations', () => {
    const schemas: string[] = [];
    let pool: pg.Pool;
    const fresh = (): string => {
      const schema = randomSchema('dfmig');
      schemas.push(schema);
      return schema;
    };
    const appliedRows = async (schema: string): Promise<number[]> =>
      (await pool.query<{ version: number }>(`SELECT version FROM "${schema}".schema_migrations ORDER BY version`)).rows.map((r) => r.version);

    beforeAll(() => {
      pool = createTestPool(url);
    });
    afterAll(async () => {
      await pool.end();
      for (const schema of schemas) await dropSchema(url, schema);
    });

    it('applies every migration once, then nothing on a second call', async () => {
      const schema = fresh();
      const first = await migratePostgres({ pool, schema });
      expect(first).toEqual({ schema, applied: POSTGRES_MIGRATIONS.map((m) => m.version), version: POSTGRES_SCHEMA_VERSION });
      expect(await migratePostgres({ pool, schema })).toEqual({ schema, applied: [], version: POSTGRES_SCHEMA_VERSION });
      expect(await appliedRows(schema)).toEqual(POSTGRES_MIGRATIONS.map((m) => m.version));
      // Migration 5: the task-listing index is led by tenant, so a queue-only predicate cannot
      // pull it into a batched completion's plan (a full scan of the queue's entries per call).
      const { rows } = await pool.query<{ def: string }>(`SELECT pg_get_indexdef(to_regclass($1)) AS def`, [`"${schema}".queue_tasks_listing`]);
      expect(rows[0]!.def).toMatch(/\(tenant, queue, id\)$/);
    });

    it('concurrent migrate() from 4 pools ends with exactly one applied set and no error', async () => {
      const schema = fresh();
      const pools = Array.from({ length: 4 }, () => createTestPool(url));
      try {
        const results = await Promise.all(pools.map((p) => migratePostgres({ pool: p, schema })));
        expect(results.flatMap((r) => r.applied).sort((a, b) => a - b)).toEqual(POSTGRES_MIGRATIONS.map((m) => m.version));
        expect(results.filter((r) => r.applied.length > 0)).toHaveLength(1);
        expect(await appliedRows(schema)).toEqual(POSTGRES_MIGRATIONS.map((m) => m.version));
      } finally {
        await Promise.all(pools.map((p) => p.end()));
      }
    });

    it('concurrent migrate() from 2 child processes ends with exactly one applied set and no error', async () => {
      const schema = fresh();
      const entry = resolve(root, 'src/adapters/postgres/index.ts');
      const code = `
        const { migratePostgres } = await import(${JSON.stringify(entry)});
        const { default: pg } = await import('pg');
        const pool = new pg.Pool({ connectionString: process.env.DF_URL, max: 2 });
        try { console.log(JSON.stringify(await migratePostgres({ pool, schema: process.env.DF_SCHEMA }))); }
        finally { await pool.end(); }`;
      const child = () =>
        run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
          cwd: root,
          env: { ...process.env, DF_URL: url, DF_SCHEMA: schema },
          timeout: 60_000,
        });
      const outputs = await Promise.all([child(), child()]);
      const results = outputs.map((o) => JSON.parse(o.stdout.trim()) as MigratePostgresResult);
      expect(results.flatMap((r) => r.applied).sort((a, b) => a - b)).toEqual(POSTGRES_MIGRATIONS.map((m) => m.version));
      expect(results.every((r) => r.version === POSTGRES_SCHEMA_VERSION)).toBe(true);
      expect(await appliedRows(schema)).toEqual(POSTGRES_MIGRATIONS.map((m) => m.version));
    });

    it('adapters refuse an unmigrated schema with ADAPTER_SCHEMA_MISMATCH, and work once it is migrated', async () => {
      const schema = fresh();
      const storage = createPostgresStorage({ pool, schema });
      const cache = createPostgresCache({ pool, schema });
      const pubsub = createPostgresPubSub({ pool, schema });
      try {
        expect((await caught(() => storage.init())).code).toBe('ADAPTER_SCHEMA_MISMATCH');
        expect((await caught(() => storage.get('ns', 'k'))).code).toBe('ADAPTER_SCHEMA_MISMATCH');
        expect((await caught(() => cache.get('k'))).code).toBe('ADAPTER_SCHEMA_MISMATCH');
        expect((await caught(() => pubsub.publish('ch', 1))).code).toBe('ADAPTER_SCHEMA_MISMATCH');
        // Nothing was created behind the host's back.
        const { rows } = await pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
        expect(rows).toHaveLength(0);
        await migratePostgres({ pool, schema });
        // The failed check is not cached: the same instances work now.
        await storage.put('ns', 'k', 'v');
        expect((await storage.get('ns', 'k'))!.value).toBe('v');
        expect(await cache.get('k')).toBeNull();
        await pubsub.publish('ch', 1);
      } finally {
        await Promise.all([storage.close(), cache.close(), pubsub.close()]);
      }
    });

    it('migrate: true makes init() migrate the schema itself', async () => {
      const schema = fresh();
      const storages = Array.from({ length: 3 }, () => createPostgresStorage({ pool, schema, migrate: true }));
      try {
        await Promise.all(storages.map((s) => s.init()));
        expect(await appliedRows(schema)).toEqual(POSTGRES_MIGRATIONS.map((m) => m.version));
        await storages[0]!.put('ns', 'k', 1);
        expect((await storages[2]!.get('ns', 'k'))!.value).toBe(1);
      } finally {
        await Promise.all(storages.map((s) => s.close()));
      }
    });

    it('a database ahead of the package gives ADAPTER_SCHEMA_MISMATCH, from the adapters and from migrate(), changing nothing', async () => {
      const schema = fresh();
      await migratePostgres({ pool, schema });
      const ahead = POSTGRES_SCHEMA_VERSION + 1;
      await pool.query(`INSERT INTO "${schema}".schema_migrations (version, name) VALUES ($1, 'from the future')`, [ahead]);
      const storage = createPostgresStorage({ pool, schema });
      const migrating = createPostgresCache({ pool, schema, migrate: true });
      try {
        const err = await caught(() => storage.init());
        expect(err.code).toBe('ADAPTER_SCHEMA_MISMATCH');
        expect((err as { details?: unknown }).details).toMatchObject({ found: ahead, expected: POSTGRES_SCHEMA_VERSION });
        expect((await caught(() => migratePostgres({ pool, schema }))).code).toBe('ADAPTER_SCHEMA_MISMATCH');
        expect((await caught(() => migrating.init())).code).toBe('ADAPTER_SCHEMA_MISMATCH');
        expect(await appliedRows(schema)).toEqual([...POSTGRES_MIGRATIONS.map((m) => m.version), ahead]);
      } finally {
        await Promise.all([storage.close(), migrating.close()]);
      }
    });

    it('a database behind the package gives ADAPTER_SCHEMA_MISMATCH', async () => {
      const schema = fresh();
      await migratePostgres({ pool, schema });
      // As if the last migration had not been applied yet.
      await pool.query(`DELETE FROM "${schema}".schema_migrations WHERE version = $1`, [POSTGRES_SCHEMA_VERSION]);
      const storage = createPostgresStorage({ pool, schema });
      try {
        const err = await caught(() => storage.init());
        expect(err.code).toBe('ADAPTER_SCHEMA_MISMATCH');
        expect((err as { details?: unknown }).details).toMatchObject({ found: POSTGRES_SCHEMA_VERSION - 1, expected: POSTGRES_SCHEMA_VERSION });
      } finally {
        await storage.close();
      }
    });

    it('rejects bad options with VALIDATION_FAILED before touching the database', async () => {
      const bad: unknown[] = [
        { pool, schema: 'pg_catalog' },
        { pool, schema: 'has-dash' },
        { pool, schema: '1starts_with_digit' },
        { pool, schema: 'x'.repeat(64) },
        { pool, schema: 'quote"d' },
        { pool, schema: '' },
        { pool: {}, schema: 'ok' },
        { schema: 'ok' },
        { pool, schema: 'ok', sweepIntervalMs: -1 },
        { pool, schema: 'ok', sweepIntervalMs: 1.5 },
        { pool, schema: 'ok', migrate: 'yes' },
        { pool, schema: 'ok', logger: console.log },
        { pool, schema: 'ok', unknownOption: true },
      ];
      for (const options of bad) {
        const what = JSON.stringify(options, (k, v: unknown) => (k === 'pool' ? '<pool>' : v));
        expect((await caught(() => createPostgresStorage(options as never))).code, what).toBe('VALIDATION_FAILED');
        expect((await caught(() => createPostgresCache(options as never))).code, what).toBe('VALIDATION_FAILED');
        expect((await caught(() => createPostgresPubSub(options as never))).code, what).toBe('VALIDATION_FAILED');
      }
      expect((await caught(() => migratePostgres({ pool, schema: 'pg_x' }))).code).toBe('VALIDATION_FAILED');
      expect((await caught(() => createPostgresPubSub({ pool, payloadRetentionMs: 0 }))).code).toBe('VALIDATION_FAILED');
    });

    it('storage refuses a pool at an isolation level other than read committed with VALIDATION_FAILED', async () => {
      const schema = fresh();
      await migratePostgres({ pool, schema });
      const serializable = createTestPool(url, { options: '-c default_transaction_isolation=serializable' });
      const storage = createPostgresStorage({ pool: serializable, schema });
      const cache = createPostgresCache({ pool: serializable, schema });
      try {
        expect((await caught(() => storage.init())).code).toBe('VALIDATION_FAILED');
        expect((await caught(() => storage.put('ns', 'k', 1))).code).toBe('VALIDATION_FAILED');
        // The cache has no read-then-write logic, so it does not care.
        await cache.set('k', new Uint8Array([1]));
      } finally {
        await Promise.all([storage.close(), cache.close()]);
        await serializable.end();
      }
    });

    it('reports an unreachable database as ADAPTER_UNAVAILABLE', async () => {
      const dead = createTestPool('postgres://postgres@127.0.0.1:1/postgres', { connectionTimeoutMillis: 500 });
      try {
        expect((await caught(() => migratePostgres({ pool: dead, schema: 'dfmig_unreachable' }))).code).toBe('ADAPTER_UNAVAILABLE');
        const storage = createPostgresStorage({ pool: dead, schema: 'dfmig_unreachable' });
        expect((await caught(() => storage.get('ns', 'k'))).code).toBe('ADAPTER_UNAVAILABLE');
        await storage.close();
      } finally {
        await dead.end();
      }
    });
  });
}
