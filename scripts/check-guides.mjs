// Type-checks every ```ts block of README.md and docs/guides/*.md against the sources, so the
// examples people copy always compile. Imports of 'digital-fabrica/...' map to src/ via paths.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const out = join(root, '.tmp', 'guides');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const docs = ['README.md', ...readdirSync(join(root, 'docs/guides')).filter((f) => f.endsWith('.md')).map((f) => join('docs/guides', f))];
let count = 0;
for (const doc of docs) {
  const text = readFileSync(join(root, doc), 'utf8');
  const blocks = [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
  blocks.forEach((code, i) => {
    // Each block is its own module, so top-level await and repeated names are fine.
    writeFileSync(join(out, `${basename(doc, '.md')}-${i + 1}.ts`), `${code}\nexport {};\n`);
    count += 1;
  });
}
const src = (p) => join(root, 'src', p);
writeFileSync(
  join(out, 'tsconfig.json'),
  JSON.stringify({
    extends: join(root, 'tsconfig.json'),
    compilerOptions: {
      noEmit: true,
      noUnusedLocals: false,
      paths: {
        'digital-fabrica': [src('index.ts')],
        'digital-fabrica/errors': [src('errors.ts')],
        'digital-fabrica/security': [src('security/index.ts')],
        'digital-fabrica/adapters': [src('adapters/index.ts')],
        'digital-fabrica/adapters/*': [src('adapters/*/index.ts')],
        'digital-fabrica/*': [src('*/index.ts')],
      },
    },
    include: ['*.ts'],
  }),
);
try {
  execFileSync(join(root, 'node_modules/.bin/tsc'), ['-p', join(out, 'tsconfig.json')], { stdio: 'inherit' });
  console.log(`guides: ${count} TypeScript blocks from ${docs.length} documents type-check`);
} catch {
  console.error('guides: a TypeScript block does not compile (files in .tmp/guides)');
  process.exitCode = 1;
}
