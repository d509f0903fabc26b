import { defineQueueScript } from './queue-lib.js';

/**
 * Records a failure: `failed` when final, `dead` when the last attempt is used up, else
 * `queued` again after the retry delay (keeping its FIFO position).
 *
 * KEYS[1]  <P>cfg
 * ARGV[1]  <P>; ARGV[2] channel; ARGV[3] id; ARGV[4] token; ARGV[5] error JSON;
 * ARGV[6]  retry ms; ARGV[7] final ('1' | '0'); ARGV[8] request id; ARGV[9] replay window ms
 * Reply    { status, state, tenant, type, attempt, at, readyAt ('' unless queued), reason }
 */
export const queueFailScript = defineQueueScript(
  'queue-fail',
  `
local rid, window = ARGV[8], ARGV[9]
local again = replayed(rid)
if again then return again end
local c = config()
local id, token = ARGV[3], ARGV[4]
local tk = taskKey(id)
local f = redis.call('HMGET', tk, 'state', 'tok', 'exp', 'tenant', 'type', 'att', 'w', 'max')
local status = leaseStatus(f[1], f[2], f[3], token)
if status ~= 'ok' then return { status, f[1] or '', f[4] or '', f[5] or '', f[6] or '0', int(NOW), '', '' } end
local att = tonumber(f[6])
purgeExpired(c, 2)
releaseSlot(id, f[4], f[1], f[7])
redis.call('HSET', tk, 'err', ARGV[5])
if ARGV[7] == '1' or att >= tonumber(f[8]) then
  local state, reason = 'dead', 'attempts-exhausted'
  if ARGV[7] == '1' then state, reason = 'failed', 'final-failure' end
  finish(id, tk, f[4], f[5], f[1], state, att, reason, c)
  if capped(c, f[4]) then wake(ARGV[2]) end
  return remember(rid, window, { 'ok', state, f[4], f[5], int(att), int(NOW), '', reason })
end
local readyAt = NOW + tonumber(ARGV[6])
requeue(id, tk, f[1], readyAt, att, 'retry', c)
wake(ARGV[2])
return remember(rid, window, { 'ok', 'queued', f[4], f[5], int(att), int(NOW), int(readyAt), 'retry' })
`,
);
