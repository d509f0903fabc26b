/**
 * A test identity on memory storage with a manual clock, a cheap password policy (argon2id at
 * its 1 MiB floor: the defaults cost ~200 ms per hash by design) and a recording logger and event
 * bus, so tests can assert that no secret is ever logged or emitted.
 */
import { createMemoryStorage } from '../../../../src/adapters/memory/index.js';
import type { StorageAdapter } from '../../../../src/adapters/storage.js';
import { ManualClock } from '../../../../src/core/clock.js';
import { FabricaEventBus } from '../../../../src/core/events.js';
import type { Logger } from '../../../../src/core/logger.js';
import { createIdentity, type Identity, type IdentityOptions } from '../../../../src/identity/index.js';
import { AesKey, Keyring } from '../../../../src/security/primitives.js';

/** A fixed, realistic start time (2025-06-15T14:13:20Z). */
export const T0 = 1_750_000_000_000;

/** Cheap but real argon2id. */
export const FAST_PASSWORDS = { algorithm: 'argon2id', argon2id: { memoryKiB: 1024, iterations: 1 } } as const;

/** Everything logged and emitted, serialised, for "no secret leaks" assertions. */
export class Recorder {
  readonly lines: string[] = [];
  readonly logger: Logger = {
    debug: (m, f) => void this.lines.push(JSON.stringify(['debug', m, f])),
    info: (m, f) => void this.lines.push(JSON.stringify(['info', m, f])),
    warn: (m, f) => void this.lines.push(JSON.stringify(['warn', m, f])),
    error: (m, f) => void this.lines.push(JSON.stringify(['error', m, f])),
  };
  readonly events = new FabricaEventBus();
  constructor() {
    this.events.on('system:alerts', (e) => void this.lines.push(JSON.stringify(['event', e])));
  }
  /** The secrets that appear anywhere in what was recorded. */
  leaks(secrets: readonly string[]): string[] {
    const all = this.lines.join('\n');
    return secrets.filter((s) => s.length >= 6 && all.includes(s));
  }
}

/** Test setup: identity + clock + storage + recorder. */
export interface TestIdentity {
  readonly identity: Identity;
  readonly clock: ManualClock;
  readonly storage: StorageAdapter;
  readonly recorder: Recorder;
  readonly keyring: Keyring;
}

/** A fresh identity on memory storage (or the given storage). */
export async function testIdentity(overrides: Partial<IdentityOptions> = {}, storage?: StorageAdapter, clock = new ManualClock(T0)): Promise<TestIdentity> {
  const recorder = new Recorder();
  const keyring = new Keyring({ keys: [AesKey.generate({ id: 'test-key' })] });
  const store = storage ?? createMemoryStorage({ clock });
  const identity = await createIdentity({
    storage: store,
    keyring,
    clock,
    logger: recorder.logger,
    events: recorder.events,
    issuer: 'https://app.example.com',
    audience: 'https://api.example.com',
    password: FAST_PASSWORDS,
    tokens: { algorithm: 'ES256' },
    ...overrides,
  });
  return { identity, clock, storage: store, recorder, keyring };
}

/** Runs `fn` and returns the FabricaError fields it throws (fails if it does not throw). */
export async function failure(fn: Promise<unknown> | (() => unknown)): Promise<{ code?: string; reason?: string; message: string; details?: Record<string, unknown>; error: unknown }> {
  try {
    await (typeof fn === 'function' ? fn() : fn);
  } catch (err) {
    const e = err as { code?: string; details?: Record<string, unknown>; message: string };
    return { code: e.code, reason: e.details?.reason as string | undefined, message: e.message, details: e.details, error: err };
  }
  throw new Error('expected a rejection');
}
