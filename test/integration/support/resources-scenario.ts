import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

/** The quota every child computes: tier 1 × 1000 compute. */
export const CHILD_QUOTA = { bases: { compute: 1000, storage: 1000, network: 1000 } };
/** The exact limiter: no refill within a test run (T = 60 s and 864 s). */
export const EXACT_LIMITS = [
  { name: 'hour', limit: 60, periodMs: 3_600_000 },
  { name: 'day', limit: 100, periodMs: 86_400_000 },
];
/** The rate limiter: 50 per second (T = 20 ms) with a burst of 5. */
export const RATE_LIMITS = [{ name: 'second', limit: 50, periodMs: 1000, burst: 5 }];

const root = resolve(import.meta.dirname, '../../..');
const script = resolve(import.meta.dirname, 'resources-child.ts');

/** A child process running `resources-child.ts`. */
export interface Child {
  readonly process: ChildProcess;
  /** Resolves once the child is connected and warmed up. */
  readonly ready: Promise<void>;
  /** Tells the child to start. */
  go(): void;
  /** Resolves with the child's JSON result line. */
  readonly result: Promise<unknown>;
  /** Resolves when the process exited. */
  readonly exited: Promise<number | null>;
}

/** Spawns one child with `env` (DF_* variables); stderr is kept for the failure message. */
export function spawnChild(env: Record<string, string>): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const lines = createInterface({ input: child.stdout! });
  let readyResolve!: () => void;
  let resultResolve!: (value: unknown) => void;
  const ready = new Promise<void>((r) => (readyResolve = r));
  const result = new Promise<unknown>((r, reject) => {
    resultResolve = r;
    void exited.then((code) => reject(new Error(`child exited (${code}) before its result:\n${stderr.slice(-2000)}`)));
  });
  // A child killed on purpose never delivers a result: that must not become an unhandled rejection.
  result.catch(() => undefined);
  ready.catch(() => undefined);
  lines.on('line', (line) => {
    if (line === 'ready') readyResolve();
    else if (line.startsWith('{')) resultResolve(JSON.parse(line));
  });
  void exited.then(() => readyResolve());
  return { process: child, ready, go: () => child.stdin!.write('go\n'), result, exited };
}

/**
 * Spawns `n` children, waits until all are ready, runs `beforeGo` (e.g. to read the server's
 * clock), starts them together and returns their results.
 */
export async function runTogether(n: number, env: (i: number) => Record<string, string>, beforeGo?: () => Promise<void>): Promise<unknown[]> {
  const children = Array.from({ length: n }, (_, i) => spawnChild({ ...env(i), DF_INDEX: String(i) }));
  try {
    await Promise.all(children.map((c) => c.ready));
    await beforeGo?.();
    for (const c of children) c.go();
    return await Promise.all(children.map((c) => c.result));
  } finally {
    for (const c of children) if (c.process.exitCode === null) c.process.kill('SIGKILL');
  }
}
