import { defineQueueScript } from './queue-lib.js';

/**
 * Completes a batch of leases (calls issued in the same tick travel together).
 *
 * KEYS[1]  <P>cfg
 * ARGV[1]  <P>; ARGV[2] channel; ARGV[3] n; ARGV[4…] n × (id, token, result JSON or ''), then
 *          request id, replay window ms (see `replayed` in the prelude)
 * Reply    n × { status ('ok' | 'not-found' | 'not-active' | 'superseded' | 'expired'), state,
 *          tenant, type, attempt, at }. The lease is checked against the stored token and the
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
for i = 0, n - 1 do
  local id, token, result = ARGV[4 + i * 3], ARGV[5 + i * 3], ARGV[6 + i * 3]
  local tk = taskKey(id)
  local f = redis.call('HMGET', tk, 'state', 'tok', 'exp', 'tenant', 'type', 'att', 'w')
  local status = leaseStatus(f[1], f[2], f[3], token)
  if status == 'ok' then
    releaseSlot(id, f[4], f[1], f[7])
    if c.ret > 0 then redis.call('HSET', tk, 'res', result) end
    finish(id, tk, f[4], f[5], f[1], 'completed', tonumber(f[6]), nil, c)
    if capped(c, f[4]) then freed = true end
    out[#out + 1] = { 'ok', 'completed', f[4], f[5], f[6], int(NOW) }
  else
    out[#out + 1] = { status, f[1] or '', f[4] or '', f[5] or '', f[6] or '0', int(NOW) }
  end
end
if freed then wake(ARGV[2]) end
return remember(rid, window, out)
`,
);
