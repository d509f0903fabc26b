import { describe, expect, it } from 'vitest';
import { AdapterUnavailableError, ConflictError } from '../../../src/core/errors.js';
import type { ClaimedTask, ClaimResult } from '../../../src/adapters/queue.js';
import { claimRecovering, LostClaims } from '../../../src/adapters/internal/lost-claims.js';
import { makeClaimed } from '../../../src/adapters/internal/queue-records.js';

const task = (id: string, token: string): ClaimedTask =>
  makeClaimed({
    id,
    tenantId: 'acme',
    type: 'job',
    ownerId: null,
    payload: 'null',
    band: 2,
    curBand: 2,
    priority: 0,
    cost: 1,
    opts: '',
    attempt: 1,
    maxAttempts: 3,
    createdAt: 0,
    readyAt: 0,
    token,
    workerId: 'w1',
    expiresAt: 60_000,
  });

/** A backend double: records what it was asked, answers from scripts. */
function backend(options: { recover?: ClaimedTask[]; claimFails?: Error } = {}) {
  const calls: { recover: (readonly (readonly string[])[])[]; claim: { limit: number; tokens: string[] }[] } = { recover: [], claim: [] };
  return {
    calls,
    recover: async (claims: readonly (readonly string[])[], limit: number): Promise<ClaimedTask[]> => {
      calls.recover.push(claims);
      return (options.recover ?? []).slice(0, limit);
    },
    claim: async (limit: number, tokens: string[]): Promise<ClaimResult> => {
      calls.claim.push({ limit, tokens });
      if (options.claimFails) throw options.claimFails;
      return { tasks: tokens.slice(0, 1).map((t) => task(`new-${t.slice(0, 4)}`, t)), reaped: [], nextInMs: null };
    },
  };
}

describe('claimRecovering', () => {
  it('claims with `limit` fresh tokens and asks for no recovery while nothing is in doubt', async () => {
    const lost = new LostClaims();
    const b = backend();
    const result = await claimRecovering(lost, { workerId: 'w1', limit: 3, leaseMs: 60_000 }, b.recover, b.claim);
    expect(b.calls.recover).toEqual([]);
    expect(b.calls.claim).toHaveLength(1);
    expect(b.calls.claim[0]!.limit).toBe(3);
    expect(new Set(b.calls.claim[0]!.tokens).size).toBe(3);
    expect(result.tasks).toHaveLength(1);
  });

  it('remembers the tokens of a claim that failed with ADAPTER_UNAVAILABLE, per worker, and only then', async () => {
    const lost = new LostClaims();
    await expect(claimRecovering(lost, { workerId: 'w1', limit: 2, leaseMs: 60_000 }, backend().recover, backend({ claimFails: new AdapterUnavailableError('down') }).claim)).rejects.toMatchObject({
      code: 'ADAPTER_UNAVAILABLE',
    });
    expect(lost.claims('w1')).toHaveLength(1);
    expect(lost.claims('w1')![0]).toHaveLength(2);
    expect(lost.claims('w2')).toBeUndefined();
    // Any other failure means the claim did not run: nothing to take back.
    await expect(claimRecovering(lost, { workerId: 'w3', limit: 2, leaseMs: 60_000 }, backend().recover, backend({ claimFails: new ConflictError('no') }).claim)).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(lost.claims('w3')).toBeUndefined();
  });

  it('takes back the tasks in doubt first, then claims only the rest of the limit, and forgets the doubt', async () => {
    const lost = new LostClaims();
    lost.add('w1', ['a1', 'a2'], 60_000);
    lost.add('w1', ['b1'], 60_000);
    const b = backend({ recover: [task('t1', 'a1'), task('t2', 'b1')] });
    const result = await claimRecovering(lost, { workerId: 'w1', limit: 5, leaseMs: 60_000 }, b.recover, b.claim);
    expect(b.calls.recover).toEqual([[['a1', 'a2'], ['b1']]]);
    expect(b.calls.claim[0]!.limit).toBe(3);
    expect(result.tasks.map((t) => t.id).slice(0, 2)).toEqual(['t1', 't2']);
    expect(result.tasks).toHaveLength(3);
    expect(lost.claims('w1')).toBeUndefined();
  });

  it('does not claim when the tasks taken back fill the limit', async () => {
    const lost = new LostClaims();
    lost.add('w1', ['a1', 'a2'], 60_000);
    const b = backend({ recover: [task('t1', 'a1'), task('t2', 'a2')] });
    const result = await claimRecovering(lost, { workerId: 'w1', limit: 2, leaseMs: 60_000 }, b.recover, b.claim);
    expect(b.calls.claim).toEqual([]);
    expect(result).toEqual({ tasks: expect.any(Array), reaped: [], nextInMs: 0 });
    expect(result.tasks).toHaveLength(2);
  });

  it('never drops tasks taken back: when the claim after them fails, they come back as a short claim', async () => {
    const lost = new LostClaims();
    lost.add('w1', ['a1'], 60_000);
    const b = backend({ recover: [task('t1', 'a1')], claimFails: new AdapterUnavailableError('down again') });
    const result = await claimRecovering(lost, { workerId: 'w1', limit: 4, leaseMs: 60_000 }, b.recover, b.claim);
    expect(result.tasks.map((t) => t.id)).toEqual(['t1']);
    expect(result.nextInMs).toBe(0);
    // The failed claim is in doubt now, the recovered one is not.
    expect(lost.claims('w1')).toEqual([b.calls.claim[0]!.tokens]);
  });

  it('forgets claims whose leases have run out: their tasks are delivered again anyway', () => {
    const lost = new LostClaims();
    lost.add('w1', ['old'], 1_000, 0);
    lost.add('w1', ['new'], 1_000, 500);
    expect(lost.claims('w1', 999)).toEqual([['old'], ['new']]);
    expect(lost.claims('w1', 1_200)).toEqual([['new']]);
    expect(lost.claims('w1', 1_500)).toBeUndefined();
  });

  it('keeps the doubt when the recovery itself fails', async () => {
    const lost = new LostClaims();
    lost.add('w1', ['a1'], 60_000);
    const failing = async (): Promise<ClaimedTask[]> => {
      throw new AdapterUnavailableError('still down');
    };
    await expect(claimRecovering(lost, { workerId: 'w1', limit: 4, leaseMs: 60_000 }, failing, backend().claim)).rejects.toMatchObject({ code: 'ADAPTER_UNAVAILABLE' });
    expect(lost.claims('w1')).toEqual([['a1']]);
  });
});
