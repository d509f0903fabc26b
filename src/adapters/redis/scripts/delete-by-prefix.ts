import { defineScript } from '../lua.js';

/**
 * One step of a cache prefix delete: one SCAN iteration, then UNLINK of the keys it matched.
 * Running it as a script routes it by KEYS[1] to the node owning the adapter's slot, so it also
 * works on Redis Cluster, where a client-side SCAN would visit an arbitrary node.
 *
 * KEYS[1]  the cache key prefix '{<prefix>}:c:' — not read, it names the slot (hash tag)
 * ARGV[1]  SCAN cursor ('0' to start)
 * ARGV[2]  MATCH pattern: the glob-escaped full key prefix followed by '*'
 * ARGV[3]  SCAN COUNT hint
 * Reply    { next cursor ('0' when done), number of live keys deleted }
 *
 * Inside a script, keys past their TTL count as absent, so UNLINK's count is of live entries.
 */
export const deleteByPrefixScript = defineScript(
  'cache.deleteByPrefix',
  `
local res = redis.call('SCAN', ARGV[1], 'MATCH', ARGV[2], 'COUNT', tonumber(ARGV[3]))
local keys = res[2]
local deleted = 0
-- unpack() is bounded by the Lua C stack: delete in chunks.
for i = 1, #keys, 500 do
  deleted = deleted + redis.call('UNLINK', unpack(keys, i, math.min(i + 499, #keys)))
end
return { res[1], deleted }
`,
);
