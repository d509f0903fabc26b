import { it } from 'vitest';
import type { AdapterHarness, ContractOptions } from './harness.js';

/**
 * Polls `check` until it returns a value other than `undefined`/`false`, or fails after `timeoutMs`.
 * Tests wait for asynchronous effects with this instead of sleeping.
 *
 * @example
 * ```ts
 * import { waitFor } from 'digital-fabrica/adapters/testing';
 * const received: string[] = [];
 * setTimeout(() => received.push('x'), 5);
 * await waitFor(() => received.length === 1, { timeoutMs: 1_000, what: 'the message' });
 * ```
 */
export async function waitFor<T>(
  check: () => T | false | undefined | Promise<T | false | undefined>,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 5_000);
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${options.what ?? 'condition'}`, lastError === undefined ? undefined : { cause: lastError });
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 10));
  }
}

/** Runs `fn` and returns the error it throws (fails the test if it does not throw). */
export async function caught(fn: () => unknown): Promise<{ code?: unknown; name?: unknown }> {
  try {
    await fn();
  } catch (err) {
    return err as { code?: unknown };
  }
  throw new Error('expected the operation to fail, but it succeeded');
}

let uniqueCounter = 0;
/** A name unique within the run, so tests sharing one backend never see each other's data. */
export function uniqueName(base: string): string {
  uniqueCounter += 1;
  return `${base}${uniqueCounter.toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * Declares a contract test, or a visible skip naming its reason when the backend opted out.
 * @internal
 */
export function contractTest(options: ContractOptions | undefined, timeoutMs?: number) {
  const skips = new Map((options?.skip ?? []).map((s) => [s.test, s.reason]));
  return (name: string, fn: () => Promise<void>): void => {
    const reason = skips.get(name);
    if (reason !== undefined) {
      it.skip(`${name} [skipped by backend: ${reason}]`, fn);
      return;
    }
    it(name, fn, timeoutMs);
  };
}

/** Scales a workload size by the suite's `scale` option (never below 1). @internal */
export function scaled(options: ContractOptions | undefined, n: number): number {
  return Math.max(1, Math.round(n * (options?.scale ?? 1)));
}

/** Runs `count` async jobs with at most `parallel` in flight; resolves with results in order. @internal */
export async function runConcurrently<T>(count: number, parallel: number, job: (i: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const lanes = Array.from({ length: Math.min(parallel, count) }, async () => {
    while (next < count) {
      const i = next++;
      results[i] = await job(i);
    }
  });
  await Promise.all(lanes);
  return results;
}

/** Byte-wise equality that stays fast on megabyte buffers. @internal */
export function sameBytes(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The lifecycle every adapter has, as far as the suites are concerned. @internal */
export interface Closable {
  init(): Promise<void>;
  close(): Promise<void>;
}

/**
 * What every contract suite does with its harness: open handles (initialised and tracked so they
 * are all closed at the end), let time pass (the manual clock when the harness has one, a real
 * wait against a server's clock otherwise), and tear everything down. @internal
 */
export function harnessSession<A extends Closable>(harness: AdapterHarness<A>) {
  const handles = new Set<A>();
  return {
    /** Opens, initialises and tracks a handle. */
    async open(): Promise<A> {
      const handle = await harness.open();
      await handle.init();
      handles.add(handle);
      return handle;
    },
    /** Stops tracking a handle the test closed itself. */
    forget(handle: A): void {
      handles.delete(handle);
    },
    /** Moves the manual clock, or really waits when the backend keeps time itself. */
    async passTime(ms: number): Promise<void> {
      if (harness.clock) harness.clock.advance(ms);
      else await new Promise((resolve) => setTimeout(resolve, ms));
    },
    /** Closes every tracked handle, then the harness. */
    async closeAll(): Promise<void> {
      for (const handle of handles) await handle.close();
      handles.clear();
      await harness.teardown?.();
    },
  };
}

/**
 * The seeds a random-sequence suite runs: a fixed set, or `FABRICA_<SUBJECT>_SEQUENCE_SEED` — one
 * seed to replay a failure, or a range `first..last` to explore. @internal
 */
export function sequenceSeeds(subject: 'QUEUE' | 'STORAGE' | 'RESERVATION' | 'WORKER'): readonly number[] {
  const given = globalThis.process?.env?.[`FABRICA_${subject}_SEQUENCE_SEED`] ?? '';
  const range = /^(\d+)\.\.(\d+)$/.exec(given);
  if (range !== null) return Array.from({ length: Math.max(0, Number(range[2]) - Number(range[1]) + 1) }, (_, i) => Number(range[1]) + i);
  if (/^\d+$/.test(given)) return [Number(given)];
  return [1, 2, 3, 4];
}

/** Steps per sequence: `FABRICA_<SUBJECT>_SEQUENCE_STEPS` when set (longer runs reach deeper states), else `fallback`. @internal */
export function sequenceSteps(subject: 'QUEUE' | 'STORAGE' | 'RESERVATION' | 'WORKER', fallback: number): number {
  const given = Number(globalThis.process?.env?.[`FABRICA_${subject}_SEQUENCE_STEPS`] ?? '');
  return Number.isInteger(given) && given > 0 ? given : fallback;
}
