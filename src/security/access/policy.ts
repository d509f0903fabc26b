/**
 * {@link AccessPolicy}: the whole model in memory, with no storage and no I/O. Useful on its own
 * (tests, single-process tools, policies shipped as code) and the pure core that the storage-backed
 * service builds on: same validation, same planner, same compiled index.
 */
import { parseInput } from '../../core/validation.js';
import {
  bindingInputSchema,
  grantInputSchema,
  revokeInputSchema,
  roleDefinitionSchema,
  roleRefSchema,
  type BindingInput,
  type GrantInput,
  type RevokeInput,
  type RoleDefinition,
  type RoleRef,
} from './model/inputs.js';
import { isNoop, planBind, planDefineRole, planDeleteRole, planGrant, planRevoke, planUnbind, type Plan } from './model/planner.js';
import { newGeneration } from './model/records.js';
import type { ResourceInput, UserInput } from './model/subjects.js';
import type { Explanation } from './engine/explain.js';
import type { PermittedResources } from './engine/permitted.js';
import { PolicyRuntime, accessPolicyOptionsSchema, type AccessPolicyOptions, type BindingInfo, type GrantInfo, type PolicyChange, type ResourceTypeInput, type RoleInfo } from './runtime.js';

/**
 * An in-memory RBAC policy: roles with inheritance, templates shared by tenants, per-tenant
 * bindings, direct grants, deny rules and conditions, compiled for sub-microsecond checks.
 * Every method is synchronous.
 *
 * @example
 * ```ts
 * import { AccessPolicy } from 'digital-fabrica/security';
 * const policy = new AccessPolicy();
 * policy.defineRole({ name: 'viewer' });
 * policy.grant({ role: 'viewer', action: 'read', resource: 'tasks' });
 * policy.bindUser({ tenant: 'acme', user: 'ada', role: 'viewer' });
 * policy.can('ada', 'tenants/acme/tasks/123', 'read'); // true
 * policy.can('ada', 'tenants/globex/tasks/123', 'read'); // false: bindings are per tenant
 * ```
 */
export class AccessPolicy {
  readonly #runtime: PolicyRuntime;
  #revision = 0;

  /** @throws `VALIDATION_FAILED` for bad options. */
  constructor(options: AccessPolicyOptions = {}) {
    const o = parseInput(accessPolicyOptionsSchema, options, 'access policy options');
    this.#runtime = new PolicyRuntime(o.mergeLimit);
  }

  /** Number of changes applied so far. */
  get revision(): number {
    return this.#revision;
  }

  /**
   * Defines a role, or redefines its inheritance and description. Omit `tenant` for a template
   * shared by every tenant (templates may only inherit templates).
   * @throws `VALIDATION_FAILED`; `NOT_FOUND` for an unknown parent role; `CONFLICT` when the name
   *   clashes between a tenant role and a template; `ACCESS_ROLE_CYCLE` when inheritance would loop.
   */
  defineRole(definition: RoleDefinition): PolicyChange {
    const input = parseInput(roleDefinitionSchema, definition, 'role definition');
    return this.#commit(planDefineRole(this.#runtime.state, input, newGeneration));
  }

  /**
   * Deletes a role with its rules and bindings (a role defined again later starts empty).
   * @throws `VALIDATION_FAILED`; `CONFLICT` while other roles inherit it.
   */
  deleteRole(role: RoleRef): PolicyChange {
    const input = parseInput(roleRefSchema, role, 'role');
    return this.#commit(planDeleteRole(this.#runtime.state, input));
  }

  /**
   * Grants a rule to a role, or directly to a user in a tenant. Idempotent: the rule id is a hash
   * of the rule, returned as `ruleId`.
   * @throws `VALIDATION_FAILED`; `NOT_FOUND` for an unknown role.
   */
  grant(grant: GrantInput): PolicyChange {
    const input = parseInput(grantInputSchema, grant, 'grant');
    return this.#commit(planGrant(this.#runtime.state, input));
  }

  /**
   * Revokes a rule by id or by the body it was granted with.
   * @throws `VALIDATION_FAILED`
   */
  revoke(rule: RevokeInput): PolicyChange {
    const input = parseInput(revokeInputSchema, rule, 'revoke');
    return this.#commit(planRevoke(this.#runtime.state, input));
  }

  /**
   * Binds a user to a role (the tenant's own or a template) in a tenant.
   * @throws `VALIDATION_FAILED`; `NOT_FOUND` for an unknown role.
   */
  bindUser(binding: BindingInput): PolicyChange {
    const input = parseInput(bindingInputSchema, binding, 'binding');
    return this.#commit(planBind(this.#runtime.state, input));
  }

  /**
   * Removes a user's binding to a role in a tenant.
   * @throws `VALIDATION_FAILED`
   */
  unbindUser(binding: BindingInput): PolicyChange {
    const input = parseInput(bindingInputSchema, binding, 'binding');
    return this.#commit(planUnbind(this.#runtime.state, input));
  }

  /**
   * Whether `user` may perform `action` on `resource`: deny rules win, default deny.
   * @throws `VALIDATION_FAILED` for a malformed user, resource or action.
   */
  can(user: UserInput, resource: ResourceInput, action: string): boolean {
    return this.#runtime.can(user, resource, action);
  }

  /**
   * Like {@link can}, but throws when denied.
   * @throws `ACCESS_DENIED` with the explanation in `details`; `VALIDATION_FAILED`.
   */
  authorize(user: UserInput, resource: ResourceInput, action: string): void {
    this.#runtime.authorize(user, resource, action);
  }

  /**
   * The decision with its reason: the deciding rule and the role chain it came through.
   * @throws `VALIDATION_FAILED`
   */
  explain(user: UserInput, resource: ResourceInput, action: string): Explanation {
    return this.#runtime.explain(user, resource, action);
  }

  /**
   * What `user` may do with the instances of one resource type, as a filter.
   * @throws `VALIDATION_FAILED`
   */
  listPermitted(user: UserInput, action: string, type: ResourceTypeInput): PermittedResources {
    return this.#runtime.listPermitted(user, action, type);
  }

  /** A tenant's own roles, or the templates when `tenant` is omitted. @throws `VALIDATION_FAILED` */
  listRoles(tenant?: string): RoleInfo[] {
    return this.#runtime.listRoles(tenant);
  }

  /** The live rules of a role or of a user's direct grants. @throws `VALIDATION_FAILED` */
  listGrants(holder: { readonly tenant?: string; readonly role: string } | { readonly tenant: string; readonly user: string }): GrantInfo[] {
    return this.#runtime.listGrants(holder);
  }

  /** The live bindings of a tenant, optionally of one user. @throws `VALIDATION_FAILED` */
  listBindings(filter: { readonly tenant: string; readonly user?: string }): BindingInfo[] {
    return this.#runtime.listBindings(filter);
  }

  #commit(plan: Plan): PolicyChange {
    if (isNoop(plan)) return { changed: false, revision: this.#revision, ...(plan.ruleId === undefined ? {} : { ruleId: plan.ruleId }) };
    this.#runtime.apply(plan);
    this.#revision += 1;
    return { changed: true, revision: this.#revision, ...(plan.ruleId === undefined ? {} : { ruleId: plan.ruleId }) };
  }
}
