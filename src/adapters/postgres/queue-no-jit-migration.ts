/**
 * Migration 10: the queue functions never JIT-compile. PostgreSQL compiles a statement with LLVM
 * when its estimated cost passes `jit_above_cost` (100 000 by default; on in the Debian and most
 * packaged servers), and it compiles again at every execution. The claim's band statement runs
 * with a generic plan (migration 6), whose row estimates grow with the task table: its cost was
 * ~89 000 at 50 000 waiting tasks with planner statistics, so past about 55 000 every claim spent
 * ~55 ms compiling a statement that runs in ~9 ms. A claim of 500 took 61–69 ms instead of
 * 10–11 ms at 100 000 and at 200 000 waiting tasks, and ~940 ms at 500 000, where the cost also
 * passed `jit_optimize_above_cost` (scratch and `bench/tasks` backlog section, after VACUUM
 * ANALYZE).
 *
 * The queue's statements are short index-driven steps: none runs long enough for compiled
 * expressions to pay back the compile. So JIT is off for every function the adapter calls that
 * reads more than one row. A function's SET applies to everything it calls, so the helpers need
 * none; `queue_config`, a primary-key lookup that every one of them calls, keeps its calls free of
 * the setting's save and restore. Operators' own statements, and `queue_counts_rebuild()` (a
 * recount that reads the whole table), keep the server's setting. A later migration that replaces
 * one of these functions must restate `SET jit = off` (`CREATE OR REPLACE` replaces the settings
 * too); the integration suite checks it. Placeholders as in the other migrations.
 */
export const QUEUE_NO_JIT_SQL = /* sql */ `
ALTER FUNCTION {{schema}}.queue_enqueue(text, text, boolean, uuid[], text[], text[], text[], text[], smallint[], smallint[],
                                        double precision[], text[], integer[], text[], bigint[], bigint[]) SET jit = off;
ALTER FUNCTION {{schema}}.queue_claim(text, text, integer, bigint, text[], text) SET jit = off;
ALTER FUNCTION {{schema}}.queue_complete(text, text, uuid[], text[], text[]) SET jit = off;
ALTER FUNCTION {{schema}}.queue_fail(text, text, uuid, text, text, bigint, boolean) SET jit = off;
ALTER FUNCTION {{schema}}.queue_release(text, text, uuid, text, bigint) SET jit = off;
ALTER FUNCTION {{schema}}.queue_extend(text, uuid, text, bigint, text) SET jit = off;
ALTER FUNCTION {{schema}}.queue_assign(text, text, uuid, text, bigint, text) SET jit = off;
ALTER FUNCTION {{schema}}.queue_cancel(text, text, uuid, boolean) SET jit = off;
ALTER FUNCTION {{schema}}.queue_maintain(text, text, integer) SET jit = off;
ALTER FUNCTION {{schema}}.queue_stats(text) SET jit = off;
ALTER FUNCTION {{schema}}.queue_stats_shared(text, bigint) SET jit = off;
ALTER FUNCTION {{schema}}.queue_configure(text, text, boolean, integer, boolean, bigint, bigint, boolean, bigint) SET jit = off;
ALTER FUNCTION {{schema}}.queue_set_tenant(text, text, text, double precision, boolean, integer, boolean, double precision, integer) SET jit = off;
`;

/**
 * The functions migration 10 turns JIT off for: every queue function the PostgreSQL queue
 * adapter calls. The integration suite holds the schema to it.
 */
export const QUEUE_ENTRY_FUNCTIONS: readonly string[] = Object.freeze([
  'queue_enqueue',
  'queue_claim',
  'queue_complete',
  'queue_fail',
  'queue_release',
  'queue_extend',
  'queue_assign',
  'queue_cancel',
  'queue_maintain',
  'queue_stats',
  'queue_stats_shared',
  'queue_configure',
  'queue_set_tenant',
]);
