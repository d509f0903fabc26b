import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown, mkdtemp, readdir, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

/** A throwaway PostgreSQL server for one test run. */
export interface TestPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust auth). */
  readonly url: string;
  /** Fast shutdown, then removes the data directory. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts a private PostgreSQL cluster from the installed binaries: temp dir, free port, trust
 * auth, settings that trade durability for speed. As root (CI containers) the server runs as the
 * unprivileged `postgres` user, since PostgreSQL refuses to run as root.
 *
 * @throws Error with a clear message when the binaries are missing (the global setup turns that
 *   into a loud skip, or a failure under CI=true).
 */
export async function startPostgres(): Promise<TestPostgres> {
  const bindir = await findBindir();
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? await lookupUser('postgres') : undefined;

  const base = await mkdtemp(path.join(os.tmpdir(), 'df-pg-'));
  const dataDir = path.join(base, 'data');
  const socketDir = base;
  const logFile = path.join(base, 'server.log');
  if (owner) await chown(base, owner.uid, owner.gid);

  // runuser keeps root's environment minimal and needs no password; the command runs as `postgres`.
  const exec = (bin: string, args: string[]) =>
    owner ? run('runuser', ['-u', 'postgres', '--', path.join(bindir, bin), ...args]) : run(path.join(bindir, bin), args);

  let started = false;
  const cleanup = async (): Promise<void> => {
    if (started) {
      await exec('pg_ctl', ['stop', '-D', dataDir, '-m', 'fast', '-w', '-t', '30']).catch(() => undefined);
      started = false;
    }
    await rm(base, { recursive: true, force: true });
  };

  try {
    // --no-sync: the cluster is thrown away, so skipping fsync makes initdb take ~1 s instead of ~5 s.
    await exec('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions']);
    const port = await freePort();
    const settings = [
      `-p ${port}`,
      '-h 127.0.0.1',
      `-k ${socketDir}`,
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c full_page_writes=off',
      '-c max_connections=300',
      '-c shared_buffers=64MB',
    ].join(' ');
    started = true;
    await exec('pg_ctl', ['start', '-D', dataDir, '-l', logFile, '-w', '-t', '60', '-o', settings]);
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    await waitUntilReady(url);
    let stopped = false;
    return {
      url,
      async stop() {
        if (stopped) return;
        stopped = true;
        await cleanup();
      },
    };
  } catch (err) {
    await cleanup();
    throw new Error(`could not start PostgreSQL from ${bindir}: ${(err as Error).message}`, { cause: err });
  }
}

async function findBindir(): Promise<string> {
  const candidates: string[] = [];
  try {
    const { stdout } = await run('pg_config', ['--bindir']);
    candidates.push(stdout.trim());
  } catch {
    // pg_config is only in the -dev packages; fall back to the Debian/Ubuntu layout.
  }
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = (await readdir(root)).filter((v) => /^\d+(\.\d+)?$/.test(v)).sort((a, b) => Number(b) - Number(a));
    for (const v of versions) candidates.push(path.join(root, v, 'bin'));
  }
  for (const dir of candidates) {
    if (existsSync(path.join(dir, 'initdb')) && existsSync(path.join(dir, 'pg_ctl')) && existsSync(path.join(dir, 'postgres'))) return dir;
  }
  throw new Error(
    'PostgreSQL server binaries not found (looked for initdb/pg_ctl/postgres via `pg_config --bindir` and /usr/lib/postgresql/*/bin); install postgresql or set DATABASE_URL',
  );
}

async function lookupUser(name: string): Promise<{ uid: number; gid: number }> {
  try {
    const [{ stdout: uid }, { stdout: gid }] = await Promise.all([run('id', ['-u', name]), run('id', ['-g', name])]);
    return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
  } catch (err) {
    throw new Error(`running as root, but there is no '${name}' user to run PostgreSQL as`, { cause: err });
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitUntilReady(url: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}
