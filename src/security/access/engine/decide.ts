/**
 * The hot path: one decision from a compiled tenant index. Every scope the user holds roles in is
 * probed for deny rules before an allow can stand, so the order rules were written in never
 * matters; with no matching allow the answer is no (default deny).
 */
import type { ResourceView } from '../model/subjects.js';
import { ALLOW, DENY, type RoleIds } from './path-index.js';
import { DIRECT_ROLES, assertAction, type ScopeIndex, type TenantIndex } from './compile.js';

/** Probes one scope; returns the new "allowed so far", or `null` for a deny. */
function probeScope(
  scope: ScopeIndex | null,
  roles: RoleIds | null,
  res: ResourceView,
  userId: string,
  user: unknown,
  action: string,
  allowed: boolean,
): boolean | null {
  if (scope === null || roles === null) return allowed;
  const index = scope.lookup(action);
  // Once allowed, only a deny can change the answer: skip indexes that hold none.
  if (index === null || (allowed && !index.hasDeny)) return allowed;
  const verdict = index.probe(res, roles, userId, user);
  if (verdict === DENY) return null;
  return allowed || verdict === ALLOW;
}

/**
 * Decides `action` for a validated resource and user (`user` is the validated input whose id is
 * `userId`; conditions read its attributes).
 * @throws `VALIDATION_FAILED` for a malformed action
 */
export function decide(index: TenantIndex, res: ResourceView, userId: string, user: unknown, action: string): boolean {
  const entry = index.users.get(userId);
  if (entry !== undefined && entry.merged !== null) {
    // `resolve` validates the action in the same hash probe that finds its rules.
    const merged = entry.merged.resolve(action);
    return merged !== null && merged.probe(res, DIRECT_ROLES, userId, user) === ALLOW;
  }
  assertAction(action);
  if (entry === undefined) return false;
  let allowed: boolean | null = false;
  allowed = probeScope(index.own, entry.own, res, userId, user, action, allowed);
  if (allowed === null) return false;
  allowed = probeScope(index.templates, entry.templates, res, userId, user, action, allowed);
  if (allowed === null) return false;
  allowed = probeScope(entry.direct, entry.direct === null ? null : DIRECT_ROLES, res, userId, user, action, allowed);
  return allowed === true;
}
