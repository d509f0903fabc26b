import { defineQueueScript } from './queue-lib.js';

/**
 * Maintenance without a claim: reaps expired leases and purges terminal tasks past their
 * retention (completed and cancelled after `ret`, failed and dead after `fret` when set).
 *
 * KEYS[1]  <P>cfg
 * ARGV[1]  <P>; ARGV[2] channel; ARGV[3] limit
 * Reply    { reaped: { id, tenant, type, state, attempt, reason }…, purged count, at }
 */
export const queueMaintainScript = defineQueueScript(
  'queue-maintain',
  `
local c = config()
local limit = tonumber(ARGV[3])
local reaped = reap(c, limit)
if #reaped > 0 then wake(ARGV[2]) end
local purged = 0
local function purge(zkey, retention)
  if retention == nil then return end
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', zkey, '-inf', NOW - retention, 'LIMIT', 0, limit)) do
    local tk = taskKey(id)
    local f = redis.call('HMGET', tk, 'state', 'tenant', 'type')
    if f[1] then
      count(f[1], f[2], f[3], -1)
      forgetIdempotency(id, tk, f[2])
      redis.call('DEL', tk)
      redis.call('ZREM', P .. 'ix:' .. f[2], id)
    end
    redis.call('ZREM', zkey, id)
    purged = purged + 1
  end
end
purge(P .. 'done', c.ret)
purge(P .. 'failed', c.fret)
return { reaped, purged, int(NOW) }
`,
);
