import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** A throwaway redis-server process owned by the test run. */
export interface RedisServerProcess {
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  /** The TCP port it listens on (reuse it to restart "the same" server). */
  readonly port: number;
  /** Shuts the server down (no save) and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

/** Options of {@link startRedisServer}. */
export interface StartRedisOptions {
  /** Listen on this port (e.g. to restart a server where its clients expect it); default: a free one. */
  readonly port?: number;
  /** How long to wait for PING to answer (default 15 s). */
  readonly readyTimeoutMs?: number;
}

/** Finds `redis-server` on PATH (or `REDIS_SERVER_BIN`), or throws a clear Error. */
export function findRedisServer(): string {
  const explicit = process.env.REDIS_SERVER_BIN;
  if (explicit) return explicit;
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  // Distribution packages put it in sbin on some systems, which is not always on a user's PATH.
  for (const dir of [...dirs, '/usr/bin', '/usr/sbin', '/usr/local/bin', '/usr/local/sbin', '/opt/homebrew/bin']) {
    const candidate = path.join(dir, 'redis-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  throw new Error('redis-server not found on PATH (install redis-server, or set REDIS_URL to an existing server or REDIS_SERVER_BIN to the binary)');
}

/** A port nobody listens on right now (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Sends PING over a raw socket; true on `+PONG`. No client library: this also runs in global setup. */
export function ping(port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      if (data.includes('\r\n')) done(data.startsWith('+PONG'));
    });
    socket.on('error', () => done(false));
  });
}

/**
 * Starts a private redis-server: temp dir, free (or given) port, no persistence, loopback only;
 * resolves once PING answers. Integration tests use it to stop and restart a server for real.
 */
export async function startRedisServer(options: StartRedisOptions = {}): Promise<RedisServerProcess> {
  const bin = findRedisServer();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'df-redis-'));
  const port = options.port ?? (await freePort());
  const child: ChildProcess = spawn(
    bin,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--loglevel', 'warning'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const collect = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-4_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
    child.once('error', (err) => {
      output += `\n${err.message}`;
      exited = true;
      resolve();
    });
  });

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      if (!exited) {
        child.kill('SIGTERM');
        const killTimer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exit;
        clearTimeout(killTimer);
      }
      await rm(dir, { recursive: true, force: true });
    })();
    return stopped;
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 15_000);
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`redis-server exited before answering PING:\n${output}`);
    }
    if (await ping(port, 500)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`redis-server did not answer PING on port ${port} in time:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return { url: `redis://127.0.0.1:${port}`, port, stop };
}

/** The test run's shared Redis server (used by the global setup). */
export async function startRedis(): Promise<{ url: string; stop(): Promise<void> }> {
  const server = await startRedisServer();
  return { url: server.url, stop: server.stop };
}
