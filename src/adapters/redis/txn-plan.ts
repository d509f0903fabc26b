import type { TxnCompare, TxnOp } from '../storage.js';
import type { RedisKeyLayout } from './keys.js';

/** KEYS and ARGV of one call of the txn script (see scripts/txn.ts for the layout). */
export interface TxnPlan {
  readonly keys: string[];
  readonly args: string[];
}

/**
 * Lays a validated transaction out as the txn script's KEYS and ARGV. Each distinct document is
 * one "slot", so a key compared and then written is read from the same KEYS entry, and every
 * key the script touches is declared in KEYS (what Redis Cluster routes and checks by).
 *
 * @param jsons per op of `success` then `failure`: the JSON text of a put, `null` for a delete
 * @param replay the call's unique request id and how long its reply is kept for a resend (0: not kept)
 */
export function planTxn(
  layout: RedisKeyLayout,
  compare: readonly TxnCompare[],
  success: readonly TxnOp[],
  failure: readonly TxnOp[],
  jsons: { readonly success: readonly (string | null)[]; readonly failure: readonly (string | null)[] },
  replay: { readonly requestId: string; readonly windowMs: number },
): TxnPlan {
  const slots = new Map<string, number>();
  const docKeys: string[] = [];
  const indexKeys: string[] = [];
  const members: string[] = [];
  const slotOf = (namespace: string, key: string): number => {
    // NUL cannot occur in a namespace or key (both reject control characters): an unambiguous join.
    const id = `${namespace}\u0000${key}`;
    let slot = slots.get(id);
    if (slot === undefined) {
      slot = docKeys.length + 1;
      slots.set(id, slot);
      docKeys.push(layout.document(namespace, key));
      indexKeys.push(layout.index(namespace));
      members.push(key);
    }
    return slot;
  };

  const compareArgs: string[] = [];
  for (const cmp of compare) {
    const slot = slotOf(cmp.namespace, cmp.key);
    if ('exists' in cmp) compareArgs.push(String(slot), 'e', cmp.exists ? '1' : '0');
    else compareArgs.push(String(slot), 'v', String(cmp.version));
  }
  const opArgs = (ops: readonly TxnOp[], texts: readonly (string | null)[]): string[] =>
    ops.flatMap((op, i) => {
      const slot = String(slotOf(op.namespace, op.key));
      if (op.type === 'delete') return ['d', slot, '', ''];
      const text = texts[i];
      if (typeof text !== 'string') throw new TypeError('planTxn: a put op has no JSON text');
      return ['p', slot, text, op.ttlMs === undefined ? '' : String(op.ttlMs)];
    });
  const successArgs = opArgs(success, jsons.success);
  const failureArgs = opArgs(failure, jsons.failure);

  return {
    keys: [layout.revision, layout.replay(replay.requestId), ...docKeys, ...indexKeys],
    args: [
      String(docKeys.length),
      String(compare.length),
      String(success.length),
      String(failure.length),
      String(replay.windowMs),
      ...members,
      ...compareArgs,
      ...successArgs,
      ...failureArgs,
    ],
  };
}
