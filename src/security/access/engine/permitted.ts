/**
 * `listPermitted`: what a user may do to the instances (`<type>/<id>`) of one resource type,
 * expressed as a filter a host can push into its own query, since the SDK never owns the rows.
 */
import type { Condition } from '../model/condition.js';
import { actionMatches } from '../model/action.js';
import type { Effect } from '../model/records.js';
import type { PolicyState } from '../model/state.js';
import type { ResourceInput } from '../model/subjects.js';
import { effectiveRules } from './explain.js';

/** A rule that bears on a listing. */
export interface PermittedRule {
  /** The rule's id. */
  readonly id: string;
  /** `allow` or `deny`. */
  readonly effect: Effect;
  /** The rule's action. */
  readonly action: string;
  /** The rule's canonical pattern. */
  readonly resource: string;
  /** The rule's condition, if any. */
  readonly condition?: Condition;
  /** Role chain the rule comes through (`[]` for a direct grant). */
  readonly path: readonly string[];
}

/**
 * What a user may do with the instances of one type, as a filter (see `listPermitted`):
 * - `exact` true: `all` (every instance) or `ids` (those instances) is the complete answer;
 * - otherwise narrow with `all`/`ids`/`conditional` and then `filter()` (or `test()`) each candidate,
 *   since deny rules or conditions depend on the instance.
 *
 * @example
 * ```ts
 * import { AccessPolicy, type PermittedResources } from 'digital-fabrica/security';
 * const visible: PermittedResources = new AccessPolicy().listPermitted('ada', 'read', 'tenants/acme/tasks');
 * const where = visible.exact ? (visible.all ? 'TRUE' : `id IN (${visible.ids.map((id) => `'${id}'`).join(',') || 'NULL'})`) : 'filter rows';
 * ```
 */
export interface PermittedResources {
  /** The tenant listed. */
  readonly tenant: string;
  /** The action listed. */
  readonly action: string;
  /** The resource type listed (first path segment). */
  readonly type: string;
  /** Every instance is allowed by an unconditional rule (before deny rules). */
  readonly all: boolean;
  /** Instance ids allowed by unconditional rules (`type/<id>`, `type/<id>/**`), sorted; empty when `all`. */
  readonly ids: readonly string[];
  /** Allow rules that grant instances only under a condition. */
  readonly conditional: readonly PermittedRule[];
  /** Deny rules that may remove instances. */
  readonly deny: readonly PermittedRule[];
  /** True when `all`/`ids` alone are the answer: no deny rule and no conditional rule applies. */
  readonly exact: boolean;
  /** The decision for one resource: the same as `can(user, resource, action)`. */
  test(resource: ResourceInput): boolean;
  /** Keeps the candidates the user may act on. */
  filter<T extends ResourceInput>(candidates: Iterable<T>): T[];
}

function fitsType(segment: string, type: string): boolean {
  return segment === type || segment === '*';
}

/** How a pattern relates to the instances `type/<id>`: every one, one id, or none. */
function classify(pattern: readonly string[], type: string): { kind: 'all' } | { kind: 'id'; id: string } | { kind: 'none' } {
  const [first, second, third] = pattern;
  if (first === '**') return { kind: 'all' };
  if (first === undefined || !fitsType(first, type) || second === undefined) return { kind: 'none' };
  if (second === '**') return { kind: 'all' };
  const tail = pattern.length === 2 || (pattern.length === 3 && third === '**');
  if (!tail) return { kind: 'none' };
  return second === '*' ? { kind: 'all' } : { kind: 'id', id: second };
}

/** Builds the listing from the reference rule walk; `test` is supplied by the caller (the compiled check). */
export function listPermittedFor(
  state: PolicyState,
  tenant: string,
  userId: string,
  action: string,
  type: string,
  test: (resource: ResourceInput) => boolean,
): PermittedResources {
  let all = false;
  const ids = new Set<string>();
  const conditional: PermittedRule[] = [];
  const deny: PermittedRule[] = [];
  for (const { grant, path } of effectiveRules(state, tenant, userId)) {
    if (!actionMatches(grant.action, action)) continue;
    const shape = classify(grant.resource.split('/'), type);
    if (shape.kind === 'none') continue;
    const rule: PermittedRule = {
      id: grant.id,
      effect: grant.effect,
      action: grant.action,
      resource: grant.resource,
      ...(grant.condition === undefined ? {} : { condition: grant.condition }),
      path,
    };
    if (grant.effect === 'deny') deny.push(rule);
    else if (grant.condition !== undefined) conditional.push(rule);
    else if (shape.kind === 'all') all = true;
    else if (shape.kind === 'id') ids.add(shape.id);
  }
  return {
    tenant,
    action,
    type,
    all,
    ids: all ? [] : [...ids].sort(),
    conditional,
    deny,
    exact: deny.length === 0 && conditional.length === 0,
    test,
    filter: (candidates) => [...candidates].filter((c) => test(c)),
  };
}
