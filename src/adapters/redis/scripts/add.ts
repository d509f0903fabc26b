import { defineScript } from '../lua.js';

/**
 * A bounded counter add: restates `decideAdd` (src/adapters/internal/requests.ts) in Lua, so the
 * read, the decision and the write are one atomic step on the server.
 *
 * KEYS[1]  revision counter
 * KEYS[2]  document hash of the counter
 * KEYS[3]  listing index of the counter's namespace
 * KEYS[4]  replay record of this call ('{<prefix>}:r:<request id>'), as in the txn script
 * ARGV[1]  key of the counter inside its namespace (the index member)
 * ARGV[2]  delta (a safe integer)
 * ARGV[3]  min ('' = none)
 * ARGV[4]  max ('' = none)
 * ARGV[5]  ttlMs applied only when this add creates the counter ('' = none)
 * ARGV[6]  replay window in ms ('0': keep no replay record)
 * Reply    { applied (1|0), value as JSON text, version (nil when the counter does not exist) }
 * Error    'DF_NOT_A_NUMBER ...' when the live document is not a number (nothing written)
 *
 * The rule (decideAdd): next = current + delta; not applied if delta > 0 and next > max, or
 * delta < 0 and next < min (a bound is checked only in the delta's direction, so releasing
 * always works), or next is not a safe integer. A delta of 0 reads without writing. Lua numbers
 * are IEEE doubles like JavaScript's, so the arithmetic and comparisons agree bit for bit.
 * The value travels back as JSON text: a Lua number in a reply would be truncated to an integer.
 *
 * Replay: a call resent by the client after a dropped connection (same request id) returns the
 * first run's reply instead of adding twice — a quota unit must never be taken twice.
 */
export const addScript = defineScript(
  'add',
  `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function int(n) return string.format('%.0f', n) end

local replayed = redis.call('GET', KEYS[4])
if replayed then return cmsgpack.unpack(replayed) end

local f = redis.call('HMGET', KEYS[2], 'v', 'n', 'x')
local live = f[1] and not (f[3] and tonumber(f[3]) <= now)
local current, currentJson, version = 0, '0', false
if live then
  -- JSON.stringify writes numbers as [-]digit...: the first byte tells a number from any other JSON.
  local b = string.byte(f[1], 1)
  if not (b == 45 or (b >= 48 and b <= 57)) then
    return redis.error_reply('DF_NOT_A_NUMBER counter document holds a non-number value')
  end
  current, currentJson, version = tonumber(f[1]), f[1], tonumber(f[2])
end

local delta = tonumber(ARGV[2])
local nextValue = current + delta
local applied = true
if delta > 0 and ARGV[4] ~= '' and nextValue > tonumber(ARGV[4]) then
  applied = false
elseif delta < 0 and ARGV[3] ~= '' and nextValue < tonumber(ARGV[3]) then
  applied = false
elseif nextValue ~= math.floor(nextValue) or math.abs(nextValue) > 9007199254740991 then
  applied = false
end
if not applied or delta == 0 then
  return { applied and 1 or 0, currentJson, version }
end

local json = int(nextValue)
if json == '-0' then json = '0' end
local newVersion = redis.call('INCR', KEYS[1])
if live then
  -- HSET keeps the key's PEXPIREAT and the 'x' field: an existing counter keeps its expiry.
  redis.call('HSET', KEYS[2], 'v', json, 'n', int(newVersion))
else
  redis.call('DEL', KEYS[2])
  if ARGV[5] == '' then
    redis.call('HSET', KEYS[2], 'v', json, 'n', int(newVersion))
  else
    local expiresAt = int(now + tonumber(ARGV[5]))
    redis.call('HSET', KEYS[2], 'v', json, 'n', int(newVersion), 'x', expiresAt)
    redis.call('PEXPIREAT', KEYS[2], expiresAt)
  end
  redis.call('ZADD', KEYS[3], 0, ARGV[1])
end
local out = { 1, json, newVersion }
if ARGV[6] ~= '0' then redis.call('SET', KEYS[4], cmsgpack.pack(out), 'PX', ARGV[6]) end
return out
`,
);
