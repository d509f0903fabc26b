/**
 * Checked edits of migration SQL. A later migration that changes one statement of an earlier
 * function restates the function (CREATE OR REPLACE); cutting it from the earlier migration's text
 * and applying named replacements keeps the restatement to what changed, and each replacement
 * must match exactly once or loading the module throws, so an edit cannot silently miss.
 */

/** One function's definition, cut from a migration's text (up to its closing `$fn$;`), as CREATE OR REPLACE. */
export function functionText(sql: string, name: string): string {
  const head = `CREATE FUNCTION {{schema}}.${name}(`;
  const from = sql.indexOf(head);
  const to = sql.indexOf('\n$fn$;\n', from);
  if (from < 0 || to < 0) throw new Error(`migration SQL: function ${name} not found`);
  return `CREATE OR REPLACE FUNCTION {{schema}}.${name}(${sql.slice(from + head.length, to)}\n$fn$;\n`;
}

/** `text` with each `[from, to]` applied in turn; each `from` must occur exactly once. */
export function replaceEach(text: string, edits: readonly (readonly [string, string])[]): string {
  let out = text;
  for (const [from, to] of edits) {
    const at = out.indexOf(from);
    if (at < 0 || out.indexOf(from, at + 1) >= 0) throw new Error(`migration SQL: expected exactly one occurrence of ${JSON.stringify(from.slice(0, 60))}`);
    out = out.slice(0, at) + to + out.slice(at + from.length);
  }
  return out;
}

/** The part of `text` from `from` through `through` (each must occur exactly once), for an edit that replaces a whole block. */
export function span(text: string, from: string, through: string): string {
  const start = text.indexOf(from);
  const end = text.indexOf(through);
  if (start < 0 || text.indexOf(from, start + 1) >= 0 || end < start || text.indexOf(through, end + 1) >= 0) {
    throw new Error(`migration SQL: expected one block from ${JSON.stringify(from.slice(0, 40))} through ${JSON.stringify(through.slice(0, 40))}`);
  }
  return text.slice(start, end + through.length);
}
