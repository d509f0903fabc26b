/**
 * The hot path: one decision from a compiled tenant index. Deny rules of every holder are
 * consulted before any allow rule, so the order rules were written in never matters; with no
 * matching allow the answer is no (default deny).
 */
import type { CheckSubject } from '../model/subjects.js';
import { ALLOW, DENY } from './path-index.js';
import { assertAction, type ActionLists, type TenantIndex } from './compile.js';

/** Decides `action` for a validated subject. @throws `VALIDATION_FAILED` for a malformed action */
export function decide(index: TenantIndex, subject: CheckSubject, action: string): boolean {
  assertAction(action);
  const user = index.users.get(subject.userId);
  if (user === undefined) return false;
  const fromRoles: ActionLists | null = user.roles === null ? null : user.roles.lookup(action);
  const direct: ActionLists | null = user.direct === null ? null : user.direct.lookup(action);
  if (fromRoles !== null) for (const p of fromRoles.deny) if (p.matches(subject, DENY)) return false;
  if (direct !== null) {
    for (const p of direct.deny) if (p.matches(subject, DENY)) return false;
    for (const p of direct.allow) if (p.matches(subject, ALLOW)) return true;
  }
  if (fromRoles !== null) for (const p of fromRoles.allow) if (p.matches(subject, ALLOW)) return true;
  return false;
}
