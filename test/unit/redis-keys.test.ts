import { describe, expect, it } from 'vitest';
import { escapeGlob, redisKeyLayout, redisPrefixSchema } from '../../src/adapters/redis/keys.js';
import { planTxn } from '../../src/adapters/redis/txn-plan.js';

// Redis Cluster hashes only the part between the first '{' and the first '}' after it.
function hashTag(key: string): string | null {
  const open = key.indexOf('{');
  if (open < 0) return null;
  const close = key.indexOf('}', open + 1);
  return close <= open + 1 ? null : key.slice(open + 1, close);
}

describe('redis key layout', () => {
  const layout = redisKeyLayout('app');

  it('puts every key of an adapter under one hash tag, whatever the document key holds', () => {
    const keys = [
      layout.revision,
      layout.document('users', 'u1'),
      layout.document('users', '{other}:x'),
      layout.document('users', '}{'),
      layout.documentPrefix('users'),
      layout.index('users'),
      layout.replay('0b6e3c1e-8d1f-4a43-9d3e-5f3c2a1b0c9d'),
      layout.cache('{evil}'),
      layout.cachePrefix,
    ];
    for (const key of keys) expect(hashTag(key), key).toBe('app');
  });

  it('refuses prefixes that would move or break the hash tag, or glob patterns', () => {
    // ':' too: channels may contain ':', so prefixes 'a' and 'a:ps' could share a Redis channel.
    for (const bad of ['', '{x}', 'a}b', 'a{', 'a b', 'a*', 'a?', 'a[b]', 'a\\b', 'é', 'a:ps', 'x'.repeat(65)]) {
      expect(redisPrefixSchema.safeParse(bad).success, bad).toBe(false);
    }
    for (const good of ['df', 'my-app.v2', 'tenant_1.cache']) expect(redisPrefixSchema.safeParse(good).success, good).toBe(true);
  });

  it('escapes every glob metacharacter so a pattern matches its text literally', () => {
    expect(escapeGlob('a*b?c[d]e\\f')).toBe('a\\*b\\?c\\[d\\]e\\\\f');
    expect(escapeGlob('plain:key/é')).toBe('plain:key/é');
  });

  it('lays a txn out with one slot per distinct document, shared by compares and ops', () => {
    const plan = planTxn(
      layout,
      [
        { namespace: 'n', key: 'a', version: 3 },
        { namespace: 'n', key: 'b', exists: false },
      ],
      [
        { type: 'put', namespace: 'n', key: 'a', value: 1, ttlMs: 500 },
        { type: 'delete', namespace: 'm', key: 'c' },
      ],
      [{ type: 'put', namespace: 'n', key: 'b', value: 2 }],
      { success: ['1', null], failure: ['2'] },
      { requestId: 'req-1', windowMs: 5000 },
    );
    expect(plan.keys).toEqual([layout.revision, layout.replay('req-1'), layout.document('n', 'a'), layout.document('n', 'b'), layout.document('m', 'c'), layout.index('n'), layout.index('n'), layout.index('m')]);
    expect(plan.args).toEqual(['3', '2', '2', '1', '5000', 'a', 'b', 'c', '1', 'v', '3', '2', 'e', '0', 'p', '1', '1', '500', 'd', '3', '', '', 'p', '2', '2', '']);
  });
});
