// The adapter contracts this module is built on, re-exported (types only) so a host can type
// its own stores without a second import path.
export type { ReservationStore, ResourceAmounts, ResourceLimits } from '../adapters/reservations.js';
export type { RateLimitStore } from '../adapters/rate-limit.js';
