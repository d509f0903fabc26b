import { z } from 'zod';
import { parseInput } from '../../core/validation.js';
import {
  MAX_LEASE_MS,
  MAX_RESERVATION_ID_LENGTH,
  MAX_SNAPSHOT_LIMIT,
  type ResourceAmounts,
  type ResourceLimits,
  type ReserveRequest,
} from '../reservations.js';

// C0 and C1 control characters, as for storage keys.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Owner names and reservation ids. */
export const reservationIdSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(MAX_RESERVATION_ID_LENGTH, `must be at most ${MAX_RESERVATION_ID_LENGTH} characters`)
  .refine((s) => !CONTROL.test(s) && s.isWellFormed(), 'must not contain control characters or lone surrogates');

const amountSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const limitSchema = amountSchema.nullable();
const leaseSchema = z.number().int().min(1).max(MAX_LEASE_MS);

const reserveSchema = z.strictObject({
  owner: reservationIdSchema,
  id: reservationIdSchema,
  amounts: z.strictObject({ compute: amountSchema, storage: amountSchema, network: amountSchema }),
  limits: z.strictObject({ compute: limitSchema, storage: limitSchema, network: limitSchema }),
  leaseMs: leaseSchema,
});

/** @throws `VALIDATION_FAILED` */
export function parseReserve(request: unknown): ReserveRequest {
  return parseInput(reserveSchema, request, 'reservation request');
}

/** @throws `VALIDATION_FAILED` */
export function parseOwnerId(owner: unknown, id: unknown): { owner: string; id: string } {
  return { owner: parseInput(reservationIdSchema, owner, 'reservation owner'), id: parseInput(reservationIdSchema, id, 'reservation id') };
}

/** @throws `VALIDATION_FAILED` */
export function parseOwner(owner: unknown): string {
  return parseInput(reservationIdSchema, owner, 'reservation owner');
}

/** @throws `VALIDATION_FAILED` */
export function parseLease(leaseMs: unknown): number {
  return parseInput(leaseSchema, leaseMs, 'leaseMs');
}

/** @throws `VALIDATION_FAILED` */
export function parseSnapshotLimit(options: { readonly limit?: number } | undefined): number {
  const parsed = parseInput(z.strictObject({ limit: z.number().int().min(1).max(MAX_SNAPSHOT_LIMIT).optional() }).optional(), options, 'snapshot options');
  return parsed?.limit ?? 100;
}

/** The three resource names, in the order backends store them. */
export const RESOURCE_NAMES = ['compute', 'storage', 'network'] as const;

/** Zero of every resource. */
export const ZERO_AMOUNTS: ResourceAmounts = Object.freeze({ compute: 0, storage: 0, network: 0 });

/**
 * Whether `usage + amounts` stays within `limits` (and within safe integers) for every resource:
 * the rule every backend restates.
 */
export function fitsWithin(usage: ResourceAmounts, amounts: ResourceAmounts, limits: ResourceLimits): boolean {
  for (const name of RESOURCE_NAMES) {
    const next = usage[name] + amounts[name];
    if (!Number.isSafeInteger(next)) return false;
    const limit = limits[name];
    // A zero amount never fails, even when usage is already above a lowered limit.
    if (amounts[name] > 0 && limit !== null && next > limit) return false;
  }
  return true;
}

/** True if both hold the same amounts. */
export function sameAmounts(a: ResourceAmounts, b: ResourceAmounts): boolean {
  return a.compute === b.compute && a.storage === b.storage && a.network === b.network;
}
