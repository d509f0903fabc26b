/**
 * The reference evaluator: walks the user's roles breadth-first and tests every rule they hold,
 * one by one, with the plain matchers. Slow (linear in the user's rules) and obviously correct;
 * `explain()` uses it to say WHY, and the property tests hold the compiled index to it.
 */
import { actionMatches } from '../model/action.js';
import { evaluateCondition, type Condition, type Truth } from '../model/condition.js';
import { patternMatches, segmentsOf } from '../model/path.js';
import { TEMPLATE_SCOPE, type Effect, type GrantRecord, type RoleRecord } from '../model/records.js';
import type { PolicyState } from '../model/state.js';
import { userAttributesOf, type ResourceView } from '../model/subjects.js';
import type { ConditionContext } from '../model/condition.js';

/** Why a decision came out as it did. */
export type DecisionReason =
  /** An allow rule matched (and no deny did). */
  | 'allowed-by-rule'
  /** A deny rule matched; deny always wins. */
  | 'denied-by-rule'
  /** Allow rules matched the resource and action, but none of their conditions held. */
  | 'condition-not-met'
  /** Nothing matched: default deny. */
  | 'no-matching-rule'
  /** The local policy could not be verified for too long; checks fail closed. */
  | 'stale-policy';

/** A rule as shown in an explanation. Never includes attribute values. */
export interface ExplainedRule {
  /** The rule's id (as returned by `grant`). */
  readonly id: string;
  /** `allow` or `deny`. */
  readonly effect: Effect;
  /** The rule's action (`read`, `tasks:*`, `*`). */
  readonly action: string;
  /** The rule's canonical resource pattern. */
  readonly resource: string;
  /** The rule's condition, if any. */
  readonly condition?: Condition;
  /** Whom the rule is granted to: a role (tenant role or template) or the user directly. */
  readonly holder:
    | {
        /** Held by a role. */
        readonly kind: 'role';
        /** The role's name. */
        readonly role: string;
        /** Whether the role is a template (shared by all tenants). */
        readonly template: boolean;
      }
    | {
        /** Granted directly to a user. */
        readonly kind: 'user';
        /** The user's id. */
        readonly user: string;
      };
  /** How the condition evaluated for this check: `none` without a condition. */
  readonly conditionResult: 'none' | 'true' | 'false' | 'unknown';
}

/**
 * The decision for one check and the reason for it.
 *
 * @example
 * ```ts
 * import { AccessPolicy, type Explanation } from 'digital-fabrica/security';
 * const why: Explanation = new AccessPolicy().explain('ada', 'tenants/acme/tasks/1', 'read');
 * console.log(why.allowed, why.reason); // false 'no-matching-rule'
 * ```
 */
export interface Explanation {
  /** The decision, always equal to what `can()` returns. */
  readonly allowed: boolean;
  /** Why. */
  readonly reason: DecisionReason;
  /** The deciding rule (for `condition-not-met`, the first allow rule whose condition failed), or `null`. */
  readonly matchedRule: ExplainedRule | null;
  /**
   * Role chain from the role the user is bound to down to the role holding `matchedRule`, e.g.
   * `['project-admin', 'editor', 'viewer']`; `[]` for a direct grant or when nothing matched.
   */
  readonly path: readonly string[];
  /** One human-readable sentence (secret-free; may be logged). */
  readonly message: string;
}

/** A rule the user holds, with the role chain it comes through. */
export interface EffectiveRule {
  readonly grant: GrantRecord;
  readonly path: readonly string[];
}

/**
 * Every live rule the user holds in the tenant, direct grants first, then roles in breadth-first
 * order from the bound roles (shortest inheritance chain first), each role's rules by id.
 */
export function effectiveRules(state: PolicyState, tenant: string, userId: string): EffectiveRule[] {
  const scope = state.get(tenant);
  if (!scope) return [];
  const out: EffectiveRule[] = [];
  const direct = [...(scope.userGrants.get(userId)?.values() ?? [])].sort(byId);
  for (const grant of direct) out.push({ grant, path: [] });
  const queue: { role: RoleRecord; path: string[] }[] = [];
  const seen = new Set<RoleRecord>();
  const bindings = [...(scope.bindings.get(userId)?.values() ?? [])].sort((a, b) => (a.role < b.role ? -1 : 1));
  for (const binding of bindings) {
    const role = state.resolveRole(tenant, binding.role);
    if (role && role.gen === binding.gen && !seen.has(role)) {
      seen.add(role);
      queue.push({ role, path: [role.name] });
    }
  }
  for (let i = 0; i < queue.length; i++) {
    const { role, path } = queue[i]!;
    const grants = [...(state.get(role.scope)?.roleGrants.get(role.name)?.values() ?? [])].filter((g) => state.isLiveGrant(g)).sort(byId);
    for (const grant of grants) out.push({ grant, path });
    for (const parent of role.inherits) {
      const p = state.resolveRole(role.scope, parent);
      if (p && !seen.has(p)) {
        seen.add(p);
        queue.push({ role: p, path: [...path, p.name] });
      }
    }
  }
  return out;
}

function byId(a: GrantRecord, b: GrantRecord): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

const TRUTH_NAMES = { 1: 'true', 0: 'false', [-1]: 'unknown' } as const;

function describeRule(grant: GrantRecord, truth: Truth | null): ExplainedRule {
  return {
    id: grant.id,
    effect: grant.effect,
    action: grant.action,
    resource: grant.resource,
    ...(grant.condition === undefined ? {} : { condition: grant.condition }),
    holder: 'role' in grant.holder ? { kind: 'role', role: grant.holder.role, template: grant.scope === TEMPLATE_SCOPE } : { kind: 'user', user: grant.holder.user },
    conditionResult: truth === null ? 'none' : TRUTH_NAMES[truth],
  };
}

function via(rule: ExplainedRule, path: readonly string[]): string {
  const holder = rule.holder.kind === 'user' ? 'granted directly to the user' : `of ${rule.holder.template ? 'template ' : ''}role "${rule.holder.role}"`;
  const chain = path.length > 1 ? `, inherited through ${path.join(' -> ')}` : '';
  return `rule ${rule.id} (${rule.effect} ${rule.action} on ${rule.resource}${rule.condition ? ', conditional' : ''}) ${holder}${chain}`;
}

/** Explains the decision for a validated resource, user and action by the reference evaluator. */
export function explainDecision(state: PolicyState, res: ResourceView, userId: string, user: unknown, action: string): Explanation {
  const segments = segmentsOf(res.path);
  const ctx: ConditionContext = { userId, userAttributes: userAttributesOf(user), resource: res };
  const candidates = effectiveRules(state, res.tenant, userId).filter(
    (r) => actionMatches(r.grant.action, action) && patternMatches(r.grant.resource.split('/'), segments),
  );
  const truthOf = (grant: GrantRecord): Truth | null => (grant.condition === undefined ? null : evaluateCondition(grant.condition, ctx));
  for (const { grant, path } of candidates) {
    if (grant.effect !== 'deny') continue;
    const truth = truthOf(grant);
    if (truth === 0) continue;
    const rule = describeRule(grant, truth);
    const unknown = truth === -1 ? ' (its condition could not be evaluated, so the deny applies)' : '';
    return { allowed: false, reason: 'denied-by-rule', matchedRule: rule, path, message: `denied by ${via(rule, path)}${unknown}` };
  }
  let failed: { rule: ExplainedRule; path: readonly string[] } | null = null;
  for (const { grant, path } of candidates) {
    if (grant.effect !== 'allow') continue;
    const truth = truthOf(grant);
    const rule = describeRule(grant, truth);
    if (truth === null || truth === 1) return { allowed: true, reason: 'allowed-by-rule', matchedRule: rule, path, message: `allowed by ${via(rule, path)}` };
    failed ??= { rule, path };
  }
  if (failed) {
    return {
      allowed: false,
      reason: 'condition-not-met',
      matchedRule: failed.rule,
      path: failed.path,
      message: `denied: the condition of ${via(failed.rule, failed.path)} is ${failed.rule.conditionResult}`,
    };
  }
  return { allowed: false, reason: 'no-matching-rule', matchedRule: null, path: [], message: `denied: no rule allows "${action}" on ${res.path} (default deny)` };
}
