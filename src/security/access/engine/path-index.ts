/**
 * The resource side of the compiled index: every rule of one scope for one action, keyed by path,
 * each entry naming WHICH roles hold it. A check probes a few keys and intersects their holders
 * with the user's (precomputed) role closure, so its cost does not grow with the number of rules,
 * roles or inheritance depth.
 *
 * Keys:
 * - `exact`: instance patterns (`tasks/123`) in a hash map keyed by the whole path: one lookup;
 * - `deep`: `prefix/**` patterns (and types: `tasks` = `tasks/**`) keyed by the prefix; a check
 *   looks up only the prefix lengths that occur (`deepDepths` bit mask), usually one;
 * - `all`: the `**` pattern;
 * - `trie`: only patterns with a `*` segment, walked segment by segment with a wildcard child.
 * Segment-exact matching is structural: keys are whole segments or whole prefixes, so `tasks/1`
 * can never match `tasks/10`.
 */
import { evaluateCondition, type Condition, type ConditionContext } from '../model/condition.js';
import { userAttributesOf, type ResourceView } from '../model/subjects.js';
import { hasPrefix, indexIn, sliceOf } from '../internal/strings.js';

/** A probe's outcome: nothing matched, an allow matched (and no deny so far), or a deny matched. */
export type Verdict = typeof NONE | typeof ALLOW | typeof DENY;
/** No rule applied. */
export const NONE = 0;
/** An allow rule applied. */
export const ALLOW = 1;
/** A deny rule applied (final: deny wins). */
export const DENY = 2;

/** The roles holding one kind of rule at one key. Long lists also get a set, so an intersection costs min(holders, closure). */
interface Holders {
  readonly ids: number[];
  set: Set<number> | null;
}

interface ConditionalRule {
  readonly role: number;
  readonly deny: boolean;
  readonly condition: Condition;
}

/** Everything held at one key. */
interface Entry {
  allow: Holders | null;
  deny: Holders | null;
  conditional: ConditionalRule[] | null;
}

interface TrieNode {
  literal: Map<string, TrieNode> | null;
  star: TrieNode | null;
  end: Entry | null;
  deep: Entry | null;
}

const SET_THRESHOLD = 8;
// Deep prefixes per depth compared in place (see `#fewDeep`).
const FEW = 4;

const newEntry = (): Entry => ({ allow: null, deny: null, conditional: null });
const newNode = (): TrieNode => ({ literal: null, star: null, end: null, deep: null });

function addHolder(holders: Holders | null, role: number): Holders {
  const h = holders ?? { ids: [], set: null };
  if (h.set?.has(role) || (h.set === null && h.ids.includes(role))) return h;
  h.ids.push(role);
  if (h.set !== null) h.set.add(role);
  else if (h.ids.length > SET_THRESHOLD) h.set = new Set(h.ids);
  return h;
}

function intersects(holders: Holders, roles: ReadonlySet<number>, roleList: readonly number[]): boolean {
  const ids = holders.ids;
  if (holders.set === null || ids.length <= roleList.length) {
    for (let i = 0; i < ids.length; i++) if (roles.has(ids[i]!)) return true;
    return false;
  }
  const set = holders.set;
  for (let i = 0; i < roleList.length; i++) if (set.has(roleList[i]!)) return true;
  return false;
}

/** The roles a user holds in one scope (its closure), as a set and a list. */
export interface RoleIds {
  readonly set: ReadonlySet<number>;
  readonly list: readonly number[];
}

/**
 * What applies at one entry. Deny first: an unconditional deny, or a conditional deny whose
 * condition is not false (fail closed). Then an unconditional allow, or a conditional allow whose
 * condition is true. The condition context is built only when a conditional rule is reached, so
 * unconditional checks allocate nothing.
 */
function judge(entry: Entry, roles: RoleIds, res: ResourceView, userId: string, user: unknown): Verdict {
  if (entry.deny !== null && intersects(entry.deny, roles.set, roles.list)) return DENY;
  let verdict: Verdict = NONE;
  const conditional = entry.conditional;
  if (conditional !== null) {
    let ctx: ConditionContext | undefined;
    for (let i = 0; i < conditional.length; i++) {
      const rule = conditional[i]!;
      if (!roles.set.has(rule.role)) continue;
      ctx ??= { userId, userAttributes: userAttributesOf(user), resource: res };
      const truth = evaluateCondition(rule.condition, ctx);
      if (rule.deny) {
        if (truth !== 0) return DENY;
      } else if (truth === 1) {
        verdict = ALLOW;
      }
    }
  }
  if (verdict === NONE && entry.allow !== null && intersects(entry.allow, roles.set, roles.list)) return ALLOW;
  return verdict;
}

/** Rules of one scope for one action, indexed by resource pattern and by holder. */
export class PathIndex {
  #all: Entry | null = null;
  #exact: Map<string, Entry> | null = null;
  #deep: Map<string, Entry> | null = null;
  // Bit d-1 set: some deep pattern has a prefix of d segments (d <= 32).
  #deepDepths = 0;
  // Per depth, the deep prefixes while there are few of them: compared in place with startsWith,
  // which saves cutting (and hashing) a substring per check. `null`: too many, use the map.
  readonly #fewDeep: ({ readonly prefix: string; readonly entry: Entry }[] | null | undefined)[] = [];
  #trie: TrieNode | null = null;
  #hasDeny = false;

  /** Whether any deny rule is indexed (when not, the first allow found is the answer). */
  get hasDeny(): boolean {
    return this.#hasDeny;
  }

  /** Adds a rule with a canonical pattern (already validated), held by role number `role`. */
  add(pattern: string, role: number, deny: boolean, condition: Condition | undefined): void {
    if (deny) this.#hasDeny = true;
    const entry = this.#entryFor(pattern);
    if (condition !== undefined) (entry.conditional ??= []).push({ role, deny, condition });
    else if (deny) entry.deny = addHolder(entry.deny, role);
    else entry.allow = addHolder(entry.allow, role);
  }

  #entryFor(pattern: string): Entry {
    if (pattern === '**') return (this.#all ??= newEntry());
    const segments = pattern.split('/');
    if (segments.includes('*')) return this.#trieEntry(segments);
    let map: Map<string, Entry>;
    let key = pattern;
    const deep = segments[segments.length - 1] === '**';
    if (deep) {
      key = pattern.slice(0, pattern.length - 3);
      map = this.#deep ??= new Map();
      this.#deepDepths |= 1 << (segments.length - 2);
    } else {
      map = this.#exact ??= new Map();
    }
    let entry = map.get(key);
    if (!entry) {
      map.set(key, (entry = newEntry()));
      if (deep) {
        const depth = segments.length - 1;
        const few = this.#fewDeep[depth];
        if (few === undefined) this.#fewDeep[depth] = [{ prefix: key, entry }];
        else if (few !== null) this.#fewDeep[depth] = few.length < FEW ? [...few, { prefix: key, entry }] : null;
      }
    }
    return entry;
  }

  #trieEntry(segments: readonly string[]): Entry {
    let node = (this.#trie ??= newNode());
    for (const segment of segments) {
      if (segment === '**') return (node.deep ??= newEntry());
      if (segment === '*') {
        node = node.star ??= newNode();
      } else {
        const literal = (node.literal ??= new Map());
        let next = literal.get(segment);
        if (!next) literal.set(segment, (next = newNode()));
        node = next;
      }
    }
    return (node.end ??= newEntry());
  }

  /**
   * Every entry matching the subject's path, judged for `roles`: `DENY` as soon as one denies,
   * else `ALLOW` if one allows, else `NONE`. `user` is the (validated) user input whose id is
   * `userId`, read only by conditions. (No closures or allocations here, and string methods go
   * through internal/strings.ts: this runs on every check.)
   */
  probe(res: ResourceView, roles: RoleIds, userId: string, user: unknown): Verdict {
    // Without deny rules the first allow is the answer; with them, every match must be seen.
    const stopOnAllow = !this.#hasDeny;
    // Only NONE or ALLOW accumulate here: a DENY returns at once.
    let verdict: number = NONE;
    if (this.#all !== null) {
      const v = judge(this.#all, roles, res, userId, user);
      if (v === DENY || (v === ALLOW && stopOnAllow)) return v;
      verdict |= v;
    }
    const path = res.path;
    if (this.#exact !== null) {
      const e = this.#exact.get(path);
      if (e !== undefined) {
        const v = judge(e, roles, res, userId, user);
        if (v === DENY || (v === ALLOW && stopOnAllow)) return v;
        verdict |= v;
      }
    }
    if (this.#deep !== null) {
      const n = res.segments;
      let depths = this.#deepDepths;
      // `end`: index just past segment d (a slash, or the end of the path).
      let end = -1;
      for (let d = 1; depths !== 0 && d <= n; d++, depths >>>= 1) {
        end = d === n ? path.length : indexIn(path, '/', end + 1);
        if ((depths & 1) === 0) continue;
        const few = this.#fewDeep[d];
        if (few) {
          for (let i = 0; i < few.length; i++) {
            const { prefix, entry } = few[i]!;
            if (prefix.length !== end || !hasPrefix(path, prefix)) continue;
            const v = judge(entry, roles, res, userId, user);
            if (v === DENY || (v === ALLOW && stopOnAllow)) return v;
            verdict |= v;
          }
          continue;
        }
        const e = this.#deep.get(d === n ? path : sliceOf(path, 0, end));
        if (e !== undefined) {
          const v = judge(e, roles, res, userId, user);
          if (v === DENY || (v === ALLOW && stopOnAllow)) return v;
          verdict |= v;
        }
      }
    }
    if (this.#trie !== null) {
      const v = walk(this.#trie, 0, 0, res, roles, userId, user, stopOnAllow);
      if (v === DENY) return DENY;
      verdict |= v;
    }
    return verdict as Verdict;
  }
}

/** Walks the wildcard trie; returns `DENY` at once, `ALLOW` at once if `stopOnAllow`, else what it saw. */
function walk(node: TrieNode, depth: number, start: number, res: ResourceView, roles: RoleIds, userId: string, user: unknown, stopOnAllow: boolean): Verdict {
  // Only NONE or ALLOW accumulate here: a DENY returns at once.
  let verdict: number = NONE;
  if (node.deep !== null) {
    const v = judge(node.deep, roles, res, userId, user);
    if (v === DENY || (v === ALLOW && stopOnAllow)) return v;
    verdict = v;
  }
  if (depth === res.segments) {
    if (node.end === null) return verdict as Verdict;
    const v = judge(node.end, roles, res, userId, user);
    return v === DENY ? DENY : ((verdict | v) as Verdict);
  }
  const path = res.path;
  const slash = indexIn(path, '/', start);
  const end = slash < 0 ? path.length : slash;
  if (node.literal !== null) {
    const next = node.literal.get(sliceOf(path, start, end));
    if (next !== undefined) {
      const v = walk(next, depth + 1, end + 1, res, roles, userId, user, stopOnAllow);
      if (v === DENY || (v === ALLOW && stopOnAllow)) return v;
      verdict |= v;
    }
  }
  if (node.star !== null) {
    const v = walk(node.star, depth + 1, end + 1, res, roles, userId, user, stopOnAllow);
    if (v === DENY) return DENY;
    verdict |= v;
  }
  return verdict as Verdict;
}
