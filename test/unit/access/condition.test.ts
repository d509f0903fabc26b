import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { conditionSchema, evaluateCondition, type Condition, type ConditionContext, type Operand, type Truth } from '../../../src/security/access/model/condition.js';
import { readResource, readUserId, resourceInputSchema, userInputSchema } from '../../../src/security/access/model/subjects.js';

interface Over {
  ownerId?: unknown;
  path?: string;
}
function ctx(over: Over = {}): ConditionContext {
  return {
    userId: 'ada',
    userAttributes: { level: 3, team: 'core', teams: ['core', 'ops'], admin: false },
    resource: {
      path: over.path ?? 'projects/42/tasks/7',
      ownerId: 'ownerId' in over ? over.ownerId : 'ada',
      attributes: { level: 2, team: 'core', state: 'open', archivedAt: null, label: '5' },
    },
  };
}

const ref = (r: string) => ({ ref: r }) as Operand;
const val = (v: unknown) => ({ value: v }) as never;

describe('condition evaluation (three-valued)', () => {
  const table: [string, Condition, Over, Truth][] = [
    ['owner: same id', { op: 'owner' }, {}, 1],
    ['owner: other id', { op: 'owner' }, { ownerId: 'bob' }, 0],
    ['owner: missing ownerId is unknown', { op: 'owner' }, { ownerId: undefined }, -1],
    ['owner: null ownerId is unknown', { op: 'owner' }, { ownerId: null }, -1],
    ['owner: non-string ownerId is unknown', { op: 'owner' }, { ownerId: 7 }, -1],
    ['eq strings', { op: 'eq', left: ref('resource.attributes.team'), right: ref('user.attributes.team') }, {}, 1],
    ['eq across types is unknown, never coerced', { op: 'eq', left: ref('resource.attributes.label'), right: val(5) }, {}, -1],
    ['eq null tests for null', { op: 'eq', left: ref('resource.attributes.archivedAt'), right: val(null) }, {}, 1],
    ['eq with a set value vs null is false', { op: 'eq', left: ref('resource.attributes.state'), right: val(null) }, {}, 0],
    ['ne', { op: 'ne', left: ref('resource.attributes.state'), right: val('closed') }, {}, 1],
    ['ne on a missing attribute is unknown', { op: 'ne', left: ref('resource.attributes.nope'), right: val('x') }, {}, -1],
    ['lt numbers', { op: 'lt', left: ref('resource.attributes.level'), right: ref('user.attributes.level') }, {}, 1],
    ['lte equal', { op: 'lte', left: val(3), right: ref('user.attributes.level') }, {}, 1],
    ['gt false', { op: 'gt', left: ref('resource.attributes.level'), right: val(2) }, {}, 0],
    ['gte strings by code unit', { op: 'gte', left: val('b'), right: val('a') }, {}, 1],
    ['lt string vs number is unknown', { op: 'lt', left: ref('resource.attributes.label'), right: val(9) }, {}, -1],
    ['lt boolean is unknown', { op: 'lt', left: ref('user.attributes.admin'), right: val(true) }, {}, -1],
    ['in a literal list', { op: 'in', left: ref('resource.attributes.state'), right: val(['open', 'review']) }, {}, 1],
    ['in a list attribute', { op: 'in', left: ref('resource.attributes.team'), right: ref('user.attributes.teams') }, {}, 1],
    ['not in', { op: 'in', left: val('qa'), right: ref('user.attributes.teams') }, {}, 0],
    ['in a non-list is unknown', { op: 'in', left: val('qa'), right: ref('user.attributes.team') }, {}, -1],
    ['resource.id is the last segment', { op: 'eq', left: ref('resource.id'), right: val('7') }, {}, 1],
    ['resource.type is the first segment', { op: 'eq', left: ref('resource.type'), right: val('projects') }, {}, 1],
    ['user.id', { op: 'eq', left: ref('user.id'), right: val('ada') }, {}, 1],
    ['attributes are own properties only', { op: 'eq', left: ref('resource.attributes.constructor'), right: val('x') }, {}, -1],
    ['and: false dominates unknown', { op: 'and', all: [{ op: 'owner' }, { op: 'eq', left: val(1), right: val(2) }, { op: 'eq', left: ref('user.attributes.nope'), right: val(1) }] }, {}, 0],
    ['and: unknown without false', { op: 'and', all: [{ op: 'owner' }, { op: 'eq', left: ref('user.attributes.nope'), right: val(1) }] }, {}, -1],
    ['or: true dominates unknown', { op: 'or', any: [{ op: 'eq', left: ref('user.attributes.nope'), right: val(1) }, { op: 'owner' }] }, {}, 1],
    ['or: unknown without true', { op: 'or', any: [{ op: 'eq', left: ref('user.attributes.nope'), right: val(1) }, { op: 'eq', left: val(1), right: val(2) }] }, {}, -1],
    ['not true', { op: 'not', condition: { op: 'owner' } }, {}, 0],
    ['not unknown stays unknown', { op: 'not', condition: { op: 'owner' } }, { ownerId: undefined }, -1],
  ];
  it.each(table)('%s', (_name, condition, over, expected) => {
    expect(conditionSchema.safeParse(condition).success).toBe(true);
    expect(evaluateCondition(condition, ctx(over))).toBe(expected);
  });
});

describe('condition schema', () => {
  const deep = (n: number): Condition => (n === 0 ? { op: 'owner' } : { op: 'not', condition: deep(n - 1) });
  it.each([
    ['an unknown operator', { op: 'regex', left: ref('user.id'), right: val('.*') }],
    ['code in a reference', { op: 'eq', left: { ref: 'user.constructor.constructor("x")()' }, right: val(1) }],
    ['an unknown reference root', { op: 'eq', left: { ref: 'process.env.SECRET' }, right: val(1) }],
    ['a non-finite number', { op: 'eq', left: ref('user.id'), right: val(Number.NaN) }],
    ['an object literal', { op: 'eq', left: ref('user.id'), right: val({ $gt: 1 }) }],
    ['a list on the left', { op: 'in', left: val(['a']), right: val(['a']) }],
    ['a list outside "in"', { op: 'eq', left: ref('user.id'), right: val(['a']) }],
    ['"in" with a scalar literal', { op: 'in', left: ref('user.id'), right: val('a') }],
    ['extra keys', { op: 'owner', code: 'x' }],
    ['an empty "and"', { op: 'and', all: [] }],
    ['nesting too deep', deep(7)],
  ])('rejects %s', (_name, condition) => {
    expect(conditionSchema.safeParse(condition).success).toBe(false);
  });

  it('accepts nesting at the limit', () => {
    expect(conditionSchema.safeParse(deep(6)).success).toBe(true);
  });
});

describe('check input validation', () => {
  it('the hand-written validator agrees with the zod schemas on arbitrary inputs', () => {
    const text = fc.constantFrom('', 'ada', 'tenants/acme/tasks/1', 'tenants/acme', 'tenants/a b/x', 'tenants/acme/tasks/1/', 'tenants/acme/x%20', 'tasks/1', 'acme', 'x'.repeat(300));
    const bag = fc.oneof(fc.constant(undefined), fc.constant(null), fc.constant([1]), fc.constant({ a: 1 }), fc.constant('x'));
    const user = fc.oneof(text, fc.constant(null), fc.constant(3), fc.record({ id: fc.oneof(text, fc.constant(5)), attributes: bag }, { requiredKeys: ['id'] }));
    const resource = fc.oneof(
      text,
      fc.constant(undefined),
      fc.record(
        {
          tenant: fc.oneof(fc.constantFrom('acme', 'a b', '', '-x', 'x'.repeat(65)), fc.constant(1)),
          path: fc.oneof(text, fc.constant(2)),
          ownerId: fc.oneof(fc.constant(undefined), fc.constant(null), fc.constant('ada'), fc.constant(9), fc.constant('y'.repeat(300))),
          attributes: bag,
        },
        { requiredKeys: ['tenant', 'path'] },
      ),
    );
    fc.assert(
      fc.property(user, resource, (u, r) => {
        let fast = true;
        try {
          readUserId(u);
          readResource(r, true);
        } catch (err) {
          expect((err as { code?: string }).code).toBe('VALIDATION_FAILED');
          fast = false;
        }
        const slow = userInputSchema.safeParse(u).success && resourceInputSchema.safeParse(r).success;
        expect(fast).toBe(slow);
      }),
      { numRuns: 3000 },
    );
  });
});
