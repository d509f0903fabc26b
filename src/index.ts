/**
 * Digital Fabrica: an embeddable SDK for multi-tenant compute platforms. The root entry holds the
 * composition root, the core (errors, events, clock, ids, validation) and the adapter contracts;
 * backends and domains live on their own subpaths so a host loads only what it uses.
 *
 * ```ts
 * import { createFabrica } from 'digital-fabrica';
 * const fabrica = await createFabrica(); // memory backends, no setup
 * ```
 *
 * @module
 */
export { createFabrica, type Fabrica, type FabricaOptions, type FabricaRateLimitOptions } from './fabrica.js';
export * from './errors.js';
export { parseInput, createParser, toValidationIssues } from './core/validation.js';
export { systemClock, ManualClock, type Clock } from './core/clock.js';
export { uuidv7, uuidv7Timestamp, createUuidV7Generator, type IdGenerator } from './core/ids.js';
export { silentLogger, type Logger, type LogFields } from './core/logger.js';
export {
  FabricaEventBus,
  FABRICA_EVENT_NAMES,
  type EventBusOptions,
  type EventListener,
  type FabricaEventMap,
  type FabricaEventName,
  type Timestamp,
  type ResourceUpdateEvent,
  type ResourceAlertEvent,
  type ResourceOptimizeEvent,
  type TaskEvent,
  type SystemMetricsEvent,
  type SystemAlertEvent,
  type SystemMaintenanceEvent,
} from './core/events.js';
export type {
  JsonValue,
  StorageAdapter,
  CacheAdapter,
  PubSub,
  StoredDocument,
  TxnRequest,
  TxnResult,
} from './adapters/index.js';
