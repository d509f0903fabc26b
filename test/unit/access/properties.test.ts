import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { AccessPolicy } from '../../../src/security/access/policy.js';
import { isFabricaError } from '../../../src/core/errors.js';
import type { Condition, Effect, ResourceInput } from '../../../src/security/access/index.js';

// A small universe, so random policies actually overlap with random checks.
const TEMPLATES = ['t0', 't1', 't2', 't3'];
const LOCAL = ['l0', 'l1', 'l2'];
const TENANTS = ['a', 'b'];
const USERS = ['u0', 'u1', 'u2', 'u3'];
const PATTERNS = ['tasks', 'tasks/1', 'tasks/10', 'tasks/*', 'tasks/1/**', 'projects/*/tasks/*', 'projects/1/**', '**', '*/1', 'notes'];
const ACTIONS = ['read', 'update', 'tasks:assign', 'tasks:*', '*'];
const CONDITIONS: (Condition | undefined)[] = [
  undefined,
  undefined,
  { op: 'owner' },
  { op: 'gte', left: { ref: 'resource.attributes.level' }, right: { value: 2 } },
  { op: 'lt', left: { ref: 'user.attributes.level' }, right: { ref: 'resource.attributes.level' } },
];
const PATHS = ['tasks', 'tasks/1', 'tasks/10', 'tasks/1/c/2', 'projects/1/tasks/1', 'projects/2/tasks/1', 'notes/1'];
const CHECK_ACTIONS = ['read', 'update', 'tasks:assign'];

type Holder = { role: string; tenant?: string } | { user: string; tenant: string };
type Op =
  | { kind: 'template'; name: string; inherits: string[] }
  | { kind: 'local'; tenant: string; name: string; inherits: string[] }
  | { kind: 'grant'; holder: Holder; effect: Effect; action: string; resource: string; condition: Condition | undefined }
  | { kind: 'bind'; tenant: string; user: string; role: string };

const pick = <T>(xs: readonly T[]) => fc.constantFrom(...xs);
const holderArb: fc.Arbitrary<Holder> = fc.oneof(
  pick(TEMPLATES).map((role) => ({ role })),
  fc.tuple(pick(TENANTS), pick(LOCAL)).map(([tenant, role]) => ({ tenant, role })),
  fc.tuple(pick(TENANTS), pick(USERS)).map(([tenant, user]) => ({ tenant, user })),
);
const opArb = (allowOnly: boolean): fc.Arbitrary<Op> =>
  fc.oneof(
    fc.record({ kind: fc.constant('template' as const), name: pick(TEMPLATES), inherits: fc.subarray(TEMPLATES, { maxLength: 2 }) }),
    fc.record({ kind: fc.constant('local' as const), tenant: pick(TENANTS), name: pick(LOCAL), inherits: fc.subarray([...LOCAL, ...TEMPLATES], { maxLength: 2 }) }),
    fc.record({
      kind: fc.constant('grant' as const),
      holder: holderArb,
      effect: allowOnly ? fc.constant('allow' as const) : fc.constantFrom('allow' as const, 'allow' as const, 'deny' as const),
      action: pick(ACTIONS),
      resource: pick(PATTERNS),
      condition: pick(CONDITIONS),
    }),
    fc.record({ kind: fc.constant('bind' as const), tenant: pick(TENANTS), user: pick(USERS), role: pick([...TEMPLATES, ...LOCAL]) }),
  );
const opsArb = (allowOnly = false) => fc.array(opArb(allowOnly), { minLength: 5, maxLength: 40 });

// Expected refusals of a random op (unknown role, cycle, name clash) leave the policy unchanged.
function apply(policy: AccessPolicy, op: Op): void {
  try {
    switch (op.kind) {
      case 'template':
        policy.defineRole({ name: op.name, inherits: op.inherits });
        return;
      case 'local':
        policy.defineRole({ tenant: op.tenant, name: op.name, inherits: op.inherits });
        return;
      case 'grant':
        policy.grant({ ...op.holder, effect: op.effect, action: op.action, resource: op.resource, ...(op.condition ? { condition: op.condition } : {}) } as never);
        return;
      case 'bind':
        policy.bindUser({ tenant: op.tenant, user: op.user, role: op.role });
        return;
    }
  } catch (err) {
    if (!isFabricaError(err) || !['NOT_FOUND', 'ACCESS_ROLE_CYCLE', 'CONFLICT'].includes(err.code)) throw err;
  }
}

// Every invariant runs against both index layouts: per-scope indexes shared by all users
// (mergeLimit 0), per-user merged indexes (the default), and a mix (a small limit).
let mergeLimit: number | undefined;

function build(ops: readonly Op[]): AccessPolicy {
  const policy = new AccessPolicy(mergeLimit === undefined ? {} : { mergeLimit });
  for (const op of ops) apply(policy, op);
  return policy;
}

interface Query {
  user: { id: string; attributes: { level: number } };
  resource: ResourceInput;
  action: string;
}
function* queries(tenants: readonly string[] = TENANTS): Generator<Query> {
  for (const tenant of tenants)
    for (const id of USERS)
      for (const path of PATHS)
        for (const action of CHECK_ACTIONS)
          for (const ownerId of ['u0', undefined]) {
            yield { user: { id, attributes: { level: 2 } }, resource: { tenant, path, attributes: { level: 3 }, ...(ownerId ? { ownerId } : {}) }, action };
          }
}

function decisions(policy: AccessPolicy, tenants?: readonly string[]): boolean[] {
  return [...queries(tenants)].map((q) => policy.can(q.user, q.resource, q.action));
}

const RUNS = { numRuns: 100 };

describe.each([
  ['shared per-scope indexes', 0],
  ['mixed', 3],
  ['merged per-user indexes', undefined],
] as const)('RBAC invariants (fast-check), %s', (_layout, limit) => {
  beforeAll(() => {
    mergeLimit = limit;
  });

  it('explain agrees with can: the compiled index equals the reference evaluator on every check', () => {
    fc.assert(
      fc.property(opsArb(), (ops) => {
        const policy = build(ops);
        for (const q of queries()) {
          const e = policy.explain(q.user, q.resource, q.action);
          expect(e.allowed, JSON.stringify(q)).toBe(policy.can(q.user, q.resource, q.action));
          expect(e.allowed).toBe(e.reason === 'allowed-by-rule');
        }
      }),
      RUNS,
    );
  });

  it('deny wins: an unconditional matching deny on the user or any bound role forbids, whatever else is granted', () => {
    fc.assert(
      fc.property(opsArb(), pick(PATHS), pick(CHECK_ACTIONS), pick(USERS), fc.boolean(), (ops, path, action, user, onRole) => {
        const policy = build(ops);
        // Make sure something allows, both directly and through a role, before denying.
        policy.grant({ tenant: 'a', user, action: '*', resource: '**' });
        if (policy.listBindings({ tenant: 'a', user }).length === 0) {
          policy.defineRole({ tenant: 'a', name: 'extra' });
          policy.bindUser({ tenant: 'a', user, role: 'extra' });
        }
        const role = policy.listBindings({ tenant: 'a', user })[0]!.role;
        const holder = policy.listRoles().some((r) => r.name === role) ? { role } : { tenant: 'a', role };
        policy.grant({ ...holder, action, resource: path });
        if (onRole) {
          policy.grant({ ...holder, effect: 'deny', action, resource: path });
        } else {
          policy.grant({ tenant: 'a', user, effect: 'deny', action, resource: path });
        }
        for (const ownerId of ['u0', undefined]) {
          expect(policy.can({ id: user, attributes: { level: 2 } }, { tenant: 'a', path, attributes: { level: 3 }, ...(ownerId ? { ownerId } : {}) }, action)).toBe(false);
        }
      }),
      RUNS,
    );
  });

  it('order does not matter: any permutation of the same grants and bindings decides the same', () => {
    fc.assert(
      fc.property(opsArb(), fc.context(), (ops, ctx) => {
        const roles = ops.filter((o) => o.kind === 'template' || o.kind === 'local');
        const rest = ops.filter((o) => o.kind === 'grant' || o.kind === 'bind');
        const shuffled = [...rest].reverse();
        ctx.log(`${rest.length} grants/bindings`);
        expect(decisions(build([...roles, ...shuffled]))).toEqual(decisions(build([...roles, ...rest])));
      }),
      RUNS,
    );
  });

  it('inheritance is transitive: a role gets everything its transitive parents allow', () => {
    fc.assert(
      fc.property(opsArb(true), (ops) => {
        const policy = build(ops);
        // Bind the same user to each template in tenant `a` under distinct ids, then compare closures.
        const templates = policy.listRoles();
        const parents = new Map(templates.map((r) => [r.name, r.inherits]));
        const ancestors = (name: string, seen = new Set<string>()): Set<string> => {
          for (const p of parents.get(name) ?? []) if (!seen.has(p)) ancestors(p, seen.add(p));
          return seen;
        };
        for (const r of templates) policy.bindUser({ tenant: 'probe', user: `as-${r.name}`, role: r.name });
        for (const child of templates) {
          for (const ancestor of ancestors(child.name)) {
            for (const path of PATHS)
              for (const action of CHECK_ACTIONS) {
                const resource = { tenant: 'probe', path, ownerId: 'nobody', attributes: { level: 3 } };
                if (policy.can({ id: `as-${ancestor}`, attributes: { level: 2 } }, resource, action)) {
                  expect(policy.can({ id: `as-${child.name}`, attributes: { level: 2 } }, resource, action), `${child.name} inherits ${ancestor}`).toBe(true);
                }
              }
          }
        }
      }),
      RUNS,
    );
  });

  it('revoking an allow rule never adds access', () => {
    fc.assert(
      fc.property(opsArb(), fc.nat(), (ops, n) => {
        const policy = build(ops);
        const before = decisions(policy);
        const holders = [
          ...policy.listRoles().map((r) => ({ role: r.name })),
          ...TENANTS.flatMap((tenant) => policy.listRoles(tenant).map((r) => ({ tenant, role: r.name }))),
          ...TENANTS.flatMap((tenant) => USERS.map((user) => ({ tenant, user }))),
        ];
        const allows = holders.flatMap((h) => policy.listGrants(h).filter((g) => g.effect === 'allow').map((g) => ({ h, id: g.id })));
        if (allows.length === 0) return;
        const victim = allows[n % allows.length]!;
        policy.revoke({ ...victim.h, id: victim.id } as never);
        decisions(policy).forEach((after, i) => expect(after && !before[i]).toBe(false));
      }),
      RUNS,
    );
  });

  it('removing a binding never adds access (with allow rules; unbinding a role that carries a deny lifts that deny by design)', () => {
    fc.assert(
      fc.property(opsArb(true), fc.nat(), (ops, n) => {
        const policy = build(ops);
        const before = decisions(policy);
        const bindings = TENANTS.flatMap((tenant) => policy.listBindings({ tenant }));
        if (bindings.length === 0) return;
        policy.unbindUser(bindings[n % bindings.length]!);
        decisions(policy).forEach((after, i) => expect(after && !before[i]).toBe(false));
      }),
      RUNS,
    );
  });

  it('deleting a role never adds access (with allow rules)', () => {
    fc.assert(
      fc.property(opsArb(true), fc.nat(), (ops, n) => {
        const policy = build(ops);
        const before = decisions(policy);
        const roles = [...policy.listRoles().map((r) => ({ name: r.name })), ...TENANTS.flatMap((tenant) => policy.listRoles(tenant).map((r) => ({ tenant, name: r.name })))];
        if (roles.length === 0) return;
        try {
          policy.deleteRole(roles[n % roles.length]!);
        } catch (err) {
          if ((err as { code?: string }).code === 'CONFLICT') return; // still inherited: refused, nothing changed
          throw err;
        }
        decisions(policy).forEach((after, i) => expect(after && !before[i]).toBe(false));
      }),
      RUNS,
    );
  });

  it("tenant isolation: nothing done in tenant a changes any decision in tenant b", () => {
    fc.assert(
      fc.property(opsArb(), (ops) => {
        const inA = (op: Op) => (op.kind === 'local' || op.kind === 'bind' ? op.tenant === 'a' : op.kind === 'grant' ? op.holder.tenant === 'a' : false);
        const withA = build(ops);
        const withoutA = build(ops.filter((op) => !inA(op)));
        expect(decisions(withA, ['b'])).toEqual(decisions(withoutA, ['b']));
      }),
      RUNS,
    );
  });
});
