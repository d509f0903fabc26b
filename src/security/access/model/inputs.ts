/**
 * Administration inputs and their zod schemas. Every administrative call parses its input here
 * first, so a malformed rule never reaches the planner or storage.
 */
import { z } from 'zod';
import { actionRuleSchema } from './action.js';
import { conditionSchema, type Condition } from './condition.js';
import { roleNameSchema, tenantSchema, userIdSchema } from './names.js';
import { parsePattern } from './path.js';
import type { Effect } from './records.js';

/** Defines (or redefines) a role. Omit `tenant` for a template shared by every tenant. */
export interface RoleDefinition {
  /** The tenant owning the role; omitted for a template. */
  readonly tenant?: string;
  /** Role name, unique among the tenant's roles and the templates. */
  readonly name: string;
  /** Roles whose permissions this role includes (a tenant role may include templates; a template only templates). */
  readonly inherits?: readonly string[];
  /** Free text for administrators. */
  readonly description?: string;
}

/** Names one role. Omit `tenant` for a template. */
export interface RoleRef {
  /** The tenant owning the role; omitted for a template. */
  readonly tenant?: string;
  /** Role name. */
  readonly name: string;
}

/** A rule: effect, action and resource pattern, optionally conditional. */
export interface RuleInput {
  /** `allow` (default) or `deny`; a matching deny always wins. */
  readonly effect?: Effect;
  /** `read`, `tasks:assign`, `tasks:*` or `*`. */
  readonly action: string;
  /** Pattern: `tasks` (the type), `tasks/123`, `projects/42/tasks/*`, `projects/42/**`, `**`. */
  readonly resource: string;
  /** Optional condition (ownership, attribute comparisons). */
  readonly condition?: Condition;
}

/** Who holds a rule: a role (omit `tenant` for a template), or one user in one tenant. */
export type RuleHolder =
  | {
      /** The tenant owning the role; omitted for a template. */
      readonly tenant?: string;
      /** The role holding the rule. */
      readonly role: string;
      /** Not with `role`. */
      readonly user?: never;
    }
  | {
      /** The tenant the direct grant applies in. */
      readonly tenant: string;
      /** The user the rule is granted to directly. */
      readonly user: string;
      /** Not with `user`. */
      readonly role?: never;
    };

/** A rule to grant to a role or directly to a user. */
export type GrantInput = RuleHolder & RuleInput;

/** A rule to revoke, named by its id (returned by `grant`) or by the same body it was granted with. */
export type RevokeInput = RuleHolder &
  (
    | {
        /** The rule id returned by `grant` (`ruleId`). */
        readonly id: string;
      }
    | RuleInput
  );

/** A user's role in a tenant. The role may be the tenant's own or a template. */
export interface BindingInput {
  /** The tenant the binding applies in. */
  readonly tenant: string;
  /** The user id. */
  readonly user: string;
  /** The role name. */
  readonly role: string;
}

const patternTextSchema = z.string().transform((text, ctx) => {
  const pattern = parsePattern(text);
  if (typeof pattern === 'string') {
    ctx.addIssue({ code: 'custom', message: pattern });
    return z.NEVER;
  }
  return pattern.text;
});

/** zod schema of a {@link RoleDefinition}. */
export const roleDefinitionSchema = z.strictObject({
  tenant: tenantSchema.optional(),
  name: roleNameSchema,
  inherits: z.array(roleNameSchema).max(64).optional(),
  description: z.string().max(1000).optional(),
});

/** zod schema of a {@link RoleRef}. */
export const roleRefSchema = z.strictObject({ tenant: tenantSchema.optional(), name: roleNameSchema });

const holderShape = { tenant: tenantSchema.optional(), role: roleNameSchema.optional(), user: userIdSchema.optional() };
const ruleShape = {
  effect: z.enum(['allow', 'deny']).optional(),
  action: actionRuleSchema,
  resource: patternTextSchema,
  condition: conditionSchema.optional(),
};

function checkHolder(value: { tenant?: string | undefined; role?: string | undefined; user?: string | undefined }, ctx: z.RefinementCtx): void {
  if ((value.role === undefined) === (value.user === undefined)) ctx.addIssue({ code: 'custom', message: 'give exactly one of role or user', path: ['role'] });
  if (value.user !== undefined && value.tenant === undefined) ctx.addIssue({ code: 'custom', message: 'a direct grant to a user needs a tenant', path: ['tenant'] });
}

/** zod schema of a {@link GrantInput}. */
export const grantInputSchema = z.strictObject({ ...holderShape, ...ruleShape }).superRefine(checkHolder);

/** zod schema of a {@link RevokeInput}. */
export const revokeInputSchema = z
  .strictObject({
    ...holderShape,
    id: z.string().regex(/^[A-Za-z0-9_-]{22}$/, 'id must be a rule id returned by grant').optional(),
    effect: ruleShape.effect,
    action: actionRuleSchema.optional(),
    resource: patternTextSchema.optional(),
    condition: ruleShape.condition,
  })
  .superRefine((value, ctx) => {
    checkHolder(value, ctx);
    const byBody = value.action !== undefined || value.resource !== undefined || value.effect !== undefined || value.condition !== undefined;
    if (value.id !== undefined && byBody) ctx.addIssue({ code: 'custom', message: 'name the rule by id or by its body, not both', path: ['id'] });
    if (value.id === undefined && (value.action === undefined || value.resource === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'name the rule by id, or by action and resource', path: ['action'] });
    }
  });

/** zod schema of a {@link BindingInput}. */
export const bindingInputSchema = z.strictObject({ tenant: tenantSchema, user: userIdSchema, role: roleNameSchema });
