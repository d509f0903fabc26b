/**
 * The evaluation side shared by the in-memory {@link AccessPolicy} and the storage-backed service:
 * raw state + compiled indexes + the read operations (can, explain, listPermitted, listings).
 * Synchronous and free of I/O.
 */
import { z } from 'zod';
import { parseInput } from '../../core/validation.js';
import { actionSchema } from './model/action.js';
import { tenantSchema, roleNameSchema, userIdSchema } from './model/names.js';
import { resourcePathSchema } from './model/path.js';
import { applyPlan, type Plan } from './model/planner.js';
import { TEMPLATE_SCOPE, type Effect } from './model/records.js';
import { PolicyState } from './model/state.js';
import type { Condition } from './model/condition.js';
import { assertTenant, readResource, readUser, readUserId, type ResourceInput, type UserInput } from './model/subjects.js';
import { PolicyCompiler, assertAction } from './engine/compile.js';
import { decide } from './engine/decide.js';
import { explainDecision, type Explanation } from './engine/explain.js';
import { listPermittedFor, type PermittedResources } from './engine/permitted.js';
import { AccessDeniedError } from './errors.js';

/** The tenant and resource type a listing is about: `{ tenant, type }` or `tenants/<tenant>/<type>`. */
export type ResourceTypeInput =
  | string
  | {
      /** The tenant. */
      readonly tenant: string;
      /** The type: a first path segment such as `tasks`. */
      readonly type: string;
    };

/** A role as listed. */
export interface RoleInfo {
  /** The owning tenant, or `null` for a template. */
  readonly tenant: string | null;
  /** Role name. */
  readonly name: string;
  /** Directly inherited roles, sorted. */
  readonly inherits: readonly string[];
  /** Free text, if set. */
  readonly description?: string;
}

/** A granted rule as listed. */
export interface GrantInfo {
  /** The rule id. */
  readonly id: string;
  /** The scope: a tenant, or `null` for a template role's rule. */
  readonly tenant: string | null;
  /** The holder: a role name or a user id. */
  readonly holder:
    | {
        /** The role holding the rule. */
        readonly role: string;
      }
    | {
        /** The user the rule was granted to directly. */
        readonly user: string;
      };
  /** `allow` or `deny`. */
  readonly effect: Effect;
  /** The action. */
  readonly action: string;
  /** Canonical resource pattern. */
  readonly resource: string;
  /** The condition, if any. */
  readonly condition?: Condition;
}

/** A role binding as listed. */
export interface BindingInfo {
  /** The tenant. */
  readonly tenant: string;
  /** The user id. */
  readonly user: string;
  /** The role name (the tenant's own role or a template). */
  readonly role: string;
}

/**
 * Tuning of the compiled index.
 *
 * @example
 * ```ts
 * import { AccessPolicy } from 'digital-fabrica/security';
 * const policy = new AccessPolicy({ mergeLimit: 0 }); // every user probes the shared indexes
 * ```
 */
export interface AccessPolicyOptions {
  /**
   * Users whose roles (with inheritance) and direct grants hold at most this many rules get a
   * private merged index: one probe per check instead of one per scope (default 64; 0 disables).
   * Costs memory per distinct set of bound roles, capped per tenant.
   */
  readonly mergeLimit?: number;
}

/** zod schema of {@link AccessPolicyOptions}. */
export const accessPolicyOptionsSchema = z.strictObject({ mergeLimit: z.number().int().min(0).max(4096).optional() });

/** The result of an administrative change. */
export interface PolicyChange {
  /** False when the policy already was as requested (nothing written). */
  readonly changed: boolean;
  /** The policy revision after the call. */
  readonly revision: number;
  /** The rule's id, for `grant` and `revoke`. */
  readonly ruleId?: string;
}

const typeSegmentSchema = resourcePathSchema.refine((text) => !text.includes('/'), 'a type is one path segment');
const typeInputSchema = z.union([
  z
    .string()
    .regex(/^tenants\/[^/]+\/[^/]+$/, 'must be "tenants/<tenant>/<type>"')
    .transform((text) => ({ tenant: text.split('/')[1]!, type: text.split('/')[2]! }))
    .pipe(z.object({ tenant: tenantSchema, type: typeSegmentSchema })),
  z.strictObject({ tenant: tenantSchema, type: typeSegmentSchema }),
]);
const holderRefSchema = z.union([
  z.strictObject({ tenant: tenantSchema.optional(), role: roleNameSchema }),
  z.strictObject({ tenant: tenantSchema, user: userIdSchema }),
]);
const bindingFilterSchema = z.strictObject({ tenant: tenantSchema, user: userIdSchema.optional() });

/** State, compiled indexes and the read operations over them. */
export class PolicyRuntime {
  /** The raw records. */
  readonly state = new PolicyState();
  readonly #compiler: PolicyCompiler;

  /** `mergeLimit`: see {@link AccessPolicyOptions.mergeLimit}. */
  constructor(mergeLimit?: number) {
    this.#compiler = new PolicyCompiler(this.state, mergeLimit);
  }

  /** Applies a committed plan and invalidates what it affects. */
  apply(plan: Plan): void {
    applyPlan(this.state, plan);
    this.invalidate(plan.scope);
  }

  /** Drops compiled data of a scope whose records changed. */
  invalidate(scope: string): void {
    this.#compiler.invalidate(scope);
  }

  /** Compiles every tenant now (instead of on first use). */
  compileAll(): void {
    for (const tenant of this.state.tenants()) this.#compiler.tenant(tenant);
  }

  /** The decision, from the compiled index. @throws `VALIDATION_FAILED` */
  can(user: UserInput, resource: ResourceInput, action: string): boolean {
    const userId = readUserId(user);
    const res = readResource(resource, false);
    let index = this.#compiler.cached(res.tenant);
    if (index === undefined) {
      assertTenant(res.tenant);
      index = this.#compiler.tenant(res.tenant);
    }
    return decide(index, res, userId, user, action);
  }

  /** The decision and its reason, from the reference evaluator. @throws `VALIDATION_FAILED` */
  explain(user: UserInput, resource: ResourceInput, action: string): Explanation {
    const userId = readUserId(user);
    const res = readResource(resource, true);
    parseInput(actionSchema, action, 'action');
    return explainDecision(this.state, res, userId, user, action);
  }

  /** Throws `ACCESS_DENIED` with the explanation unless allowed. */
  authorize(user: UserInput, resource: ResourceInput, action: string): void {
    if (this.can(user, resource, action)) return;
    throw deniedError(this.explain(user, resource, action), resource, action);
  }

  /** The filter for one type. @throws `VALIDATION_FAILED` */
  listPermitted(user: UserInput, action: string, type: ResourceTypeInput): PermittedResources {
    const u = readUser(user);
    assertAction(action);
    const { tenant, type: typeName } = parseInput(typeInputSchema, type, 'resource type');
    return listPermittedFor(this.state, tenant, u.id, action, typeName, (resource) => this.can(user, resource, action));
  }

  /** Roles of a tenant (its own), or the templates when `tenant` is omitted. */
  listRoles(tenant?: string): RoleInfo[] {
    const scope = tenant === undefined ? TEMPLATE_SCOPE : parseInput(tenantSchema, tenant, 'tenant');
    return [...(this.state.get(scope)?.roles.values() ?? [])]
      .map((r) => ({ tenant: tenant ?? null, name: r.name, inherits: [...r.inherits], ...(r.description === undefined ? {} : { description: r.description }) }))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /** Live rules held by a role (omit `tenant` for a template) or given directly to a user. */
  listGrants(holder: { readonly tenant?: string; readonly role: string } | { readonly tenant: string; readonly user: string }): GrantInfo[] {
    const h = parseInput(holderRefSchema, holder, 'rule holder');
    const scope = h.tenant ?? TEMPLATE_SCOPE;
    const s = this.state.get(scope);
    const grants = 'role' in h ? s?.roleGrants.get(h.role) : s?.userGrants.get(h.user);
    return [...(grants?.values() ?? [])]
      .filter((g) => this.state.isLiveGrant(g))
      .map((g) => ({
        id: g.id,
        tenant: h.tenant ?? null,
        holder: 'role' in g.holder ? { role: g.holder.role } : { user: g.holder.user },
        effect: g.effect,
        action: g.action,
        resource: g.resource,
        ...(g.condition === undefined ? {} : { condition: g.condition }),
      }))
      .sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  /** Live bindings in a tenant, optionally of one user. */
  listBindings(filter: { readonly tenant: string; readonly user?: string }): BindingInfo[] {
    const f = parseInput(bindingFilterSchema, filter, 'binding filter');
    const s = this.state.get(f.tenant);
    const users = f.user === undefined ? [...(s?.bindings.keys() ?? [])] : [f.user];
    const out: BindingInfo[] = [];
    for (const user of users) {
      for (const b of s?.bindings.get(user)?.values() ?? []) if (this.state.isLiveBinding(b)) out.push({ tenant: f.tenant, user, role: b.role });
    }
    return out.sort((a, b) => (a.user === b.user ? (a.role < b.role ? -1 : 1) : a.user < b.user ? -1 : 1));
  }
}

/** The `ACCESS_DENIED` error for an explanation; details are secret-free (no attribute values). */
export function deniedError(explanation: Explanation, resource: ResourceInput, action: string): AccessDeniedError {
  const path = typeof resource === 'string' ? resource : `tenants/${resource.tenant}/${resource.path}`;
  const rule = explanation.matchedRule;
  return new AccessDeniedError(`access denied: ${action} on ${path}`, {
    details: {
      action,
      resource: path,
      reason: explanation.reason,
      ...(rule === null ? {} : { rule: { id: rule.id, effect: rule.effect, action: rule.action, resource: rule.resource, holder: rule.holder } }),
      path: [...explanation.path],
      explanation: explanation.message,
    },
  });
}
