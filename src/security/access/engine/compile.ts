/**
 * Compiles the raw policy into indexes so that a check never scans grants:
 *
 *   scope (templates | tenant) → action → path index → entry → holder roles
 *   tenant → user → role closure per scope (+ the user's own direct-grant index)
 *
 * - Rules are indexed once per scope, with the number of the role holding them; template rules
 *   once for all tenants (no copy per tenant).
 * - Each user's bound roles are expanded into their transitive closure once (inheritance is a DAG,
 *   so the closure is a plain union); users bound to the same roles share one closure.
 * - Action wildcards (`*`, `ns:*`) are merged into each concrete action's index at compile time,
 *   so a check does one hash lookup for the action.
 * A check is then: user lookup, per scope one action lookup and a few path-key lookups, and a
 * holder ∩ closure test per matching key. Memory is linear in the rules plus one closure per
 * distinct set of bound roles.
 */
import { ACTION_PATTERN } from '../model/action.js';
import type { GrantRecord, RoleRecord, RuleBody } from '../model/records.js';
import { TEMPLATE_SCOPE } from '../model/records.js';
import type { PolicyState } from '../model/state.js';
import { ValidationError } from '../../../core/errors.js';
import { PathIndex, type RoleIds } from './path-index.js';
import { indexIn, sliceOf } from '../internal/strings.js';

/** One scope's rules, by concrete action (wildcard-action rules merged in). */
export class ScopeIndex {
  readonly #concrete = new Map<string, PathIndex>();
  // `ns:*` keys (merged with `*`), for concrete actions that no rule names exactly.
  readonly #namespaces = new Map<string, PathIndex>();
  readonly #star: PathIndex | null;
  // The answers of `resolve`, by action, for actions already validated: one hash probe then both
  // validates the action and finds its index, where `assertAction` + `lookup` take two (a check's
  // cost is mostly hash probes). Bounded by RESOLVED_LIMIT; past it `resolve` answers without
  // remembering.
  readonly #resolved = new Map<string, PathIndex | null>();

  /** Indexes `rules`, each held by a role number. */
  constructor(rules: Iterable<{ readonly rule: RuleBody; readonly role: number }>) {
    const byKey = new Map<string, { rule: RuleBody; role: number }[]>();
    for (const r of rules) {
      let list = byKey.get(r.rule.action);
      if (!list) byKey.set(r.rule.action, (list = []));
      list.push(r);
    }
    const build = (sources: readonly string[]): PathIndex | null => {
      let index: PathIndex | null = null;
      for (const source of sources) {
        for (const { rule, role } of byKey.get(source) ?? []) {
          (index ??= new PathIndex()).add(rule.resource, role, rule.effect === 'deny', rule.condition);
        }
      }
      return index;
    };
    for (const key of byKey.keys()) {
      if (key === '*') continue;
      if (key.endsWith(':*')) {
        this.#namespaces.set(key, build([key, '*'])!);
      } else {
        const colon = key.indexOf(':');
        this.#concrete.set(key, build(colon < 0 ? [key, '*'] : [key, `${key.slice(0, colon)}:*`, '*'])!);
      }
    }
    this.#star = build(['*']);
  }

  /**
   * The index deciding `action`, or `null` when no rule covers it, validating `action` on the way.
   * @throws `VALIDATION_FAILED` unless `action` is a concrete action
   */
  resolve(action: unknown): PathIndex | null {
    const known = this.#resolved.get(action as string);
    if (known !== undefined) return known;
    assertAction(action);
    const index = this.lookup(action);
    if (this.#resolved.size < RESOLVED_LIMIT) this.#resolved.set(action, index);
    return index;
  }

  /** The index deciding `action` (a validated concrete action), or `null` when no rule covers it. */
  lookup(action: string): PathIndex | null {
    const index = this.#concrete.get(action);
    if (index !== undefined) return index;
    if (this.#namespaces.size > 0) {
      const colon = indexIn(action, ':', 0);
      if (colon > 0) {
        const ns = this.#namespaces.get(`${sliceOf(action, 0, colon)}:*`);
        if (ns !== undefined) return ns;
      }
    }
    return this.#star;
  }
}

// Actions one ScopeIndex remembers resolving: more than an application names, and at most 64
// short strings per index.
const RESOLVED_LIMIT = 64;

// Bounded so that a stream of distinct (valid) action names cannot grow memory without limit.
const KNOWN_ACTIONS_LIMIT = 4096;
const knownActions = new Set<string>();

/** Throws `VALIDATION_FAILED` unless `action` is a concrete action; remembers valid ones so the check stays O(1). */
export function assertAction(action: unknown): asserts action is string {
  if (typeof action === 'string' && knownActions.has(action)) return;
  if (typeof action !== 'string' || !ACTION_PATTERN.test(action)) {
    const message = 'must be a name like "read" or "tasks:assign" (no wildcards in a check)';
    throw new ValidationError(`invalid action: ${message}`, [{ path: ['action'], message, code: 'custom' }]);
  }
  if (knownActions.size < KNOWN_ACTIONS_LIMIT) knownActions.add(action);
}

/** The role closure of a user direct-grant index: its only holder is role 0. */
export const DIRECT_ROLES: RoleIds = Object.freeze({ set: new Set([0]), list: Object.freeze([0]) });

/** What one user has in one tenant. */
export interface UserEntry {
  /** Closure of the user's live bindings among the templates, or `null`. */
  readonly templates: RoleIds | null;
  /** Closure of the user's live bindings among the tenant's own roles, or `null`. */
  readonly own: RoleIds | null;
  /** The user's direct grants (holder 0), or `null`. */
  readonly direct: ScopeIndex | null;
  /**
   * Every rule the user holds (roles' closure and direct grants) merged into one index with
   * holder 0, when they are few; then the fields above are not consulted.
   */
  readonly merged: ScopeIndex | null;
}

/** One tenant's compiled policy. */
export interface TenantIndex {
  readonly users: ReadonlyMap<string, UserEntry>;
  /** Rules of the tenant's own roles. */
  readonly own: ScopeIndex | null;
  /** Rules of the templates (shared by every tenant). */
  readonly templates: ScopeIndex | null;
}

/** Default of the merge limit: a merged index of this many rules costs a few kilobytes per distinct role set. */
export const DEFAULT_MERGE_LIMIT = 64;
// Most rule entries all merged indexes of one tenant may hold together; past it, users share the per-scope indexes.
const MERGE_BUDGET = 1_000_000;

const EMPTY_TENANT: TenantIndex = Object.freeze({ users: new Map(), own: null, templates: null });

interface CompiledScope {
  readonly index: ScopeIndex | null;
  readonly numbers: ReadonlyMap<RoleRecord, number>;
}

function compileScope(state: PolicyState, scope: string): CompiledScope {
  const numbers = new Map<RoleRecord, number>();
  const s = state.get(scope);
  if (!s) return { index: null, numbers };
  const rules: { rule: GrantRecord; role: number }[] = [];
  for (const role of s.roles.values()) {
    const n = numbers.size;
    numbers.set(role, n);
    for (const grant of s.roleGrants.get(role.name)?.values() ?? []) if (state.isLiveGrant(grant)) rules.push({ rule: grant, role: n });
  }
  return { index: rules.length === 0 ? null : new ScopeIndex(rules), numbers };
}

function toRoleIds(ids: readonly number[]): RoleIds | null {
  return ids.length === 0 ? null : { set: new Set(ids), list: ids };
}

/**
 * Compiles tenants on demand and caches them; the templates are compiled once for all tenants.
 * Call `invalidate` when a scope's records change.
 */
export class PolicyCompiler {
  readonly #state: PolicyState;
  readonly #mergeLimit: number;
  readonly #tenants = new Map<string, TenantIndex>();
  #templates: CompiledScope | null = null;
  // The tenant `cached` found last: checks usually come in runs for one tenant, and comparing the
  // id with the last one is cheaper than a hash probe. Cleared by every `invalidate`.
  #lastTenant: string | null = null;
  #lastIndex: TenantIndex | undefined = undefined;

  /** `mergeLimit`: users holding at most this many rules get a private merged index (0: never). */
  constructor(state: PolicyState, mergeLimit = DEFAULT_MERGE_LIMIT) {
    this.#state = state;
    this.#mergeLimit = mergeLimit;
  }

  /** Drops compiled data depending on `scope`: a template change invalidates every tenant. */
  invalidate(scope: string): void {
    this.#lastTenant = null;
    this.#lastIndex = undefined;
    if (scope === TEMPLATE_SCOPE) {
      this.#tenants.clear();
      this.#templates = null;
    } else {
      this.#tenants.delete(scope);
    }
  }

  /** The tenant's compiled index if it is compiled and current (a cache hit also proves the id valid). */
  cached(tenant: string): TenantIndex | undefined {
    if (tenant === this.#lastTenant) return this.#lastIndex;
    const index = this.#tenants.get(tenant);
    if (index !== undefined) {
      this.#lastTenant = tenant;
      this.#lastIndex = index;
    }
    return index;
  }

  /**
   * The tenant's compiled index. A tenant without records compiles to an empty index that is not
   * cached, so checks naming arbitrary tenants cannot grow memory.
   */
  tenant(tenant: string): TenantIndex {
    const cached = this.#tenants.get(tenant);
    if (cached !== undefined) return cached;
    if (this.#state.get(tenant) === undefined) return EMPTY_TENANT;
    const compiled = this.#compile(tenant);
    this.#tenants.set(tenant, compiled);
    return compiled;
  }

  #compile(tenant: string): TenantIndex {
    const state = this.#state;
    const scope = state.get(tenant)!;
    const templates = (this.#templates ??= compileScope(state, TEMPLATE_SCOPE));
    const own = compileScope(state, tenant);
    const closures = new Map<RoleRecord, readonly RoleRecord[]>();
    const closureOf = (role: RoleRecord): readonly RoleRecord[] => {
      const cached = closures.get(role);
      if (cached) return cached;
      const seen = new Set<RoleRecord>([role]);
      const stack = [role];
      while (stack.length > 0) {
        const current = stack.pop()!;
        for (const parent of current.inherits) {
          const p = state.resolveRole(current.scope, parent);
          if (p && !seen.has(p)) {
            seen.add(p);
            stack.push(p);
          }
        }
      }
      const result = [...seen];
      closures.set(role, result);
      return result;
    };
    // Users whose roles hold few rules get one merged index of exactly their rules (holder 0):
    // a single probe, no holder intersection. Everyone else probes the shared per-scope indexes.
    let budget = MERGE_BUDGET;
    const liveGrants = (role: RoleRecord): GrantRecord[] =>
      [...(state.get(role.scope)?.roleGrants.get(role.name)?.values() ?? [])].filter((g) => state.isLiveGrant(g));
    const merge = (rules: readonly GrantRecord[]): ScopeIndex | null => {
      if (rules.length > this.#mergeLimit || rules.length > budget) return null;
      budget -= rules.length;
      return new ScopeIndex(rules.map((rule) => ({ rule, role: 0 })));
    };
    interface RoleSet {
      readonly templates: RoleIds | null;
      readonly own: RoleIds | null;
      readonly closure: readonly RoleRecord[];
      readonly ruleCount: number;
      merged: ScopeIndex | null | undefined;
    }
    const roleSets = new Map<string, RoleSet>();
    const setOf = new Map<string, RoleSet>();
    for (const [user, bindings] of scope.bindings) {
      const bound: RoleRecord[] = [];
      for (const binding of bindings.values()) {
        const role = state.resolveRole(tenant, binding.role);
        if (role && role.gen === binding.gen) bound.push(role);
      }
      if (bound.length === 0) continue;
      const key = bound
        .map((r) => r.name)
        .sort()
        .join('\n');
      let set = roleSets.get(key);
      if (!set) {
        const tpl: number[] = [];
        const mine: number[] = [];
        const seen = new Set<RoleRecord>();
        let ruleCount = 0;
        for (const r of bound) {
          for (const c of closureOf(r)) {
            if (seen.has(c)) continue;
            seen.add(c);
            ruleCount += state.get(c.scope)?.roleGrants.get(c.name)?.size ?? 0;
            if (c.scope === TEMPLATE_SCOPE) tpl.push(templates.numbers.get(c)!);
            else mine.push(own.numbers.get(c)!);
          }
        }
        set = { templates: toRoleIds(tpl), own: toRoleIds(mine), closure: [...seen], ruleCount, merged: undefined };
        roleSets.set(key, set);
      }
      setOf.set(user, set);
    }
    const users = new Map<string, UserEntry>();
    for (const [user, set] of setOf) {
      if (scope.userGrants.has(user)) continue;
      if (set.merged === undefined) set.merged = set.ruleCount <= this.#mergeLimit ? merge(set.closure.flatMap(liveGrants)) : null;
      users.set(user, { templates: set.templates, own: set.own, direct: null, merged: set.merged });
    }
    for (const [user, grants] of scope.userGrants) {
      if (grants.size === 0) continue;
      const set = setOf.get(user);
      const direct = [...grants.values()];
      const merged = (set?.ruleCount ?? 0) + direct.length <= this.#mergeLimit ? merge([...(set?.closure.flatMap(liveGrants) ?? []), ...direct]) : null;
      users.set(user, {
        templates: set?.templates ?? null,
        own: set?.own ?? null,
        direct: merged === null ? new ScopeIndex(direct.map((rule) => ({ rule, role: 0 }))) : null,
        merged,
      });
    }
    return { users, own: own.index, templates: templates.index };
  }
}
