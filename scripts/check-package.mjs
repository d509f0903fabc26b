// Checks the packed tarball as a consumer would get it: publint (package.json / exports
// correctness) and @arethetypeswrong/cli (types resolve for ESM and CJS consumers).
// node10 resolution is ignored on purpose: it cannot see subpath exports, and Node >= 20 is required.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'df-pack-'));
const run = (cmd, args) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
try {
  const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', dir]));
  const tarball = join(dir, packed[0].filename);
  console.log(`packed ${packed[0].filename}: ${packed[0].entryCount} files, ${(packed[0].size / 1024).toFixed(0)} KiB`);
  process.stdout.write(run('npx', ['--no-install', 'publint', 'run', tarball, '--strict']));
  process.stdout.write(run('npx', ['--no-install', 'attw', tarball, '--profile', 'node16', '--format', 'table-flipped']));
  console.log('package check passed');
} catch (err) {
  if (err.stdout) process.stdout.write(err.stdout);
  console.error('package check FAILED');
  process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
