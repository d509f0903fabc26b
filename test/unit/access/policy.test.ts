import { describe, expect, it } from 'vitest';
import { AccessPolicy } from '../../../src/security/access/policy.js';
import { RoleCycleError } from '../../../src/security/access/errors.js';
import { isFabricaError } from '../../../src/core/errors.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isFabricaError(err) ? err.code : 'NOT_A_FABRICA_ERROR';
  }
  return undefined;
}

/** Templates viewer < editor < admin, and tenant acme with ada (editor) and bob (no roles). */
function basePolicy(): AccessPolicy {
  const p = new AccessPolicy();
  p.defineRole({ name: 'viewer', description: 'reads everything' });
  p.defineRole({ name: 'editor', inherits: ['viewer'] });
  p.defineRole({ name: 'admin', inherits: ['editor'] });
  p.grant({ role: 'viewer', action: 'read', resource: '**' });
  p.grant({ role: 'editor', action: 'update', resource: 'tasks' });
  p.grant({ role: 'admin', action: 'delete', resource: '**' });
  p.bindUser({ tenant: 'acme', user: 'ada', role: 'editor' });
  return p;
}

describe('AccessPolicy: roles and inheritance', () => {
  it('inherits permissions transitively and explains through which roles', () => {
    const p = basePolicy();
    p.defineRole({ tenant: 'acme', name: 'lead', inherits: ['admin'] });
    p.bindUser({ tenant: 'acme', user: 'cy', role: 'lead' });
    expect(p.can('cy', 'tenants/acme/tasks/1', 'delete')).toBe(true);
    const e = p.explain('cy', 'tenants/acme/tasks/1', 'read');
    expect(e).toMatchObject({ allowed: true, reason: 'allowed-by-rule', path: ['lead', 'admin', 'editor', 'viewer'] });
    expect(e.matchedRule).toMatchObject({ action: 'read', resource: '**', holder: { kind: 'role', role: 'viewer', template: true } });
  });

  it('rejects a cycle when the policy is written, with ACCESS_ROLE_CYCLE naming the loop', () => {
    const p = basePolicy();
    let error: unknown;
    try {
      p.defineRole({ name: 'viewer', inherits: ['admin'] });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(RoleCycleError);
    expect(error).toMatchObject({ code: 'ACCESS_ROLE_CYCLE', status: 422, cycle: ['viewer', 'admin', 'editor', 'viewer'] });
    expect(codeOf(() => p.defineRole({ name: 'solo', inherits: ['solo'] }))).toBe('ACCESS_ROLE_CYCLE');
    // Nothing was changed by the rejected definition.
    expect(p.listRoles().find((r) => r.name === 'viewer')?.inherits).toEqual([]);
  });

  it('rejects a cycle through tenant roles', () => {
    const p = basePolicy();
    p.defineRole({ tenant: 'acme', name: 'a', inherits: ['viewer'] });
    p.defineRole({ tenant: 'acme', name: 'b', inherits: ['a'] });
    expect(codeOf(() => p.defineRole({ tenant: 'acme', name: 'a', inherits: ['b'] }))).toBe('ACCESS_ROLE_CYCLE');
  });

  it('accepts diamonds (a DAG is not a cycle)', () => {
    const p = new AccessPolicy();
    p.defineRole({ name: 'base' });
    p.defineRole({ name: 'left', inherits: ['base'] });
    p.defineRole({ name: 'right', inherits: ['base'] });
    expect(p.defineRole({ name: 'top', inherits: ['left', 'right'] }).changed).toBe(true);
  });

  it('refuses unknown parents, template->tenant inheritance and name clashes', () => {
    const p = basePolicy();
    expect(codeOf(() => p.defineRole({ name: 'x', inherits: ['ghost'] }))).toBe('NOT_FOUND');
    p.defineRole({ tenant: 'acme', name: 'local' });
    expect(codeOf(() => p.defineRole({ name: 'x', inherits: ['local'] }))).toBe('NOT_FOUND');
    expect(codeOf(() => p.defineRole({ tenant: 'acme', name: 'viewer' }))).toBe('CONFLICT');
    expect(codeOf(() => p.defineRole({ name: 'local' }))).toBe('CONFLICT');
  });

  it('validates every administrative input with VALIDATION_FAILED', () => {
    const p = basePolicy();
    expect(codeOf(() => p.defineRole({ name: 'bad name' }))).toBe('VALIDATION_FAILED');
    expect(codeOf(() => p.grant({ role: 'viewer', action: 'read', resource: 'tasks/../x' }))).toBe('VALIDATION_FAILED');
    expect(codeOf(() => p.grant({ role: 'viewer', action: 're ad', resource: 'tasks' }))).toBe('VALIDATION_FAILED');
    expect(codeOf(() => p.grant({ role: 'viewer', user: 'ada', action: 'read', resource: 'tasks' } as never))).toBe('VALIDATION_FAILED');
    expect(codeOf(() => p.grant({ user: 'ada', action: 'read', resource: 'tasks' } as never))).toBe('VALIDATION_FAILED');
    expect(codeOf(() => p.bindUser({ tenant: 'acme', user: '', role: 'viewer' }))).toBe('VALIDATION_FAILED');
    expect(codeOf(() => p.revoke({ role: 'viewer' } as never))).toBe('VALIDATION_FAILED');
    expect(codeOf(() => p.grant({ role: 'viewer', action: 'read', resource: 'tasks', extra: 1 } as never))).toBe('VALIDATION_FAILED');
  });

  it('is idempotent: the same grant or binding twice changes nothing the second time', () => {
    const p = basePolicy();
    const first = p.grant({ role: 'viewer', action: 'list', resource: 'tasks' });
    const again = p.grant({ role: 'viewer', action: 'list', resource: 'tasks' });
    expect(first.changed).toBe(true);
    expect(again).toEqual({ changed: false, revision: first.revision, ruleId: first.ruleId });
    // `tasks` and `tasks/**` are the same rule.
    expect(p.grant({ role: 'viewer', action: 'list', resource: 'tasks/**' }).changed).toBe(false);
    expect(p.bindUser({ tenant: 'acme', user: 'ada', role: 'editor' }).changed).toBe(false);
  });
});

describe('AccessPolicy: tenants and templates', () => {
  it('scopes bindings to their tenant; templates are shared without copying', () => {
    const p = basePolicy();
    p.bindUser({ tenant: 'globex', user: 'bob', role: 'viewer' });
    expect(p.can('ada', 'tenants/acme/tasks/1', 'update')).toBe(true);
    expect(p.can('ada', 'tenants/globex/tasks/1', 'read')).toBe(false);
    expect(p.can('bob', 'tenants/globex/tasks/1', 'read')).toBe(true);
    expect(p.can('bob', 'tenants/acme/tasks/1', 'read')).toBe(false);
    // A template change reaches every tenant at once.
    p.grant({ role: 'viewer', effect: 'deny', action: 'read', resource: 'secrets' });
    expect(p.can('ada', 'tenants/acme/secrets/1', 'read')).toBe(false);
    expect(p.can('bob', 'tenants/globex/secrets/1', 'read')).toBe(false);
  });

  it('keeps tenant roles private to their tenant', () => {
    const p = basePolicy();
    p.defineRole({ tenant: 'acme', name: 'auditor' });
    p.grant({ tenant: 'acme', role: 'auditor', action: 'audit', resource: '**' });
    expect(codeOf(() => p.bindUser({ tenant: 'globex', user: 'bob', role: 'auditor' }))).toBe('NOT_FOUND');
    expect(codeOf(() => p.grant({ tenant: 'acme', role: 'viewer', action: 'x', resource: 'tasks' }))).toBe('NOT_FOUND');
  });
});

describe('AccessPolicy: deny, default deny, actions', () => {
  it('denies by default', () => {
    const p = basePolicy();
    expect(p.can('nobody', 'tenants/acme/tasks/1', 'read')).toBe(false);
    expect(p.can('ada', 'tenants/acme/tasks/1', 'delete')).toBe(false);
    expect(p.explain('ada', 'tenants/acme/tasks/1', 'delete')).toMatchObject({ allowed: false, reason: 'no-matching-rule', matchedRule: null, path: [] });
  });

  it('lets a deny win whatever the order and wherever it is inherited from', () => {
    const p = basePolicy();
    p.grant({ role: 'viewer', effect: 'deny', action: 'update', resource: 'tasks/locked' });
    // The allow comes from a role nearer to the user, granted after the deny.
    p.defineRole({ tenant: 'acme', name: 'owner', inherits: ['editor'] });
    p.grant({ tenant: 'acme', role: 'owner', action: 'update', resource: 'tasks/locked' });
    p.bindUser({ tenant: 'acme', user: 'ada', role: 'owner' });
    expect(p.can('ada', 'tenants/acme/tasks/locked', 'update')).toBe(false);
    expect(p.can('ada', 'tenants/acme/tasks/open', 'update')).toBe(true);
    const e = p.explain('ada', 'tenants/acme/tasks/locked', 'update');
    expect(e.reason).toBe('denied-by-rule');
    expect(e.matchedRule).toMatchObject({ effect: 'deny', holder: { kind: 'role', role: 'viewer' } });
    expect(e.path).toEqual(['editor', 'viewer']);
  });

  it('lets a deny on a user beat the user\'s direct allow', () => {
    const p = basePolicy();
    p.grant({ tenant: 'acme', user: 'ada', action: 'delete', resource: 'tasks/9' });
    expect(p.can('ada', 'tenants/acme/tasks/9', 'delete')).toBe(true);
    p.grant({ tenant: 'acme', user: 'ada', effect: 'deny', action: '*', resource: 'tasks/9' });
    expect(p.can('ada', 'tenants/acme/tasks/9', 'delete')).toBe(false);
    expect(p.can('ada', 'tenants/acme/tasks/9', 'read')).toBe(false);
  });

  it('matches action wildcards: * and ns:*', () => {
    const p = new AccessPolicy();
    p.defineRole({ name: 'r' });
    p.grant({ role: 'r', action: 'tasks:*', resource: 'tasks' });
    p.bindUser({ tenant: 't', user: 'u', role: 'r' });
    expect(p.can('u', 'tenants/t/tasks/1', 'tasks:assign')).toBe(true);
    expect(p.can('u', 'tenants/t/tasks/1', 'tasks:close')).toBe(true);
    expect(p.can('u', 'tenants/t/tasks/1', 'read')).toBe(false);
    expect(p.can('u', 'tenants/t/tasks/1', 'notes:assign')).toBe(false);
    p.grant({ role: 'r', effect: 'deny', action: 'tasks:close', resource: 'tasks/1' });
    expect(p.can('u', 'tenants/t/tasks/1', 'tasks:close')).toBe(false);
    expect(p.can('u', 'tenants/t/tasks/2', 'tasks:close')).toBe(true);
  });
});

describe('AccessPolicy: conditions and direct grants', () => {
  it('grants on ownership only to the owner; a missing owner unlocks nothing', () => {
    const p = new AccessPolicy();
    p.defineRole({ name: 'member' });
    p.grant({ role: 'member', action: 'update', resource: 'tasks/*', condition: { op: 'owner' } });
    p.bindUser({ tenant: 'acme', user: 'ada', role: 'member' });
    expect(p.can('ada', { tenant: 'acme', path: 'tasks/1', ownerId: 'ada' }, 'update')).toBe(true);
    expect(p.can('ada', { tenant: 'acme', path: 'tasks/1', ownerId: 'bob' }, 'update')).toBe(false);
    expect(p.can('ada', 'tenants/acme/tasks/1', 'update')).toBe(false);
    expect(p.explain('ada', { tenant: 'acme', path: 'tasks/1', ownerId: 'bob' }, 'update')).toMatchObject({
      reason: 'condition-not-met',
      matchedRule: { conditionResult: 'false' },
    });
  });

  it('applies a conditional deny unless its condition is false (fail closed on missing data)', () => {
    const p = basePolicy();
    p.grant({
      role: 'viewer',
      effect: 'deny',
      action: 'read',
      resource: 'reports',
      condition: { op: 'gt', left: { ref: 'resource.attributes.level' }, right: { ref: 'user.attributes.clearance' } },
    });
    const ada = (clearance?: number) => ({ id: 'ada', attributes: clearance === undefined ? {} : { clearance } });
    const report = { tenant: 'acme', path: 'reports/q3', attributes: { level: 3 } };
    expect(p.can(ada(5), report, 'read')).toBe(true);
    expect(p.can(ada(1), report, 'read')).toBe(false);
    expect(p.can(ada(), report, 'read')).toBe(false);
    expect(p.explain(ada(), report, 'read')).toMatchObject({ reason: 'denied-by-rule', matchedRule: { conditionResult: 'unknown' } });
  });

  it('shares one resource with one person through a direct grant', () => {
    const p = basePolicy();
    p.grant({ tenant: 'acme', user: 'bob', action: 'read', resource: 'tasks/123' });
    expect(p.can('bob', 'tenants/acme/tasks/123', 'read')).toBe(true);
    expect(p.can('bob', 'tenants/acme/tasks/1234', 'read')).toBe(false);
    expect(p.can('bob', 'tenants/acme/tasks/123/comments/1', 'read')).toBe(false);
    expect(p.can('bob', 'tenants/globex/tasks/123', 'read')).toBe(false);
    expect(p.explain('bob', 'tenants/acme/tasks/123', 'read')).toMatchObject({ path: [], matchedRule: { holder: { kind: 'user', user: 'bob' } } });
  });
});

describe('AccessPolicy: revoking', () => {
  it('revokes by id and by body, and unbinds', () => {
    const p = basePolicy();
    const { ruleId } = p.grant({ tenant: 'acme', user: 'bob', action: 'read', resource: 'tasks/1' });
    expect(p.revoke({ tenant: 'acme', user: 'bob', id: ruleId! }).changed).toBe(true);
    expect(p.can('bob', 'tenants/acme/tasks/1', 'read')).toBe(false);
    expect(p.revoke({ role: 'editor', action: 'update', resource: 'tasks' }).changed).toBe(true);
    expect(p.can('ada', 'tenants/acme/tasks/1', 'update')).toBe(false);
    expect(p.unbindUser({ tenant: 'acme', user: 'ada', role: 'editor' }).changed).toBe(true);
    expect(p.can('ada', 'tenants/acme/tasks/1', 'read')).toBe(false);
    expect(p.unbindUser({ tenant: 'acme', user: 'ada', role: 'editor' }).changed).toBe(false);
  });

  it('deletes a role with its rules and bindings; defining it again starts empty', () => {
    const p = new AccessPolicy();
    p.defineRole({ name: 'temp' });
    p.grant({ role: 'temp', action: 'read', resource: 'tasks' });
    p.bindUser({ tenant: 'acme', user: 'ada', role: 'temp' });
    expect(p.can('ada', 'tenants/acme/tasks/1', 'read')).toBe(true);
    expect(p.deleteRole({ name: 'temp' }).changed).toBe(true);
    expect(p.can('ada', 'tenants/acme/tasks/1', 'read')).toBe(false);
    p.defineRole({ name: 'temp' });
    expect(p.listGrants({ role: 'temp' })).toEqual([]);
    expect(p.listBindings({ tenant: 'acme' })).toEqual([]);
    expect(p.can('ada', 'tenants/acme/tasks/1', 'read')).toBe(false);
  });

  it('refuses to delete a role other roles inherit', () => {
    const p = basePolicy();
    p.defineRole({ tenant: 'acme', name: 'lead', inherits: ['admin'] });
    let details: unknown;
    try {
      p.deleteRole({ name: 'admin' });
    } catch (err) {
      details = (err as { details?: unknown }).details;
    }
    expect(details).toMatchObject({ role: 'admin', inheritedBy: ['acme/lead'] });
  });
});

describe('AccessPolicy: authorize and listPermitted', () => {
  it('throws ACCESS_DENIED with a secret-free explanation', () => {
    const p = basePolicy();
    const resource = { tenant: 'acme', path: 'tasks/1', attributes: { apiKey: 'sk_live_secret' } };
    let error: { code?: string; status?: number; details?: Record<string, unknown> } | undefined;
    try {
      p.authorize('ada', resource, 'delete');
    } catch (err) {
      error = err as typeof error;
    }
    expect(error).toMatchObject({ code: 'ACCESS_DENIED', status: 403, details: { reason: 'no-matching-rule', action: 'delete', resource: 'tenants/acme/tasks/1' } });
    expect(JSON.stringify(error)).not.toContain('sk_live_secret');
    expect(() => p.authorize('ada', resource, 'read')).not.toThrow();
  });

  it('lists permitted instances as an exact filter when it can', () => {
    const p = new AccessPolicy();
    p.defineRole({ name: 'r' });
    p.grant({ role: 'r', action: 'read', resource: 'tasks/1' });
    p.grant({ role: 'r', action: 'read', resource: 'tasks/2/**' });
    p.grant({ role: 'r', action: 'read', resource: 'notes' });
    p.bindUser({ tenant: 'acme', user: 'ada', role: 'r' });
    const tasks = p.listPermitted('ada', 'read', { tenant: 'acme', type: 'tasks' });
    expect(tasks).toMatchObject({ all: false, ids: ['1', '2'], exact: true, deny: [], conditional: [] });
    expect(p.listPermitted('ada', 'read', 'tenants/acme/notes')).toMatchObject({ all: true, exact: true });
    expect(p.listPermitted('ada', 'update', 'tenants/acme/tasks')).toMatchObject({ all: false, ids: [], exact: true });
  });

  it('lists denies and conditional rules when the filter is not exact, and filter() agrees with can()', () => {
    const p = new AccessPolicy();
    p.defineRole({ name: 'r' });
    p.grant({ role: 'r', action: 'read', resource: 'tasks' });
    p.grant({ role: 'r', effect: 'deny', action: 'read', resource: 'tasks/3' });
    p.grant({ role: 'r', action: 'update', resource: 'tasks/*', condition: { op: 'owner' } });
    p.bindUser({ tenant: 'acme', user: 'ada', role: 'r' });
    const read = p.listPermitted('ada', 'read', 'tenants/acme/tasks');
    expect(read).toMatchObject({ all: true, exact: false, deny: [{ resource: 'tasks/3', path: ['r'] }] });
    const rows = ['1', '2', '3'].map((id) => ({ tenant: 'acme', path: `tasks/${id}`, ownerId: id === '2' ? 'ada' : 'bob' }));
    expect(read.filter(rows).map((r) => r.path)).toEqual(['tasks/1', 'tasks/2']);
    const update = p.listPermitted('ada', 'update', 'tenants/acme/tasks');
    expect(update).toMatchObject({ all: false, exact: false, conditional: [{ condition: { op: 'owner' } }] });
    expect(update.filter(rows).map((r) => r.path)).toEqual(['tasks/2']);
  });
});

describe('parseResource: validate once, check many times', () => {
  it('decides exactly as the raw input, and is immutable', async () => {
    const { parseResource, ParsedResource } = await import('../../../src/security/access/model/subjects.js');
    const p = basePolicy();
    p.grant({ role: 'viewer', action: 'update', resource: 'tasks/*', condition: { op: 'owner' } });
    const raw = { tenant: 'acme', path: 'tasks/1', ownerId: 'ada' };
    const parsed = parseResource(raw);
    expect(parsed).toBeInstanceOf(ParsedResource);
    expect(parseResource(parsed)).toBe(parsed);
    for (const action of ['read', 'update', 'delete']) {
      expect(p.can('ada', parsed, action)).toBe(p.can('ada', raw, action));
      expect(p.explain('ada', parsed, action)).toEqual(p.explain('ada', raw, action));
    }
    expect(Object.isFrozen(parsed)).toBe(true);
    expect(() => {
      (parsed as { path: string }).path = 'tasks/../x';
    }).toThrow(TypeError);
    expect(parseResource('tenants/acme/projects/42/tasks/7')).toMatchObject({ tenant: 'acme', path: 'projects/42/tasks/7', segments: 4 });
    expect(codeOf(() => parseResource('tenants/acme/tasks/1/'))).toBe('VALIDATION_FAILED');
    expect(codeOf(() => new ParsedResource({ tenant: 'acme', path: 'tasks/../x' }))).toBe('VALIDATION_FAILED');
  });

  it('treats a forged look-alike as plain input and validates it', async () => {
    const { ParsedResource } = await import('../../../src/security/access/model/subjects.js');
    const p = basePolicy();
    const forged = Object.create(ParsedResource.prototype, {
      tenant: { value: 'acme', enumerable: true },
      path: { value: 'tasks/../secrets', enumerable: true },
      segments: { value: 3, enumerable: true },
    }) as InstanceType<typeof ParsedResource>;
    expect(forged).toBeInstanceOf(ParsedResource);
    expect(codeOf(() => p.can('ada', forged, 'read'))).toBe('VALIDATION_FAILED');
  });
});
