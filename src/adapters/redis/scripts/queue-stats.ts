import { defineQueueScript } from './queue-lib.js';

/**
 * A snapshot: every count, the oldest waiting task and each active tenant's state.
 *
 * KEYS[1]  <P>cfg
 * ARGV[1]  <P>
 * Reply    { at, counts: flat field/value list of <P>cnt, oldestReadyAt ('' = none),
 *            tenants: { tenant, ready, leased, unservedMs ('' = none) }…,
 *            policy: { mc, aging, ret, fret } ('' = null) }
 */
export const queueStatsScript = defineQueueScript(
  'queue-stats',
  `
local c = config()
local counts = redis.call('HGETALL', P .. 'cnt')
local oldest = redis.call('ZRANGE', P .. 'waiting', 0, 0, 'WITHSCORES')
local tenants = {}
local names = redis.call('SMEMBERS', P .. 'tenants')
table.sort(names)
for _, tenant in ipairs(names) do
  local tn = redis.call('HMGET', P .. 'ten:' .. tenant, 'ready', 'leased')
  local unserved = nil
  for band = 0, 3 do
    if redis.call('EXISTS', P .. 'rq:' .. band .. ':' .. tenant) == 1 then
      local tb = redis.call('HMGET', P .. 'tb:' .. band .. ':' .. tenant, 's', 'sv')
      local since = tonumber(tb[1] or '0')
      local last = math.max(tonumber(tb[2] or '0'), since)
      local waited = NOW - last
      if unserved == nil or waited > unserved then unserved = waited end
    end
  end
  tenants[#tenants + 1] = { tenant, tn[1] or '0', tn[2] or '0', unserved and int(unserved) or '' }
end
local function s(v) if v == nil then return '' end return int(v) end
return { int(NOW), counts, oldest[2] or '', tenants, { s(c.mc), s(c.aging), s(c.ret), s(c.fret) } }
`,
);
