import { defineQueueScript } from './queue-lib.js';

/**
 * Cancels an active task (its lease, if any, is lost), or deletes a task in any state.
 *
 * KEYS[1]  <P>cfg
 * ARGV[1]  <P>; ARGV[2] channel; ARGV[3] id; ARGV[4] delete ('1' | '0')
 * Reply    { status ('ok' | 'not-found' | 'conflict' | 'already'), state, tenant, type, attempt, at }
 */
export const queueCancelScript = defineQueueScript(
  'queue-cancel',
  `
local c = config()
local id, remove = ARGV[3], ARGV[4] == '1'
local tk = taskKey(id)
local f = redis.call('HMGET', tk, 'state', 'tenant', 'type', 'att', 'w', 'uat')
local state, tenant, ttype = f[1], f[2], f[3]
if not state then return { 'not-found', '', '', '', '0', int(NOW) } end
if not remove then
  if state == 'cancelled' then return { 'already', state, tenant, ttype, f[4], f[6] } end
  if state == 'completed' or state == 'failed' or state == 'dead' then return { 'conflict', state, tenant, ttype, f[4], int(NOW) } end
end
local leased = state == 'assigned' or state == 'running'
if state == 'queued' then unqueue(id, tk, tenant, ttype) end
if leased then releaseSlot(id, tenant, state, f[5]) end
if remove then
  count(state, tenant, ttype, -1)
  redis.call('ZREM', P .. 'done', id)
  redis.call('ZREM', P .. 'failed', id)
  forgetIdempotency(id, tk, tenant)
  redis.call('DEL', tk)
  redis.call('ZREM', P .. 'ix:' .. tenant, id)
else
  finish(id, tk, tenant, ttype, state, 'cancelled', tonumber(f[4]), 'cancelled', c)
end
if leased then wake(ARGV[2]) end
return { 'ok', 'cancelled', tenant, ttype, f[4], int(NOW) }
`,
);
