/**
 * The resource side of the compiled index: all rules of one effect for one action of one role,
 * keyed by path so a check costs a few hash lookups instead of a scan of the rules.
 *
 * - `exact`: instance patterns (`tasks/123`) in a hash map keyed by the whole path, one lookup;
 * - `deep`: `prefix/**` patterns (and types: `tasks` = `tasks/**`) keyed by the prefix; a check
 *   looks up only the prefix lengths that occur (`deepDepths` bit mask), usually one;
 * - `all`: the `**` pattern;
 * - `trie`: only patterns with a `*` segment, walked segment by segment with a wildcard child.
 * Segment-exact matching is structural: keys are whole segments or whole prefixes, so `tasks/1`
 * can never match `tasks/10`.
 */
import { evaluateCondition, type Condition, type ConditionContext } from '../model/condition.js';

/** All rules ending at one place: `always` if one of them is unconditional, else their conditions. */
export interface RuleEntry {
  always: boolean;
  conditions: Condition[] | null;
}

/** How conditions decide: an allow applies only if its condition is true; a deny unless it is false (fail closed). */
export type Mode = typeof ALLOW | typeof DENY;
/** Evaluate as allow rules. */
export const ALLOW = 0;
/** Evaluate as deny rules. */
export const DENY = 1;

interface TrieNode {
  literal: Map<string, TrieNode> | null;
  star: TrieNode | null;
  end: RuleEntry | null;
  deep: RuleEntry | null;
}

const newNode = (): TrieNode => ({ literal: null, star: null, end: null, deep: null });

function addTo(entry: RuleEntry | null, condition: Condition | undefined): RuleEntry {
  const e = entry ?? { always: false, conditions: null };
  if (condition === undefined) e.always = true;
  else (e.conditions ??= []).push(condition);
  return e;
}

/** Tests one entry against the subject. */
function applies(entry: RuleEntry, mode: Mode, ctx: ConditionContext): boolean {
  if (entry.always) return true;
  const conditions = entry.conditions;
  if (conditions === null) return false;
  for (let i = 0; i < conditions.length; i++) {
    const truth = evaluateCondition(conditions[i]!, ctx);
    if (mode === ALLOW ? truth === 1 : truth !== 0) return true;
  }
  return false;
}

/** Rules of one effect for one action, indexed by resource pattern. */
export class PathIndex {
  #all: RuleEntry | null = null;
  #exact: Map<string, RuleEntry> | null = null;
  #deep: Map<string, RuleEntry> | null = null;
  // Bit d-1 set: some deep pattern has a prefix of d segments (d <= 32).
  #deepDepths = 0;
  #trie: TrieNode | null = null;
  #size = 0;

  /** Number of rules added. */
  get size(): number {
    return this.#size;
  }

  /** Adds a rule with a canonical pattern (already validated). */
  add(pattern: string, condition: Condition | undefined): void {
    this.#size += 1;
    if (pattern === '**') {
      this.#all = addTo(this.#all, condition);
      return;
    }
    const segments = pattern.split('/');
    if (segments.includes('*')) {
      this.#addWildcard(segments, condition);
      return;
    }
    if (segments[segments.length - 1] === '**') {
      const prefix = pattern.slice(0, pattern.length - 3);
      const map = (this.#deep ??= new Map());
      map.set(prefix, addTo(map.get(prefix) ?? null, condition));
      this.#deepDepths |= 1 << (segments.length - 2);
      return;
    }
    const map = (this.#exact ??= new Map());
    map.set(pattern, addTo(map.get(pattern) ?? null, condition));
  }

  #addWildcard(segments: readonly string[], condition: Condition | undefined): void {
    let node = (this.#trie ??= newNode());
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i]!;
      if (segment === '**') {
        node.deep = addTo(node.deep, condition);
        return;
      }
      if (segment === '*') {
        node = node.star ??= newNode();
      } else {
        const literal = (node.literal ??= new Map());
        let next = literal.get(segment);
        if (!next) literal.set(segment, (next = newNode()));
        node = next;
      }
    }
    node.end = addTo(node.end, condition);
  }

  /** Whether any rule of this index matches the subject's path (and its condition holds in `mode`). */
  matches(ctx: ConditionContext, mode: Mode): boolean {
    if (this.#all !== null && applies(this.#all, mode, ctx)) return true;
    const path = ctx.path;
    if (this.#exact !== null) {
      const e = this.#exact.get(path);
      if (e !== undefined && applies(e, mode, ctx)) return true;
    }
    const ends = ctx.ends;
    if (this.#deep !== null) {
      let depths = this.#deepDepths;
      const n = ends.length;
      for (let d = 1; depths !== 0 && d <= n; d++, depths >>>= 1) {
        if ((depths & 1) === 0) continue;
        const e = this.#deep.get(d === n ? path : path.slice(0, ends[d - 1]));
        if (e !== undefined && applies(e, mode, ctx)) return true;
      }
    }
    return this.#trie !== null && walk(this.#trie, 0, 0, ctx, mode);
  }
}

function walk(node: TrieNode, depth: number, start: number, ctx: ConditionContext, mode: Mode): boolean {
  if (node.deep !== null && applies(node.deep, mode, ctx)) return true;
  const ends = ctx.ends;
  if (depth === ends.length) return node.end !== null && applies(node.end, mode, ctx);
  const end = ends[depth]!;
  if (node.literal !== null) {
    const next = node.literal.get(ctx.path.slice(start, end));
    if (next !== undefined && walk(next, depth + 1, end + 1, ctx, mode)) return true;
  }
  return node.star !== null && walk(node.star, depth + 1, end + 1, ctx, mode);
}
