import { describe, expect, it } from 'vitest';
import { AccessPolicy } from '../../../src/security/access/policy.js';
import { scanPath } from '../../../src/security/access/model/path.js';
import { readResource } from '../../../src/security/access/model/subjects.js';
import { isFabricaError } from '../../../src/core/errors.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isFabricaError(err) ? err.code : 'NOT_A_FABRICA_ERROR';
  }
  return undefined;
}

function policy(): AccessPolicy {
  const p = new AccessPolicy();
  p.defineRole({ name: 'viewer' });
  p.grant({ role: 'viewer', action: 'read', resource: 'tasks' });
  p.grant({ role: 'viewer', effect: 'deny', action: 'read', resource: 'tasks/secret' });
  p.bindUser({ tenant: 'acme', user: 'ada', role: 'viewer' });
  p.bindUser({ tenant: 'globex', user: 'ada', role: 'viewer' });
  return p;
}

describe('check hot path: string methods captured at load time', () => {
  it('validates paths the same after String.prototype.charCodeAt is replaced', () => {
    const original = String.prototype.charCodeAt;
    let results: unknown[];
    try {
      // A replacement claiming every character is "a" would let "..", "%" and "*" through.
      String.prototype.charCodeAt = () => 97;
      results = ['tasks/../secret', 'tasks/a%2Fb', 'tasks/*', 'projects/42/tasks/7'].map((path) => scanPath(path));
    } finally {
      String.prototype.charCodeAt = original;
    }
    expect(results[0]).toMatch(/"\."/);
    expect(results[1]).toMatch(/%/);
    expect(results[2]).toMatch(/\*/);
    expect(results[3]).toBe(4);
  });

  it('decides the same once String.prototype is used as a prototype (dictionary mode in V8)', () => {
    // What `class X extends String` in a dependency (ioredis 6) does to every string method lookup.
    class Wrapped extends String {}
    expect(new Wrapped('x').length).toBe(1);
    const p = policy();
    expect(p.can('ada', 'tenants/acme/tasks/1', 'read')).toBe(true);
    expect(p.can('ada', { tenant: 'acme', path: 'projects/1/x' }, 'read')).toBe(false);
    expect(p.can('ada', 'tenants/acme/tasks/secret', 'read')).toBe(false);
    expect(codeOf(() => p.can('ada', 'tenants/acme/tasks/../secret', 'read'))).toBe('VALIDATION_FAILED');
  });
});

describe('check hot path: the last tenant looked up is remembered', () => {
  it('sees a revoke, a new grant and a template change made between two checks of the same tenant', () => {
    const p = policy();
    const task = { tenant: 'acme', path: 'tasks/1' };
    expect(p.can('ada', task, 'read')).toBe(true);
    p.unbindUser({ tenant: 'acme', user: 'ada', role: 'viewer' });
    expect(p.can('ada', task, 'read')).toBe(false);
    p.grant({ tenant: 'acme', user: 'ada', action: 'read', resource: 'tasks/1' });
    expect(p.can('ada', task, 'read')).toBe(true);
    expect(p.can('ada', 'tenants/globex/tasks/1', 'update')).toBe(false);
    p.grant({ role: 'viewer', action: 'update', resource: 'tasks' });
    expect(p.can('ada', 'tenants/globex/tasks/1', 'update')).toBe(true);
  });

  it('keeps tenants apart when checks alternate between them', () => {
    const p = policy();
    p.grant({ tenant: 'acme', user: 'ada', action: 'delete', resource: 'tasks/1' });
    for (let i = 0; i < 3; i++) {
      expect(p.can('ada', { tenant: 'acme', path: 'tasks/1' }, 'delete')).toBe(true);
      expect(p.can('ada', { tenant: 'globex', path: 'tasks/1' }, 'delete')).toBe(false);
      expect(p.can('ada', { tenant: 'initech', path: 'tasks/1' }, 'read')).toBe(false);
    }
    expect(codeOf(() => p.can('ada', { tenant: 'bad tenant', path: 'tasks/1' }, 'read'))).toBe('VALIDATION_FAILED');
  });
});

describe('check hot path: actions resolved once per index', () => {
  it.each([
    ['a merged per-user index', undefined],
    ['the shared per-scope indexes', 0],
  ] as const)('rejects wildcards and malformed actions in a check with %s, even where rules use them', (_layout, mergeLimit) => {
    const p = new AccessPolicy(mergeLimit === undefined ? {} : { mergeLimit });
    p.defineRole({ name: 'root' });
    p.grant({ role: 'root', action: '*', resource: '**' });
    p.grant({ role: 'root', action: 'tasks:*', resource: 'tasks' });
    p.bindUser({ tenant: 'acme', user: 'ada', role: 'root' });
    const task = { tenant: 'acme', path: 'tasks/1' };
    for (let round = 0; round < 2; round++) {
      expect(p.can('ada', task, 'tasks:assign')).toBe(true);
      for (const action of ['*', 'tasks:*', '', 'read ', 'a:b:c', 7, null]) {
        expect(codeOf(() => p.can('ada', task, action as string))).toBe('VALIDATION_FAILED');
        expect(codeOf(() => p.can('nobody', task, action as string))).toBe('VALIDATION_FAILED');
      }
    }
  });

  it('answers correctly for more distinct actions than one index remembers', () => {
    const p = policy();
    p.grant({ role: 'viewer', action: 'custom:*', resource: 'tasks' });
    const task = { tenant: 'acme', path: 'tasks/1' };
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 200; i++) {
        expect(p.can('ada', task, `custom:a${i}`)).toBe(true);
        expect(p.can('ada', task, `other:a${i}`)).toBe(false);
      }
      expect(p.can('ada', task, 'read')).toBe(true);
      expect(p.can('ada', { tenant: 'acme', path: 'tasks/secret' }, 'read')).toBe(false);
    }
  });

  it('sees an action gained by a later grant (the memo lives in the compiled index a change replaces)', () => {
    const p = policy();
    const task = { tenant: 'acme', path: 'tasks/1' };
    expect(p.can('ada', task, 'archive')).toBe(false);
    p.grant({ role: 'viewer', action: 'archive', resource: 'tasks' });
    expect(p.can('ada', task, 'archive')).toBe(true);
    p.revoke({ role: 'viewer', action: 'archive', resource: 'tasks' });
    expect(p.can('ada', task, 'archive')).toBe(false);
  });
});

describe('check hot path: resource objects', () => {
  it('reads each field of a resource object once, so a getter cannot change it after validation', () => {
    const reads: Record<string, number> = {};
    let pathReads = 0;
    const resource = {
      get tenant() {
        reads.tenant = (reads.tenant ?? 0) + 1;
        return 'acme';
      },
      get path() {
        pathReads += 1;
        return pathReads === 1 ? 'tasks/1' : 'tasks/../secret';
      },
      get ownerId() {
        reads.ownerId = (reads.ownerId ?? 0) + 1;
        return undefined;
      },
      get attributes() {
        reads.attributes = (reads.attributes ?? 0) + 1;
        return undefined;
      },
    };
    expect(readResource(resource, true)).toMatchObject({ tenant: 'acme', path: 'tasks/1', segments: 2 });
    expect({ ...reads, path: pathReads }).toEqual({ tenant: 1, path: 1, ownerId: 1, attributes: 1 });
  });
});
