import { defineQueueScript } from './queue-lib.js';

/**
 * Completes a batch of leases (calls issued in the same tick travel together).
 *
 * KEYS[1]  <P>cfg
 * ARGV[1]  <P>; ARGV[2] channel; ARGV[3] n; ARGV[4…] n × (id, token, result JSON or ''), then
 *          request id, replay window ms (see `replayed` in the prelude)
 * Reply    n × 'status FS state FS tenant FS type FS attempt FS at' (see FS in the prelude); status
 *          is 'ok' | 'not-found' | 'not-active' | 'superseded' | 'expired'. The lease is checked against the stored token and the
 *          server clock in the same step as the write: a lapsed lease can never complete.
 */
export const queueCompleteScript = defineQueueScript(
  'queue-complete',
  `
local n = tonumber(ARGV[3])
local rid, window = ARGV[4 + n * 3], ARGV[5 + n * 3]
local again = replayed(rid)
if again then return again end
local c = config()
local out = {}
local freed = false
-- Per task: read (HMGET), write or delete. Unlease (ZREM), retain (retainDone), counters and tenant
-- lease counts are gathered and written once per call.
local counts = {}
local leasedDrop = {}
-- Sorted-set writes of the whole batch, one call each.
local unleased, doneIds, unlisted = {}, {}, {}
local nowS = int(NOW)
local completedHead = histHead('completed')
for i = 0, n - 1 do
  local id, token, result = ARGV[4 + i * 3], ARGV[5 + i * 3], ARGV[6 + i * 3]
  local tk = taskKey(id)
  local f = redis.call('HMGET', tk, 'state', 'tok', 'exp', 'tenant', 'type', 'att', 'w', 'hn')
  local status = leaseStatus(f[1], f[2], f[3], token)
  if status == 'ok' then
    local tenant, ttype = f[4], f[5]
    unleased[#unleased + 1] = id
    if f[1] == 'assigned' and f[7] and f[7] ~= '' then redis.call('ZREM', P .. 'assigned:' .. f[7], id) end
    leasedDrop[tenant] = (leasedDrop[tenant] or 0) + 1
    local from = f[1] .. '|' .. tenant .. '|' .. ttype
    counts[from] = (counts[from] or 0) - 1
    if c.ret == 0 then
      forgetIdempotency(id, tk, tenant)
      redis.call('DEL', tk)
      appendTo(unlisted, P .. 'ix:' .. tenant, id)
    else
      local to = 'completed|' .. tenant .. '|' .. ttype
      counts[to] = (counts[to] or 0) + 1
      local hn = (tonumber(f[8]) or 0) + 1
      -- The lease fields are emptied, not left for readers to ignore: a task retained for an hour
      -- keeps ~60 bytes less (bench/tasks storage section: 934 vs 998 B per completed task).
      redis.call('HSET', tk, 'state', 'completed', 'res', result, 'uat', nowS, 'w', '', 'tok', '', 'exp', '',
        'hn', istr(hn), histName(hn), completedHead .. f[6] .. '}')
      doneIds[#doneIds + 1] = id
    end
    out[#out + 1] = 'ok' .. FS .. 'completed' .. FS .. tenant .. FS .. ttype .. FS .. f[6] .. FS .. nowS
  else
    out[#out + 1] = status .. FS .. (f[1] or '') .. FS .. (f[4] or '') .. FS .. (f[5] or '') .. FS .. (f[6] or '0') .. FS .. nowS
  end
end
if #unleased > 0 then redis.call('ZREM', P .. 'leased', unpack(unleased)) end
if #doneIds > 0 then retainDone(doneIds) end
for ix, ids in pairs(unlisted) do redis.call('ZREM', ix, unpack(ids)) end
for f, d in pairs(counts) do
  if d ~= 0 and redis.call('HINCRBY', P .. 'cnt', f, istr(d)) <= 0 then redis.call('HDEL', P .. 'cnt', f) end
end
for tenant, d in pairs(leasedDrop) do
  local tenKey = P .. 'ten:' .. tenant
  local left = redis.call('HINCRBY', tenKey, 'leased', istr(-d))
  local r = redis.call('HMGET', tenKey, 'ready', 'mc')
  if left <= 0 and tonumber(r[1] or '0') <= 0 then redis.call('SREM', P .. 'tenants', tenant) end
  if c.mc ~= nil or opt(r[2]) ~= nil then freed = true end
end
if freed then wake(ARGV[2]) end
-- Retention keeps pace with completions: up to twice as many expired tasks out as settled here
-- (a saturated worker never runs maintenance).
purgeExpired(c, 2 * n)
return remember(rid, window, out)
`,
);
