/**
 * Plans policy changes: validates an administrative request against the current state (role
 * existence, name clashes, inheritance cycles) and returns the records to write. Pure: the
 * in-memory policy applies a plan directly; the storage-backed service commits it in one
 * transaction guarded by the policy revision, so the validation stays true at commit time.
 */
import { ConflictError, NotFoundError } from '../../../core/errors.js';
import { RoleCycleError } from '../errors.js';
import type { z } from 'zod';
import type { bindingInputSchema, grantInputSchema, revokeInputSchema, roleDefinitionSchema, roleRefSchema } from './inputs.js';
import { TEMPLATE_SCOPE, ruleId, type BindingRecord, type GrantRecord, type PolicyRecord, type RoleRecord, type RuleBody, type ScopeId } from './records.js';
import type { PolicyState } from './state.js';

/** Records to write for one change. Empty `puts` and `deletes`: nothing to do. */
export interface Plan {
  readonly scope: ScopeId;
  readonly puts: readonly PolicyRecord[];
  readonly deletes: readonly PolicyRecord[];
  /**
   * Deletes that may happen later, in any order: these records are already dead once the plan is
   * applied (their role's generation is gone), so removing them changes no decision.
   */
  readonly deferred: readonly PolicyRecord[];
  /** The affected rule's id (grant and revoke). */
  readonly ruleId?: string;
}

const noop = (scope: ScopeId, id?: string): Plan => ({ scope, puts: [], deletes: [], deferred: [], ...(id === undefined ? {} : { ruleId: id }) });

/** Whether a plan changes anything. */
export function isNoop(plan: Plan): boolean {
  return plan.puts.length === 0 && plan.deletes.length === 0;
}

const MAX_LISTED = 20;
const clash = (message: string, details: Record<string, unknown>): ConflictError => new ConflictError(message, { retryable: false, details });

/** Plans `defineRole`. @throws `CONFLICT` (name clash), `NOT_FOUND` (unknown parent), `ACCESS_ROLE_CYCLE` */
export function planDefineRole(state: PolicyState, input: z.output<typeof roleDefinitionSchema>, newGen: () => string): Plan {
  const scope = input.tenant ?? TEMPLATE_SCOPE;
  const name = input.name;
  const existing = state.get(scope)?.roles.get(name);
  // One name means one role within a tenant's view: a tenant role may not shadow a template, nor the reverse.
  if (scope !== TEMPLATE_SCOPE && state.templates.roles.has(name)) {
    throw clash(`role "${name}" is already a template; choose another name for the tenant's role`, { role: name, tenant: scope });
  }
  if (scope === TEMPLATE_SCOPE && !existing) {
    const owners = state.tenants().filter((t) => state.get(t)?.roles.has(name)).slice(0, MAX_LISTED);
    if (owners.length > 0) throw clash(`role "${name}" already exists in tenants; a template may not shadow it`, { role: name, tenants: owners });
  }
  const inherits = [...new Set(input.inherits ?? [])].sort();
  for (const parent of inherits) {
    if (parent === name) throw new RoleCycleError([name, name]);
    if (!state.resolveRole(scope, parent)) {
      throw new NotFoundError(`role "${parent}" does not exist${scope === TEMPLATE_SCOPE ? ' as a template (templates may only inherit templates)' : ''}`, {
        details: { role: parent },
      });
    }
  }
  const cycle = findCycle(state, scope, name, inherits);
  if (cycle) throw new RoleCycleError(cycle);
  const description = input.description;
  if (existing && sameList(existing.inherits, inherits) && existing.description === description) return noop(scope);
  const record: RoleRecord = {
    kind: 'role',
    scope,
    name,
    gen: existing?.gen ?? newGen(),
    inherits,
    ...(description === undefined ? {} : { description }),
  };
  return { scope, puts: [record], deletes: [], deferred: [] };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Depth-first search from the new parents along inheritance; reaching the role being defined
 * means the new definition closes a loop. Returns the loop (role ... role) or `null`.
 */
function findCycle(state: PolicyState, scope: ScopeId, name: string, parents: readonly string[]): string[] | null {
  const target = state.resolveRole(scope, name);
  const seen = new Set<RoleRecord>();
  const trail: string[] = [name];
  const visit = (fromScope: ScopeId, roleName: string): boolean => {
    const role = state.resolveRole(fromScope, roleName);
    // A template never inherits tenant roles, so a tenant role is only reachable from its own tenant.
    if (!role) return false;
    if (role === target || (role.scope === scope && role.name === name)) {
      trail.push(name);
      return true;
    }
    if (seen.has(role)) return false;
    seen.add(role);
    trail.push(role.name);
    for (const next of role.inherits) if (visit(role.scope, next)) return true;
    trail.pop();
    return false;
  };
  for (const parent of parents) if (visit(scope, parent)) return trail;
  return null;
}

/** Plans `deleteRole`: the role goes at once; its grants and bindings die with its generation. @throws `CONFLICT` while other roles inherit it */
export function planDeleteRole(state: PolicyState, input: z.output<typeof roleRefSchema>): Plan {
  const scope = input.tenant ?? TEMPLATE_SCOPE;
  const role = state.get(scope)?.roles.get(input.name);
  if (!role) return noop(scope);
  const scopes = scope === TEMPLATE_SCOPE ? [TEMPLATE_SCOPE, ...state.tenants()] : [scope];
  const inheritedBy: string[] = [];
  for (const s of scopes) {
    for (const other of state.get(s)?.roles.values() ?? []) {
      if (other.inherits.includes(role.name) && state.resolveRole(s, role.name) === role) inheritedBy.push(s === TEMPLATE_SCOPE ? other.name : `${s}/${other.name}`);
    }
  }
  if (inheritedBy.length > 0) {
    throw clash(`role "${role.name}" is inherited by other roles; change them first`, { role: role.name, inheritedBy: inheritedBy.slice(0, MAX_LISTED) });
  }
  const deferred: PolicyRecord[] = [...(state.get(scope)?.roleGrants.get(role.name)?.values() ?? [])];
  for (const s of scopes) {
    const st = state.get(s);
    for (const user of st?.boundUsers.get(role.name) ?? []) {
      const binding = st?.bindings.get(user)?.get(role.name);
      if (binding && binding.gen === role.gen) deferred.push(binding);
    }
  }
  return { scope, puts: [], deletes: [role], deferred };
}

function ruleBody(input: { effect?: 'allow' | 'deny' | undefined; action: string; resource: string; condition?: RuleBody['condition'] | undefined }): RuleBody {
  return { effect: input.effect ?? 'allow', action: input.action, resource: input.resource, ...(input.condition === undefined ? {} : { condition: input.condition }) };
}

/** Plans `grant`. @throws `NOT_FOUND` for an unknown role */
export function planGrant(state: PolicyState, input: z.output<typeof grantInputSchema>): Plan {
  const scope = input.tenant ?? TEMPLATE_SCOPE;
  const body = ruleBody(input);
  const id = ruleId(body);
  let holder: GrantRecord['holder'];
  let existing: GrantRecord | undefined;
  if (input.role !== undefined) {
    const role = state.get(scope)?.roles.get(input.role);
    if (!role) {
      const hint = scope !== TEMPLATE_SCOPE && state.templates.roles.has(input.role) ? ' (it is a template: grant to it without a tenant)' : '';
      throw new NotFoundError(`role "${input.role}" does not exist${hint}`, { details: { role: input.role } });
    }
    holder = { role: role.name, gen: role.gen };
    existing = state.get(scope)?.roleGrants.get(role.name)?.get(id);
    if (existing && 'role' in existing.holder && existing.holder.gen === role.gen) return noop(scope, id);
  } else {
    holder = { user: input.user! };
    existing = state.get(scope)?.userGrants.get(input.user!)?.get(id);
    if (existing) return noop(scope, id);
  }
  const record: GrantRecord = { kind: 'grant', scope, id, holder, ...body };
  return { scope, puts: [record], deletes: [], deferred: [], ruleId: id };
}

/** Plans `revoke` (by id or by rule body). Revoking an absent rule changes nothing. */
export function planRevoke(state: PolicyState, input: z.output<typeof revokeInputSchema>): Plan {
  const scope = input.tenant ?? TEMPLATE_SCOPE;
  const id = input.id ?? ruleId(ruleBody({ ...input, action: input.action!, resource: input.resource! }));
  const s = state.get(scope);
  const existing = input.role !== undefined ? s?.roleGrants.get(input.role)?.get(id) : s?.userGrants.get(input.user!)?.get(id);
  if (!existing) return noop(scope, id);
  return { scope, puts: [], deletes: [existing], deferred: [], ruleId: id };
}

/** Plans `bindUser`. @throws `NOT_FOUND` when the role exists neither in the tenant nor as a template */
export function planBind(state: PolicyState, input: z.output<typeof bindingInputSchema>): Plan {
  const role = state.resolveRole(input.tenant, input.role);
  if (!role) throw new NotFoundError(`role "${input.role}" exists neither in tenant "${input.tenant}" nor as a template`, { details: { role: input.role, tenant: input.tenant } });
  const existing = state.get(input.tenant)?.bindings.get(input.user)?.get(input.role);
  if (existing && existing.gen === role.gen) return noop(input.tenant);
  const record: BindingRecord = { kind: 'binding', scope: input.tenant, user: input.user, role: input.role, gen: role.gen };
  return { scope: input.tenant, puts: [record], deletes: [], deferred: [] };
}

/** Plans `unbindUser`. Removing an absent binding changes nothing. */
export function planUnbind(state: PolicyState, input: z.output<typeof bindingInputSchema>): Plan {
  const existing = state.get(input.tenant)?.bindings.get(input.user)?.get(input.role);
  if (!existing) return noop(input.tenant);
  return { scope: input.tenant, puts: [], deletes: [existing], deferred: [] };
}

/** Applies a plan (including its deferred deletes) to the state. */
export function applyPlan(state: PolicyState, plan: Plan): void {
  for (const record of plan.deletes) state.remove(record);
  for (const record of plan.deferred) state.remove(record);
  for (const record of plan.puts) state.put(record);
}
