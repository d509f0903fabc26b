/**
 * Resources: tier-based quotas, atomic leased reservations, usage, GCRA rate limiting (requests
 * and bandwidth), latency statistics, host monitoring with alerts, and the optimiser.
 *
 * ```ts
 * import { createResourceManager, createRateLimiter, createMonitoringSystem } from 'digital-fabrica/resources';
 * import { createMemoryReservationStore, createMemoryRateLimitStore } from 'digital-fabrica/adapters/memory';
 * ```
 *
 * - Quotas follow the spec's formula — `tier × BASE × metric multiplier` (compute × efficiency,
 *   storage × utilization, network × reliability) — as pure functions over a validated
 *   configuration; results are whole units, never negative, NaN or infinite.
 * - Allocations are reservations in a {@link ReservationStore} (memory, PostgreSQL, Redis): one
 *   atomic step checks the quota and records the reservation, so concurrent processes never
 *   exceed a quota; every reservation has a lease, so a crashed holder's quota returns; usage is
 *   by construction the sum of live reservations.
 * - The rate limiter is GCRA (one timestamp per key), several limits per atomic call, rejected
 *   requests consume nothing, with an explicit `fail-open` / `fail-closed` choice.
 * - Monitoring samples cpu, memory and network (`/proc` and `/sys` on Linux, `node:os`
 *   elsewhere, or the host's own source) and reports `'unavailable'` rather than inventing values;
 *   alerts have hysteresis and cooldown.
 *
 * Events on the `FabricaEventBus`: `resource:update`, `resource:alert`, `resource:optimize`,
 * `system:metrics`.
 *
 * @module
 */
export { QuotaExceededError, RateLimitedError, type QuotaExceededDetails, type RateLimitState } from './errors.js';
export {
  DEFAULT_QUOTA_CONFIG,
  parseQuotaConfig,
  type QuotaConfig,
  type QuotaConfigInput,
  type MultiplierBounds,
} from './quota/config.js';
export {
  calculateBaseQuota,
  applyMultipliers,
  calculateQuota,
  NEUTRAL_METRICS,
  type Quota,
  type QuotaSubject,
  type UserMetrics,
} from './quota/formula.js';
export { ResourceAllocator, parseQuotaSubject, type ResourceAllocatorOptions, type UserMetricsSource, type BoostSource } from './quota/allocator.js';
export {
  createResourceManager,
  ResourceManager,
  type ResourceManagerOptions,
  type AllocationRequest,
  type Reservation,
  type UsageReport,
} from './manager.js';
export type { KeepAlive, KeepAliveOptions } from './internal/keep-alive.js';
export { createTaskReservations, defaultTaskAmounts, type TaskLike, type TaskReservations, type TaskReservationOptions } from './tasks.js';
export { createRateLimiter, type RateLimiter, type RateLimiterOptions, type RateLimitCheckOptions, type StoreFailureMode } from './rate/limiter.js';
export { compileRateLimits, type RateLimitRule } from './rate/limits.js';
export { toDecision, type RateLimitDecision, type CompiledLimit } from './rate/decision.js';
export {
  defineMetricsSource,
  flattenSample,
  READING_NAMES,
  type MetricsSource,
  type SystemSample,
  type PartialSample,
  type Reading,
} from './monitoring/sample.js';
export { createNodeMetricsSource, tcpLatencyProbe, type NodeMetricsSourceOptions, type LatencyProbe } from './monitoring/node-source.js';
export { parseProcStat, cpuUsageBetween, parseMeminfo, parseNetDev, parseCpuInfoMhz, type CpuTimes, type MemInfo, type NetCounters } from './monitoring/proc.js';
export {
  compileAlertRules,
  evaluateAlert,
  initialAlertState,
  type AlertRule,
  type CompiledAlertRule,
  type AlertPhase,
  type AlertState,
  type AlertTransition,
} from './monitoring/alerts.js';
export { createMonitoringSystem, type MonitoringSystem, type MonitoringOptions } from './monitoring/system.js';
export { LatencyTracker, type LatencyStats } from './monitoring/latency.js';
export {
  planAdjustments,
  parseOptimizationPolicy,
  DEFAULT_OPTIMIZATION_POLICY,
  type Adjustment,
  type OptimizationInput,
  type OptimizationPolicy,
  type OptimizationPolicyInput,
  type TenantLoad,
  type UserLoad,
} from './optimize/optimizer.js';
export type { ReservationStore, RateLimitStore, ResourceAmounts, ResourceLimits } from './contracts.js';
