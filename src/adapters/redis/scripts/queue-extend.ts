import { defineQueueScript } from './queue-lib.js';

/**
 * Heartbeat: moves a valid lease's expiry to now + lease ms and stores progress.
 *
 * KEYS[1]  <P>cfg
 * ARGV[1]  <P>; ARGV[2] id; ARGV[3] token; ARGV[4] lease ms; ARGV[5] progress JSON ('' = unchanged)
 * Reply    { status, state, expiresAt, attempt, worker }
 */
export const queueExtendScript = defineQueueScript(
  'queue-extend',
  `
local id, token = ARGV[2], ARGV[3]
local tk = taskKey(id)
local f = redis.call('HMGET', tk, 'state', 'tok', 'exp', 'att', 'w')
local status = leaseStatus(f[1], f[2], f[3], token)
local expires = NOW + tonumber(ARGV[4])
if status == 'ok' then
  redis.call('HSET', tk, 'exp', int(expires), 'uat', int(NOW))
  if ARGV[5] ~= '' then redis.call('HSET', tk, 'prog', ARGV[5]) end
  redis.call('ZADD', P .. 'leased', expires, id)
end
return { status, f[1] or '', int(expires), f[4] or '0', f[5] or '' }
`,
);
