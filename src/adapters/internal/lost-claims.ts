import { hasErrorCode } from '../../core/errors.js';
import type { ClaimedTask, ClaimResult } from '../queue.js';

/**
 * Claims whose outcome a handle never learned, so the next claim of the same worker can take
 * their tasks back. A claim that fails with `ADAPTER_UNAVAILABLE` may have run on the server with
 * only its reply lost: its tasks are then leased to the worker, which never saw them, and would
 * sit idle until the lease ran out. Lease tokens are chosen by the handle, so the handle knows
 * which leases to ask for. Per handle, in memory: a process that dies loses this, and the leases
 * run out as before.
 */
export class LostClaims {
  readonly #byWorker = new Map<string, { readonly tokens: readonly string[]; readonly until: number }[]>();

  /**
   * The worker's claims in doubt whose leases may still hold (each the lease tokens it sent, in
   * order), or undefined. Older ones are forgotten: their leases ran out, so their tasks are
   * delivered again anyway, and a long outage does not pile up tokens.
   */
  claims(workerId: string, now = Date.now()): readonly (readonly string[])[] | undefined {
    const known = this.#byWorker.get(workerId)?.filter((c) => c.until > now);
    if (known === undefined || known.length === 0) {
      this.#byWorker.delete(workerId);
      return undefined;
    }
    this.#byWorker.set(workerId, known);
    return known.map((c) => c.tokens);
  }

  /** Records a claim in doubt, whose leases (of `leaseMs`) cannot outlast `now + leaseMs`. */
  add(workerId: string, tokens: readonly string[], leaseMs: number, now = Date.now()): void {
    const entry = { tokens: [...tokens], until: now + leaseMs };
    const known = this.#byWorker.get(workerId);
    if (known === undefined) this.#byWorker.set(workerId, [entry]);
    else known.push(entry);
  }

  /** The worker's claims in doubt were settled. */
  clear(workerId: string): void {
    this.#byWorker.delete(workerId);
  }
}

/**
 * A claim that first takes back the tasks of the worker's claims in doubt (at most `limit`, their
 * leases renewed; any beyond wait for their lease as before), then claims new ones for the rest of
 * `limit` with fresh tokens, and remembers those if that claim fails with `ADAPTER_UNAVAILABLE`.
 * Tasks taken back are never dropped: when the new claim fails after them, they are returned as a
 * short claim and the failure surfaces on the next call.
 */
export async function claimRecovering(
  lost: LostClaims,
  { workerId, limit, leaseMs }: { readonly workerId: string; readonly limit: number; readonly leaseMs: number },
  recover: (claims: readonly (readonly string[])[], limit: number) => Promise<ClaimedTask[]>,
  claim: (limit: number, tokens: string[]) => Promise<ClaimResult>,
): Promise<ClaimResult> {
  let recovered: ClaimedTask[] = [];
  const doubtful = lost.claims(workerId);
  if (doubtful !== undefined) {
    recovered = await recover(doubtful, limit);
    lost.clear(workerId);
  }
  const want = limit - recovered.length;
  if (want <= 0) return { tasks: recovered, reaped: [], nextInMs: 0 };
  const tokens = Array.from({ length: want }, () => globalThis.crypto.randomUUID());
  try {
    const result = await claim(want, tokens);
    return recovered.length === 0 ? result : { ...result, tasks: [...recovered, ...result.tasks] };
  } catch (err) {
    if (hasErrorCode(err, 'ADAPTER_UNAVAILABLE')) lost.add(workerId, tokens, leaseMs);
    if (recovered.length > 0) return { tasks: recovered, reaped: [], nextInMs: 0 };
    throw err;
  }
}
