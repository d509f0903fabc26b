/**
 * Conditions: a small, typed expression tree checked against the user and the resource, never
 * `eval`ed. Evaluation is three-valued (true / false / unknown): an attribute that is missing, or
 * whose type does not fit the comparison, makes the comparison UNKNOWN instead of false. An allow
 * rule applies only when its condition is true; a deny rule applies unless its condition is false.
 * So incomplete data can never unlock access, and never lift a deny (fail closed).
 */
import { z } from 'zod';

/** A value a condition can compare. */
export type Scalar = string | number | boolean | null;

/**
 * Where an operand reads from: `user.id`, `resource.ownerId`, `resource.id` (last path segment),
 * `resource.type` (first path segment), `user.attributes.<name>`, `resource.attributes.<name>`.
 */
export type AttributeRef =
  | 'user.id'
  | 'resource.ownerId'
  | 'resource.id'
  | 'resource.type'
  | `user.attributes.${string}`
  | `resource.attributes.${string}`;

/** One side of a comparison: a reference, or a literal (a list only on the right of `in`). */
export type Operand =
  | {
      /** The value read from the user or the resource. */
      readonly ref: AttributeRef;
    }
  | {
      /** A literal. */
      readonly value: Scalar | readonly Scalar[];
    };

/** Comparison operators. `lt`/`lte`/`gt`/`gte` compare two numbers or two strings (by code unit). */
export type ComparisonOp = 'eq' | 'ne' | 'lt' | 'lte' | 'gt' | 'gte' | 'in';

/**
 * A condition of a rule. `{ op: 'owner' }` is shorthand for `resource.ownerId == user.id`.
 * Evaluated in three-valued logic: see the module notes (missing data never grants, never lifts a deny).
 *
 * @example
 * ```ts
 * import type { Condition } from 'digital-fabrica/security';
 * const ownOpenTasks: Condition = {
 *   op: 'and',
 *   all: [{ op: 'owner' }, { op: 'in', left: { ref: 'resource.attributes.state' }, right: { value: ['open', 'review'] } }],
 * };
 * ```
 */
export type Condition =
  | {
      /** True when `resource.ownerId` equals `user.id`; unknown when the resource has no owner. */
      readonly op: 'owner';
    }
  | {
      /** The comparison. */
      readonly op: ComparisonOp;
      /** Left operand. */
      readonly left: Operand;
      /** Right operand (a list, or a reference to one, for `in`). */
      readonly right: Operand;
    }
  | {
      /** True when every sub-condition is. */
      readonly op: 'and';
      /** The sub-conditions (at least one). */
      readonly all: readonly Condition[];
    }
  | {
      /** True when any sub-condition is. */
      readonly op: 'or';
      /** The sub-conditions (at least one). */
      readonly any: readonly Condition[];
    }
  | {
      /** Negation (unknown stays unknown). */
      readonly op: 'not';
      /** The negated condition. */
      readonly condition: Condition;
    };

/** Deepest nesting of `and`/`or`/`not` accepted. */
export const MAX_CONDITION_DEPTH = 6;
/** Most nodes in one condition. */
export const MAX_CONDITION_NODES = 32;
/** Longest literal list (right side of `in`). */
export const MAX_LIST_LENGTH = 256;

const REF = /^(?:user\.id|resource\.ownerId|resource\.id|resource\.type|(?:user|resource)\.attributes\.[A-Za-z_][A-Za-z0-9_]{0,63})$/;

const scalarSchema = z.union([z.string().max(256), z.number().refine(Number.isFinite, 'numbers must be finite'), z.boolean(), z.null()]);

const operandSchema = z.union([
  z.strictObject({ ref: z.string().regex(REF, 'ref must be user.id, resource.ownerId, resource.id, resource.type, user.attributes.<name> or resource.attributes.<name>') }),
  z.strictObject({ value: z.union([scalarSchema, z.array(scalarSchema).max(MAX_LIST_LENGTH)]) }),
]);

const conditionSchemaInner: z.ZodType<Condition> = z.lazy(() =>
  z.union([
    z.strictObject({ op: z.literal('owner') }),
    z.strictObject({ op: z.enum(['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'in']), left: operandSchema, right: operandSchema }),
    z.strictObject({ op: z.literal('and'), all: z.array(conditionSchemaInner).min(1).max(MAX_CONDITION_NODES) }),
    z.strictObject({ op: z.literal('or'), any: z.array(conditionSchemaInner).min(1).max(MAX_CONDITION_NODES) }),
    z.strictObject({ op: z.literal('not'), condition: conditionSchemaInner }),
  ]),
) as z.ZodType<Condition>;

/** zod schema of a {@link Condition}, including its size limits and operand shapes. */
export const conditionSchema: z.ZodType<Condition> = conditionSchemaInner.superRefine((condition, ctx) => {
  const { depth, nodes } = measure(condition);
  if (depth > MAX_CONDITION_DEPTH) ctx.addIssue({ code: 'custom', message: `condition nests deeper than ${MAX_CONDITION_DEPTH}` });
  if (nodes > MAX_CONDITION_NODES) ctx.addIssue({ code: 'custom', message: `condition has more than ${MAX_CONDITION_NODES} nodes` });
  for (const problem of operandProblems(condition)) ctx.addIssue({ code: 'custom', message: problem });
});

function measure(condition: Condition): { depth: number; nodes: number } {
  const children = condition.op === 'and' ? condition.all : condition.op === 'or' ? condition.any : condition.op === 'not' ? [condition.condition] : [];
  let depth = 0;
  let nodes = 1;
  for (const child of children) {
    const m = measure(child);
    depth = Math.max(depth, m.depth);
    nodes += m.nodes;
  }
  return { depth: depth + (children.length > 0 ? 1 : 0), nodes };
}

// A list literal only makes sense as the right side of `in`, and `in` needs one there.
function* operandProblems(condition: Condition): Generator<string> {
  switch (condition.op) {
    case 'and':
      for (const c of condition.all) yield* operandProblems(c);
      return;
    case 'or':
      for (const c of condition.any) yield* operandProblems(c);
      return;
    case 'not':
      yield* operandProblems(condition.condition);
      return;
    case 'owner':
      return;
    default: {
      if ('value' in condition.left && Array.isArray(condition.left.value)) yield 'a list may only be the right side of "in"';
      const rightIsList = 'value' in condition.right && Array.isArray(condition.right.value);
      if (condition.op !== 'in' && rightIsList) yield `a list may only be the right side of "in", not of "${condition.op}"`;
      if (condition.op === 'in' && 'value' in condition.right && !rightIsList) yield '"in" needs a list (or a reference to one) on the right';
    }
  }
}

/** Three-valued truth: 1 true, 0 false, -1 unknown. */
export type Truth = 1 | 0 | -1;

/** What a condition reads. Attribute bags are read with own-property lookups only. */
export interface ConditionContext {
  readonly userId: string;
  readonly userAttributes: Readonly<Record<string, unknown>> | undefined;
  /** The validated resource. */
  readonly resource: {
    readonly path: string;
    readonly ownerId: unknown;
    readonly attributes: Readonly<Record<string, unknown>> | undefined;
  };
}

const USER_ATTR = 'user.attributes.'.length;
const RESOURCE_ATTR = 'resource.attributes.'.length;

function read(operand: Operand, ctx: ConditionContext): unknown {
  if ('value' in operand) return operand.value;
  const ref = operand.ref;
  switch (ref) {
    case 'user.id':
      return ctx.userId;
    case 'resource.ownerId':
      return ctx.resource.ownerId;
    case 'resource.id': {
      const path = ctx.resource.path;
      return path.slice(path.lastIndexOf('/') + 1);
    }
    case 'resource.type': {
      const path = ctx.resource.path;
      const slash = path.indexOf('/');
      return slash < 0 ? path : path.slice(0, slash);
    }
    default:
      if (ref.startsWith('user.')) return own(ctx.userAttributes, ref.slice(USER_ATTR));
      return own(ctx.resource.attributes, ref.slice(RESOURCE_ATTR));
  }
}

function own(bag: Readonly<Record<string, unknown>> | undefined, name: string): unknown {
  if (typeof bag !== 'object' || bag === null || !Object.hasOwn(bag, name)) return undefined;
  return bag[name];
}

function isScalar(value: unknown): value is Scalar {
  return value === null || typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
}

function equal(a: unknown, b: unknown): Truth {
  if (!isScalar(a) || !isScalar(b)) return -1;
  // Null compares with anything ("is it set?"); other values only with their own type.
  if (a === null || b === null) return a === b ? 1 : 0;
  if (typeof a !== typeof b) return -1;
  return a === b ? 1 : 0;
}

function order(op: 'lt' | 'lte' | 'gt' | 'gte', a: unknown, b: unknown): Truth {
  const comparable = (typeof a === 'number' && typeof b === 'number' && Number.isFinite(a) && Number.isFinite(b)) || (typeof a === 'string' && typeof b === 'string');
  if (!comparable) return -1;
  const x = a as number | string;
  const y = b as number | string;
  switch (op) {
    case 'lt':
      return x < y ? 1 : 0;
    case 'lte':
      return x <= y ? 1 : 0;
    case 'gt':
      return x > y ? 1 : 0;
    case 'gte':
      return x >= y ? 1 : 0;
  }
}

function member(a: unknown, list: unknown): Truth {
  if (!Array.isArray(list)) return -1;
  let result: Truth = 0;
  for (const item of list as unknown[]) {
    const t = equal(a, item);
    if (t === 1) return 1;
    if (t === -1) result = -1;
  }
  return result;
}

/** Evaluates a condition in three-valued (Kleene) logic. */
export function evaluateCondition(condition: Condition, ctx: ConditionContext): Truth {
  switch (condition.op) {
    case 'owner':
      // An unowned resource is "unknown", not "someone else's": it unlocks nothing and lifts no deny.
      return ctx.resource.ownerId === undefined || ctx.resource.ownerId === null ? -1 : equal(ctx.resource.ownerId, ctx.userId);
    case 'eq':
      return equal(read(condition.left, ctx), read(condition.right, ctx));
    case 'ne': {
      const t = equal(read(condition.left, ctx), read(condition.right, ctx));
      return t === -1 ? -1 : t === 1 ? 0 : 1;
    }
    case 'in':
      return member(read(condition.left, ctx), read(condition.right, ctx));
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte':
      return order(condition.op, read(condition.left, ctx), read(condition.right, ctx));
    case 'and': {
      let result: Truth = 1;
      for (const c of condition.all) {
        const t = evaluateCondition(c, ctx);
        if (t === 0) return 0;
        if (t === -1) result = -1;
      }
      return result;
    }
    case 'or': {
      let result: Truth = 0;
      for (const c of condition.any) {
        const t = evaluateCondition(c, ctx);
        if (t === 1) return 1;
        if (t === -1) result = -1;
      }
      return result;
    }
    case 'not': {
      const t = evaluateCondition(condition.condition, ctx);
      return t === -1 ? -1 : t === 1 ? 0 : 1;
    }
  }
}
