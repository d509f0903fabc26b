/**
 * Actions: `read`, `update`, `tasks:assign`. A rule's action may also be `*` (every action) or
 * `ns:*` (every action of one namespace, e.g. `tasks:*` covers `tasks:assign` but not `read`).
 * A check always names one concrete action.
 */
import { z } from 'zod';

const NAME = '[A-Za-z][A-Za-z0-9_.-]{0,63}';

/** A concrete action: a name, optionally namespaced (`tasks:assign`). */
export const ACTION_PATTERN = new RegExp(`^${NAME}(?::${NAME})?$`);

/** A rule's action: a concrete action, `*`, or `ns:*`. */
export const ACTION_RULE_PATTERN = new RegExp(`^(?:\\*|${NAME}:\\*|${NAME}(?::${NAME})?)$`);

/** zod schema of a concrete action (what a check asks about). */
export const actionSchema = z.string().regex(ACTION_PATTERN, 'action must be a name like "read" or "tasks:assign"');

/** zod schema of a rule's action (what a grant covers). */
export const actionRuleSchema = z.string().regex(ACTION_RULE_PATTERN, 'action must be "*", "ns:*" or a name like "read" or "tasks:assign"');

/** The `ns:*` wildcard covering `action`, or `null` for an action without a namespace. */
export function namespaceWildcardOf(action: string): string | null {
  const colon = action.indexOf(':');
  return colon < 0 ? null : `${action.slice(0, colon)}:*`;
}

/** Whether a rule's action covers a concrete action (reference semantics). */
export function actionMatches(ruleAction: string, action: string): boolean {
  return ruleAction === '*' || ruleAction === action || ruleAction === namespaceWildcardOf(action);
}
