import { EventEmitter } from 'eventemitter3';
import { z } from 'zod';
import type { JsonValue } from '../adapters/storage.js';
import type { PubSub, Unsubscribe } from '../adapters/pubsub.js';
import type { Logger } from './logger.js';
import { silentLogger } from './logger.js';
import { parseInput } from './validation.js';

/** Epoch milliseconds. */
export type Timestamp = number;

/** `resource:update`: a user's allocation changed. */
export interface ResourceUpdateEvent {
  readonly userId: string;
  readonly tenantId?: string;
  /** The allocation after the change, in the resource manager's units. */
  readonly allocation: { readonly compute: number; readonly storage: number; readonly network: number };
  readonly at: Timestamp;
}

/** `resource:alert`: a monitored metric crossed (or returned from) a threshold. */
export interface ResourceAlertEvent {
  readonly metric: string;
  readonly value: number;
  readonly threshold: number;
  readonly state: 'firing' | 'resolved';
  readonly at: Timestamp;
}

/** `resource:optimize`: adjustments proposed or applied by the optimiser. */
export interface ResourceOptimizeEvent {
  readonly adjustments: readonly {
    readonly target: string;
    readonly kind: string;
    readonly from: number;
    readonly to: number;
    readonly reason: string;
  }[];
  readonly at: Timestamp;
}

/** `task:created`, `task:updated`, `task:completed`, `task:failed`, `task:dead`: a task's lifecycle. */
export interface TaskEvent {
  readonly taskId: string;
  readonly tenantId: string;
  readonly type: string;
  /** State after the change, e.g. `queued`, `running`, `completed`, `failed`, `dead`. */
  readonly state: string;
  readonly attempt?: number;
  readonly at: Timestamp;
}

/** `system:metrics`: a periodic sample of named numeric metrics. */
export interface SystemMetricsEvent {
  readonly metrics: Readonly<Record<string, number>>;
  readonly at: Timestamp;
}

/** `system:alerts`: an operational alert (queue depth, starvation, error rate, ...). */
export interface SystemAlertEvent {
  readonly name: string;
  readonly severity: 'info' | 'warning' | 'critical';
  readonly message: string;
  readonly details?: Readonly<Record<string, JsonValue>>;
  readonly at: Timestamp;
}

/** `system:maintenance`: planned maintenance announcements. */
export interface SystemMaintenanceEvent {
  readonly phase: 'scheduled' | 'started' | 'completed';
  readonly message: string;
  readonly window?: { readonly start: Timestamp; readonly end: Timestamp };
  readonly at: Timestamp;
}

/** Every event the SDK emits, by the spec's `domain:verb` names. */
export interface FabricaEventMap {
  'resource:update': ResourceUpdateEvent;
  'resource:alert': ResourceAlertEvent;
  'resource:optimize': ResourceOptimizeEvent;
  'task:created': TaskEvent;
  'task:updated': TaskEvent;
  'task:completed': TaskEvent;
  /** A task failed for good (the handler declared the failure final). */
  'task:failed': TaskEvent;
  /** A task used up its attempts and was dead-lettered (kept, never dropped). */
  'task:dead': TaskEvent;
  'system:metrics': SystemMetricsEvent;
  'system:alerts': SystemAlertEvent;
  'system:maintenance': SystemMaintenanceEvent;
}

/** An event name. */
export type FabricaEventName = keyof FabricaEventMap;

/** The spec's event names, for iteration and validation. */
export const FABRICA_EVENT_NAMES: readonly FabricaEventName[] = Object.freeze([
  'resource:update',
  'resource:alert',
  'resource:optimize',
  'task:created',
  'task:updated',
  'task:completed',
  'system:metrics',
  'system:alerts',
  'system:maintenance',
  'task:failed',
  'task:dead',
]);

/** A listener of one event. */
export type EventListener<K extends FabricaEventName> = (payload: FabricaEventMap[K]) => void;

const eventNameSchema = z.enum(FABRICA_EVENT_NAMES as [FabricaEventName, ...FabricaEventName[]]);

// What crosses processes on the PubSub channel.
const envelopeSchema = z.object({ origin: z.string(), name: eventNameSchema, payload: z.record(z.string(), z.unknown()) });

/** Options of {@link FabricaEventBus}. */
export interface EventBusOptions {
  /** Receives listener failures (default: silent). */
  readonly logger?: Logger;
}

/**
 * Typed event bus with the spec's event names, on eventemitter3. Listener failures are caught and
 * logged, so a faulty subscriber never breaks the service that emitted. With {@link connect}, the
 * bus spans processes over a PubSub adapter: local emits are published, remote ones re-emitted.
 *
 * @example
 * ```ts
 * import { FabricaEventBus } from 'digital-fabrica';
 * const events = new FabricaEventBus();
 * const off = events.on('task:completed', (e) => console.log(e.taskId, e.state));
 * events.emit('task:completed', { taskId: 't1', tenantId: 'acme', type: 'render', state: 'completed', at: Date.now() });
 * off();
 * ```
 */
export class FabricaEventBus {
  readonly #emitter = new EventEmitter();
  readonly #logger: Logger;
  // Identifies this bus on the shared channel, so it ignores its own echoes.
  readonly #origin = globalThis.crypto.randomUUID();
  #remote: { pubsub: PubSub; channel: string; unsubscribe: Unsubscribe } | undefined;

  constructor(options: EventBusOptions = {}) {
    this.#logger = options.logger ?? silentLogger;
  }

  /**
   * Adds a listener; returns a function that removes it.
   * @throws `VALIDATION_FAILED` for an unknown event name.
   */
  on<K extends FabricaEventName>(name: K, listener: EventListener<K>): () => void {
    parseInput(eventNameSchema, name, 'event name');
    const safe = (payload: FabricaEventMap[K]): void => {
      try {
        listener(payload);
      } catch (err) {
        this.#logger.error('event listener failed', { event: name, error: err instanceof Error ? err.name : typeof err });
      }
    };
    this.#emitter.on(name, safe);
    return () => void this.#emitter.off(name, safe);
  }

  /**
   * Resolves with the next payload of `name`.
   * @throws `VALIDATION_FAILED` for an unknown event name.
   */
  once<K extends FabricaEventName>(name: K): Promise<FabricaEventMap[K]> {
    return new Promise((resolve) => {
      const off = this.on(name, (payload) => {
        off();
        resolve(payload);
      });
    });
  }

  /**
   * Delivers `payload` to local listeners and, when connected, to other processes.
   * @throws `VALIDATION_FAILED` for an unknown event name.
   */
  emit<K extends FabricaEventName>(name: K, payload: FabricaEventMap[K]): void {
    parseInput(eventNameSchema, name, 'event name');
    this.#emitter.emit(name, payload);
    const remote = this.#remote;
    if (remote) {
      const envelope = { origin: this.#origin, name, payload } as unknown as JsonValue;
      remote.pubsub.publish(remote.channel, envelope).catch((err: unknown) => {
        this.#logger.warn('event not forwarded to other processes', {
          event: name,
          code: (err as { code?: string } | null)?.code ?? 'UNKNOWN',
        });
      });
    }
  }

  /** Number of listeners of `name`. */
  listenerCount(name: FabricaEventName): number {
    return this.#emitter.listenerCount(name);
  }

  /**
   * Spans the bus across processes through `pubsub` on `channel` (default `fabrica.events`).
   * Resolves once remote events are being received. Connecting again replaces the connection.
   */
  async connect(pubsub: PubSub, channel = 'fabrica.events'): Promise<void> {
    await this.disconnect();
    const unsubscribe = await pubsub.subscribe(channel, (message) => {
      const parsed = envelopeSchema.safeParse(message);
      if (!parsed.success) {
        this.#logger.warn('ignored a malformed event from another process', { channel });
        return;
      }
      if (parsed.data.origin === this.#origin) return;
      this.#emitter.emit(parsed.data.name, parsed.data.payload);
    });
    this.#remote = { pubsub, channel, unsubscribe };
  }

  /** Stops forwarding to and from other processes. Idempotent. */
  async disconnect(): Promise<void> {
    const remote = this.#remote;
    this.#remote = undefined;
    await remote?.unsubscribe();
  }
}
