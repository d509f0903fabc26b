/**
 * Access control: resource-level RBAC with role inheritance, tenant scoping, shared role
 * templates, deny rules, conditions and direct grants, with explanations.
 *
 * ```ts
 * import { createAccessControl, AccessPolicy, parseResource } from 'digital-fabrica/security';
 * ```
 *
 * - {@link createAccessControl}: the service. Persists the policy through a `StorageAdapter`,
 *   keeps a compiled index in memory, reloads it when another instance announces a change over
 *   `PubSub`, and re-verifies the policy revision on a bounded interval, so a revoke is enforced by
 *   every instance within `revalidateIntervalMs` (`checkPermission`) and within pub/sub delivery or
 *   `pollIntervalMs` (`can`). A policy that cannot be verified for `maxStalenessMs` fails closed.
 * - {@link AccessPolicy}: the same model purely in memory, synchronous, no I/O.
 * - {@link parseResource}: validate a resource once for many checks.
 *
 * Model in short: resources are paths inside a tenant (`projects/42/tasks/123`, type = first
 * segment); rules are `allow`/`deny` of an action (`read`, `tasks:assign`, `tasks:*`, `*`) on a
 * pattern (`tasks`, `tasks/123`, `projects/42/tasks/*`, `projects/42/**`), optionally conditional
 * (`{ op: 'owner' }`, typed attribute comparisons). Deny beats allow whatever the order; no
 * matching allow means deny. See docs/guides/access-control.md.
 *
 * @module
 */
export { createAccessControl, type AccessControl } from './service/access-control.js';
export type { AccessControlOptions } from './service/options.js';
export { AccessPolicy } from './policy.js';
export { AccessDeniedError, RoleCycleError } from './errors.js';
export { MAX_PATH_LENGTH, MAX_SEGMENTS } from './model/path.js';
export { ParsedResource, parseResource, type AccessUser, type AccessResource, type AttributeBag, type ResourceInput, type UserInput } from './model/subjects.js';
export type { AttributeRef, ComparisonOp, Condition, Operand, Scalar } from './model/condition.js';
export type { BindingInput, GrantInput, RevokeInput, RoleDefinition, RoleRef, RuleHolder, RuleInput } from './model/inputs.js';
export type { Effect } from './model/records.js';
export type { DecisionReason, ExplainedRule, Explanation } from './engine/explain.js';
export type { PermittedResources, PermittedRule } from './engine/permitted.js';
export type { AccessPolicyOptions, BindingInfo, GrantInfo, PolicyChange, ResourceTypeInput, RoleInfo } from './runtime.js';
