import { QUEUE_CLAIM_FUNCTION_SQL } from './queue-claim-function.js';

/**
 * Migration 9: migration 6's claim without its work in tenants × tenants. Migration 6 turned hash
 * and merge joins off inside the claim (see queue-claim-function.ts), which left PostgreSQL one way
 * to join the allotment back to the candidate tenants for their start tags and weights: a nested
 * loop over both. At 10 tenants that is nothing; at 500 tenants with a claim of 500 it was 8 of
 * the band statement's 19 ms (EXPLAIN ANALYZE after VACUUM ANALYZE, scratch). The allotment now
 * carries each tenant's start tag and weight itself, so no join is left; and the water level is
 * materialized (below).
 *
 * Written as a checked edit of migration 6's text rather than a second copy of its 250 lines: each
 * replacement must match exactly once, or loading this module throws, so the edit cannot silently
 * miss. Everything else in the function is migration 6's, verbatim.
 */
export const QUEUE_CLAIM_TENANTS_SQL = replaceEach(QUEUE_CLAIM_FUNCTION_SQL, [
  // The water level is one aggregate over the candidates. Inlined, a plan made without statistics
  // (one candidate expected) recomputed it for each candidate: tenants × tenants again (27 ms at
  // 500 tenants, scratch). Materialized, it is computed once.
  ['), level AS (\n', '), level AS MATERIALIZED (\n'],
  [
    'SELECT b.tenant, b.s + (g.i - 1) * b.lc / b.w AS tag\n',
    "SELECT b.tenant, b.s + (g.i - 1) * b.lc / b.w AS tag, b.s, b.w\n",
  ],
  [
    'SELECT sl.tenant, count(*)::integer AS k FROM slots sl GROUP BY sl.tenant\n',
    'SELECT sl.tenant, sl.s, sl.w, count(*)::integer AS k FROM slots sl GROUP BY sl.tenant, sl.s, sl.w\n',
  ],
  [
    `      -- Each pick carries its tenant's start tag and weight, so tagging needs no join.
      SELECT p.id, row_number() OVER () AS rn, c.s, c.w
        FROM alloc a JOIN cand c ON c.tenant = a.tenant CROSS JOIN LATERAL (`,
    `      -- Each pick carries its tenant's start tag and weight (from the allotment), so neither
      -- picking nor tagging joins back to the candidates.
      SELECT p.id, row_number() OVER () AS rn, a.s, a.w
        FROM alloc a CROSS JOIN LATERAL (`,
  ],
]);

/** `text` with each `[from, to]` applied in turn; each `from` must occur exactly once. */
function replaceEach(text: string, edits: readonly (readonly [string, string])[]): string {
  let out = text;
  for (const [from, to] of edits) {
    const at = out.indexOf(from);
    if (at < 0 || out.indexOf(from, at + 1) >= 0) throw new Error(`migration 9: expected exactly one occurrence of ${JSON.stringify(from.slice(0, 60))}`);
    out = out.slice(0, at) + to + out.slice(at + from.length);
  }
  return out;
}
