import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * `pg` and `ioredis` are optional peers: a host on the memory backends must not need them. This
 * installs the BUILT package into a throwaway project whose only dependencies are our runtime
 * dependencies, so neither driver can be resolved, and imports every non-testing entry from a
 * child process, as ESM and as CommonJS.
 */
const root = resolve(import.meta.dirname, '../..');
const dist = join(root, 'dist');

describe('package boundaries (built output)', () => {
  let project: string;

  beforeAll(() => {
    if (!existsSync(join(dist, 'index.js'))) {
      throw new Error('dist/ is missing: run `npm run build` first (npm test does it for you through pretest)');
    }
    project = mkdtempSync(join(tmpdir(), 'df-peers-'));
    const pkgDir = join(project, 'node_modules', 'digital-fabrica');
    mkdirSync(pkgDir, { recursive: true });
    cpSync(dist, join(pkgDir, 'dist'), { recursive: true });
    cpSync(join(root, 'package.json'), join(pkgDir, 'package.json'));
    // Exactly our runtime dependencies (a host's `npm install digital-fabrica` gets these and no more).
    const { dependencies = {} } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    for (const dep of Object.keys(dependencies)) {
      mkdirSync(dirname(join(project, 'node_modules', dep)), { recursive: true });
      symlinkSync(join(root, 'node_modules', dep), join(project, 'node_modules', dep), 'dir');
    }
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'host', private: true }));
  });

  afterAll(() => {
    if (project) rmSync(project, { recursive: true, force: true });
  });

  const run = (code: string, type: 'module' | 'commonjs'): string =>
    execFileSync(process.execPath, [type === 'module' ? '--input-type=module' : '--input-type=commonjs', '-e', code], {
      cwd: project,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '' },
    });

  it('cannot resolve pg or ioredis in the throwaway project (the premise of the test)', () => {
    const out = run(
      `for (const m of ['pg', 'ioredis']) { try { require.resolve(m); console.log(m + ':found'); } catch { console.log(m + ':missing'); } }`,
      'commonjs',
    );
    expect(out.trim().split('\n')).toEqual(['pg:missing', 'ioredis:missing']);
  });

  const entries = ['digital-fabrica', 'digital-fabrica/errors', 'digital-fabrica/security', 'digital-fabrica/identity', 'digital-fabrica/resources', 'digital-fabrica/tasks', 'digital-fabrica/http', 'digital-fabrica/http/node', 'digital-fabrica/adapters', 'digital-fabrica/adapters/memory', 'digital-fabrica/adapters/postgres', 'digital-fabrica/adapters/redis'];

  it('imports every entry as ESM without loading pg or ioredis, and the memory SDK works', () => {
    const code = `
      for (const e of ${JSON.stringify(entries)}) { const m = await import(e); if (Object.keys(m).length === 0) throw new Error('empty ' + e); }
      const { createFabrica } = await import('digital-fabrica');
      const f = await createFabrica();
      await f.storage.put('ns', 'k', { ok: true });
      console.log(JSON.stringify((await f.storage.get('ns', 'k')).value));
      await f.close();`;
    expect(run(code, 'module').trim()).toBe('{"ok":true}');
  });

  it('requires every entry as CommonJS without loading pg or ioredis', () => {
    const code = `
      for (const e of ${JSON.stringify(entries)}) { const m = require(e); if (Object.keys(m).length === 0) throw new Error('empty ' + e); }
      const { isFabricaError, NotFoundError } = require('digital-fabrica/errors');
      console.log(isFabricaError(new NotFoundError('x')));
      console.log(Object.keys(require.cache).filter((p) => /node_modules\\/(pg|ioredis)\\//.test(p)).length);`;
    expect(run(code, 'commonjs').trim().split('\n')).toEqual(['true', '0']);
  });
});
