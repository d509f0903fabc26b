/**
 * The raw policy: every record, grouped per scope with the lookups the planner, compiler and
 * explainer need. Mutated only through `put`/`remove`, which keep the groupings consistent.
 */
import { TEMPLATE_SCOPE, type BindingRecord, type GrantRecord, type PolicyRecord, type RoleRecord, type ScopeId } from './records.js';

/** The records of one scope (a tenant, or the templates). */
export class ScopeState {
  /** Roles by name. */
  readonly roles = new Map<string, RoleRecord>();
  /** Grants held by roles: role name → rule id → grant. */
  readonly roleGrants = new Map<string, Map<string, GrantRecord>>();
  /** Grants given directly to users: user id → rule id → grant. */
  readonly userGrants = new Map<string, Map<string, GrantRecord>>();
  /** Bindings: user id → role name → binding. */
  readonly bindings = new Map<string, Map<string, BindingRecord>>();
  /** Reverse of `bindings`: role name → bound user ids (for deleting a role). */
  readonly boundUsers = new Map<string, Set<string>>();

  /** Number of records held. */
  get size(): number {
    let n = this.roles.size;
    for (const m of this.roleGrants.values()) n += m.size;
    for (const m of this.userGrants.values()) n += m.size;
    for (const m of this.bindings.values()) n += m.size;
    return n;
  }

  /** Every record of the scope. */
  *records(): Generator<PolicyRecord> {
    yield* this.roles.values();
    for (const m of this.roleGrants.values()) yield* m.values();
    for (const m of this.userGrants.values()) yield* m.values();
    for (const m of this.bindings.values()) yield* m.values();
  }
}

function nested<K, V>(outer: Map<string, Map<K, V>>, key: string): Map<K, V> {
  let inner = outer.get(key);
  if (!inner) {
    inner = new Map();
    outer.set(key, inner);
  }
  return inner;
}

function dropNested<K, V>(outer: Map<string, Map<K, V>>, key: string, innerKey: K): boolean {
  const inner = outer.get(key);
  if (!inner || !inner.delete(innerKey)) return false;
  if (inner.size === 0) outer.delete(key);
  return true;
}

/** Every scope's records. */
export class PolicyState {
  readonly #scopes = new Map<ScopeId, ScopeState>();

  /** The scope, or `undefined` if it holds nothing yet. */
  get(scope: ScopeId): ScopeState | undefined {
    return this.#scopes.get(scope);
  }

  /** The templates scope (created empty on first use). */
  get templates(): ScopeState {
    return this.#scope(TEMPLATE_SCOPE);
  }

  /** Ids of every tenant that holds records. */
  tenants(): string[] {
    return [...this.#scopes.keys()].filter((s) => s !== TEMPLATE_SCOPE);
  }

  /** Replaces a whole scope (after reloading it from storage). */
  replaceScope(scope: ScopeId, records: Iterable<PolicyRecord>): void {
    this.#scopes.delete(scope);
    for (const record of records) this.put(record);
  }

  /** Adds or replaces a record. */
  put(record: PolicyRecord): void {
    const s = this.#scope(record.scope);
    switch (record.kind) {
      case 'role':
        s.roles.set(record.name, record);
        return;
      case 'grant':
        if ('role' in record.holder) nested(s.roleGrants, record.holder.role).set(record.id, record);
        else nested(s.userGrants, record.holder.user).set(record.id, record);
        return;
      case 'binding': {
        nested(s.bindings, record.user).set(record.role, record);
        let users = s.boundUsers.get(record.role);
        if (!users) s.boundUsers.set(record.role, (users = new Set()));
        users.add(record.user);
        return;
      }
    }
  }

  /** Removes the record with the same identity (scope, kind, holder, id/name); true if one was there. */
  remove(record: PolicyRecord): boolean {
    const s = this.#scopes.get(record.scope);
    if (!s) return false;
    switch (record.kind) {
      case 'role':
        return s.roles.delete(record.name);
      case 'grant':
        return 'role' in record.holder ? dropNested(s.roleGrants, record.holder.role, record.id) : dropNested(s.userGrants, record.holder.user, record.id);
      case 'binding': {
        const removed = dropNested(s.bindings, record.user, record.role);
        const users = s.boundUsers.get(record.role);
        if (removed && users) {
          users.delete(record.user);
          if (users.size === 0) s.boundUsers.delete(record.role);
        }
        return removed;
      }
    }
  }

  /**
   * The role `name` as seen from `scope`: a tenant sees its own roles, then the templates; the
   * templates see only templates.
   */
  resolveRole(scope: ScopeId, name: string): RoleRecord | undefined {
    if (scope !== TEMPLATE_SCOPE) {
      const own = this.#scopes.get(scope)?.roles.get(name);
      if (own) return own;
    }
    return this.#scopes.get(TEMPLATE_SCOPE)?.roles.get(name);
  }

  /** Whether a binding is live: its role exists (as seen from the tenant) with the binding's generation. */
  isLiveBinding(binding: BindingRecord): boolean {
    return this.resolveRole(binding.scope, binding.role)?.gen === binding.gen;
  }

  /** Whether a grant is live: a user grant always, a role grant while its role keeps the grant's generation. */
  isLiveGrant(grant: GrantRecord): boolean {
    if (!('role' in grant.holder)) return true;
    return this.#scopes.get(grant.scope)?.roles.get(grant.holder.role)?.gen === grant.holder.gen;
  }

  #scope(scope: ScopeId): ScopeState {
    let s = this.#scopes.get(scope);
    if (!s) {
      s = new ScopeState();
      this.#scopes.set(scope, s);
    }
    return s;
  }
}
