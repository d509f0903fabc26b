import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type pg from 'pg';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { PgPool, PgPoolClient } from '../../src/adapters/postgres/index.js';
import { POSTGRES_MIGRATIONS, POSTGRES_SCHEMA_VERSION } from '../../src/adapters/postgres/index.js';
import { renderMigration } from '../../src/adapters/postgres/migrations.js';

const srcDir = resolve(import.meta.dirname, '../../src/adapters/postgres');
const sourceFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));

describe('postgres driver typing', () => {
  it('accepts a pg.Pool and a pg.PoolClient as they are', () => {
    expectTypeOf<pg.Pool>().toExtend<PgPool>();
    expectTypeOf<pg.PoolClient>().toExtend<PgPoolClient>();
  });

  it('never imports pg in the backend sources, not even its types (TSDoc examples aside)', () => {
    const files = sourceFiles(srcDir);
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      const code = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
      expect(code, file).not.toMatch(/from\s+['"]pg(\/[^'"]*)?['"]|require\(\s*['"]pg['"]\s*\)|import\(\s*['"]pg['"]\s*\)/);
    }
    expect(renderMigration(POSTGRES_MIGRATIONS[0]!.sql, 'My_Schema')).toContain('"My_Schema".documents');
  });
});

describe('shipped migrations', () => {
  it('are numbered 1..n without gaps and end at the schema version', () => {
    expect(POSTGRES_MIGRATIONS.map((m) => m.version)).toEqual(POSTGRES_MIGRATIONS.map((_, i) => i + 1));
    expect(POSTGRES_SCHEMA_VERSION).toBe(POSTGRES_MIGRATIONS.length);
  });

  it('leave no placeholder behind once rendered, and quote the schema everywhere', () => {
    for (const m of POSTGRES_MIGRATIONS) {
      const sql = renderMigration(m.sql, 'My_Schema');
      expect(sql).not.toContain('{{');
      // Every migration creates or changes objects in the schema, always through the quoted name.
      expect(sql).toMatch(/"My_Schema"\.[a-z_]+/);
      expect(sql).not.toMatch(/[^"]My_Schema\./);
    }
    expect(renderMigration(POSTGRES_MIGRATIONS[0]!.sql, 'My_Schema')).toContain('"My_Schema".documents');
  });
});
