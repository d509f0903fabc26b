import { z } from 'zod';
import { parseInput } from '../../core/validation.js';
import { ConflictError, ValidationError } from '../../core/errors.js';
import type { ListOptions, TxnOp, TxnRequest, CounterOptions } from '../storage.js';
import { keySchema, namespaceSchema, prefixSchema, ttlSchema } from './names.js';
import { decodeCursor } from './cursor.js';

/** Max documents one txn may touch (compares plus the ops of either branch). */
export const MAX_TXN_DOCUMENTS = 128;
/** Max keys in one getMany. */
export const MAX_GET_MANY = 1000;
/** Max page size of a listing. */
export const MAX_LIST_LIMIT = 1000;

const ref = { namespace: namespaceSchema, key: keySchema };
const versionSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

const compareSchema = z.union([
  z.strictObject({ ...ref, version: versionSchema }),
  z.strictObject({ ...ref, exists: z.boolean() }),
]);

// The value is checked by encodeJson (finite numbers, plain objects) where the backend serialises.
const opSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('put'), ...ref, value: z.unknown(), ttlMs: ttlSchema.optional() }),
  z.strictObject({ type: z.literal('delete'), ...ref }),
]);

const txnSchema = z.strictObject({
  compare: z.array(compareSchema).max(MAX_TXN_DOCUMENTS).optional(),
  success: z.array(opSchema).max(MAX_TXN_DOCUMENTS).optional(),
  failure: z.array(opSchema).max(MAX_TXN_DOCUMENTS).optional(),
});

/** A validated txn with every list present. */
export interface ParsedTxn {
  readonly compare: readonly NonNullable<TxnRequest['compare']>[number][];
  readonly success: readonly TxnOp[];
  readonly failure: readonly TxnOp[];
}

/** Validates a txn request; rejects a key written twice in one branch. @throws `VALIDATION_FAILED` */
export function parseTxn(request: unknown): ParsedTxn {
  const parsed = parseInput(txnSchema, request, 'txn request');
  const txn: ParsedTxn = {
    compare: parsed.compare ?? [],
    success: (parsed.success ?? []) as TxnOp[],
    failure: (parsed.failure ?? []) as TxnOp[],
  };
  for (const [branch, ops] of [['success', txn.success], ['failure', txn.failure]] as const) {
    const seen = new Set<string>();
    for (const [index, op] of ops.entries()) {
      const id = `${op.namespace}\u0000${op.key}`;
      if (seen.has(id)) {
        throw new ValidationError('invalid txn request: a key is written twice in one branch', [
          { path: [branch, index], message: 'duplicate key in branch', code: 'custom' },
        ]);
      }
      seen.add(id);
    }
  }
  return txn;
}

const listSchema = z
  .strictObject({
    prefix: prefixSchema.optional(),
    cursor: z.string().max(4096).optional(),
    limit: z.number().int().min(1).max(MAX_LIST_LIMIT).optional(),
  })
  .optional();

/** A validated listing request. `after` is the decoded cursor (exclusive lower bound). */
export interface ParsedList {
  readonly namespace: string;
  readonly prefix: string;
  readonly after: string | null;
  readonly limit: number;
}

/** @throws `VALIDATION_FAILED` */
export function parseList(namespace: unknown, options: ListOptions | undefined): ParsedList {
  const ns = parseInput(namespaceSchema, namespace, 'namespace');
  const opts = parseInput(listSchema, options, 'list options') ?? {};
  return {
    namespace: ns,
    prefix: opts.prefix ?? '',
    after: opts.cursor === undefined ? null : decodeCursor(opts.cursor),
    limit: opts.limit ?? 100,
  };
}

const counterSchema = z
  .strictObject({
    min: z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER).optional(),
    max: z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER).optional(),
    ttlMs: ttlSchema.optional(),
  })
  .optional();

const deltaSchema = z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER);

/** A validated counter add. */
export interface ParsedAdd {
  readonly namespace: string;
  readonly key: string;
  readonly delta: number;
  readonly min: number | undefined;
  readonly max: number | undefined;
  readonly ttlMs: number | undefined;
}

/** @throws `VALIDATION_FAILED` */
export function parseAdd(namespace: unknown, key: unknown, delta: unknown, options: CounterOptions | undefined): ParsedAdd {
  const ns = parseInput(namespaceSchema, namespace, 'namespace');
  const k = parseInput(keySchema, key, 'key');
  const d = parseInput(deltaSchema, delta, 'counter delta');
  const opts = parseInput(counterSchema, options, 'counter options') ?? {};
  return { namespace: ns, key: k, delta: d, min: opts.min, max: opts.max, ttlMs: opts.ttlMs };
}

/**
 * Decides a counter add from the current value; the one rule every backend applies (the Lua
 * script and the SQL statement restate it, and the conformance suite holds them to it).
 */
export function decideAdd(current: number, add: Pick<ParsedAdd, 'delta' | 'min' | 'max'>): { applied: boolean; value: number } {
  const next = current + add.delta;
  if (add.delta > 0 && add.max !== undefined && next > add.max) return { applied: false, value: current };
  if (add.delta < 0 && add.min !== undefined && next < add.min) return { applied: false, value: current };
  if (!Number.isSafeInteger(next)) return { applied: false, value: current };
  return { applied: true, value: next };
}

/** @throws `VALIDATION_FAILED` */
export function parseGetMany(namespace: unknown, keys: unknown): { namespace: string; keys: string[] } {
  return {
    namespace: parseInput(namespaceSchema, namespace, 'namespace'),
    keys: parseInput(z.array(keySchema).max(MAX_GET_MANY), keys, 'keys'),
  };
}

const putOptionsSchema = z
  .strictObject({ ttlMs: ttlSchema.optional(), ifVersion: versionSchema.optional() })
  .optional();

/** @throws `VALIDATION_FAILED` */
export function parsePutOptions(options: unknown): { ttlMs: number | undefined; ifVersion: number | undefined } {
  const opts = parseInput(putOptionsSchema, options, 'put options') ?? {};
  return { ttlMs: opts.ttlMs, ifVersion: opts.ifVersion };
}

/** The error every backend throws when a `put` with `ifVersion` finds another version. */
export function staleVersionError(namespace: string, key: string): ConflictError {
  return new ConflictError('document version changed (stale ifVersion)', { details: { namespace, key } });
}
