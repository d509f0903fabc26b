/**
 * The hot path: one decision from a compiled tenant index. Every scope the user holds roles in is
 * probed for deny rules before an allow can stand, so the order rules were written in never
 * matters; with no matching allow the answer is no (default deny).
 */
import type { CheckSubject } from '../model/subjects.js';
import { ALLOW, DENY, type RoleIds } from './path-index.js';
import { DIRECT_ROLES, assertAction, type ScopeIndex, type TenantIndex } from './compile.js';

/** Probes one scope; returns the new "allowed so far", or `null` for a deny. */
function probeScope(scope: ScopeIndex | null, roles: RoleIds | null, subject: CheckSubject, action: string, allowed: boolean): boolean | null {
  if (scope === null || roles === null) return allowed;
  const index = scope.lookup(action);
  // Once allowed, only a deny can change the answer: skip indexes that hold none.
  if (index === null || (allowed && !index.hasDeny)) return allowed;
  const verdict = index.probe(subject, roles);
  if (verdict === DENY) return null;
  return allowed || verdict === ALLOW;
}

/** Decides `action` for a validated subject. @throws `VALIDATION_FAILED` for a malformed action */
export function decide(index: TenantIndex, subject: CheckSubject, action: string): boolean {
  assertAction(action);
  const user = index.users.get(subject.userId);
  if (user === undefined) return false;
  if (user.merged !== null) {
    const index = user.merged.lookup(action);
    return index !== null && index.probe(subject, DIRECT_ROLES) === ALLOW;
  }
  let allowed: boolean | null = false;
  allowed = probeScope(index.own, user.own, subject, action, allowed);
  if (allowed === null) return false;
  allowed = probeScope(index.templates, user.templates, subject, action, allowed);
  if (allowed === null) return false;
  allowed = probeScope(user.direct, user.direct === null ? null : DIRECT_ROLES, subject, action, allowed);
  return allowed === true;
}
