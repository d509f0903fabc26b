import { defineConfig } from 'tsup';

/** One entry per subpath export; keep in sync with package.json "exports" and typedoc.json. */
export const entries = {
  index: 'src/index.ts',
  errors: 'src/errors.ts',
  'security/index': 'src/security/index.ts',
  'identity/index': 'src/identity/index.ts',
  'resources/index': 'src/resources/index.ts',
  'tasks/index': 'src/tasks/index.ts',
  'http/index': 'src/http/index.ts',
  'http/node/index': 'src/http/node/index.ts',
  'adapters/index': 'src/adapters/index.ts',
  'adapters/memory/index': 'src/adapters/memory/index.ts',
  'adapters/postgres/index': 'src/adapters/postgres/index.ts',
  'adapters/redis/index': 'src/adapters/redis/index.ts',
  'adapters/testing/index': 'src/adapters/testing/index.ts',
};

export default defineConfig({
  entry: entries,
  format: ['esm', 'cjs'],
  dts: { compilerOptions: { stripInternal: true } },
  tsconfig: 'tsconfig.build.json',
  sourcemap: true,
  clean: true,
  splitting: true,
  treeshake: true,
  target: 'node20',
  // Optional peers and the test runner are never bundled: the host provides them.
  external: ['pg', 'ioredis', 'vitest'],
});
