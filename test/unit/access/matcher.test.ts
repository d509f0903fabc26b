import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_PATH_LENGTH, MAX_SEGMENTS, parsePattern, patternMatches, resourcePathSchema, scanPath, segmentsOf } from '../../../src/security/access/model/path.js';
import { ALLOW, PathIndex } from '../../../src/security/access/engine/path-index.js';

const HOLDER = { set: new Set([0]), list: [0] };
import { AccessPolicy } from '../../../src/security/access/policy.js';

/** Compiled-index answer for one pattern and one path. */
function indexMatches(pattern: string, path: string): boolean {
  const p = parsePattern(pattern);
  if (typeof p === 'string') throw new Error(p);
  const index = new PathIndex();
  index.add(p.text, 0, false, undefined);
  const segments = scanPath(path);
  if (typeof segments === 'string') throw new Error(segments);
  return index.probe({ tenant: 't', path, segments, ownerId: undefined, attributes: undefined }, HOLDER, 'u', 'u') === ALLOW;
}

/** Reference answer. */
function referenceMatches(pattern: string, path: string): boolean {
  const p = parsePattern(pattern);
  if (typeof p === 'string') throw new Error(p);
  return patternMatches(p.segments, segmentsOf(path));
}

describe('resource paths', () => {
  const valid: [string, string[]][] = [
    ['tasks', ['tasks']],
    ['tasks/123', ['tasks', '123']],
    ['projects/42/tasks/123', ['projects', '42', 'tasks', '123']],
    ['tasks/with space', ['tasks', 'with space']],
    ['tasks/a.b', ['tasks', 'a.b']],
    ['tasks/...', ['tasks', '...']],
    ['tasks/café', ['tasks', 'café']],
    ['tasks/日本', ['tasks', '日本']],
    ['Tasks/1', ['Tasks', '1']],
    ['tasks/a:b', ['tasks', 'a:b']],
  ];
  it.each(valid)('accepts %j', (path, segments) => {
    expect(scanPath(path)).toBe(segments.length);
    expect(segmentsOf(path)).toEqual(segments);
    expect(resourcePathSchema.safeParse(path).success).toBe(true);
  });

  const invalid: [string, string, RegExp][] = [
    ['empty', '', /empty/],
    ['trailing slash (rejected, never stripped)', 'tasks/1/', /empty segments/],
    ['leading slash', '/tasks/1', /empty segments/],
    ['double slash', 'tasks//1', /empty segments/],
    ['dot segment', 'tasks/./1', /"\."/],
    ['dot-dot traversal', 'tasks/../secrets', /"\."/],
    ['trailing dot-dot', 'tasks/..', /"\."/],
    ['percent-encoding (decode first)', 'tasks/a%2Fb', /%/],
    ['encoded traversal', 'tasks/%2e%2e', /%/],
    ['wildcard in a path', 'tasks/*', /\*/],
    ['NUL', 'tasks/a\u0000b', /control/],
    ['newline', 'tasks/a\nb', /control/],
    ['DEL', 'tasks/a\u007fb', /control/],
    ['C1 control', 'tasks/a\u0085b', /control/],
    ['lone surrogate', 'tasks/\ud800', /well-formed/],
    ['non-NFC (decomposed e + acute)', 'tasks/cafe\u0301', /NFC/],
    ['too long', `tasks/${'x'.repeat(MAX_PATH_LENGTH)}`, /at most/],
    ['too many segments', Array.from({ length: MAX_SEGMENTS + 1 }, () => 'a').join('/'), /segments/],
  ];
  it.each(invalid)('rejects %s', (_name, path, message) => {
    const result = scanPath(path);
    expect(result).toMatch(message);
    expect(resourcePathSchema.safeParse(path).success).toBe(false);
  });

  it('accepts a path of exactly the maximum length and segment count', () => {
    expect(typeof scanPath('x'.repeat(MAX_PATH_LENGTH))).not.toBe('string');
    expect(typeof scanPath(Array.from({ length: MAX_SEGMENTS }, () => 'a').join('/'))).not.toBe('string');
  });

  it('scanPath agrees with the zod statement of the rules on arbitrary strings', () => {
    const alphabet = fc.constantFrom('a', 'b', '1', '/', '.', '%', '*', ' ', '\u0000', '\u0085', 'é', 'e\u0301', '\ud800', '日');
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 12 }).map((parts) => parts.join('')), (text) => {
        expect(typeof scanPath(text) !== 'string').toBe(resourcePathSchema.safeParse(text).success);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('resource patterns', () => {
  it.each([
    ['tasks', 'tasks/**', 'deep'],
    ['tasks/123', 'tasks/123', 'exact'],
    ['tasks/*', 'tasks/*', 'wildcard'],
    ['projects/42/**', 'projects/42/**', 'deep'],
    ['projects/*/tasks/*', 'projects/*/tasks/*', 'wildcard'],
    ['**', '**', 'all'],
    ['*', '*', 'wildcard'],
    ['*/**', '*/**', 'wildcard'],
  ])('parses %j as %j (%s)', (text, canonical, kind) => {
    const p = parsePattern(text);
    expect(typeof p).not.toBe('string');
    expect(p).toMatchObject({ text: canonical, kind });
  });

  it.each([
    ['"**" in the middle', 'projects/**/tasks'],
    ['partial wildcard', 'tasks/1*'],
    ['triple star', 'tasks/***'],
    ['trailing slash', 'tasks/'],
    ['leading slash', '/tasks'],
    ['traversal', 'tasks/../x'],
    ['percent', 'tasks/%41'],
    ['empty', ''],
  ])('rejects %s', (_name, text) => {
    expect(typeof parsePattern(text)).toBe('string');
  });
});

describe('matching (compiled index and reference agree on every row)', () => {
  const table: [pattern: string, path: string, expected: boolean][] = [
    ['tasks/1', 'tasks/1', true],
    ['tasks/1', 'tasks/10', false],
    ['tasks/10', 'tasks/1', false],
    ['tasks/1', 'tasks/1/comments/2', false],
    ['tasks/1', 'tasks', false],
    ['tasks', 'tasks', true],
    ['tasks', 'tasks/1', true],
    ['tasks', 'tasks/1/comments/2', true],
    ['tasks', 'tasksx/1', false],
    ['tasks', 'task', false],
    ['tasks', 'projects/1/tasks/2', false],
    ['tasks/*', 'tasks/1', true],
    ['tasks/*', 'tasks', false],
    ['tasks/*', 'tasks/1/comments', false],
    ['tasks/1/**', 'tasks/1', true],
    ['tasks/1/**', 'tasks/1/a/b/c', true],
    ['tasks/1/**', 'tasks/10/a', false],
    ['tasks/1/**', 'tasks/1x', false],
    ['projects/42/tasks/*', 'projects/42/tasks/7', true],
    ['projects/42/tasks/*', 'projects/420/tasks/7', false],
    ['projects/42/tasks/*', 'projects/4/tasks/7', false],
    ['projects/42/tasks/*', 'projects/42/tasks', false],
    ['projects/*/tasks/*', 'projects/9/tasks/7', true],
    ['projects/*/tasks/*', 'projects/9/notes/7', false],
    ['projects/*/tasks/**', 'projects/9/tasks', true],
    ['projects/*/tasks/**', 'projects/9/tasks/7/x', true],
    ['*', 'tasks', true],
    ['*', 'tasks/1', false],
    ['*/1', 'tasks/1', true],
    ['*/1', 'tasks/10', false],
    ['**', 'anything/at/all', true],
    ['Tasks', 'tasks/1', false],
    ['tasks/café', 'tasks/café', true],
    ['tasks/a b', 'tasks/a b', true],
    ['tasks/a b', 'tasks/a', false],
    [`deep/${'x/'.repeat(29)}**`, `deep/${'x/'.repeat(29)}end`, true],
    [`deep/${'x/'.repeat(29)}y`, `deep/${'x/'.repeat(29)}x`, false],
  ];
  it.each(table)('%j vs %j -> %s', (pattern, path, expected) => {
    expect(indexMatches(pattern, path)).toBe(expected);
    expect(referenceMatches(pattern, path)).toBe(expected);
  });

  it('index and reference agree on random patterns and paths', () => {
    const segment = fc.constantFrom('a', 'b', '1', '10', 'tasks');
    const patternSegment = fc.constantFrom('a', 'b', '1', '10', 'tasks', '*');
    const pattern = fc
      .tuple(fc.array(patternSegment, { minLength: 1, maxLength: 4 }), fc.boolean())
      .map(([segs, deep]) => (deep ? [...segs, '**'] : segs).join('/'))
      .filter((text) => typeof parsePattern(text) !== 'string');
    const path = fc.array(segment, { minLength: 1, maxLength: 5 }).map((s) => s.join('/'));
    fc.assert(
      fc.property(pattern, path, (p, q) => {
        expect(indexMatches(p, q)).toBe(referenceMatches(p, q));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('bad input at check time', () => {
  const policy = new AccessPolicy();
  policy.defineRole({ name: 'viewer' });
  policy.grant({ role: 'viewer', action: 'read', resource: 'tasks' });
  policy.bindUser({ tenant: 'acme', user: 'ada', role: 'viewer' });

  it.each([
    ['trailing slash', 'tenants/acme/tasks/1/'],
    ['traversal out of the granted type', 'tenants/acme/tasks/../secrets/1'],
    ['percent-encoded traversal', 'tenants/acme/tasks/%2e%2e/secrets'],
    ['missing tenants/ prefix', 'acme/tasks/1'],
    ['bad tenant', 'tenants/ac me/tasks/1'],
    ['no path after the tenant', 'tenants/acme'],
    ['very long path', `tenants/acme/tasks/${'x'.repeat(5000)}`],
  ])('rejects %s with VALIDATION_FAILED instead of deciding', (_name, resource) => {
    expect(() => policy.can('ada', resource, 'read')).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });

  it.each([
    ['a wildcard action', '*'],
    ['a namespace wildcard action', 'tasks:*'],
    ['an empty action', ''],
    ['a non-string action', 42],
  ])('rejects %s in a check', (_name, action) => {
    expect(() => policy.can('ada', 'tenants/acme/tasks/1', action as string)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });

  it.each([
    ['an empty user id', ''],
    ['a user without id', { name: 'ada' }],
    ['null', null],
    ['attributes that are not an object', { id: 'ada', attributes: [1] }],
  ])('rejects %s as user', (_name, user) => {
    expect(() => policy.can(user as string, 'tenants/acme/tasks/1', 'read')).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });

  it('decides for valid input in both resource forms', () => {
    expect(policy.can('ada', 'tenants/acme/tasks/1', 'read')).toBe(true);
    expect(policy.can({ id: 'ada' }, { tenant: 'acme', path: 'tasks/1' }, 'read')).toBe(true);
    expect(policy.can('ada', { tenant: 'acme', path: 'notes/1' }, 'read')).toBe(false);
  });
});
