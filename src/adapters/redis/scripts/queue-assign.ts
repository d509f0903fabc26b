import { defineQueueScript } from './queue-lib.js';

/**
 * Operator override: leases a queued task to a named worker (`assigned`), outside the fair
 * order and caps, counting a delivery. The worker's next claim starts it with the same token.
 *
 * KEYS[1]  <P>cfg
 * ARGV[1]  <P>; ARGV[2] channel; ARGV[3] id; ARGV[4] worker; ARGV[5] lease ms; ARGV[6] token
 * Reply    { status ('ok' | 'not-found' | 'conflict'), state, tenant, type, attempt, at, expiresAt }
 */
export const queueAssignScript = defineQueueScript(
  'queue-assign',
  `
local id, worker = ARGV[3], ARGV[4]
local tk = taskKey(id)
local f = redis.call('HMGET', tk, 'state', 'tenant', 'type', 'att', 'seq')
if not f[1] then return { 'not-found', '', '', '', '0', int(NOW), '' } end
if f[1] ~= 'queued' then return { 'conflict', f[1], f[2], f[3], f[4], int(NOW), '' } end
unqueue(id, tk, f[2], f[3])
local att = tonumber(f[4]) + 1
local expires = NOW + tonumber(ARGV[5])
count('queued', f[2], f[3], -1)
count('assigned', f[2], f[3], 1)
redis.call('HSET', tk, 'state', 'assigned', 'ready', '0', 'att', att, 'w', worker, 'tok', ARGV[6], 'exp', int(expires), 'uat', int(NOW))
appendHist(tk, 'assigned', att, worker, 'assigned')
redis.call('ZADD', P .. 'leased', expires, id)
redis.call('ZADD', P .. 'assigned:' .. worker, tonumber(f[5]), id)
tenantInc(f[2], 'leased')
redis.call('PUBLISH', ARGV[2], '{}')
return { 'ok', 'assigned', f[2], f[3], int(att), int(NOW), int(expires) }
`,
);
