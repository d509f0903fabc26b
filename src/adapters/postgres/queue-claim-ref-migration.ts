import { QUEUE_TIME_RULES_CLAIM_SQL } from './queue-time-rules-migration.js';
import { replaceEach } from './sql-edit.js';

/**
 * Migration 14: a claim whose reply was lost gives back its assigned tasks too. The next claim
 * of the same worker takes back the tasks of a claim it never heard from, found by the lease
 * tokens that claim sent (see `LostClaims`). A task an operator assigned keeps the assignment's
 * token when the claim starts it, so it was not found: it sat leased to a worker that never saw
 * it until the lease ran out, which spent an attempt (with one attempt, it went dead without
 * having run). Found by the workers' random runs with outages
 * (test/integration/tasks-worker-sequences.test.ts).
 *
 * The claim now marks the assigned tasks it starts with its first lease token (`claim_ref`),
 * which names the claim, and clears the mark on the tasks its fair picks start, so a mark never
 * outlives its delivery. A nullable column without a default: adding it rewrites nothing, and
 * the fair picks store no more than a null bit.
 */
const CLAIM = replaceEach(QUEUE_TIME_RULES_CLAIM_SQL, [
  [
    `       SET state = 'running', lease_expires_at = v_now + p_lease_ms, updated_at = v_now,\n`,
    `       SET state = 'running', lease_expires_at = v_now + p_lease_ms, updated_at = v_now, claim_ref = p_tokens[1],\n`,
  ],
  [
    `             lease_expires_at = v_now + p_lease_ms, updated_at = v_now,\n`,
    `             lease_expires_at = v_now + p_lease_ms, updated_at = v_now, claim_ref = NULL,\n`,
  ],
]);

/** Migration 14's SQL: the column, and the claim above with migration 10's `SET jit = off` restated. */
export const QUEUE_CLAIM_REF_SQL = [
  'ALTER TABLE {{schema}}.queue_tasks ADD COLUMN claim_ref text;',
  CLAIM,
  'ALTER FUNCTION {{schema}}.queue_claim(text, text, integer, bigint, text[], text) SET jit = off;',
].join('\n');
