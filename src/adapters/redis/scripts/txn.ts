import { defineScript } from '../lua.js';

/**
 * An etcd-style transaction over documents: checks every compare, then applies the success or
 * the failure ops, atomically (a script runs alone on the server). `put`, `put` with `ifVersion`
 * and `delete` are one-op transactions of this same script.
 *
 * KEYS[1]          revision counter: INCR gives every write a new, never reused version
 * KEYS[2]          replay record of this call ('{<prefix>}:r:<request id>'), see below
 * KEYS[2 + i]      document hash of slot i (i = 1..D)
 * KEYS[2 + D + i]  listing index (sorted set) of slot i's namespace
 * ARGV[1..4]       D (slots), C (compares), S (success ops), F (failure ops)
 * ARGV[5]          replay window in ms ('0': keep no replay record)
 * ARGV[5 + i]      key of slot i inside its namespace (the index member)
 * then C × 3       compare: slot, kind ('v' version | 'e' exists), expected (version, or '1'/'0')
 * then S × 4, F × 4  op: kind ('p' put | 'd' delete), slot, JSON text ('' for delete), ttlMs ('' = none)
 * Reply            { succeeded (1|0), then per op of the branch taken: version (nil for delete), existed (1|0) }
 *
 * Replay: ioredis resends a command that was in flight when its connection dropped (the default
 * `autoResendUnfulfilledCommands`), although the server may have run it already. The first run
 * stores its reply under KEYS[2] for the window; a resent call (same request id) returns that
 * reply instead of applying the ops again — otherwise a CAS that succeeded would be re-run,
 * fail its compare and report failure (and apply the failure branch).
 *
 * Expired documents count as absent everywhere (version 0), compared against the server's TIME.
 * A put stores expiresAt in the hash (reads return it) AND sets PEXPIREAT, so Redis frees the
 * memory itself; a put without TTL deletes the old hash first, which drops any old expiry.
 */
export const txnScript = defineScript(
  'txn',
  `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local replayed = redis.call('GET', KEYS[2])
if replayed then return cmsgpack.unpack(replayed) end
local D = tonumber(ARGV[1])
local C = tonumber(ARGV[2])
local S = tonumber(ARGV[3])
local F = tonumber(ARGV[4])

-- Version of the live document in slot i; 0 when absent or expired.
local function liveVersion(i)
  local f = redis.call('HMGET', KEYS[2 + i], 'n', 'x')
  if not f[1] then return 0 end
  if f[2] and tonumber(f[2]) <= now then return 0 end
  return tonumber(f[1])
end

-- '%.0f' prints integers below 2^53 exactly; tostring would switch to exponent notation.
local function int(n) return string.format('%.0f', n) end

local pos = 5 + D
local ok = true
for c = 1, C do
  if ok then
    local v = liveVersion(tonumber(ARGV[pos + 1]))
    if ARGV[pos + 2] == 'v' then
      ok = (v == tonumber(ARGV[pos + 3]))
    else
      ok = ((v ~= 0) == (ARGV[pos + 3] == '1'))
    end
  end
  pos = pos + 3
end

local first, count
if ok then first, count = pos, S else first, count = pos + 4 * S, F end
local out = { ok and 1 or 0 }
for o = 0, count - 1 do
  local p = first + 4 * o
  local slot = tonumber(ARGV[p + 2])
  local doc = KEYS[2 + slot]
  local index = KEYS[2 + D + slot]
  local member = ARGV[5 + slot]
  -- A key appears at most once per branch, so this is the state before the txn.
  local existed = liveVersion(slot) ~= 0 and 1 or 0
  if ARGV[p + 1] == 'p' then
    local version = redis.call('INCR', KEYS[1])
    redis.call('DEL', doc)
    if ARGV[p + 4] == '' then
      redis.call('HSET', doc, 'v', ARGV[p + 3], 'n', int(version))
    else
      local expiresAt = int(now + tonumber(ARGV[p + 4]))
      redis.call('HSET', doc, 'v', ARGV[p + 3], 'n', int(version), 'x', expiresAt)
      redis.call('PEXPIREAT', doc, expiresAt)
    end
    redis.call('ZADD', index, 0, member)
    out[#out + 1] = version
  else
    redis.call('DEL', doc)
    redis.call('ZREM', index, member)
    out[#out + 1] = false
  end
  out[#out + 1] = existed
end
-- Nothing to replay when nothing was written (a resend would recompute the same answer).
if count > 0 and ARGV[5] ~= '0' then
  redis.call('SET', KEYS[2], cmsgpack.pack(out), 'PX', ARGV[5])
end
return out
`,
);
