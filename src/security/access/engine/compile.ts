/**
 * Compiles the raw policy into per-tenant indexes so that a check never scans grants:
 *
 *   tenant → user → (role-set index, direct-grant index) → action → deny/allow path indexes
 *
 * - Each role's OWN rules are indexed once (`RuleIndex`); template roles once for all tenants.
 * - Users bound to the same roles share one `RoleSetIndex`: the transitive closure of their roles
 *   (inheritance is a DAG, so the closure is a plain union) reduced to, per action, the list of
 *   path indexes to consult. Action wildcards (`*`, `ns:*`) are merged into each concrete action's
 *   list at compile time, so a check does one hash lookup for the action.
 * Memory is linear in the rules plus, per distinct role set, one small list per action.
 */
import { ACTION_PATTERN } from '../model/action.js';
import type { GrantRecord, RoleRecord, RuleBody } from '../model/records.js';
import type { PolicyState } from '../model/state.js';
import { ValidationError } from '../../../core/errors.js';
import { PathIndex } from './path-index.js';

/** Allow and deny rules of one action key. */
interface ActionRules {
  allow: PathIndex | null;
  deny: PathIndex | null;
}

/** The path indexes to consult for one action. */
export interface ActionLists {
  readonly deny: readonly PathIndex[];
  readonly allow: readonly PathIndex[];
}

const EMPTY_LISTS: ActionLists = Object.freeze({ deny: Object.freeze([]), allow: Object.freeze([]) });

/** One holder's own rules, by action key (`read`, `tasks:*`, `*`). */
export class RuleIndex {
  readonly byAction = new Map<string, ActionRules>();

  /** Indexes the given rules. */
  constructor(rules: Iterable<RuleBody>) {
    for (const rule of rules) {
      let entry = this.byAction.get(rule.action);
      if (!entry) this.byAction.set(rule.action, (entry = { allow: null, deny: null }));
      const index = rule.effect === 'deny' ? (entry.deny ??= new PathIndex()) : (entry.allow ??= new PathIndex());
      index.add(rule.resource, rule.condition);
    }
  }
}

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

/** The rules reachable from a set of rule indexes, resolved per action. */
export class RoleSetIndex {
  // Concrete actions (exact rules merged with the matching `ns:*` and `*` rules).
  readonly #concrete = new Map<string, ActionLists>();
  // `ns:*` keys (merged with `*`), for concrete actions that no rule names exactly.
  readonly #namespaces = new Map<string, ActionLists>();
  readonly #star: ActionLists;

  /** Builds the per-action lists from the holders' indexes. */
  constructor(indexes: readonly RuleIndex[]) {
    const keys = new Set<string>();
    for (const index of indexes) for (const key of index.byAction.keys()) keys.add(key);
    const collect = (sources: readonly string[]): ActionLists => {
      const deny: PathIndex[] = [];
      const allow: PathIndex[] = [];
      for (const index of indexes) {
        for (const source of sources) {
          const rules = index.byAction.get(source);
          if (rules?.deny) deny.push(rules.deny);
          if (rules?.allow) allow.push(rules.allow);
        }
      }
      return deny.length === 0 && allow.length === 0 ? EMPTY_LISTS : { deny, allow };
    };
    for (const key of keys) {
      if (key === '*') continue;
      if (key.endsWith(':*')) this.#namespaces.set(key, collect([key, '*']));
      else {
        const colon = key.indexOf(':');
        this.#concrete.set(key, collect(colon < 0 ? [key, '*'] : [key, `${key.slice(0, colon)}:*`, '*']));
      }
    }
    this.#star = collect(['*']);
  }

  /** The path indexes deciding `action` (a validated concrete action). */
  lookup(action: string): ActionLists {
    const lists = this.#concrete.get(action);
    if (lists !== undefined) return lists;
    if (this.#namespaces.size > 0) {
      const colon = action.indexOf(':');
      if (colon > 0) {
        const ns = this.#namespaces.get(`${action.slice(0, colon)}:*`);
        if (ns !== undefined) return ns;
      }
    }
    return this.#star;
  }
}

/** What one user has in one tenant. */
export interface UserEntry {
  /** The closure of the user's live role bindings, or `null` without any. */
  readonly roles: RoleSetIndex | null;
  /** The user's direct grants, or `null` without any. */
  readonly direct: RoleSetIndex | null;
}

/** One tenant's compiled policy. */
export interface TenantIndex {
  readonly users: ReadonlyMap<string, UserEntry>;
}

const EMPTY_TENANT: TenantIndex = Object.freeze({ users: new Map() });

/**
 * Compiles tenants on demand and caches them; template role indexes are shared by all tenants.
 * Call `invalidate` when a scope's records change.
 */
export class PolicyCompiler {
  readonly #state: PolicyState;
  readonly #tenants = new Map<string, TenantIndex>();
  #templates = new Map<RoleRecord, RuleIndex>();

  constructor(state: PolicyState) {
    this.#state = state;
  }

  /** Drops compiled data depending on `scope`: a template change invalidates every tenant. */
  invalidate(scope: string, isTemplates: boolean): void {
    if (isTemplates) {
      this.#tenants.clear();
      this.#templates = new Map();
    } else {
      this.#tenants.delete(scope);
    }
  }

  /** Whether the tenant's index is compiled and current. */
  isCompiled(tenant: string): boolean {
    return this.#tenants.has(tenant);
  }

  /** The tenant's compiled index (compiling it if needed). */
  tenant(tenant: string): TenantIndex {
    const cached = this.#tenants.get(tenant);
    if (cached !== undefined) return cached;
    const compiled = this.#compile(tenant);
    this.#tenants.set(tenant, compiled);
    return compiled;
  }

  #compile(tenant: string): TenantIndex {
    const state = this.#state;
    const scope = state.get(tenant);
    if (!scope) return EMPTY_TENANT;
    const own = new Map<RoleRecord, RuleIndex>();
    const ruleIndexOf = (role: RoleRecord): RuleIndex => {
      const cache = role.scope === tenant ? own : this.#templates;
      let index = cache.get(role);
      if (!index) {
        const grants = state.get(role.scope)?.roleGrants.get(role.name)?.values() ?? [];
        index = new RuleIndex(live(grants, state));
        cache.set(role, index);
      }
      return index;
    };
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
    const roleSets = new Map<string, RoleSetIndex>();
    const users = new Map<string, UserEntry>();
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
        const roles = new Set<RoleRecord>();
        for (const r of bound) for (const c of closureOf(r)) roles.add(c);
        set = new RoleSetIndex([...roles].map(ruleIndexOf).filter((i) => i.byAction.size > 0));
        roleSets.set(key, set);
      }
      users.set(user, { roles: set, direct: null });
    }
    for (const [user, grants] of scope.userGrants) {
      if (grants.size === 0) continue;
      const direct = new RoleSetIndex([new RuleIndex(grants.values())]);
      users.set(user, { roles: users.get(user)?.roles ?? null, direct });
    }
    return { users };
  }
}

function* live(grants: Iterable<GrantRecord>, state: PolicyState): Generator<GrantRecord> {
  for (const grant of grants) if (state.isLiveGrant(grant)) yield grant;
}
