/** Options of `createAccessControl`, validated with zod. */
import { z } from 'zod';
import type { PubSub } from '../../../adapters/pubsub.js';
import type { StorageAdapter } from '../../../adapters/storage.js';
import type { Clock } from '../../../core/clock.js';
import type { FabricaEventBus } from '../../../core/events.js';
import type { Logger } from '../../../core/logger.js';
import type { AccessPolicyOptions } from '../runtime.js';

/**
 * Options of `createAccessControl`.
 *
 * @example
 * ```ts
 * import type { AccessControlOptions } from 'digital-fabrica/security';
 * import { createMemoryPubSub, createMemoryStorage } from 'digital-fabrica/adapters/memory';
 * const options: AccessControlOptions = {
 *   storage: createMemoryStorage(),
 *   pubsub: createMemoryPubSub(),
 *   revalidateIntervalMs: 0, // checkPermission always sees changes committed before it started
 *   maxStalenessMs: 10_000,
 * };
 * ```
 */
export interface AccessControlOptions {
  /** Where the policy is persisted (the namespace `namespace`). */
  readonly storage: StorageAdapter;
  /** Carries "policy changed" announcements between instances (channel `channel`). */
  readonly pubsub: PubSub;
  /** Time source for staleness bounds (default: system clock). */
  readonly clock?: Clock;
  /** Receives reload failures and warnings (ids and codes only; default: silent). */
  readonly logger?: Logger;
  /** Receives a `system:alerts` event when the policy cannot be verified for `maxStalenessMs`. */
  readonly events?: FabricaEventBus;
  /** Storage namespace of the policy documents (default `rbac`). */
  readonly namespace?: string;
  /** PubSub channel of change announcements (default `fabrica.rbac`). */
  readonly channel?: string;
  /**
   * `checkPermission` and `authorize` re-read the policy revision when it was last verified longer
   * ago than this (default 1000 ms). `0` verifies on every call: a change committed anywhere before
   * the call started is always enforced.
   */
  readonly revalidateIntervalMs?: number;
  /**
   * Background re-verification period (default 1000 ms; `0` disables it). Bounds how long the
   * synchronous `can()` may use a stale policy when a pub/sub announcement was lost.
   */
  readonly pollIntervalMs?: number;
  /**
   * When the policy could not be verified against storage for longer than this (default 30 000 ms),
   * `can()` fails closed (returns false, `explain` says `stale-policy`) until it can be verified again.
   */
  readonly maxStalenessMs?: number;
  /** See {@link AccessPolicyOptions.mergeLimit} (default 64). */
  readonly mergeLimit?: number;
}

const shaped = (methods: readonly string[], what: string) =>
  z.custom<object>(
    (v) => typeof v === 'object' && v !== null && methods.every((m) => typeof (v as Record<string, unknown>)[m] === 'function'),
    `${what} must implement ${methods.join(', ')}`,
  );

/** zod schema of {@link AccessControlOptions}. */
export const accessControlOptionsSchema = z
  .strictObject({
    storage: shaped(['init', 'get', 'getMany', 'put', 'delete', 'list', 'txn', 'add', 'close'], 'storage'),
    pubsub: shaped(['init', 'publish', 'subscribe', 'close'], 'pubsub'),
    clock: shaped(['now'], 'clock').optional(),
    logger: shaped(['debug', 'info', 'warn', 'error'], 'logger').optional(),
    events: shaped(['emit'], 'events').optional(),
    namespace: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'namespace: 1-64 characters from A-Z a-z 0-9 _ . -').optional(),
    channel: z.string().regex(/^[A-Za-z0-9_.:/-]{1,200}$/, 'channel: 1-200 characters from A-Z a-z 0-9 _ . : / -').optional(),
    revalidateIntervalMs: z.number().int().min(0).max(3_600_000).optional(),
    pollIntervalMs: z.number().int().min(0).max(3_600_000).optional(),
    maxStalenessMs: z.number().int().min(1).max(86_400_000).optional(),
    mergeLimit: z.number().int().min(0).max(4096).optional(),
  })
  .superRefine((o, ctx) => {
    const poll = o.pollIntervalMs ?? 1000;
    const max = o.maxStalenessMs ?? 30_000;
    if (poll > 0 && max <= poll) ctx.addIssue({ code: 'custom', path: ['maxStalenessMs'], message: 'maxStalenessMs must exceed pollIntervalMs, or a healthy instance would fail closed between polls' });
  });

/** The options with defaults applied. */
export interface ResolvedOptions {
  readonly storage: StorageAdapter;
  readonly pubsub: PubSub;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly events: FabricaEventBus | undefined;
  readonly namespace: string;
  readonly channel: string;
  readonly revalidateIntervalMs: number;
  readonly pollIntervalMs: number;
  readonly maxStalenessMs: number;
  readonly mergeLimit: number | undefined;
}
