import { defineScript } from '../lua.js';

/**
 * One page of a prefix listing, in byte order (= Unicode code point order for UTF-8 keys).
 *
 * KEYS[1]  listing index of the namespace (sorted set, all scores 0, members = keys)
 * ARGV[1]  document key prefix of the namespace ('{<prefix>}:d:<namespace>:'); document keys are
 *          derived from index members, so they are not in KEYS — legal on a cluster because they
 *          share KEYS[1]'s hash tag, hence its slot
 * ARGV[2]  lower bound for ZRANGEBYLEX: '-' (start), '[<prefix>' (inclusive) or '(<lastKey>' (cursor)
 * ARGV[3]  key prefix ('' = none); the upper bound is '(<prefix>\\xFF': UTF-8 never contains the
 *          byte 0xFF, so every key starting with the prefix sorts below it and no other key does
 * ARGV[4]  limit (page size)
 * ARGV[5]  scan budget: index entries examined at most, so a namespace full of expired entries
 *          cannot block the server in one call
 * Reply    { status, cursorKey, then 4 entries per item: key, JSON text, version, expiresAt (or nil) }
 *          status 0: listing complete; 1: more items after cursorKey (the last item);
 *          2: budget spent, resume after cursorKey (the last entry examined)
 *
 * Entries whose document is gone (Redis expired it) or expired are removed from the index as
 * they are met — lazy cleanup — and the loop keeps reading so the page still holds `limit` live
 * items whenever there are that many.
 */
export const listScript = defineScript(
  'list',
  `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local index = KEYS[1]
local docPrefix = ARGV[1]
local min = ARGV[2]
local max = '+'
if ARGV[3] ~= '' then max = '(' .. ARGV[3] .. '\\255' end
local limit = tonumber(ARGV[4])
local budget = tonumber(ARGV[5])

local out = { 0, false }
local found = 0
local scanned = 0
while true do
  -- One more than still needed: finding it tells whether a next page exists.
  local want = limit + 1 - found
  local batch = redis.call('ZRANGEBYLEX', index, min, max, 'LIMIT', 0, want)
  for _, key in ipairs(batch) do
    local f = redis.call('HMGET', docPrefix .. key, 'v', 'n', 'x')
    if f[1] and not (f[3] and tonumber(f[3]) <= now) then
      if found == limit then
        out[1] = 1
        return out
      end
      found = found + 1
      out[#out + 1] = key
      out[#out + 1] = f[1]
      out[#out + 1] = tonumber(f[2])
      out[#out + 1] = f[3] and tonumber(f[3]) or false
      out[2] = key
    else
      redis.call('ZREM', index, key)
    end
    scanned = scanned + 1
    if scanned >= budget then
      out[1] = 2
      out[2] = key
      return out
    end
  end
  if #batch < want then return out end
  min = '(' .. batch[#batch]
end
`,
);
